// The broker's memory alarm (the test sets vm_memory_high_watermark near 0
// on its own node when asked with @@alarm-on, and back with @@alarm-off):
// connection.blocked and connection.unblocked reach the on_blocked(reason)
// and on_unblocked() connect options, once each; a publish made while
// blocked neither resolves nor rejects — it waits — and resolves once the
// alarm clears; the connection survives (no on_error).
const { aioamqp, assert, sleep, within, connect, settleAll } = require('./lib.js');

const queue = process.env.FAULT_QUEUE;
const name = process.env.FAULT_NAME;
const blocked = [];
const unblocked = [];
let onBlocked;
let onUnblocked;
const isBlocked = new Promise((r) => { onBlocked = r; });
const isUnblocked = new Promise((r) => { onUnblocked = r; });
const c = await connect(name, {
  on_blocked: (reason) => { blocked.push(reason); onBlocked(reason); },
  on_unblocked: async () => { unblocked.push(Date.now()); onUnblocked(); },
});
const ch = await c.protocol.channel();
await ch.queue_declare(queue, { durable: true });
await ch.confirm_select();
for (let i = 0; i < 10; i++) await ch.publish(`before ${i}`, '', queue);

console.log('@@alarm-on');
// RabbitMQ tells a connection it is blocked when it publishes: keep
// publishing (each may or may not get through before the block) until told.
const early = [];
let reason = null;
isBlocked.then((r) => { reason = r; });
for (let i = 0; reason === null; i++) {
  assert.ok(i < 300, 'connection.blocked did not come within 30 s of the alarm');
  early.push(ch.publish(`early ${i}`, '', queue));
  await sleep(100);
}
assert.strictEqual(reason, 'low on memory');

// Blocked: these publishes wait.
const settled = new Set();
const during = [];
for (let i = 0; i < 100; i++) {
  const p = ch.publish(`during ${i}`, '', queue);
  p.then(() => settled.add(i), () => settled.add(i));
  during.push(p);
}
const plain = ch.basic_publish('plain, no confirm', '', queue);
await sleep(2000);
assert.strictEqual(settled.size, 0, `${settled.size} publishes settled while the connection was blocked`);
assert.strictEqual(c.protocol.state, aioamqp.OPEN);

console.log('@@alarm-off');
await within(isUnblocked, 30000, 'on_unblocked');
const outcomes = await settleAll([...early, ...during, plain], 30000, 'the publishes after the alarm');
const failed = outcomes.filter((o) => o.status !== 'fulfilled');
assert.strictEqual(failed.length, 0, `publishes rejected: ${failed.map((o) => o.reason && o.reason.message).join('; ')}`);
const { message_count } = await ch.queue_declare(queue, { durable: true, passive: true });
await ch.queue_delete(queue);
await c.protocol.close();
await sleep(200);
assert.strictEqual(blocked.length, 1, `on_blocked called ${blocked.length} times`);
assert.strictEqual(unblocked.length, 1, `on_unblocked called ${unblocked.length} times`);
assert.strictEqual(c.errors.length, 0, 'no on_error');
console.log(`blocked ('${reason}'), ${during.length} publishes waited and then resolved, ${early.length} before the block; ${message_count} messages in the queue`);
