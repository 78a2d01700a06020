// worker.js — a work queue with prefetch and manual acks: the broker never
// hands this consumer more than `prefetch` unacknowledged messages.
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const prefetch = 5;
const jobs = 40;
const [transport, protocol] = await aioamqp.connect();
const channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });
await channel.basic_qos({ prefetch_count: prefetch });

for (let i = 0; i < jobs; i++) await channel.publish(`job ${i}`, '', queue, { properties: { delivery_mode: 2 } });

let unacked = 0, maxUnacked = 0, done = 0;
const finished = new Promise((resolve) => {
  channel.basic_consume(async (body, envelope, properties, ch) => {
    unacked++;
    maxUnacked = Math.max(maxUnacked, unacked);
    await sleep(2); // the work
    unacked--;
    await ch.basic_client_ack(envelope.delivery_tag);
    if (++done === jobs) resolve();
  }, { queue_name: queue, concurrency: 10 });
});
await finished;
console.log(`processed ${done} jobs; at most ${maxUnacked} unacked at once (prefetch ${prefetch})`);
await protocol.close();
transport.close();
