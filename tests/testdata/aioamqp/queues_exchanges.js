// queue_* and exchange_* calls: positional and by-name parameters, results,
// no_wait, arguments tables, broker errors (404, 405, 406) and the closed channel.
const assert = require('assert');
const aioamqp = require('aioamqp');

const suffix = Math.random().toString(16).slice(2, 10);
const n = (s) => `amqpjs.e2e.topo.${s}.${suffix}`;
const [, protocol] = await aioamqp.connect();
let ch = await protocol.channel();
const queues = new Set();
const exchanges = new Set();

function isClosed(code) {
  return (e) => {
    assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.AioamqpException);
    assert.ok(e instanceof Error);
    assert.strictEqual(e.name, 'ChannelClosed');
    assert.strictEqual(e.code, code, `code ${e.code}: ${e.message}`);
    return true;
  };
}

// Wait (without a timed assertion) until the broker has routed what we published.
async function countEventually(queue, want) {
  let count;
  for (let i = 0; i < 500; i++) {
    ({ message_count: count } = await ch.queue_declare(queue, { passive: true }));
    if (count === want) return count;
    await new Promise((r) => setTimeout(r, 10));
  }
  return count;
}

try {
  // --- queue_declare -------------------------------------------------------
  // Positional: queue_name, passive, durable, exclusive, auto_delete.
  const q1 = n('q1');
  queues.add(q1);
  assert.deepStrictEqual(await ch.queue_declare(q1, false, false, true, false), { queue: q1, message_count: 0, consumer_count: 0 });
  // By name, with an arguments table.
  const q2 = n('q2');
  queues.add(q2);
  const args2 = { 'x-max-priority': 4, 'x-message-ttl': 2147483648 };
  assert.deepStrictEqual(await ch.queue_declare({ queue_name: q2, exclusive: true, arguments: args2 }), { queue: q2, message_count: 0, consumer_count: 0 });
  // Same arguments again is fine; other values are 406 (so the broker stored them).
  assert.strictEqual((await ch.queue_declare(q2, { exclusive: true, arguments: { 'x-max-priority': 4, 'x-message-ttl': 2147483648 } })).queue, q2);
  await assert.rejects(ch.queue_declare(q2, { exclusive: true, arguments: { 'x-max-priority': 4, 'x-message-ttl': 2147483647 } }), isClosed(406));
  // Every later call on that channel: ChannelClosed code 0.
  assert.strictEqual(ch.is_open, false);
  await assert.rejects(ch.queue_declare(q1, { passive: true }), isClosed(0));
  await assert.rejects(ch.exchange_declare(n('never'), 'direct'), isClosed(0));
  await assert.rejects(ch.basic_get(q1), isClosed(0));
  await assert.rejects(ch.publish('x', '', q1), isClosed(0));
  ch = await protocol.channel();
  await assert.rejects(ch.queue_declare(q2, { exclusive: true, arguments: { 'x-max-priority': 5, 'x-message-ttl': 2147483648 } }), isClosed(406));
  ch = await protocol.channel();

  // Positional with a trailing options object.
  const q3 = n('q3');
  queues.add(q3);
  assert.strictEqual((await ch.queue_declare(q3, false, false, { exclusive: true })).queue, q3);

  // Broker-named queues.
  for (const args of [[''], [{ exclusive: true }], [{ queue_name: '', exclusive: true }], ['', false, false, true]]) {
    const r = await ch.queue_declare(...args);
    assert.ok(/^amq\.gen-/.test(r.queue), r.queue);
    assert.strictEqual(r.message_count, 0);
    assert.strictEqual(r.consumer_count, 0);
    queues.add(r.queue);
  }

  // no_wait resolves null; the queue exists afterwards.
  const q4 = n('q4');
  queues.add(q4);
  assert.strictEqual(await ch.queue_declare(q4, { exclusive: true, no_wait: true }), null);
  assert.strictEqual(await ch.queue_declare(q4, false, false, true, false, true), null);
  assert.strictEqual((await ch.queue_declare({ queue_name: q4, passive: true })).queue, q4);

  // passive on a missing queue: 404; then code 0.
  await assert.rejects(ch.queue_declare(n('missing'), true), isClosed(404));
  await assert.rejects(ch.queue_declare(n('missing2'), { passive: true }), isClosed(0));
  ch = await protocol.channel();
  await assert.rejects(ch.queue_declare({ queue_name: n('missing'), passive: true }), (e) => {
    isClosed(404)(e);
    assert.ok(e.message.includes(n('missing')), e.message);
    return true;
  });
  ch = await protocol.channel();

  // Redeclare with other flags: 406 PRECONDITION_FAILED.
  const q6 = n('q6');
  queues.add(q6);
  await ch.queue_declare(q6, { auto_delete: true });
  await assert.rejects(ch.queue_declare(q6, { durable: true, auto_delete: true }), (e) => {
    isClosed(406)(e);
    assert.ok(/PRECONDITION_FAILED/.test(e.message), e.message);
    return true;
  });
  ch = await protocol.channel();

  // An exclusive queue used from another connection: 405 RESOURCE_LOCKED.
  {
    const [, other] = await aioamqp.connect();
    const och = await other.channel();
    await assert.rejects(och.queue_declare(q1, { exclusive: true }), (e) => {
      isClosed(405)(e);
      assert.ok(/RESOURCE_LOCKED/.test(e.message), e.message);
      return true;
    });
    const och2 = await other.channel();
    await assert.rejects(och2.basic_get(q1), isClosed(405));
    await other.close();
  }

  // --- exchanges ------------------------------------------------------------
  const exTopic = n('topic');
  const exFan = n('fanout');
  const exDirect = n('direct');
  for (const e of [exTopic, exFan, exDirect]) exchanges.add(e);
  // Positional: exchange_name, type_name, passive, durable, auto_delete, no_wait.
  assert.strictEqual(await ch.exchange_declare(exTopic, 'topic', false, false, false), true);
  // By name.
  assert.strictEqual(await ch.exchange_declare({ exchange_name: exFan, type_name: 'fanout', arguments: { 'alternate-exchange': 'amq.direct' } }), true);
  // type_name defaults to direct: redeclaring as direct works, as fanout fails 406.
  assert.strictEqual(await ch.exchange_declare(exDirect), true);
  assert.strictEqual(await ch.exchange_declare(exDirect, 'direct'), true);
  assert.strictEqual(await ch.exchange_declare(exDirect, { passive: true }), true);
  await assert.rejects(ch.exchange_declare(exDirect, 'fanout'), isClosed(406));
  ch = await protocol.channel();
  // no_wait.
  const exNoWait = n('nowait');
  exchanges.add(exNoWait);
  assert.strictEqual(await ch.exchange_declare(exNoWait, 'headers', { no_wait: true }), null);
  assert.strictEqual(await ch.exchange_declare(exNoWait, 'headers', true), true); // passive
  // passive on a missing exchange: 404.
  await assert.rejects(ch.exchange_declare(n('nope'), 'direct', true), isClosed(404));
  ch = await protocol.channel();

  // --- queue_bind / queue_unbind ----------------------------------------------
  assert.strictEqual(await ch.queue_bind(q1, exTopic, 'a.*'), true);                        // positional
  assert.strictEqual(await ch.queue_bind(q1, exTopic, { routing_key: 'b.#' }), true);        // mixed
  assert.strictEqual(await ch.queue_bind({ queue_name: q3, exchange_name: exTopic, routing_key: '#', arguments: {} }), true);
  assert.strictEqual(await ch.queue_bind(q4, exTopic, 'c.*', true), null);                   // no_wait positional
  assert.strictEqual(await ch.queue_bind(q4, exTopic, 'd.*', { no_wait: true }), null);
  for (const key of ['a.1', 'b.1.2', 'c.1', 'd.1', 'z.1']) await ch.publish(key, exTopic, key);
  assert.strictEqual(await countEventually(q3, 5), 5);
  assert.strictEqual(await countEventually(q1, 2), 2);
  assert.strictEqual(await countEventually(q4, 2), 2);
  // Binding to a missing exchange: 404.
  await assert.rejects(ch.queue_bind(q1, n('nope'), 'x'), isClosed(404));
  ch = await protocol.channel();

  // --- queue_purge ------------------------------------------------------------
  assert.deepStrictEqual(await ch.queue_purge(q3), { message_count: 5 });
  assert.deepStrictEqual(await ch.queue_purge(q3, false), { message_count: 0 });
  assert.deepStrictEqual(await ch.queue_purge({ queue_name: q1 }), { message_count: 2 });
  assert.strictEqual(await ch.queue_purge(q4, true), null);
  assert.strictEqual(await ch.queue_purge({ queue_name: q4, no_wait: true }), null);
  assert.strictEqual((await ch.queue_declare(q4, { passive: true })).message_count, 0);

  assert.strictEqual(await ch.queue_unbind(q1, exTopic, 'a.*'), true);                      // positional
  assert.strictEqual(await ch.queue_unbind({ queue_name: q1, exchange_name: exTopic, routing_key: 'b.#', arguments: {} }), true);
  assert.strictEqual(await ch.queue_unbind(q3, exTopic, '#', { arguments: {} }), true);
  await ch.publish('after unbind', exTopic, 'a.1');
  await ch.publish('after unbind', exTopic, 'c.1');
  assert.strictEqual(await countEventually(q4, 1), 1); // still bound to c.*, and it's after the other publish
  assert.strictEqual((await ch.queue_declare(q1, { passive: true })).message_count, 0);
  assert.strictEqual((await ch.queue_declare(q3, { passive: true })).message_count, 0);

  // --- exchange_bind / exchange_unbind ------------------------------------------
  // destination first: exFan receives what exTopic routes with 'e.*'.
  assert.strictEqual(await ch.queue_bind(q3, exFan, ''), true);
  assert.strictEqual(await ch.exchange_bind(exFan, exTopic, 'e.*'), true);
  assert.strictEqual(await ch.exchange_bind({ exchange_destination: exFan, exchange_source: exTopic, routing_key: 'f.*', arguments: {} }), true);
  assert.strictEqual(await ch.exchange_bind(exFan, exTopic, 'g.*', true), null);
  for (const key of ['e.1', 'f.1', 'g.1', 'h.1']) await ch.publish(key, exTopic, key);
  assert.strictEqual(await countEventually(q3, 3), 3);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await ch.basic_get(q3, { no_ack: true })).routing_key);
  assert.deepStrictEqual(got.sort(), ['e.1', 'f.1', 'g.1']);
  assert.strictEqual(await ch.exchange_unbind(exFan, exTopic, 'e.*'), true);
  assert.strictEqual(await ch.exchange_unbind({ exchange_destination: exFan, exchange_source: exTopic, routing_key: 'f.*' }), true);
  assert.strictEqual(await ch.exchange_unbind(exFan, exTopic, 'g.*', { no_wait: true }), null);
  for (const key of ['e.1', 'f.1', 'g.1']) await ch.publish(key, exTopic, key);
  await ch.publish('marker', exFan, '');
  assert.strictEqual(await countEventually(q3, 1), 1);
  assert.strictEqual((await ch.basic_get(q3, { no_ack: true })).message.toString(), 'marker');

  // --- deletes ----------------------------------------------------------------
  // if_empty on a non-empty queue: 406.
  await ch.publish('keep', '', q1);
  assert.strictEqual(await countEventually(q1, 1), 1);
  await assert.rejects(ch.queue_delete(q1, false, true), isClosed(406));
  ch = await protocol.channel();
  // if_unused on a queue with a consumer: 406.
  await ch.basic_consume(() => {}, { queue_name: q3, no_ack: true });
  await assert.rejects(ch.queue_delete({ queue_name: q3, if_unused: true }), isClosed(406));
  ch = await protocol.channel();
  assert.strictEqual(await ch.queue_delete(q1), true);
  assert.strictEqual(await ch.queue_delete(q3, false, false, false), true);
  assert.strictEqual(await ch.queue_delete({ queue_name: q2, if_unused: true, if_empty: true }), true);
  assert.strictEqual(await ch.queue_delete(q4, { no_wait: true }), null);
  await assert.rejects(ch.queue_declare(q4, { passive: true }), isClosed(404));
  ch = await protocol.channel();
  assert.strictEqual(await ch.queue_delete(q6), true);
  for (const q of [q1, q2, q3, q4, q6]) queues.delete(q);

  // exchange_delete: if_unused on a bound exchange fails 406.
  const q5 = (await ch.queue_declare('', { exclusive: true })).queue;
  await ch.queue_bind(q5, exDirect, 'k');
  await assert.rejects(ch.exchange_delete(exDirect, true), isClosed(406));
  ch = await protocol.channel();
  assert.strictEqual(await ch.exchange_delete(exDirect), true);
  assert.strictEqual(await ch.exchange_delete(exTopic, false, false), true);
  assert.strictEqual(await ch.exchange_delete({ exchange_name: exFan, if_unused: false }), true);
  assert.strictEqual(await ch.exchange_delete(exNoWait, { no_wait: true }), null);
  await assert.rejects(ch.exchange_declare(exNoWait, 'headers', { passive: true }), isClosed(404));
  for (const e of [exDirect, exTopic, exFan, exNoWait]) exchanges.delete(e);
  console.log('queues and exchanges ok');
} finally {
  // Clean up whatever an assertion left behind.
  if (protocol.state === aioamqp.OPEN) {
    for (const q of queues) { try { await (await protocol.channel()).queue_delete(q); } catch (e) {} }
    for (const e of exchanges) { try { await (await protocol.channel()).exchange_delete(e); } catch (e) {} }
    await protocol.close();
  }
}
