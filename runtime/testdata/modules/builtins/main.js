const assert = require('assert');
const nodeAssert = require('node:assert');
const util = require('util');
const { setTimeout: sleep } = require('timers/promises');
const { Buffer: B } = require('buffer');
console.log(assert === nodeAssert, typeof assert.strictEqual, require('node:util') === util);
assert.ok(true);
assert.equal(1, '1');
assert.strictEqual(1, 1);
assert.notStrictEqual(1, '1');
assert.deepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] });
assert.throws(() => { throw new TypeError('t') }, TypeError);
try { assert.strictEqual(1, 2); } catch (e) { console.log(e.name, e.code); }
try { assert.deepStrictEqual({ a: 1 }, { a: '1' }); } catch (e) { console.log(e.name); }
try { assert.fail('boom'); } catch (e) { console.log(e.message); }
console.log(util.format('%s=%d %j', 'n', 42, { k: [1] }));
console.log(util.inspect({ a: { b: { c: { d: 1 } } } }, { depth: 0 }));
console.log(B.from('hi').toString('hex'), B === Buffer, Buffer.isBuffer(B.from('x')));
(async () => {
  await assert.rejects(Promise.reject(new Error('r')), /r/);
  console.log(await sleep(1, 'slept'));
})();
