const { setTimeout: sleep } = require('timers/promises');
const dep = require('./dep.cjs');
console.log(await sleep(1, 'cjs after sleep'), dep.value);
try {
  await Promise.reject(new Error('caught at top level'));
} catch (e) {
  console.log(e.message);
}
