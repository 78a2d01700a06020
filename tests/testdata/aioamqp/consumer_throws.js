// expect-exit: 1
// expect-stderr: e2e-consumer-threw-7c1
// expect-stderr: consumer_throws.js:
// A consumer callback that throws is an uncaught error (docs/api.md §7): exit 1, the error and its stack on stderr.
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
await ch.basic_consume(() => {
  throw new Error('e2e-consumer-threw-7c1');
}, { queue_name: queue, no_ack: true });
await ch.publish('boom', '', queue);
// Keep the script waiting: only the callback's error can end it.
await protocol.wait_closed();
console.log('not reached');
