// A connection-level error from the broker (basic_qos prefetch_size → 540
// NOT_IMPLEMENTED): the pending call rejects ChannelClosed 540, later pending
// calls reject, on_error (async) fires exactly once with AmqpClosedConnection.
const assert = require('assert');
const aioamqp = require('aioamqp');

const calls = [];
const [, protocol] = await aioamqp.connect({
  on_error: async (e) => { calls.push(e); },
});
const ch1 = await protocol.channel();
const ch2 = await protocol.channel();
const { queue } = await ch2.queue_declare('', { exclusive: true });
const iter = await ch2.consume(queue);
const next = iter.next();
next.catch(() => {});

const qos = ch1.basic_qos({ prefetch_size: 1 });
const after = ch1.queue_declare('', { exclusive: true }); // sent after the failing qos
after.catch(() => {});

await assert.rejects(qos, (e) => {
  assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
  assert.strictEqual(e.code, 540);
  assert.ok(/NOT_IMPLEMENTED/.test(e.message), e.message);
  return true;
});
await assert.rejects(after, (e) => {
  assert.ok(e instanceof aioamqp.ChannelClosed || e instanceof aioamqp.AmqpClosedConnection, `got ${e && e.name}: ${e && e.message}`);
  return true;
});
await assert.rejects(next, (e) => {
  assert.ok(e instanceof aioamqp.ChannelClosed || e instanceof aioamqp.AmqpClosedConnection, `got ${e && e.name}: ${e && e.message}`);
  return true;
});
await protocol.wait_closed();
await new Promise((r) => setTimeout(r, 200));
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
const err = calls[0];
assert.ok(err instanceof aioamqp.AmqpClosedConnection, `got ${err && err.name}`);
assert.strictEqual(err.code, 540);
assert.ok(/NOT_IMPLEMENTED/.test(err.message), err.message);
assert.strictEqual(protocol.state, aioamqp.CLOSED);
assert.strictEqual(ch1.is_open, false);
assert.strictEqual(ch2.is_open, false);
await assert.rejects(ch2.basic_get(queue), (e) =>
  e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed);
console.log('on_error connection error ok');
