// rpc.js — request/reply with reply_to and correlation_id. The server
// consumer awaits a publish on the same connection inside its callback.
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect();
const server = await protocol.channel();
const rpcQueue = (await server.queue_declare('', { exclusive: true })).queue;

await server.basic_consume(async (body, envelope, properties, ch) => {
  const n = Number(body.toString());
  const result = fib(n);
  await ch.publish(String(result), '', properties.reply_to, {
    properties: { correlation_id: properties.correlation_id },
  });
  await ch.basic_client_ack(envelope.delivery_tag);
}, { queue_name: rpcQueue });

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

const client = await protocol.channel();
const replyQueue = (await client.queue_declare('', { exclusive: true })).queue;
const pending = new Map();
await client.basic_consume((body, envelope, properties) => {
  const resolve = pending.get(properties.correlation_id);
  if (resolve) { pending.delete(properties.correlation_id); resolve(Number(body.toString())); }
}, { queue_name: replyQueue, no_ack: true });

let nextId = 0;
function call(n) {
  const id = String(++nextId);
  return new Promise((resolve) => {
    pending.set(id, resolve);
    client.publish(String(n), '', rpcQueue, { properties: { reply_to: replyQueue, correlation_id: id } });
  });
}

const answers = await Promise.all([10, 20, 25].map(call));
console.log('fib(10, 20, 25) =', answers.join(', '));
await protocol.close();
transport.close();
