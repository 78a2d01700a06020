// docs/api.md §2: calls made on one channel without awaiting reach the broker in
// call order; concurrent calls on one channel are allowed.
const assert = require('assert');
const aioamqp = require('aioamqp');

const suffix = Math.random().toString(16).slice(2, 10);
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();

// 1. 1000 numbered publishes without await arrive in order.
{
  const { queue } = await ch.queue_declare('', { exclusive: true });
  const N = 1000;
  const pending = [];
  for (let i = 0; i < N; i++) pending.push(ch.publish(String(i), '', queue));
  const got = [];
  let done;
  const all = new Promise((r) => { done = r; });
  await ch.basic_consume((body) => {
    got.push(Number(body.toString()));
    if (got.length === N) done();
  }, { queue_name: queue, no_ack: true });
  const results = await Promise.all(pending);
  assert.ok(results.every((r) => r === null));
  await all;
  assert.deepStrictEqual(got, Array.from({ length: N }, (_, i) => i));
}

// 2. 1000 un-awaited bind/publish/unbind/publish calls keep their order: only
// the messages published while the queue was bound reach it.
{
  const ex = `amqpjs.e2e.order.${suffix}`;
  await ch.exchange_declare(ex, 'direct', { auto_delete: false });
  try {
    const { queue } = await ch.queue_declare('', { exclusive: true });
    const N = 250;
    const pending = [];
    for (let i = 0; i < N; i++) {
      pending.push(ch.queue_bind(queue, ex, 'k'));
      pending.push(ch.publish(`in ${i}`, ex, 'k'));
      pending.push(ch.queue_unbind(queue, ex, 'k'));
      pending.push(ch.basic_publish(`out ${i}`, ex, 'k'));
    }
    const results = await Promise.all(pending);
    for (let i = 0; i < N; i++) {
      assert.strictEqual(results[4 * i], true);
      assert.strictEqual(results[4 * i + 1], null);
      assert.strictEqual(results[4 * i + 2], true);
      assert.strictEqual(results[4 * i + 3], null);
    }
    // A marker published straight to the queue after everything else.
    await ch.publish('end', '', queue);
    const got = [];
    for (;;) {
      let m;
      try {
        m = await ch.basic_get(queue, { no_ack: true });
      } catch (e) {
        if (!(e instanceof aioamqp.EmptyQueue)) throw e;
        await new Promise((r) => setTimeout(r, 10)); // not routed yet
        continue;
      }
      if (m.message.toString() === 'end') break;
      got.push(m.message.toString());
    }
    assert.deepStrictEqual(got, Array.from({ length: N }, (_, i) => `in ${i}`));
  } finally {
    await ch.exchange_delete(ex);
  }
}

// 3. Promise.all of many declares (and other calls) on one channel.
{
  const names = await Promise.all(Array.from({ length: 200 }, () => ch.queue_declare('', { exclusive: true })));
  assert.strictEqual(new Set(names.map((r) => r.queue)).size, 200);
  for (const r of names) assert.ok(/^amq\.gen-/.test(r.queue), r.queue);
  const named = Array.from({ length: 50 }, (_, i) => `amqpjs.e2e.order.${suffix}.${i}`);
  const declared = await Promise.all(named.map((q) => ch.queue_declare(q, { exclusive: true })));
  assert.deepStrictEqual(declared.map((r) => r.queue), named);
  // Concurrent publishes, purges, gets and deletes (aioamqp's "Waiter already
  // exists" must not happen).
  await Promise.all(named.map((q) => ch.publish('x', '', q)));
  const gets = await Promise.all(named.map((q) => ch.basic_get(q, { no_ack: true }).catch((e) => e)));
  for (const g of gets) assert.ok(g instanceof aioamqp.EmptyQueue || (g.message && g.message.toString() === 'x'), String(g));
  const purges = await Promise.all(named.map((q) => ch.queue_purge(q)));
  for (const p of purges) assert.ok(p.message_count === 0 || p.message_count === 1);
  assert.deepStrictEqual(await Promise.all(named.map((q) => ch.queue_delete(q))), named.map(() => true));
  const exs = Array.from({ length: 20 }, (_, i) => `amqpjs.e2e.order.ex.${suffix}.${i}`);
  assert.deepStrictEqual(await Promise.all(exs.map((e) => ch.exchange_declare(e, 'fanout'))), exs.map(() => true));
  assert.deepStrictEqual(await Promise.all(exs.map((e) => ch.exchange_delete(e))), exs.map(() => true));
  assert.strictEqual(ch.is_open, true);
}

await protocol.close();
console.log('ordering ok');
