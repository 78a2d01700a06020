// Returned (mandatory, unroutable) messages: return_callback set on the channel
// or via protocol.channel({ return_callback }); without one, a warning on stderr.
// expect-stderr: e2e-unroutable-warn-key
// expect-stderr: e2e-unroutable-warn-key-2
// expect-stderr: NO_ROUTE
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

// Set on the channel.
{
  const ch = await protocol.channel();
  assert.strictEqual(ch.return_callback, null);
  const got = deferred();
  const cb = (...args) => got.resolve(args);
  ch.return_callback = cb;
  assert.strictEqual(ch.return_callback, cb);
  await ch.publish('lost', 'amq.direct', 'e2e-no-binding', {
    mandatory: true, properties: { message_id: 'r1', headers: { k: 'v' } },
  });
  const args = await got.promise;
  assert.strictEqual(args.length, 4);
  const [body, env, properties, channel] = args;
  assert.ok(Buffer.isBuffer(body));
  assert.strictEqual(body.toString(), 'lost');
  assert.strictEqual(env.reply_code, 312);
  assert.strictEqual(env.reply_text, 'NO_ROUTE');
  assert.strictEqual(env.exchange_name, 'amq.direct');
  assert.strictEqual(env.routing_key, 'e2e-no-binding');
  assert.strictEqual(properties.message_id, 'r1');
  assert.deepStrictEqual(properties.headers, { k: 'v' });
  assert.strictEqual(properties.content_type, null);
  assert.strictEqual(channel, ch);
  // Positional mandatory, default exchange, and an async callback.
  const got2 = deferred();
  ch.return_callback = async (b, e) => { await null; got2.resolve([b.toString(), e.exchange_name, e.routing_key]); };
  await ch.publish('lost too', '', 'amqpjs.e2e.no-such-queue', {}, true);
  assert.deepStrictEqual(await got2.promise, ['lost too', '', 'amqpjs.e2e.no-such-queue']);
  // A routable mandatory message is not returned.
  let returned = 0;
  ch.return_callback = () => { returned++; };
  const { queue } = await ch.queue_declare('', { exclusive: true });
  await ch.confirm_select();
  await ch.publish('kept', '', queue, { mandatory: true });
  assert.strictEqual(returned, 0);
}

// Via protocol.channel({ return_callback }); basic_publish too.
{
  const got = deferred();
  const ch = await protocol.channel({ return_callback: (body, env, props, channel) => got.resolve({ body, env, channel }) });
  assert.strictEqual(typeof ch.return_callback, 'function');
  await ch.basic_publish(Buffer.from([1, 2, 3]), 'amq.topic', 'e2e.nothing', { mandatory: true });
  const r = await got.promise;
  assert.deepStrictEqual([...r.body], [1, 2, 3]);
  assert.strictEqual(r.env.reply_code, 312);
  assert.strictEqual(r.env.reply_text, 'NO_ROUTE');
  assert.strictEqual(r.env.exchange_name, 'amq.topic');
  assert.strictEqual(r.env.routing_key, 'e2e.nothing');
  assert.strictEqual(r.channel, ch);
}

// Without a callback: a warning on stderr (checked by the runner). In confirm
// mode the broker sends the return before the ack.
{
  const ch = await protocol.channel();
  await ch.confirm_select();
  await ch.publish('nobody', 'amq.direct', 'e2e-unroutable-warn-key', { mandatory: true });
  // Removing a callback (null) brings the warning back too.
  const ch2 = await protocol.channel({ return_callback: () => { throw new Error('must not be called'); } });
  ch2.return_callback = null;
  assert.strictEqual(ch2.return_callback, null);
  await ch2.confirm_select();
  await ch2.publish('nobody', 'amq.direct', 'e2e-unroutable-warn-key-2', { mandatory: true });
  await new Promise((r) => setTimeout(r, 50));
}

await protocol.close();
console.log('return callback ok');
