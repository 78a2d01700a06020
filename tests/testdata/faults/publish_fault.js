// A fault while publishing with confirms: argv[2] is the fault the test
// injects when asked (@@cut: the proxy resets the connection; @@stall: the
// proxy goes silent, heartbeat 1 s; @@close: rabbitmqctl close_connection;
// @@restart: stop_app + start_app). Asserts: on_error exactly once with the
// right class and code; every pending call settles, rejecting with the
// right class; reports the publishes that resolved (@@resolved) so that the
// test can check they are all in the queue.
const { aioamqp, assert, sleep, within, ranges, connect, publishLoop, expectClass, expectFaultError, settleAll } = require('./lib.js');

const kind = process.argv[2];
const queue = process.env.FAULT_QUEUE;
const name = process.env.FAULT_NAME;
assert.ok(['cut', 'stall', 'close', 'restart'].includes(kind), `unknown fault ${kind}`);
assert.ok(queue && name, 'FAULT_QUEUE and FAULT_NAME must be set');

const c = await connect(name, kind === 'stall' ? { heartbeat: 1 } : {});
assert.strictEqual(c.protocol.state, aioamqp.OPEN);
if (kind === 'stall') assert.strictEqual(c.protocol.server_heartbeat, 1);
const ch = await c.protocol.channel();
await ch.queue_declare(queue, { durable: true });
await ch.confirm_select();

// Calls that stay pending until the connection ends.
const other = await c.protocol.channel();
const { queue: empty } = await other.queue_declare('', { exclusive: true });
const iter = await other.consume(empty);
const pendingNext = iter.next();
pendingNext.catch(() => {}); // checked below
const closed = c.protocol.wait_closed();
let callbackCalls = 0;
await other.basic_consume(() => { callbackCalls++; }, { queue_name: empty });

const pub = publishLoop(ch, queue, { persistent: kind === 'restart', window: 300 });
await pub.untilResolved(2000, 30000);
console.log(`@@${kind}`);
// Calls made as the fault happens: each must settle (resolve or reject).
const racing = [
  ch.queue_declare(queue, { passive: true }),
  other.basic_qos({ prefetch_count: 10 }),
  c.protocol.channel(),
  other.basic_get(empty),
  other.queue_declare('', { exclusive: true }),
];
for (const p of racing) p.catch(() => {}); // checked below

const err = await within(c.errored, 30000, 'on_error');
const atError = pub.published;
pub.stop();
await pub.settled(15000);

// on_error: the class, code and message of the fault.
expectFaultError(err, kind);
assert.ok(err instanceof aioamqp.AioamqpException && err instanceof Error);

// Every publish settled; each rejection has the right class.
const brokerClosed = kind === 'close' || kind === 'restart';
assert.strictEqual(pub.resolved.length + pub.rejected.length, pub.published, 'every publish settled');
assert.ok(pub.rejected.length > 0, 'some publishes were pending at the fault');
for (const [id, e] of pub.rejected) {
  if (brokerClosed && e instanceof aioamqp.ChannelClosed) {
    assert.strictEqual(e.code, 320, `publish ${id}: ${e.message}`);
  } else {
    expectClass(e, ['AmqpClosedConnection'], undefined, `publish ${id}`);
  }
}
const pendingAtError = pub.rejected.filter(([id]) => id < atError).length;

// The other pending calls settled too.
const outcomes = await settleAll([pendingNext, closed, ...racing], 15000, 'the pending calls');
assert.strictEqual(outcomes[0].status, 'rejected', 'iterator next() rejects');
expectClass(outcomes[0].reason, brokerClosed ? ['ChannelClosed', 'AmqpClosedConnection'] : ['AmqpClosedConnection'], undefined, 'iterator next()');
assert.strictEqual(outcomes[1].status, 'fulfilled', 'wait_closed resolves');
assert.strictEqual(outcomes[1].value, null);
for (const [i, o] of outcomes.slice(2).entries()) {
  if (o.status === 'rejected') {
    expectClass(o.reason, ['ChannelClosed', 'AmqpClosedConnection', 'EmptyQueue'], undefined, `racing call ${i}`);
  }
}

// After the end: calls reject at once, the state says closed.
assert.strictEqual(c.protocol.state, aioamqp.CLOSED);
assert.strictEqual(ch.is_open, false);
await assert.rejects(ch.publish('late', '', queue), aioamqp.AmqpClosedConnection);
await assert.rejects(c.protocol.channel(), aioamqp.AmqpClosedConnection);
await assert.rejects(c.protocol.close(), aioamqp.AmqpClosedConnection);

await sleep(300);
assert.strictEqual(c.errors.length, 1, `on_error called ${c.errors.length} times`);
assert.strictEqual(callbackCalls, 0);
console.log(`@@resolved ${ranges(pub.resolved)}`);
console.log(`${kind}: ${pub.resolved.length} resolved, ${pub.rejected.length} rejected (${pendingAtError} pending at the fault); on_error: ${err.name} ${err.code} ${err.message}`);
