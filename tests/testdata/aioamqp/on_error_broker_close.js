// on_error fires exactly once when the broker force-closes the connection
// (the runner does `rabbitmqctl close_connection` on "@@close-connection"),
// pending calls reject, and on_error is not called after the script's own close().
const assert = require('assert');
const aioamqp = require('aioamqp');

const name = `amqpjs-e2e-onerror-${Math.random().toString(16).slice(2, 10)}`;
const calls = [];
let first;
const errored = new Promise((resolve) => { first = resolve; });
const [transport, protocol] = await aioamqp.connect({
  client_properties: { connection_name: name },
  on_error: (e) => { calls.push(e); first(e); },
});
const channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });

// Pending when the broker closes: a consume iterator's next() and wait_closed().
const messages = await channel.consume(queue);
const nextMessage = messages.next();
nextMessage.catch(() => {});
const closedWait = protocol.wait_closed();
let consumerCalls = 0;
await channel.basic_consume(() => { consumerCalls++; }, { queue_name: queue });

console.log(`@@close-connection ${name}`);
const err = await errored;
assert.ok(err instanceof aioamqp.AmqpClosedConnection, `got ${err && err.name}: ${err && err.message}`);
assert.ok(err instanceof aioamqp.AioamqpException);
assert.ok(err instanceof Error);
assert.strictEqual(err.code, 320);
assert.ok(/CONNECTION_FORCED/.test(err.message), err.message);
assert.ok(err.message.includes('closed by the amqpjs e2e test'), err.message);

assert.strictEqual(await closedWait, null);
await assert.rejects(nextMessage, (e) => {
  assert.ok(e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed, `got ${e && e.name}: ${e && e.message}`);
  return true;
});
assert.strictEqual(protocol.state, aioamqp.CLOSED);
assert.strictEqual(channel.is_open, false);
await assert.rejects(channel.queue_declare('', { exclusive: true }), (e) =>
  e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed);
await assert.rejects(protocol.channel(), aioamqp.AmqpClosedConnection);
await assert.rejects(protocol.close(), aioamqp.AmqpClosedConnection);
transport.close(); // harmless on a closed connection

// Still exactly once, a while later.
await new Promise((r) => setTimeout(r, 200));
assert.strictEqual(calls.length, 1, `on_error called ${calls.length} times`);
assert.strictEqual(consumerCalls, 0);

// The script's own close(): on_error is not called (plain and async on_error).
let ownCalls = 0;
{
  const [, p] = await aioamqp.connect({ on_error: () => { ownCalls++; } });
  await p.channel();
  await p.close();
}
{
  const [, p] = await aioamqp.connect({ on_error: async () => { ownCalls++; } });
  await p.close({ no_wait: true });
  await p.wait_closed();
}
{
  // The seed's example: close(), then the transport (transport.close() on an
  // open connection is a loss instead: transport_close.js).
  const [t, p] = await aioamqp.connect({ on_error: () => { ownCalls++; } });
  await p.close();
  t.close();
  await p.wait_closed();
  assert.strictEqual(p.state, aioamqp.CLOSED);
}
await new Promise((r) => setTimeout(r, 200));
assert.strictEqual(ownCalls, 0, `on_error called ${ownCalls} times after the script's own close`);
console.log('on_error broker close ok');
