// The soak: publishes SOAK_RATE messages a second (publisher confirms, a
// durable queue of its own) and consumes them (manual acks, prefetch 500) on
// another connection, for SOAK_SECONDS; then drains, checks that every
// confirmed message was consumed, and cleans up. Every 10 s it prints a
// "@@stats" line that ../../soak_test.go reads beside the process's RSS.
const assert = require('assert');
const aioamqp = require('aioamqp');

const rate = Number(process.env.SOAK_RATE || 5000);
const seconds = Number(process.env.SOAK_SECONDS || 60);
const queue = process.env.SOAK_QUEUE || `amqpjs.soak.${Date.now()}`;
const body = Buffer.alloc(Number(process.env.SOAK_SIZE || 256), 0x73);

const [, pubConn] = await aioamqp.connect({ client_properties: { connection_name: `${queue} publisher` } });
const [, subConn] = await aioamqp.connect({ client_properties: { connection_name: `${queue} consumer` } });
const pub = await pubConn.channel();
const sub = await subConn.channel();
await pub.queue_declare(queue, { durable: true });
await pub.confirm_select();
await sub.basic_qos({ prefetch_count: 500 });

let published = 0;
let confirmed = 0;
let failed = 0;
let consumed = 0;
let inflight = 0;
let maxInflight = 0;
await sub.basic_consume(async (b, envelope, properties, ch) => {
  consumed++;
  await ch.basic_client_ack(envelope.delivery_tag);
}, { queue_name: queue });

const t0 = Date.now();
const end = t0 + seconds * 1000;
let last = { t: t0, published: 0, consumed: 0 };
function stats(final) {
  const now = Date.now();
  const dt = (now - last.t) / 1000;
  console.log(`@@stats t=${Math.round((now - t0) / 1000)} published=${published} confirmed=${confirmed} consumed=${consumed} ` +
    `inflight=${inflight} maxInflight=${maxInflight} pubRate=${Math.round((published - last.published) / dt)} ` +
    `subRate=${Math.round((consumed - last.consumed) / dt)}${final ? ' final' : ''}`);
  last = { t: now, published, consumed };
}
const statsTimer = setInterval(() => stats(false), 10000);

// Publish in 10-ms ticks, catching up on what the clock says is due (a
// late tick publishes more), with at most 20 000 publishes awaiting their
// confirm.
await new Promise((resolve) => {
  const tick = setInterval(() => {
    const now = Date.now();
    if (now >= end) {
      clearInterval(tick);
      resolve();
      return;
    }
    const due = Math.floor(((now - t0) / 1000) * rate);
    while (published < due && inflight < 20000) {
      published++;
      inflight++;
      if (inflight > maxInflight) maxInflight = inflight;
      pub.publish(body, '', queue, { properties: { delivery_mode: 2 } }).then(
        () => { confirmed++; inflight--; },
        () => { failed++; inflight--; },
      );
    }
  }, 10);
});
// Drain: every confirmed message is consumed.
const drainStart = Date.now();
while ((inflight > 0 || consumed < confirmed) && Date.now() - drainStart < 60000) {
  await new Promise((r) => setTimeout(r, 50));
}
clearInterval(statsTimer);
stats(true);
assert.strictEqual(failed, 0, `${failed} publishes failed`);
assert.strictEqual(inflight, 0, `${inflight} publishes still unconfirmed`);
assert.strictEqual(consumed, confirmed, `consumed ${consumed} of ${confirmed} confirmed messages`);
await pub.queue_delete(queue);
await pubConn.close();
await subConn.close();
console.log(`@@done ${seconds} s at ${rate} msg/s: ${published} published and confirmed, ${consumed} consumed`);
