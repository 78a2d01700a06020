// hello.js — publish a message through the default exchange and consume it,
// as in aioamqp's documentation. Run: amqpjs run scripts/hello.js
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect();
console.log('connected to', protocol.server_properties.product, protocol.server_properties.version);

const channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });

const received = new Promise((resolve) => {
  channel.basic_consume(async (body, envelope, properties, ch) => {
    console.log('received:', body.toString(), '(content_type:', properties.content_type + ')');
    await ch.basic_client_ack(envelope.delivery_tag);
    resolve();
  }, { queue_name: queue });
});

console.log('publishing: hello, world');
await channel.publish('hello, world', '', queue, { properties: { content_type: 'text/plain' } });
await received;

await protocol.close();
transport.close();
console.log('closed');
