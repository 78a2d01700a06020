// `await protocol.close()` right after 100 000 un-awaited basic_publish calls
// delivers every one of them (a second connection counts the queue).
const assert = require('assert');
const aioamqp = require('aioamqp');

const queue = `amqpjs.e2e.shutdown.${Math.random().toString(16).slice(2, 10)}`;
const N = 100000;
const [, counter] = await aioamqp.connect();
const cch = await counter.channel();
// Not exclusive (the publishing connection is another one); x-expires removes
// it even if this run is killed before its clean-up.
await cch.queue_declare(queue, { durable: false, exclusive: false, auto_delete: false, arguments: { 'x-expires': 120000 } });
try {
  const [, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  for (let i = 0; i < N; i++) ch.basic_publish(`message ${i}`, '', queue);
  await protocol.close();
  assert.strictEqual(protocol.state, aioamqp.CLOSED);

  // The broker may still be moving messages from the closed channel into the
  // queue: poll until the count reaches N or stops moving for a while.
  let count = -1, last = -1, still = 0;
  while (still < 40) {
    count = (await cch.queue_declare(queue, { passive: true })).message_count;
    if (count === N) break;
    still = count === last ? still + 1 : 0;
    last = count;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.strictEqual(count, N, `${N - count} of ${N} messages lost at close`);
  // The first and the last are there, in order.
  const first = await cch.basic_get(queue, { no_ack: true });
  assert.strictEqual(first.message.toString(), 'message 0');
  assert.strictEqual(first.message_count, N - 1);
} finally {
  await cch.queue_delete(queue);
  await counter.close();
}
console.log('clean shutdown ok');
