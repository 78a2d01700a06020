// Consumer callbacks (docs/api.md §7): arguments, timing, order, concurrency,
// RPCs inside callbacks, basic_cancel, DuplicateConsumerTag, broker cancel,
// consumer_tags, prefetch.
// expect-stderr: e2e-cancel-callback-boom
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const pub = await protocol.channel();
await pub.confirm_select();
const softFailures = []; // reported at the end, so that the rest still runs
const tick = () => new Promise((r) => setImmediate(r));
function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

// 1. Arguments, and never before basic_consume has resolved.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await pub.publish('one', '', queue, { properties: { message_id: 'm1' } });
  await pub.publish('two', '', queue);
  const calls = [];
  const got2 = deferred();
  let resolved = false;
  const consuming = ch.basic_consume(function (...args) {
    calls.push({ args, resolved, self: this });
    if (calls.length === 2) got2.resolve();
  }, { queue_name: queue, no_ack: true });
  consuming.then(() => { resolved = true; });
  const { consumer_tag } = await consuming;
  assert.strictEqual(typeof consumer_tag, 'string');
  assert.ok(consumer_tag.length > 0);
  await got2.promise;
  for (const c of calls) assert.ok(c.resolved, 'the callback ran before basic_consume resolved');
  const [body, envelope, properties, channel] = calls[0].args;
  assert.strictEqual(calls[0].args.length, 4);
  assert.ok(Buffer.isBuffer(body));
  assert.strictEqual(body.toString(), 'one');
  assert.strictEqual(envelope.consumer_tag, consumer_tag);
  assert.strictEqual(typeof envelope.delivery_tag, 'number');
  assert.strictEqual(envelope.delivery_tag, 1);
  assert.strictEqual(envelope.exchange_name, '');
  assert.strictEqual(envelope.routing_key, queue);
  assert.strictEqual(envelope.is_redeliver, false);
  assert.strictEqual(properties.message_id, 'm1');
  assert.strictEqual(channel, ch);
  assert.strictEqual(calls[1].args[1].delivery_tag, 2);
  assert.deepStrictEqual(ch.consumer_tags, [consumer_tag]);
  assert.deepStrictEqual(await ch.basic_cancel(consumer_tag), { consumer_tag });
  assert.deepStrictEqual(ch.consumer_tags, []);
}

// 2. 1000 deliveries to an async callback: in order, one at a time by default.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  const N = 1000;
  const all = [];
  for (let i = 0; i < N; i++) all.push(pub.publish(String(i), '', queue));
  await Promise.all(all);
  const got = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const done = deferred();
  const { consumer_tag } = await ch.basic_consume(async (body, envelope, properties, channel) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const i = Number(body.toString());
    if (i % 3 === 0) await tick(); else if (i % 3 === 1) await null;
    got.push(i);
    await channel.basic_client_ack(envelope.delivery_tag);
    inFlight--;
    if (got.length === N) done.resolve();
  }, { queue_name: queue, consumer_tag: 'e2e-ordered' });
  assert.strictEqual(consumer_tag, 'e2e-ordered');
  await done.promise;
  assert.deepStrictEqual(got, Array.from({ length: N }, (_, i) => i));
  assert.strictEqual(maxInFlight, 1);
  await ch.basic_cancel(consumer_tag);
}

// 3. concurrency: N lets N callbacks run at once, never more; they start in delivery order.
async function concurrencyRun(concurrency, total, opts = {}) {
  const c = opts.channel || ch;
  const { queue } = await c.queue_declare('', { exclusive: true });
  if (opts.prefetch) await c.basic_qos({ prefetch_count: opts.prefetch });
  const all = [];
  for (let i = 0; i < total; i++) all.push(pub.publish(String(i), '', queue));
  await Promise.all(all);
  const limit = opts.expectMax;
  let inFlight = 0, maxInFlight = 0, started = 0, finished = 0;
  const order = [];
  let gate = deferred();
  const done = deferred();
  const { consumer_tag } = await c.basic_consume(async (body, envelope, properties, channel) => {
    order.push(Number(body.toString()));
    started++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Hold every callback until `limit` are in flight (or all have started).
    const g = gate;
    if (inFlight === limit || started === total) { gate = deferred(); g.resolve(); }
    await g.promise;
    await tick();
    inFlight--;
    if (!opts.no_ack) channel.basic_client_ack(envelope.delivery_tag);
    if (++finished === total) done.resolve();
  }, { queue_name: queue, concurrency, no_ack: !!opts.no_ack });
  await done.promise;
  await c.basic_cancel(consumer_tag);
  assert.deepStrictEqual(order, Array.from({ length: total }, (_, i) => i));
  return maxInFlight;
}
assert.strictEqual(await concurrencyRun(4, 40, { expectMax: 4, no_ack: true }), 4);
assert.strictEqual(await concurrencyRun(1, 10, { expectMax: 1, no_ack: true }), 1);
// Prefetch 10 with a slow consumer allowing 50: never more than 10 unacked.
{
  const pch = await protocol.channel();
  assert.strictEqual(await concurrencyRun(50, 100, { expectMax: 10, prefetch: 10, channel: pch }), 10);
  await pch.close();
}

