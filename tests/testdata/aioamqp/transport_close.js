// transport.close() on an open connection is an abrupt loss, as in aioamqp's
// own test_connection_lost.py (docs/api.md §3, §7): the socket is dropped without
// the closing handshake, on_error is called exactly once with an
// AmqpClosedConnection, pending calls reject, consumers stop, wait_closed()
// resolves, and the broker lets the connection go. After protocol.close() it
// stays the script's own close: on_error is not called.
const assert = require('assert');
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const rejected = (p) => p.then((v) => assert.fail(`resolved with ${v}, want a rejection`), (e) => e);
const isLoss = (e) => {
  assert.ok(e instanceof aioamqp.AmqpClosedConnection, `got ${e && e.name}: ${e && e.message}`);
  return true;
};

// A second connection publishes and looks from the broker's side.
const shared = `amqpjs.e2e.transport-close.${Math.random().toString(16).slice(2, 10)}`;
const [, other] = await aioamqp.connect();
const och = await other.channel();
await och.queue_declare(shared, { arguments: { 'x-expires': 120000 } });

const calls = [];
const [transport, protocol] = await aioamqp.connect({ on_error: (e) => { calls.push(e); } });
const ch = await protocol.channel();
const { queue: excl } = await ch.queue_declare('', { exclusive: true });
let consumerCalls = 0;
await ch.basic_consume(() => { consumerCalls++; }, { queue_name: shared });
const iter = await ch.consume(excl);
const nextMessage = iter.next();
nextMessage.catch(() => {});
const closedWait = protocol.wait_closed();
// Pending when the socket goes: a run of RPCs the channel answers one at a
// time (the last ones cannot have been answered), then a basic_get.
const declares = [];
for (let i = 0; i < 300; i++) {
  const p = ch.queue_declare(shared, { passive: true });
  p.catch(() => {});
  declares.push(p);
}
const got = ch.basic_get(shared);
got.catch(() => {});

transport.close();
transport.close(); // twice: still one loss

// Calls made after it reject at once.
await assert.rejects(ch.queue_declare('', { exclusive: true }), isLoss);
await assert.rejects(protocol.channel(), isLoss);
await assert.rejects(protocol.close(), isLoss);

assert.strictEqual(await closedWait, null);
assert.strictEqual(protocol.state, aioamqp.CLOSED);
assert.strictEqual(ch.is_open, false);
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
const err = calls[0];
assert.ok(err instanceof aioamqp.AmqpClosedConnection, `got ${err && err.name}`);
assert.ok(err instanceof aioamqp.AioamqpException);
assert.strictEqual(err.code, 0);
assert.strictEqual(err.message, 'connection lost: the client closed the socket');

// Every pending call settled: each declare resolved (answered before the
// loss) or rejected AmqpClosedConnection; the last ones and basic_get rejected.
let lost = 0;
for (const p of declares) {
  const r = await p.then(() => null, (e) => e);
  if (r !== null) {
    isLoss(r);
    assert.strictEqual(r.message, err.message);
    lost++;
  }
}
assert.ok(lost > 0, 'no pending call rejected');
isLoss(await rejected(declares[declares.length - 1]));
isLoss(await rejected(got));
isLoss(await rejected(nextMessage));

// The consumer stopped: what is published now stays in the queue (a message
// the broker sent before it saw the close is requeued), and the callback
// never ran.
for (let i = 0; i < 3; i++) await och.publish(`after the loss ${i}`, '', shared);
for (let n = 0; ; n++) {
  const { message_count } = await och.queue_declare(shared, { passive: true });
  if (message_count === 3) break;
  assert.ok(n < 600, `the queue holds ${message_count} messages, want 3`);
  await sleep(50);
}
assert.strictEqual(consumerCalls, 0);

// The broker let the connection go: its exclusive queue is deleted.
for (let n = 0; ; n++) {
  const probe = await other.channel();
  const e = await probe.queue_declare(excl, { passive: true }).then(() => null, (x) => x);
  if (e) {
    assert.ok(e instanceof aioamqp.ChannelClosed && e.code === 404, `got ${e.name}: ${e.message}`);
    break;
  }
  await probe.close();
  assert.ok(n < 600, `the broker still has ${excl}`);
  await sleep(50);
}
await och.queue_delete(shared);
await other.close();

// protocol.close() then transport.close() (the seed's own example): silent.
let ownCalls = 0;
const onError = () => { ownCalls++; };
{
  const [t, p] = await aioamqp.connect({ on_error: onError });
  await p.channel();
  await p.close();
  t.close();
  await p.wait_closed();
}
// transport.close() while protocol.close() waits for close-ok: it closes
// sooner, close() resolves, on_error is not called.
{
  const [t, p] = await aioamqp.connect({ on_error: onError });
  await p.channel();
  const closing = p.close();
  t.close();
  assert.strictEqual(await closing, null);
  await p.wait_closed();
  assert.strictEqual(p.state, aioamqp.CLOSED);
}
{
  const [t, p] = await aioamqp.connect({ on_error: async () => { ownCalls++; } });
  const closing = p.close({ no_wait: true });
  t.close();
  assert.strictEqual(await closing, null);
  await p.wait_closed();
}
assert.strictEqual(ownCalls, 0, `on_error called ${ownCalls} times after the script's own close`);
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
console.log('transport.close ok');
