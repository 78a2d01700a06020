// amqpjs/rabbitmq against the broker's management API: a queue's counts
// follow what the script did (published N: messages N; a consumer holding
// them unacknowledged: unacknowledged N, consumers 1), and the overview,
// nodes, queues and connections list what is there. The broker refreshes
// its statistics every few seconds, so counts are polled.
const assert = require('assert');
const aioamqp = require('aioamqp');
const rabbitmq = require('amqpjs/rabbitmq');
assert.strictEqual(require('node:amqpjs/rabbitmq'), rabbitmq);
assert.strictEqual(typeof rabbitmq.ManagementError, 'function');

const tag = Math.random().toString(16).slice(2, 10);
const name = `amqpjs-e2e-rabbitmq-${tag}`;
const N = 25;

// until polls fn until ok(value), at most a minute.
async function until(what, fn, ok) {
  const deadline = Date.now() + 60000;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > deadline) assert.fail(`${what}: last seen ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const [transport, protocol] = await aioamqp.connect({ client_properties: { connection_name: name } });
const channel = await protocol.channel();
await channel.queue_declare(name, { auto_delete: false });
try {
  for (let i = 0; i < N; i++) await channel.publish(`m${i}`, '', name);

  let q = await until(`queue ${name} with ${N} messages`, () => rabbitmq.queue(name), (q) => q.messages === N);
  assert.strictEqual(q.name, name);
  assert.strictEqual(q.vhost, '/');
  assert.strictEqual(q.ready, N);
  assert.strictEqual(q.unacknowledged, 0);
  assert.strictEqual(q.consumers, 0);
  assert.strictEqual(q.durable, false);
  assert.strictEqual(q.has_stats, true);
  assert.strictEqual(q.raw.name, name);
  for (const k of ['publish', 'deliver', 'ack', 'redeliver']) assert.strictEqual(typeof q.rates[k], 'number', k);
  // The vhost named explicitly, and a timeout, are accepted.
  assert.strictEqual((await rabbitmq.queue(name, { vhost: '/', timeout: 5 })).name, name);

  const listed = (await rabbitmq.queues()).find((x) => x.name === name);
  assert.ok(listed, 'queues() lists the queue');
  assert.strictEqual(listed.messages, N);

  // A consumer that does not ack: every message is unacknowledged.
  await channel.basic_consume(() => {}, { queue_name: name });
  q = await until(`queue ${name} with ${N} unacknowledged`, () => rabbitmq.queue(name),
    (q) => q.unacknowledged === N && q.consumers === 1);
  assert.strictEqual(q.ready, 0);
  assert.strictEqual(q.messages, N);

  const o = await rabbitmq.overview();
  assert.match(o.rabbitmq_version, /^\d+\.\d+/);
  assert.match(o.node, /@/);
  assert.ok(o.object_totals.queues >= 1, JSON.stringify(o.object_totals));
  assert.strictEqual(typeof o.rates.publish, 'number');
  assert.strictEqual(typeof o.raw, 'object');

  const nodes = await rabbitmq.nodes();
  assert.ok(nodes.some((n) => n.name === o.node && n.mem_used > 0), JSON.stringify(nodes));

  const mine = await until('this connection in connections()', () => rabbitmq.connections(),
    (cs) => cs.some((c) => c.connection_name === name));
  const c = mine.find((c) => c.connection_name === name);
  assert.strictEqual(c.user, 'guest');
  assert.strictEqual(c.vhost, '/');
  assert.match(c.name, / -> /);
  assert.strictEqual(c.peer_port, Number(transport.local_address.split(':').pop()));
  assert.strictEqual(c.client_properties.connection_name, name);
} finally {
  await channel.queue_delete(name);
  await protocol.close();
}
console.log('rabbitmq module ok');
