// confirms.js — publisher confirms: publish resolves when the broker has the
// message; 10 000 publishes in flight at once all settle.
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect();
const channel = await protocol.channel();
await channel.confirm_select();
const { queue } = await channel.queue_declare('', { exclusive: true });

const n = 10000;
const started = Date.now();
const all = [];
for (let i = 0; i < n; i++) all.push(channel.publish(`message ${i}`, '', queue));
await Promise.all(all);
console.log(`${n} publishes confirmed by the broker`);

const { message_count } = await channel.queue_declare(queue, { passive: true });
console.log('messages in the queue:', message_count);
if (process.env.AMQPJS_VERBOSE) console.log('took', Date.now() - started, 'ms');

// A queue that refuses messages beyond its length makes the broker nack.
const full = (await channel.queue_declare('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })).queue;
await channel.publish('first', '', full);
try {
  await channel.publish('second', '', full);
} catch (e) {
  console.log(`nacked: ${e.name} (delivery_tag ${e.delivery_tag})`);
}
await protocol.close();
transport.close();
