// topology.js — declare an exchange and queues, bind them, route messages by
// topic, then clean everything up.
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect();
const channel = await protocol.channel();
const suffix = Math.random().toString(16).slice(2, 8);
const exchange = `amqpjs.topology.${suffix}`;
const queues = { errors: `amqpjs.errors.${suffix}`, all: `amqpjs.all.${suffix}` };

await channel.exchange_declare(exchange, 'topic', { auto_delete: true });
await channel.queue_declare(queues.errors, { exclusive: true });
await channel.queue_declare(queues.all, { exclusive: true });
await channel.queue_bind(queues.errors, exchange, '*.error');
await channel.queue_bind(queues.all, exchange, '#');
console.log('declared exchange', exchange, 'with 2 queues bound');

for (const key of ['app.info', 'app.error', 'db.error', 'db.debug']) {
  await channel.publish(`log line for ${key}`, exchange, key);
}

// basic_get until the queue is empty (EmptyQueue ends the loop).
async function drain(q) {
  const keys = [];
  for (;;) {
    try {
      const m = await channel.basic_get(q, { no_ack: true });
      keys.push(m.routing_key);
    } catch (e) {
      if (e instanceof aioamqp.EmptyQueue) return keys;
      throw e;
    }
  }
}
// Publishes without confirms are asynchronous on the broker's side: wait
// until all four reached the catch-all queue.
for (let i = 0; i < 50; i++) {
  const { message_count } = await channel.queue_declare(queues.all, { passive: true });
  if (message_count === 4) break;
  await new Promise((r) => setTimeout(r, 20));
}
console.log('errors queue got:', (await drain(queues.errors)).sort().join(', '));
console.log('all queue got:   ', (await drain(queues.all)).sort().join(', '));

await channel.queue_unbind(queues.errors, exchange, '*.error');
await channel.queue_delete(queues.errors);
await channel.queue_delete(queues.all);
await channel.exchange_delete(exchange);
console.log('cleaned up');
await protocol.close();
transport.close();
