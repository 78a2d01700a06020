// connect(), from_url() and the protocol/transport objects (docs/api.md §3, §4).
const assert = require('assert');
const aioamqp = require('aioamqp');

// Module constants and version.
assert.strictEqual(aioamqp.CONNECTING, 0);
assert.strictEqual(aioamqp.OPEN, 1);
assert.strictEqual(aioamqp.CLOSING, 2);
assert.strictEqual(aioamqp.CLOSED, 3);
assert.strictEqual(typeof aioamqp.version, 'string');
assert.ok(aioamqp.version.length > 0);

// 1. Options object, with client_properties and tuning.
const name = `amqpjs-e2e-connect-${Math.random().toString(16).slice(2, 10)}`;
{
  const [transport, protocol] = await aioamqp.connect({
    host: '127.0.0.1', port: 5672, login: 'guest', password: 'guest', virtualhost: '/',
    client_properties: { connection_name: name, answer: 42 },
    heartbeat: 5, frame_max: 8192,
  });
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  assert.strictEqual(protocol.server_properties.product, 'RabbitMQ');
  assert.strictEqual(typeof protocol.server_properties.version, 'string');
  assert.strictEqual(typeof protocol.server_properties.capabilities, 'object');
  assert.strictEqual(protocol.server_properties.capabilities.publisher_confirms, true);
  assert.strictEqual(protocol.server_heartbeat, 5);
  assert.strictEqual(protocol.server_frame_max, 8192);
  assert.strictEqual(typeof protocol.server_channel_max, 'number');
  assert.ok(protocol.server_channel_max > 0);
  assert.deepStrictEqual(protocol.client_properties, { connection_name: name, answer: 42 });
  assert.deepStrictEqual(protocol.connection_tunning, { heartbeat: 5, frame_max: 8192 });

  // transport addresses are "host:port".
  assert.ok(/^127\.0\.0\.1:\d+$/.test(transport.local_address), transport.local_address);
  assert.strictEqual(transport.remote_address, '127.0.0.1:5672');
  assert.notStrictEqual(transport.local_address, transport.remote_address);
  assert.strictEqual(typeof transport.close, 'function');

  // channels_ids_count follows channel open/close.
  assert.strictEqual(protocol.channels_ids_count, 0);
  const ch1 = await protocol.channel();
  assert.strictEqual(protocol.channels_ids_count, 1);
  const ch2 = await protocol.channel();
  assert.strictEqual(protocol.channels_ids_count, 2);
  assert.notStrictEqual(ch1.channel_id, ch2.channel_id);
  assert.ok(ch1.channel_id >= 1);
  await ch1.close();
  assert.strictEqual(protocol.channels_ids_count, 1);

  // wait_closed resolves once closed; close() resolves null; a second close rejects.
  const waiting = protocol.wait_closed();
  assert.ok(waiting instanceof Promise);
  assert.strictEqual(await protocol.close(), null);
  assert.strictEqual(await waiting, null);
  assert.strictEqual(protocol.state, aioamqp.CLOSED);
  await assert.rejects(protocol.close(), (e) => {
    assert.ok(e instanceof aioamqp.AmqpClosedConnection, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.AioamqpException);
    assert.ok(e instanceof Error);
    assert.strictEqual(e.name, 'AmqpClosedConnection');
    return true;
  });
  // wait_closed on a closed connection resolves at once; channel() rejects.
  assert.strictEqual(await protocol.wait_closed(), null);
  await assert.rejects(protocol.channel(), aioamqp.AmqpClosedConnection);
  // A call on a channel of a closed connection rejects too.
  await assert.rejects(ch2.queue_declare('', { exclusive: true }), (e) =>
    e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed);
  transport.close();
}

// 2. Positional form (seed's order: host, port, login, password, virtualhost).
{
  const [transport, protocol] = await aioamqp.connect('127.0.0.1', 5672, 'guest', 'guest', '/');
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  assert.strictEqual(transport.remote_address, '127.0.0.1:5672');
  // No tuning given: the server's proposal is taken, connection_tunning is empty.
  assert.deepStrictEqual(protocol.connection_tunning, {});
  assert.deepStrictEqual(protocol.client_properties, {});
  assert.strictEqual(protocol.server_heartbeat, 60);
  assert.strictEqual(protocol.server_frame_max, 131072);
  await protocol.close();
}

