// docs/api.md §2: bad arguments throw synchronously (TypeError / RangeError),
// naming the method and the parameter, and nothing reaches the broker.
const assert = require('assert');
const aioamqp = require('aioamqp');

const suffix = Math.random().toString(16).slice(2, 10);
const never = `amqpjs.e2e.never.${suffix}`;
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });

// throwsSync checks fn throws synchronously an instance of cls whose message
// contains every string of parts. Failures are collected and reported at the
// end, so that one run shows them all.
const failures = [];
function throwsSync(fn, cls, ...parts) {
  try {
    throwsSync1(fn, cls, ...parts);
  } catch (e) {
    const where = (new Error().stack.split('\n')[2] || '').trim();
    failures.push(`${fn.toString()} (${where}): ${e.message}`);
  }
}
function throwsSync1(fn, cls, ...parts) {
  let threw = false;
  let ret;
  try {
    ret = fn();
  } catch (e) {
    threw = true;
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e && e.name}: ${e && e.message}`);
    assert.ok(!(e instanceof aioamqp.AioamqpException), `argument errors are not AioamqpExceptions: ${e.name}`);
    for (const p of parts) assert.ok(e.message.includes(p), `message lacks ${JSON.stringify(p)}: ${e.message}`);
  }
  if (!threw && ret && typeof ret.catch === 'function') ret.catch(() => {});
  assert.ok(threw, `did not throw synchronously (returned ${ret})`);
}

// Unknown option: method, option and accepted names.
throwsSync(() => ch.queue_declare({ queue_name: never, durabel: true }), TypeError,
  'queue_declare', "'durabel'", 'queue_name', 'passive', 'durable', 'exclusive', 'auto_delete', 'no_wait', 'arguments');
throwsSync(() => ch.queue_declare(never, { exclusiv: true }), TypeError, 'queue_declare', "'exclusiv'", 'exclusive');
throwsSync(() => ch.exchange_declare(never, 'direct', { durabel: true }), TypeError, 'exchange_declare', "'durabel'", 'type_name');
throwsSync(() => ch.queue_bind(queue, 'amq.direct', 'k', { routing: 'x' }), TypeError, 'queue_bind', "'routing'", 'routing_key');
throwsSync(() => ch.basic_consume(() => {}, { queue: queue }), TypeError, 'basic_consume', "'queue'", 'queue_name', 'consumer_tag');
throwsSync(() => ch.publish('x', '', never, { propertys: {} }), TypeError, 'publish', "'propertys'", 'properties', 'mandatory');
throwsSync(() => ch.basic_publish('x', '', never, { mandatry: true }), TypeError, 'basic_publish', "'mandatry'");
throwsSync(() => ch.basic_qos({ prefetch: 1 }), TypeError, 'basic_qos', "'prefetch'", 'prefetch_count');
throwsSync(() => ch.basic_get(queue, { noack: true }), TypeError, 'basic_get', "'noack'", 'no_ack');
throwsSync(() => protocol.channel({ on_return: () => {} }), TypeError, 'channel', "'on_return'", 'return_callback');
throwsSync(() => protocol.close({ nowait: true }), TypeError, 'close', "'nowait'", 'no_wait');
throwsSync(() => aioamqp.connect({ hostname: 'x' }), TypeError, 'connect', "'hostname'", 'host', 'virtualhost');

// A parameter given both positionally and by name.
throwsSync(() => ch.queue_declare(never, { queue_name: never }), TypeError, 'queue_declare', 'queue_name');
throwsSync(() => ch.queue_declare(never, false, { passive: false }), TypeError, 'queue_declare', 'passive');
throwsSync(() => ch.queue_bind(never, 'amq.direct', 'k', { routing_key: 'k' }), TypeError, 'queue_bind', 'routing_key');
throwsSync(() => aioamqp.connect('127.0.0.1', { host: '127.0.0.1' }), TypeError, 'connect', 'host');

// Wrong types.
throwsSync(() => ch.queue_declare(42), TypeError, 'queue_declare', 'queue_name');
throwsSync(() => ch.queue_declare(never, { durable: 'yes' }), TypeError, 'queue_declare', 'durable');
throwsSync(() => ch.queue_declare(never, { arguments: 'x-max-priority=4' }), TypeError, 'queue_declare', 'arguments');
throwsSync(() => ch.queue_declare(never, { arguments: { 'x-bad': undefined } }), TypeError, 'x-bad');
throwsSync(() => ch.queue_declare(never, { arguments: { 'x-fn': () => 1 } }), TypeError, 'x-fn');
throwsSync(() => ch.queue_declare(never, { exclusive: true, arguments: { 'x-sym': Symbol('q') } }), TypeError, 'x-sym');
throwsSync(() => ch.queue_declare(never, { timeout: 'soon' }), TypeError, 'queue_declare', 'timeout');
throwsSync(() => ch.basic_consume('not a function', { queue_name: queue }), TypeError, 'basic_consume', 'callback');
throwsSync(() => ch.basic_qos({ prefetch_count: '10' }), TypeError, 'basic_qos', 'prefetch_count');
throwsSync(() => ch.publish(12345, '', never), TypeError, 'publish', 'payload');
throwsSync(() => ch.publish({ body: 'x' }, '', never, {}), TypeError, 'publish');
throwsSync(() => ch.publish('x', '', never, { properties: { delivery_mode: '2' } }), TypeError, 'delivery_mode');
throwsSync(() => ch.publish('x', '', never, { properties: { content_typ: 'text/plain' } }), TypeError, 'content_typ');
throwsSync(() => ch.publish('x', '', never, { properties: { headers: { a: Symbol('s') } } }), TypeError, 'a');
throwsSync(() => ch.publish('x', '', never, { properties: { timestamp: 'yesterday' } }), TypeError, 'timestamp');
throwsSync(() => ch.basic_client_ack('1'), TypeError, 'basic_client_ack', 'delivery_tag');
throwsSync(() => aioamqp.connect({ port: '5672' }), TypeError, 'connect', 'port');
throwsSync(() => aioamqp.connect({ on_error: 'log' }), TypeError, 'connect', 'on_error');
throwsSync(() => aioamqp.connect({ client_properties: { k: undefined } }), TypeError, 'k');
throwsSync(() => { ch.add_cancellation_callback('nope'); }, TypeError, 'add_cancellation_callback');

// Missing required parameters.
throwsSync(() => ch.queue_bind(queue), TypeError, 'queue_bind', 'exchange_name');
throwsSync(() => ch.queue_bind(queue, 'amq.direct'), TypeError, 'queue_bind', 'routing_key');
throwsSync(() => ch.exchange_declare(), TypeError, 'exchange_declare', 'exchange_name');
throwsSync(() => ch.basic_cancel(), TypeError, 'basic_cancel', 'consumer_tag');
throwsSync(() => ch.flow(), TypeError, 'flow', 'active');
throwsSync(() => ch.basic_consume(), TypeError, 'basic_consume', 'callback');
throwsSync(() => ch.publish(), TypeError, 'publish', 'payload');
throwsSync(() => aioamqp.from_url(), TypeError, 'from_url', 'url');

// Out of range numbers: RangeError.
throwsSync(() => ch.basic_qos({ prefetch_count: 70000 }), RangeError, 'basic_qos', 'prefetch_count');
throwsSync(() => ch.basic_qos(0, -1), RangeError, 'basic_qos', 'prefetch_count');
throwsSync(() => ch.publish('x', '', queue, { properties: { delivery_mode: 3 } }), RangeError, 'delivery_mode');
throwsSync(() => ch.basic_publish('x', '', queue, { properties: { delivery_mode: 0 } }), RangeError, 'delivery_mode');
throwsSync(() => ch.publish('x', '', queue, { properties: { priority: 256 } }), RangeError, 'priority');
throwsSync(() => aioamqp.connect({ port: 99999 }), RangeError, 'connect', 'port');
throwsSync(() => aioamqp.connect('127.0.0.1', 0), RangeError, 'connect', 'port');
throwsSync(() => aioamqp.connect({ heartbeat: -1 }), RangeError, 'connect', 'heartbeat');

if (failures.length) {
  console.error(`${failures.length} argument checks failed:\n  ${failures.join('\n  ')}`);
  process.exitCode = 1;
}

// Nothing was sent: the queue was never declared, nothing was published, the
// channel is still open and the connection alive.
assert.strictEqual(ch.is_open, true);
assert.strictEqual(protocol.state, aioamqp.OPEN);
assert.strictEqual((await ch.queue_declare(queue, { passive: true })).message_count, 0);
const probe = await protocol.channel();
const leaked = await probe.queue_declare(never, { passive: true }).then(() => true, (e) => {
  assert.ok(e instanceof aioamqp.ChannelClosed && e.code === 404, `got ${e.name}: ${e.message}`);
  return false;
});
if (leaked) await (await protocol.channel()).queue_delete(never);
assert.strictEqual(leaked, false, `queue ${never} was declared by a call that should have thrown`);
// The prefetch 70000 never reached the broker (it would close the channel)
// and -1 never became 65535: the channel works normally.
assert.strictEqual(await ch.basic_qos({ prefetch_count: 10 }), true);
assert.deepStrictEqual(ch.consumer_tags, []);
await protocol.close();
if (!failures.length) console.log('calling convention ok');
