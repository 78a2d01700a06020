// One fault of amqpjs/faults (FAULT: cut, stall, latency, bandwidth) on a
// connection that has confirmed publishes behind it and calls pending, then
// recovery on a new connection. Prints one JSON line per step ("@@step
// {json}"); tests/faultmodule_integration_test.go checks them.
const aioamqp = require('aioamqp');
const faults = require('amqpjs/faults');

const FAULT = process.env.FAULT;
const QUEUE = process.env.FAULT_QUEUE;
const out = (step, v) => console.log(`@@${step} ${JSON.stringify(v)}`);
const className = (e) => (e && e.constructor ? e.constructor.name : String(e));

// Bad input: TypeErrors (RangeErrors for numbers out of range) that name
// the parameter.
const bad = [];
for (const [what, f] of [
  ['not a protocol', () => faults.cut({})],
  ['no protocol', () => faults.clear()],
  ['null protocol', () => faults.stall(null, '1s')],
  ['bad duration string', (p) => faults.latency(p, 'soon')],
  ['negative duration', (p) => faults.stall(p, -5)],
  ['bad size', (p) => faults.bandwidth(p, '1 parsec')],
  ['zero size', (p) => faults.bandwidth(p, 0)],
  ['bad filter', () => faults.connections({ queue: 'x' })],
]) bad.push([what, f]);

const confirmed = []; // message ids whose publish resolved
let n = 0;

async function publishConfirmed(channel, k, body = '') {
  for (let i = 0; i < k; i++) {
    const id = `m${++n}`;
    await channel.publish(body || id, '', QUEUE, { properties: { message_id: id, delivery_mode: 2 } });
    confirmed.push(id);
  }
}

const errors = [];
const [, protocol] = await aioamqp.connect({
  heartbeat: 1,
  client_properties: { connection_name: `faultmodule ${QUEUE}` },
  on_error: (e) => errors.push({ class: className(e), code: e.code, message: e.message }),
});
const channel = await protocol.channel();
await channel.queue_declare(QUEUE, { durable: true });
await channel.confirm_select();
await publishConfirmed(channel, 20);

const badSeen = [];
for (const [what, f] of bad) {
  try {
    f(protocol);
    badSeen.push({ what, threw: false });
  } catch (e) {
    badSeen.push({ what, name: e.name, code: e.code, message: e.message });
  }
}
out('bad', badSeen);
out('listed', faults.connections().map((c) => c.local_address));

// The fault, with calls pending.
const pending = [];
const track = (name, p) => pending.push(p.then(
  () => ({ name, outcome: 'fulfilled' }),
  (e) => ({ name, outcome: 'rejected', class: className(e), code: e.code }),
));
let stall;
if (FAULT === 'cut' || FAULT === 'stall') {
  // Stalled first, so that the calls below are certainly pending when the
  // connection goes (no reply can come back in between).
  stall = faults.stall(protocol, '30s'); // longer than the heartbeat timeout
  for (let i = 0; i < 5; i++) {
    const id = `m${++n}`;
    track(`publish ${id}`, channel.publish(id, '', QUEUE, { properties: { message_id: id, delivery_mode: 2 } }).then(() => confirmed.push(id)));
  }
  track('queue_declare', channel.queue_declare(QUEUE, { passive: true }));
  if (FAULT === 'cut') {
    out('cut', { first: faults.cut(protocol), second: faults.cut(protocol) });
  }
  track('wait_closed', protocol.wait_closed());
  out('pending', await Promise.all(pending));
  if (stall) {
    await stall; // settles once the connection ended
    out('stall', 'settled');
  }
  out('state', { state: protocol.state, errors });
  try {
    await channel.publish('late', '', QUEUE);
    out('after', 'fulfilled');
  } catch (e) {
    out('after', { class: className(e) });
  }
} else {
  if (FAULT === 'latency') faults.latency(protocol, '30ms');
  else faults.bandwidth(protocol, '1MB');
  const big = 'x'.repeat(300 * 1000); // 0.3 s at 1MB/s each way
  await publishConfirmed(channel, 3);
  await publishConfirmed(channel, 1, big);
  const got = await channel.basic_get(QUEUE, { no_ack: false });
  await channel.basic_client_nack(got.delivery_tag, { requeue: true });
  faults.clear(protocol);
  await publishConfirmed(channel, 3);
  out('state', { state: protocol.state, errors, got: got.properties.message_id });
}

// Recovery: the reconnect recipe's new session; then what the queue holds.
const [t2, p2] = await aioamqp.connect();
const ch2 = await p2.channel();
await ch2.confirm_select();
await publishConfirmed(ch2, 10);
const present = {};
const sizes = {};
for (;;) {
  let m;
  try {
    m = await ch2.basic_get(QUEUE, { no_ack: true });
  } catch (e) {
    if (e instanceof aioamqp.EmptyQueue) break;
    throw e;
  }
  const id = m.properties.message_id || m.message.toString();
  present[id] = (present[id] || 0) + 1;
  sizes[id] = m.message.length;
}
await ch2.queue_delete(QUEUE);
out('result', { confirmed, present, sizes });
if (FAULT === 'latency' || FAULT === 'bandwidth') await protocol.close();
await p2.close();
t2.close();
