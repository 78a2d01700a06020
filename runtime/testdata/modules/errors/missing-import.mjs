import { x } from './sub/not-there.js';
console.log(x);