// 4. RPCs awaited inside a callback do not deadlock.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  const done = deferred();
  const seen = [];
  const { consumer_tag } = await ch.basic_consume(async (body, envelope, properties, channel) => {
    const q = await channel.queue_declare('', { exclusive: true });           // RPC on the same channel
    const c2 = await protocol.channel();                                        // a new channel
    await c2.confirm_select();
    await c2.publish(`echo ${body}`, '', q.queue);                              // publish in confirm mode
    const m = await c2.basic_get(q.queue, { no_ack: true });
    await c2.queue_delete(q.queue);
    await c2.close();
    await pub.publish('x', '', 'amqpjs.e2e.nowhere');                           // another channel
    seen.push(m.message.toString());
    await channel.basic_client_ack(envelope.delivery_tag);
    if (seen.length === 3) done.resolve();
  }, { queue_name: queue });
  for (const s of ['a', 'b', 'c']) await pub.publish(s, '', queue);
  await done.promise;
  assert.deepStrictEqual(seen, ['echo a', 'echo b', 'echo c']);
  await ch.basic_cancel(consumer_tag);
}

// 5. basic_cancel: no more deliveries; no_wait resolves null; consumer_tags.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  let calls = 0;
  const { consumer_tag: t1 } = await ch.basic_consume(() => { calls++; }, { queue_name: queue, no_ack: true });
  const { consumer_tag: t2 } = await ch.basic_consume(() => { calls++; }, { queue_name: queue, no_ack: true, consumer_tag: 'e2e-two' });
  assert.notStrictEqual(t1, t2);
  assert.deepStrictEqual([...ch.consumer_tags].sort(), [t1, t2].sort());
  assert.deepStrictEqual(await ch.basic_cancel(t1), { consumer_tag: t1 });
  assert.strictEqual(await ch.basic_cancel(t2, true), null);
  assert.deepStrictEqual(ch.consumer_tags, []);
  await pub.publish('nobody listens', '', queue);
  assert.strictEqual((await pub.queue_declare(queue, { passive: true })).message_count, 1);
  assert.strictEqual(calls, 0);
}

// 6. DuplicateConsumerTag is raised before sending: the connection survives.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await ch.basic_consume(() => {}, { queue_name: queue, consumer_tag: 'e2e-dup' });
  await assert.rejects(ch.basic_consume(() => {}, { queue_name: queue, consumer_tag: 'e2e-dup' }), (e) => {
    assert.ok(e instanceof aioamqp.DuplicateConsumerTag, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.ChannelClosed);
    assert.ok(e instanceof aioamqp.AioamqpException);
    assert.strictEqual(e.name, 'DuplicateConsumerTag');
    assert.strictEqual(e.code, 530);
    assert.strictEqual(e.consumer_tag, 'e2e-dup');
    return true;
  });
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  assert.strictEqual(ch.is_open, true);
  assert.deepStrictEqual(ch.consumer_tags, ['e2e-dup']);
  // The same tag on another channel is fine.
  const other = await protocol.channel();
  await other.basic_consume(() => {}, { queue_name: queue, consumer_tag: 'e2e-dup' });
  await ch.basic_cancel('e2e-dup');
  // Once basic_cancel has resolved, the tag can be used again at once.
  try {
    await ch.basic_consume(() => {}, { queue_name: queue, consumer_tag: 'e2e-dup' });
    await ch.basic_cancel('e2e-dup');
  } catch (e) {
    softFailures.push(`reusing a tag right after basic_cancel resolved: ${e.name}: ${e.message}`);
  }
  await other.close();
}

// 7. Broker-side cancel (the queue is deleted from another channel):
// cancellation callbacks run in registration order with (consumer_tag, channel);
// one that throws is reported on stderr and the others still run; the channel stays open.
{
  const cch = await protocol.channel();
  const { queue } = await cch.queue_declare('', { exclusive: true });
  const events = [];
  const both = deferred();
  cch.add_cancellation_callback((tag, channel) => { events.push(['first', tag, channel === cch]); });
  assert.strictEqual(cch.add_cancellation_callback(() => { throw new Error('e2e-cancel-callback-boom'); }), undefined);
  cch.add_cancellation_callback(async (tag, channel) => {
    await tick();
    events.push(['third', tag, channel === cch]);
    if (events.length === 4) both.resolve();
  });
  let delivered = 0;
  const { consumer_tag: a } = await cch.basic_consume(() => { delivered++; }, { queue_name: queue, consumer_tag: 'e2e-cancel-a' });
  const q2 = (await cch.queue_declare('', { exclusive: true })).queue;
  const { consumer_tag: b } = await cch.basic_consume(() => { delivered++; }, { queue_name: q2 });
  assert.deepStrictEqual([...cch.consumer_tags].sort(), [a, b].sort());
  await pub.queue_delete(queue);
  await pub.queue_delete(q2);
  await both.promise;
  const firsts = events.filter((e) => e[0] === 'first').map((e) => e[1]);
  const thirds = events.filter((e) => e[0] === 'third').map((e) => e[1]);
  assert.deepStrictEqual(firsts, [a, b]);
  assert.deepStrictEqual(thirds, [a, b]);
  assert.ok(events.every((e) => e[2] === true), 'the callback did not get the channel');
  // For each tag 'first' ran before 'third'.
  assert.ok(events.findIndex((e) => e[0] === 'first' && e[1] === a) < events.findIndex((e) => e[0] === 'third' && e[1] === a));
  assert.strictEqual(cch.is_open, true);
  assert.deepStrictEqual(cch.consumer_tags, []);
  assert.strictEqual(delivered, 0);
  // The channel still works.
  const q3 = (await cch.queue_declare('', { exclusive: true })).queue;
  assert.ok(q3.startsWith('amq.gen-'));
}

await protocol.close();
assert.deepStrictEqual(softFailures, []);
console.log('consumers ok');
