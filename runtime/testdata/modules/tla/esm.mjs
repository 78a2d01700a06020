import { setTimeout as sleep } from 'timers/promises';
import { value } from './dep.mjs';
const v = await sleep(1, 'after sleep');
console.log(v, value);
for (const x of [1, 2]) {
  console.log('loop', await Promise.resolve(x));
}
export const done = await Promise.resolve('exported');
