// A no_ack consumer whose callback is slower than a fast publisher (the
// test, which publishes N messages as fast as it can once the script says
// @@ready): the consumer must receive every message in order while what
// waits on the client side stays bounded by no_ack_window
// (../../bounds_test.go samples the process's RSS and the broker's count of
// unacknowledged messages meanwhile).
//
// env: BOUND_QUEUE, BOUND_N (messages), BOUND_SIZE (bytes),
// BOUND_STYLE ('callback' or 'iterator'), BOUND_WINDOW (no_ack_window; unset:
// the default), BOUND_WORK_US (µs of work per message in the consumer).
const assert = require('assert');
const aioamqp = require('aioamqp');

const queue = process.env.BOUND_QUEUE;
const N = Number(process.env.BOUND_N || 200000);
const size = Number(process.env.BOUND_SIZE || 1024);
const style = process.env.BOUND_STYLE || 'callback';
const work = Number(process.env.BOUND_WORK_US || 40) / 1000;
const opts = { no_ack: true };
if (process.env.BOUND_WINDOW !== undefined) opts.no_ack_window = Number(process.env.BOUND_WINDOW);

const [, conn] = await aioamqp.connect({ client_properties: { connection_name: `${queue}-consumer` } });
const ch = await conn.channel();
await ch.queue_declare(queue, { auto_delete: false });

let expected = 0;
let done;
const finished = new Promise((r) => { done = r; });
function take(body, envelope) {
  const seq = body.readUInt32BE(0);
  assert.strictEqual(seq, expected, `message ${seq} arrived when ${expected} was due`);
  assert.strictEqual(envelope.is_redeliver, false);
  expected++;
  const t = performance.now();
  while (performance.now() - t < work) { /* a slow consumer */ }
  if (expected % 20000 === 0) console.log(`@@progress ${expected}`);
  if (expected === N) done();
}
if (style === 'callback') {
  await ch.basic_consume((body, envelope) => take(body, envelope), { queue_name: queue, ...opts });
} else {
  const it = await ch.consume(queue, opts);
  (async () => { for await (const m of it) { take(m.body, m.envelope); if (expected === N) break; } })();
}
const t0 = Date.now();
console.log('@@ready'); // the test publishes N messages as fast as it can
await finished;
console.log(`@@received ${expected} in order in ${Date.now() - t0} ms`);
await ch.queue_delete(queue);
await conn.close();
