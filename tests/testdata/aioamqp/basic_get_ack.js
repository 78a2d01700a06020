// basic_get, acks/nacks/rejects and their defaults, recover, flow, channel close.
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
let ch = await protocol.channel();
const pub = await protocol.channel();
await pub.confirm_select();
const { queue } = await ch.queue_declare('', { exclusive: true });
const count = async () => (await pub.queue_declare(queue, { passive: true })).message_count;

// basic_get: the result's shape.
await pub.publish('one', '', queue, { properties: { content_type: 'text/plain', headers: { n: 1 } } });
await pub.publish('two', '', queue);
{
  const m = await ch.basic_get(queue);
  assert.deepStrictEqual(Object.keys(m).sort(),
    ['delivery_tag', 'exchange_name', 'message', 'message_count', 'properties', 'redelivered', 'routing_key']);
  assert.strictEqual(typeof m.delivery_tag, 'number');
  assert.strictEqual(m.delivery_tag, 1);
  assert.strictEqual(m.redelivered, false);
  assert.strictEqual(m.exchange_name, '');
  assert.strictEqual(m.routing_key, queue);
  assert.strictEqual(m.message_count, 1);
  assert.ok(Buffer.isBuffer(m.message));
  assert.strictEqual(m.message.toString(), 'one');
  assert.strictEqual(m.properties.content_type, 'text/plain');
  assert.deepStrictEqual(m.properties.headers, { n: 1 });
  assert.strictEqual(m.properties.message_id, null);
  assert.strictEqual(await ch.basic_client_ack(m.delivery_tag), null);
  // Positional no_ack; by name.
  const m2 = await ch.basic_get(queue, true);
  assert.strictEqual(m2.message.toString(), 'two');
  assert.strictEqual(m2.message_count, 0);
}
// EmptyQueue; the channel stays open.
for (const call of [() => ch.basic_get(queue), () => ch.basic_get({ queue_name: queue, no_ack: true })]) {
  await assert.rejects(call(), (e) => {
    assert.ok(e instanceof aioamqp.EmptyQueue, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.AioamqpException);
    assert.ok(e instanceof Error);
    assert.strictEqual(e.name, 'EmptyQueue');
    return true;
  });
}
assert.strictEqual(ch.is_open, true);

// Helper: publish bodies, get them all without ack, return their tags.
async function getAll(bodies) {
  for (const b of bodies) await pub.publish(b, '', queue);
  const tags = [];
  for (const b of bodies) {
    const m = await ch.basic_get(queue);
    assert.strictEqual(m.message.toString(), b);
    tags.push(m.delivery_tag);
  }
  return tags;
}

// basic_client_ack with multiple.
{
  const tags = await getAll(['a', 'b', 'c']);
  assert.strictEqual(await ch.basic_client_ack(tags[1], true), null); // acks a and b
  await ch.basic_recover(true); // requeues the unacked c
  const m = await ch.basic_get(queue, { no_ack: true });
  assert.strictEqual(m.message.toString(), 'c');
  assert.strictEqual(m.redelivered, true);
  assert.strictEqual(await count(), 0);
}

// Acks made while an earlier call of the channel is answered but not yet
// settled (this task keeps the loop busy meanwhile) are written at once:
// they reach the broker, and their promises settle after that call's.
{
  const tags = await getAll(['u1', 'u2', 'u3', 'u4']);
  const order = [];
  const calls = [ch.queue_declare(queue, { passive: true }).then(() => order.push('declare'))];
  for (const until = Date.now() + 300; Date.now() < until;) {}
  for (const t of tags) calls.push(ch.basic_client_ack(t).then((v) => order.push(`ack ${t}:${v}`)));
  await Promise.all(calls);
  assert.deepStrictEqual(order, ['declare', ...tags.map((t) => `ack ${t}:null`)]);
  await ch.basic_recover(true); // would requeue any of them the broker did not get
  await assert.rejects(ch.basic_get(queue), aioamqp.EmptyQueue);
  assert.strictEqual(ch.is_open, true);
}

