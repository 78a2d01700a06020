// rabbitmq.closeConnection() of the script's own connection: the broker
// closes it with CONNECTION_FORCED (320) and the reason given, the
// script's on_error fires with that close, pending calls reject.
const assert = require('assert');
const aioamqp = require('aioamqp');
const rabbitmq = require('amqpjs/rabbitmq');

const name = `amqpjs-e2e-rabbitmq-close-${Math.random().toString(16).slice(2, 10)}`;
let onError;
const errored = new Promise((resolve) => { onError = resolve; });
const [, protocol] = await aioamqp.connect({
  client_properties: { connection_name: name },
  on_error: (e) => onError(e),
});
const channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });
const messages = await channel.consume(queue);
const pending = messages.next();
pending.catch(() => {});

// The management API lists a connection a moment after it opened.
let conn;
const deadline = Date.now() + 60000;
while (!(conn = (await rabbitmq.connections()).find((c) => c.connection_name === name))) {
  assert.ok(Date.now() < deadline, `connection ${name} never listed`);
  await new Promise((r) => setTimeout(r, 250));
}
assert.strictEqual(await rabbitmq.closeConnection(conn.name, 'closed on cue by the e2e test'), undefined);

const err = await errored;
assert.ok(err instanceof aioamqp.AmqpClosedConnection, `got ${err && err.name}: ${err && err.message}`);
assert.strictEqual(err.code, 320);
assert.match(err.message, /CONNECTION_FORCED/);
assert.ok(err.message.includes('closed on cue by the e2e test'), err.message);
await assert.rejects(pending);
assert.strictEqual(protocol.state, aioamqp.CLOSED);

// Once the broker has dropped it from its list, closing it again is a 404.
while ((await rabbitmq.connections()).some((c) => c.name === conn.name)) {
  assert.ok(Date.now() < deadline, `connection ${name} still listed after its close`);
  await new Promise((r) => setTimeout(r, 250));
}
await assert.rejects(rabbitmq.closeConnection(conn.name), (e) => {
  assert.ok(e instanceof rabbitmq.ManagementError);
  assert.strictEqual(e.status, 404);
  assert.ok(e.message.includes(`connection '${conn.name}' not found`), e.message);
  return true;
});
console.log('closeConnection ok');