// 3. Positional host with an options object.
{
  const [, protocol] = await aioamqp.connect('127.0.0.1', { heartbeat: 0 });
  assert.strictEqual(protocol.server_heartbeat, 0);
  assert.deepStrictEqual(protocol.connection_tunning, { heartbeat: 0 });
  await protocol.close();
}

// 4. Defaults come from AMQP_URL (set by the test runner).
{
  const [, protocol] = await aioamqp.connect();
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  await protocol.close();
  assert.strictEqual(protocol.state, aioamqp.CLOSED);
}

// 4b. channel_max takes the lower of ours and the server's; NoChannelAvailable past it.
{
  const [, protocol] = await aioamqp.connect({ channel_max: 2 });
  assert.strictEqual(protocol.server_channel_max, 2);
  assert.deepStrictEqual(protocol.connection_tunning, { channel_max: 2 });
  const a = await protocol.channel();
  const b = await protocol.channel();
  await assert.rejects(protocol.channel(), (e) => {
    assert.ok(e instanceof aioamqp.NoChannelAvailable, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.AioamqpException);
    return true;
  });
  assert.strictEqual(protocol.channels_ids_count, 2);
  // A closed channel's id is reused.
  await a.close();
  const c = await protocol.channel();
  assert.strictEqual(c.channel_id, a.channel_id);
  assert.strictEqual(b.is_open, true);
  // timeout: a call that waits longer rejects TimeoutError.
  await assert.rejects(protocol.wait_closed({ timeout: 0.05 }), (e) => {
    assert.ok(e instanceof aioamqp.TimeoutError, `got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof aioamqp.AioamqpException);
    assert.strictEqual(e.timeout, 0.05);
    return true;
  });
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  await protocol.close();
}

// 5. from_url: percent-encoded vhost, query tuning.
{
  const [transport, protocol] = await aioamqp.from_url('amqp://guest:guest@127.0.0.1:5672/%2F?heartbeat=7&frame_max=16384');
  assert.strictEqual(protocol.state, aioamqp.OPEN);
  assert.strictEqual(protocol.server_heartbeat, 7);
  assert.strictEqual(protocol.server_frame_max, 16384);
  assert.strictEqual(transport.remote_address, '127.0.0.1:5672');
  const ch = await protocol.channel();
  const { queue } = await ch.queue_declare('', { exclusive: true });
  assert.ok(/^amq\.gen-/.test(queue), queue);
  await protocol.close();
}
{
  // from_url with options after the URL.
  const [, protocol] = await aioamqp.from_url('amqp://guest:guest@127.0.0.1/', { heartbeat: 5, client_properties: { connection_name: name } });
  assert.strictEqual(protocol.server_heartbeat, 5);
  assert.deepStrictEqual(protocol.client_properties, { connection_name: name });
  await protocol.close();
}

// 6. from_url with another scheme throws TypeError synchronously.
assert.throws(() => aioamqp.from_url('http://x'), (e) => {
  assert.ok(e instanceof TypeError, `got ${e && e.name}`);
  assert.ok(e.message.includes('Invalid protocol http, valid protocols are amqp or amqps'), e.message);
  return true;
});

// 7. Python-only options throw a TypeError naming the option, synchronously.
for (const opt of ['loop', 'protocol_factory']) {
  assert.throws(() => aioamqp.connect({ [opt]: {} }), (e) => {
    assert.ok(e instanceof TypeError, `got ${e && e.name}`);
    assert.ok(e.message.includes(opt), e.message);
    assert.ok(/python/i.test(e.message), e.message);
    return true;
  });
  assert.throws(() => aioamqp.from_url('amqp://127.0.0.1/', { [opt]: null }), TypeError);
}

console.log('connect ok');
