import greet, { shout, counter, bump } from './lib/greet.js';
import * as ns from './lib/greet.js';
import data from './data.json';
import { name as cjsName } from './lib/cjs.cjs';
import cjsDefault from './lib/cjs.cjs';
import './lib/side-effect.mjs';

console.log(greet('esm'), shout('x'));
console.log(counter);
bump();
console.log(counter, ns.counter); // live bindings
console.log(Object.keys(ns).sort().join(','));
console.log(data.kind, data.values.length);
console.log(cjsName, cjsDefault.name);
console.log(globalThis.sideEffect);
export const fromMain = 1;
