// channel.consume() async iterator (docs/api.md §5, §6, §9.6).
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const pub = await protocol.channel();
await pub.confirm_select();

// 1. for await with ack(); cancel() ends the loop.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  for (let i = 0; i < 10; i++) await pub.publish(`m${i}`, '', queue, { properties: { message_id: String(i) } });
  const messages = await ch.consume(queue);
  assert.strictEqual(typeof messages.consumer_tag, 'string');
  assert.strictEqual(typeof messages.cancel, 'function');
  assert.strictEqual(typeof messages[Symbol.asyncIterator], 'function');
  assert.deepStrictEqual(ch.consumer_tags, [messages.consumer_tag]);
  const got = [];
  for await (const m of messages) {
    assert.ok(Buffer.isBuffer(m.body));
    assert.strictEqual(m.envelope.consumer_tag, messages.consumer_tag);
    assert.strictEqual(m.envelope.routing_key, queue);
    assert.strictEqual(m.envelope.is_redeliver, false);
    assert.strictEqual(m.properties.message_id, String(got.length));
    assert.strictEqual(m.properties.content_type, null);
    const acked = m.ack();
    assert.ok(acked instanceof Promise);
    await acked;
    got.push(m.body.toString());
    if (got.length === 5) await messages.cancel();
  }
  // The loop ended after cancel() (the prefetched rest may or may not have been handed out).
  assert.ok(got.length >= 5 && got.length <= 10, `got ${got.length}`);
  assert.deepStrictEqual(got, Array.from({ length: got.length }, (_, i) => `m${i}`));
  assert.deepStrictEqual(ch.consumer_tags, []);
  // Every unacked message went back to the queue.
  await ch.basic_recover();
  const { message_count } = await ch.queue_declare(queue, { passive: true });
  assert.strictEqual(message_count, 10 - got.length);
}

// 2. nack({ requeue }) and reject({ requeue }); options of basic_consume.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await pub.publish('again', '', queue);
  await pub.publish('drop', '', queue);
  const messages = await ch.consume(queue, { consumer_tag: 'e2e-iter', concurrency: 1 });
  assert.strictEqual(messages.consumer_tag, 'e2e-iter');
  const it = messages[Symbol.asyncIterator]();
  let r = await it.next();
  assert.strictEqual(r.done, false);
  assert.strictEqual(r.value.body.toString(), 'again');
  await r.value.nack({ requeue: true });
  r = await it.next();
  assert.strictEqual(r.value.body.toString(), 'drop');
  await r.value.reject({ requeue: false });
  r = await it.next();
  assert.strictEqual(r.value.body.toString(), 'again');
  assert.strictEqual(r.value.envelope.is_redeliver, true);
  await r.value.ack();
  await messages.cancel();
  r = await it.next();
  assert.strictEqual(r.done, true);
  assert.strictEqual((await ch.queue_declare(queue, { passive: true })).message_count, 0);
}

// 3. no_ack consume.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await pub.publish('x', '', queue);
  const messages = await ch.consume(queue, { no_ack: true });
  for await (const m of messages) {
    assert.strictEqual(m.body.toString(), 'x');
    await messages.cancel();
  }
  assert.strictEqual((await ch.queue_declare(queue, { passive: true })).message_count, 0);
}

// 4. The broker cancels the consumer (queue deleted): next() rejects ConsumerCancelled.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await pub.publish('before', '', queue);
  const messages = await ch.consume(queue, { no_ack: true });
  const seen = [];
  let caught;
  try {
    for await (const m of messages) {
      seen.push(m.body.toString());
      await pub.queue_delete(queue);
    }
  } catch (e) {
    caught = e;
  }
  assert.deepStrictEqual(seen, ['before']);
  assert.ok(caught instanceof aioamqp.ConsumerCancelled, `got ${caught && caught.name}: ${caught && caught.message}`);
  assert.ok(caught instanceof aioamqp.AioamqpException);
  assert.strictEqual(caught.name, 'ConsumerCancelled');
  assert.strictEqual(caught.consumer_tag, messages.consumer_tag);
  assert.strictEqual(ch.is_open, true);
}

// 5. A channel close by the script ends the loop.
{
  const c = await protocol.channel();
  const { queue } = await c.queue_declare('', { exclusive: true });
  const messages = await c.consume(queue);
  const loop = (async () => {
    let n = 0;
    for await (const m of messages) n++;
    return n;
  })();
  await c.close();
  assert.strictEqual(await loop, 0);
}

// 6. A pending next() rejects with the close error when the channel dies.
{
  const c = await protocol.channel();
  const { queue } = await c.queue_declare('', { exclusive: true });
  const messages = await c.consume(queue);
  const it = messages[Symbol.asyncIterator]();
  const pending = it.next();
  await assert.rejects(c.queue_declare('amqpjs.e2e.missing.iter', { passive: true }), (e) => e.code === 404);
  await assert.rejects(pending, (e) => {
    assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
    assert.strictEqual(e.code, 404);
    return true;
  });
}

await protocol.close();
console.log('consume iterator ok');
