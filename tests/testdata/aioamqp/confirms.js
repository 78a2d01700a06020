// Publisher confirms (docs/api.md §5, §9.3): publish waits for the broker's ack,
// many in flight, nacks reject PublishFailed, basic_publish keeps tags in step.
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
assert.strictEqual(ch.publisher_confirms, false);
assert.strictEqual(await ch.confirm_select(), true);
assert.strictEqual(ch.publisher_confirms, true);

// A second confirm_select rejects (asynchronously) with TypeError.
{
  const p = ch.confirm_select(); // does not throw synchronously
  await assert.rejects(p, (e) => {
    assert.ok(e instanceof TypeError, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e.message.includes('publisher confirms already enabled'), e.message);
    return true;
  });
  assert.strictEqual(ch.is_open, true);
  assert.strictEqual(ch.publisher_confirms, true);
}

// 10 000 publishes in flight: all resolve null; the queue holds them all.
const { queue } = await ch.queue_declare('', { exclusive: true });
const N = 10000;
let tag = 0; // the delivery tags used so far on ch
{
  const all = [];
  for (let i = 0; i < N; i++) all.push(ch.publish(`m${i}`, '', queue));
  tag += N;
  const results = await Promise.all(all);
  assert.strictEqual(results.length, N);
  assert.ok(results.every((r) => r === null));
  // Confirmed means enqueued: no polling needed.
  assert.strictEqual((await ch.queue_declare(queue, { passive: true })).message_count, N);
  assert.deepStrictEqual(await ch.queue_purge(queue), { message_count: N });
}

// Nack: a full queue that rejects publishes.
const full = (await ch.queue_declare('', { exclusive: true, arguments: { 'x-max-length': 1, 'x-overflow': 'reject-publish' } })).queue;
assert.strictEqual(await ch.publish('first', '', full), null);
tag += 1;
await assert.rejects(ch.publish('second', '', full), (e) => {
  tag += 1;
  assert.ok(e instanceof aioamqp.PublishFailed, `got ${e && e.name}: ${e && e.message}`);
  assert.ok(e instanceof aioamqp.AioamqpException);
  assert.ok(e instanceof Error);
  assert.strictEqual(e.name, 'PublishFailed');
  assert.strictEqual(typeof e.delivery_tag, 'number');
  assert.strictEqual(e.delivery_tag, tag);
  return true;
});
// The channel is still usable after a nack.
assert.strictEqual(ch.is_open, true);

// basic_publish in confirm mode resolves once written and takes a tag, so a
// publish after 5 basic_publishes still resolves, and a nack names the right tag.
for (let i = 0; i < 5; i++) assert.strictEqual(await ch.basic_publish(`b${i}`, '', queue), null);
tag += 5;
assert.strictEqual(await ch.publish('after basic_publish', '', queue), null);
tag += 1;
for (let i = 0; i < 3; i++) ch.basic_publish(`full ${i}`, '', full); // nacked, silently
tag += 3;
await assert.rejects(ch.publish('full again', '', full), (e) => {
  tag += 1;
  assert.ok(e instanceof aioamqp.PublishFailed, `got ${e && e.name}`);
  assert.strictEqual(e.delivery_tag, tag);
  return true;
});
// A mix in flight at once: every publish settles (acks for queue, nacks for full).
{
  const all = [];
  for (let i = 0; i < 200; i++) {
    ch.basic_publish(`x${i}`, '', queue);
    all.push(ch.publish(`y${i}`, '', i % 2 ? queue : full).then(() => 'ack', (e) => (e instanceof aioamqp.PublishFailed ? 'nack' : e)));
  }
  const results = await Promise.all(all);
  assert.strictEqual(results.filter((r) => r === 'ack').length, 100);
  assert.strictEqual(results.filter((r) => r === 'nack').length, 100);
}
assert.strictEqual((await ch.queue_declare(queue, { passive: true })).message_count, 5 + 1 + 200 + 100);

// Mandatory + unroutable in confirm mode: the return callback runs, then the publish resolves.
{
  const returned = [];
  ch.return_callback = (body, env) => { returned.push([body.toString(), env.reply_code]); };
  assert.strictEqual(await ch.publish('lost', 'amq.direct', 'no-such-binding', { mandatory: true }), null);
  assert.deepStrictEqual(returned, [['lost', 312]]);
}

// confirm_select with no_wait resolves null; confirms are on.
{
  const ch2 = await protocol.channel();
  assert.strictEqual(await ch2.confirm_select({ no_wait: true }), null);
  assert.strictEqual(ch2.publisher_confirms, true);
  assert.strictEqual(await ch2.publish('nw', '', queue), null);
  const all = [];
  for (let i = 0; i < 100; i++) all.push(ch2.publish('nw', '', queue));
  await Promise.all(all);
  assert.strictEqual((await ch2.queue_declare(queue, { passive: true })).message_count, 5 + 1 + 200 + 100 + 101);
}

// Publishes pending when the channel closes reject ChannelClosed.
{
  const ch3 = await protocol.channel();
  await ch3.confirm_select();
  const pending = [ch3.publish('x', 'amqpjs.e2e.no-such-exchange', 'k'), ch3.publish('y', '', queue)];
  const results = await Promise.allSettled(pending);
  assert.strictEqual(results[0].status, 'rejected');
  assert.ok(results[0].reason instanceof aioamqp.ChannelClosed, `got ${results[0].reason}`);
  assert.strictEqual(results[0].reason.code, 404);
  assert.strictEqual(results[1].status, 'rejected');
  assert.ok(results[1].reason instanceof aioamqp.ChannelClosed, `got ${results[1].reason}`);
  await assert.rejects(ch3.publish('z', '', queue), (e) => e instanceof aioamqp.ChannelClosed && e.code === 0);
}

// Without confirm mode publish resolves once written.
{
  const ch4 = await protocol.channel();
  assert.strictEqual(ch4.publisher_confirms, false);
  assert.strictEqual(await ch4.publish('plain', '', queue), null);
}

await protocol.close();
console.log('confirms ok');
