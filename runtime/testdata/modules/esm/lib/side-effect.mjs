import { shout } from './greet.js';
globalThis.sideEffect = shout('side effect');
