// An async on_error after transport.close() on an open connection (docs/api.md
// §7: plain or async): called exactly once with an AmqpClosedConnection, its
// promise runs to the end; pending calls reject, a consume iterator ends
// with the loss, wait_closed() resolves, and the run exits 0.
const assert = require('assert');
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const calls = [];
let handled;
const finished = new Promise((r) => { handled = r; });
const [transport, protocol] = await aioamqp.connect({
  on_error: async (e) => {
    calls.push(e);
    await sleep(20); // an await inside on_error: nothing waits for it
    handled(e);
  },
});
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
const iter = await ch.consume(queue);
const loop = (async () => {
  const got = [];
  for await (const m of iter) got.push(m);
  return got;
})();
loop.catch(() => {});
const declared = ch.queue_declare(queue, { passive: true, timeout: 30 });
declared.catch(() => {});

transport.close();
assert.strictEqual(await protocol.wait_closed(), null);
const e = await finished;
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
assert.strictEqual(e, calls[0]);
assert.ok(e instanceof aioamqp.AmqpClosedConnection, `got ${e && e.name}: ${e && e.message}`);
assert.strictEqual(e.code, 0);
assert.ok(/connection lost/.test(e.message), e.message);
await assert.rejects(declared, aioamqp.AmqpClosedConnection);
await assert.rejects(loop, aioamqp.AmqpClosedConnection);
assert.strictEqual(protocol.state, aioamqp.CLOSED);
await sleep(100);
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
console.log('transport.close async on_error ok');