// basic_client_nack: requeue defaults to true.
{
  const [t] = await getAll(['nack-default']);
  assert.strictEqual(await ch.basic_client_nack(t), null);
  const m = await ch.basic_get(queue);
  assert.strictEqual(m.message.toString(), 'nack-default');
  assert.strictEqual(m.redelivered, true);
  // requeue false drops it (positional: delivery_tag, multiple, requeue).
  assert.strictEqual(await ch.basic_client_nack(m.delivery_tag, false, false), null);
  assert.strictEqual(await count(), 0);
  // multiple, by name.
  const tags = await getAll(['n1', 'n2']);
  await ch.basic_client_nack({ delivery_tag: tags[1], multiple: true, requeue: false });
  assert.strictEqual(await count(), 0);
}

// basic_reject: requeue defaults to false (drops).
{
  const [t] = await getAll(['reject-default']);
  assert.strictEqual(await ch.basic_reject(t), null);
  assert.strictEqual(await count(), 0);
  await assert.rejects(ch.basic_get(queue), aioamqp.EmptyQueue);
  const [t2] = await getAll(['reject-requeue']);
  assert.strictEqual(await ch.basic_reject(t2, true), null);
  const m = await ch.basic_get(queue, { no_ack: true });
  assert.strictEqual(m.message.toString(), 'reject-requeue');
  assert.strictEqual(m.redelivered, true);
  const [t3] = await getAll(['reject-by-name']);
  assert.strictEqual(await ch.basic_reject({ delivery_tag: t3, requeue: true }), null);
  assert.strictEqual((await ch.basic_get(queue, { no_ack: true })).message.toString(), 'reject-by-name');
}

// basic_recover (default requeue=true) and basic_recover_async.
{
  await getAll(['r1', 'r2']);
  assert.strictEqual(await ch.basic_recover(), true);
  assert.strictEqual(await count(), 2);
  const got = [(await ch.basic_get(queue)).message.toString(), (await ch.basic_get(queue)).message.toString()];
  assert.deepStrictEqual(got.sort(), ['r1', 'r2']);
  assert.strictEqual(await ch.basic_recover_async(), null);
  assert.strictEqual(await ch.basic_recover({ requeue: true }), true); // after the async one, in order
  assert.strictEqual(await count(), 2);
  await ch.queue_purge(queue);
}

// flow.
assert.deepStrictEqual(await ch.flow(true), { active: true });
assert.deepStrictEqual(await ch.flow({ active: true }), { active: true });

// An ack of an unknown delivery tag resolves (fire-and-forget); the broker's
// 406 surfaces on the next call.
{
  const c = await protocol.channel();
  assert.strictEqual(await c.basic_client_ack(9999), null);
  await assert.rejects(c.queue_declare(queue, { passive: true }), (e) => {
    assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
    assert.strictEqual(e.code, 406);
    return true;
  });
  assert.strictEqual(c.is_open, false);
}

// basic_get on a missing queue: ChannelClosed 404.
await assert.rejects(ch.basic_get('amqpjs.e2e.no-such-queue'), (e) => e instanceof aioamqp.ChannelClosed && e.code === 404);
ch = await protocol.channel();

// channel.close(): true; again: ChannelClosed; calls after: ChannelClosed code 0.
{
  const c = await protocol.channel();
  const id = c.channel_id;
  assert.strictEqual(c.is_open, true);
  assert.strictEqual(await c.close(), true);
  assert.strictEqual(c.is_open, false);
  await assert.rejects(c.close(), (e) => {
    assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
    return true;
  });
  await assert.rejects(c.basic_get(queue), (e) => e instanceof aioamqp.ChannelClosed && e.code === 0);
  await assert.rejects(c.publish('x', '', queue), (e) => e instanceof aioamqp.ChannelClosed && e.code === 0);
  // close with a code and text, positional and by name.
  const c2 = await protocol.channel();
  assert.strictEqual(await c2.close(200, 'bye'), true);
  const c3 = await protocol.channel();
  assert.strictEqual(await c3.close({ reply_code: 200, reply_text: 'bye' }), true);
  assert.strictEqual(typeof id, 'number');
}

await protocol.close();
console.log('basic_get and acks ok');
