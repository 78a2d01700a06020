// errors.js — AMQP errors are exceptions: catch ChannelClosed and carry on
// with a new channel, as aioamqp users do.
const aioamqp = require('aioamqp');

const [transport, protocol] = await aioamqp.connect();
let channel = await protocol.channel();

try {
  await channel.queue_declare('amqpjs.does-not-exist', { passive: true });
} catch (e) {
  if (!(e instanceof aioamqp.ChannelClosed)) throw e;
  console.log(`caught ${e.name} ${e.code}: ${e.message}`);
}
console.log('channel open after the error?', channel.is_open);

try {
  await channel.queue_declare('another');
} catch (e) {
  console.log(`a call on the closed channel: ${e.name} (code ${e.code})`);
}

channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });
console.log('a new channel works:', queue.startsWith('amq.gen-'));

try {
  channel.queue_declare({ queue_name: 'x', durabel: true });
} catch (e) {
  console.log(`bad arguments throw synchronously: ${e.name}: ${e.message}`);
}

await protocol.close();
transport.close();
