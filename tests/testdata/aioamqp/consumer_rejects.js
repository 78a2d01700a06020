// expect-exit: 1
// expect-stderr: e2e-consumer-rejected-4d2
// An async consumer callback that rejects is an uncaught error (docs/api.md §7): exit 1, the error on stderr.
import * as aioamqp from 'aioamqp';

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
await ch.basic_consume(async (body) => {
  await null;
  throw new TypeError(`e2e-consumer-rejected-4d2 (${body})`);
}, { queue_name: queue, no_ack: true });
await ch.publish('boom', '', queue);
await protocol.wait_closed();
console.log('not reached');
