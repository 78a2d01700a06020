// docs/api.md §6: payload types, empty and large bodies, UTF-8, every property,
// received bodies are Buffers, absent properties are null.
const assert = require('assert');
const aioamqp = require('aioamqp');

const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true, arguments: { 'x-max-priority': 9 } });

// A consumer that hands out deliveries in order.
const inbox = [];
const waiters = [];
await ch.basic_consume((body, envelope, properties, channel) => {
  const m = { body, envelope, properties, channel };
  if (waiters.length) waiters.shift()(m); else inbox.push(m);
}, { queue_name: queue, no_ack: true });
const next = () => (inbox.length ? Promise.resolve(inbox.shift()) : new Promise((r) => waiters.push(r)));

const PROPERTY_NAMES = ['content_type', 'content_encoding', 'headers', 'delivery_mode', 'priority',
  'correlation_id', 'reply_to', 'expiration', 'message_id', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id'];

const softFailures = [];

function bytes(s) { return Buffer.from(s, 'utf8'); }

// 1. Payload types.
{
  const ab = new Uint8Array([0, 1, 2, 250, 255]).buffer;
  const big = new Uint8Array([9, 9, 104, 105, 9, 9]);
  const cases = [
    ['string', 'héllo wörld €', bytes('héllo wörld €')],
    ['Buffer', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00]), Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00])],
    ['Uint8Array', new Uint8Array([1, 2, 3, 0, 255]), Buffer.from([1, 2, 3, 0, 255])],
    ['Uint8Array view', big.subarray(2, 4), Buffer.from('hi')],
    ['Buffer slice', Buffer.from('xxhixx').subarray(2, 4), Buffer.from('hi')],
    ['ArrayBuffer', ab, Buffer.from([0, 1, 2, 250, 255])],
    ['DataView', new DataView(ab), Buffer.from([0, 1, 2, 250, 255])],
    ['DataView window', new DataView(big.buffer, 2, 2), Buffer.from('hi')],
    ['empty string', '', Buffer.alloc(0)],
    ['empty Buffer', Buffer.alloc(0), Buffer.alloc(0)],
    ['empty Uint8Array', new Uint8Array(0), Buffer.alloc(0)],
    ['empty ArrayBuffer', new ArrayBuffer(0), Buffer.alloc(0)],
  ];
  for (const [, payload] of cases) await ch.publish(payload, '', queue);
  for (const [name, , want] of cases) {
    const { body } = await next();
    assert.ok(Buffer.isBuffer(body), `${name}: body is not a Buffer`);
    assert.ok(body instanceof Uint8Array, name);
    assert.strictEqual(body.length, want.length, `${name}: length ${body.length}, want ${want.length}`);
    assert.ok(body.equals(want), `${name}: got ${body.toString('hex')}, want ${want.toString('hex')}`);
  }
  // basic_publish takes the same payload types.
  await ch.basic_publish(new DataView(big.buffer, 2, 2), '', queue);
  await ch.basic_publish('', '', queue);
  assert.strictEqual((await next()).body.toString(), 'hi');
  assert.strictEqual((await next()).body.length, 0);
}

// 2. Large bodies, byte-exact.
function pattern(size, seed) {
  const block = Buffer.alloc(65536);
  let x = seed >>> 0;
  for (let i = 0; i < block.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    block[i] = x >>> 24;
  }
  const out = Buffer.alloc(size);
  for (let off = 0, k = 0; off < size; off += block.length, k++) {
    out.set(block.subarray(0, Math.min(block.length, size - off)), off);
    if (off + 4 <= size) out.writeUInt32BE(k, off); // every block differs
  }
  return out;
}
for (const size of [1 << 20, 5 * 1024 * 1024, 131072 - 8, 131072 - 7, 131072 + 1]) {
  const sent = pattern(size, size);
  await ch.publish(sent, '', queue);
  const { body } = await next();
  assert.strictEqual(body.length, size);
  assert.ok(body.equals(sent), `${size}-byte body differs`);
}
// Through a connection with a small frame_max (many body frames), with basic_get.
{
  const [, small] = await aioamqp.connect({ frame_max: 4096 });
  assert.strictEqual(small.server_frame_max, 4096);
  const sch = await small.channel();
  const q = (await sch.queue_declare('', { exclusive: true })).queue;
  for (const size of [4088, 4089, 100000]) {
    const sent = pattern(size, 7 + size);
    await sch.publish(sent, '', q);
    let m;
    for (;;) {
      try { m = await sch.basic_get(q, { no_ack: true }); break; } catch (e) {
        if (!(e instanceof aioamqp.EmptyQueue)) throw e;
        await new Promise((r) => setTimeout(r, 5));
      }
    }
    assert.ok(Buffer.isBuffer(m.message));
    assert.ok(m.message.equals(sent), `${size}-byte body via frame_max 4096 differs`);
  }
  await small.close();
}

// 3. A 2 000 000-byte UTF-8 string with multi-byte characters.
{
  const unit = 'aé€😀'; // 1 + 2 + 3 + 4 bytes
  const s = unit.repeat(200000);
  assert.strictEqual(Buffer.from(s).length, 2000000);
  await ch.publish(s, '', queue);
  const { body } = await next();
  assert.strictEqual(body.length, 2000000);
  assert.ok(body.toString() === s, 'the UTF-8 string did not round-trip');
  assert.ok(body.equals(Buffer.from(s)));
}

// 4. Every property round-trips.
{
  const when = new Date(Math.floor(Date.now() / 1000) * 1000); // AMQP timestamps are seconds
  const headers = {
    str: 'text', int: 42, neg: -7, zero: 0, big: 2147483648, safe: Number.MAX_SAFE_INTEGER, i53: 2 ** 53, float: 1.5,
    yes: true, no: false, nothing: null,
    list: [1, 'two', true, null, [3, 4], { five: 5 }],
    nested: { deeper: { deepest: 'x', n: 65536 } },
    when: new Date(when.getTime()),
    bigint: 12345678901234567n, smallbig: 5n,
    bytes: new Uint8Array([1, 2, 255]),
  };
  const props = {
    content_type: 'application/json', content_encoding: 'gzip', headers, delivery_mode: 2, priority: 7,
    correlation_id: 'corr-1', reply_to: 'e2e.reply.queue', expiration: '60000', message_id: 'msg-1',
    timestamp: when, type: 'order.created', user_id: 'guest', app_id: 'amqpjs-e2e',
  };
  await ch.publish('{}', '', queue, { properties: props });
  const { body, envelope, properties, channel } = await next();
  assert.strictEqual(body.toString(), '{}');
  assert.strictEqual(channel, ch);
  assert.strictEqual(envelope.routing_key, queue);
  assert.strictEqual(envelope.exchange_name, '');
  for (const k of PROPERTY_NAMES) assert.ok(k in properties, `received properties lack ${k}`);
  for (const k of ['content_type', 'content_encoding', 'delivery_mode', 'priority', 'correlation_id', 'reply_to',
    'expiration', 'message_id', 'type', 'user_id', 'app_id']) {
    assert.strictEqual(properties[k], props[k], k);
  }
  assert.ok(properties.timestamp instanceof Date, `timestamp is ${properties.timestamp}`);
  assert.strictEqual(properties.timestamp.getTime(), when.getTime());
  assert.strictEqual(properties.cluster_id, null);
  const h = properties.headers;
  assert.strictEqual(h.str, 'text');
  assert.strictEqual(h.int, 42);
  assert.strictEqual(h.neg, -7);
  assert.strictEqual(h.zero, 0);
  assert.strictEqual(h.big, 2147483648);
  assert.strictEqual(h.safe, Number.MAX_SAFE_INTEGER);
  // Reported at the end, so that the rest still runs.
  if (h.i53 !== 2 ** 53) softFailures.push(`header 2**53 is not beyond ±2^53 (docs/api.md §6): sent as a number, came back as ${typeof h.i53} ${h.i53}`);
  assert.strictEqual(h.float, 1.5);
  assert.strictEqual(h.yes, true);
  assert.strictEqual(h.no, false);
  assert.strictEqual(h.nothing, null);
  assert.deepStrictEqual(h.list, [1, 'two', true, null, [3, 4], { five: 5 }]);
  assert.deepStrictEqual(h.nested, { deeper: { deepest: 'x', n: 65536 } });
  assert.ok(h.when instanceof Date);
  assert.strictEqual(h.when.getTime(), when.getTime());
  assert.strictEqual(h.bigint, 12345678901234567n); // beyond 2^53: a BigInt
  assert.strictEqual(h.smallbig, 5);                // within: a number
  assert.ok(h.bytes instanceof Uint8Array, `bytes came back as ${typeof h.bytes}`);
  assert.deepStrictEqual([...h.bytes], [1, 2, 255]);
}

// 5. expiration as a number; cluster_id accepted; absent properties are null.
{
  await ch.publish('a', '', queue, { properties: { expiration: 60000, cluster_id: 'c1' } });
  await ch.publish('b', '', queue);
  await ch.publish('c', '', queue, { properties: {} });
  const a = await next();
  assert.strictEqual(a.properties.expiration, '60000');
  for (const m of [await next(), await next()]) {
    for (const k of PROPERTY_NAMES) assert.strictEqual(m.properties[k], null, `${k} should be null, is ${m.properties[k]}`);
    assert.ok(Buffer.isBuffer(m.body));
  }
}

// 6. A user_id other than the connection's login: the broker refuses it (406).
{
  const other = await protocol.channel();
  await other.confirm_select();
  await assert.rejects(other.publish('x', '', queue, { properties: { user_id: 'somebody-else' } }), (e) => {
    assert.ok(e instanceof aioamqp.ChannelClosed, `got ${e.name}: ${e.message}`);
    assert.strictEqual(e.code, 406);
    return true;
  });
}

// 7. A publish made from a getter of another publish's properties (it runs
// while the outer one is being read): both messages arrive intact, the inner
// one first. A getter that throws fails its publish only.
{
  let inner;
  const props = {
    message_id: 'outer',
    get content_type() {
      inner = ch.publish('inner-body', '', queue, { properties: { message_id: 'inner', app_id: 'in' } });
      return 'text/outer';
    },
  };
  await Promise.all([ch.publish('outer-body', '', queue, { properties: props }), inner]);
  const a = await next(), b = await next();
  assert.deepStrictEqual([a.body.toString(), a.properties.message_id, a.properties.app_id, a.properties.content_type],
    ['inner-body', 'inner', 'in', null]);
  assert.deepStrictEqual([b.body.toString(), b.properties.message_id, b.properties.app_id, b.properties.content_type],
    ['outer-body', 'outer', null, 'text/outer']);
  assert.throws(() => ch.publish('x', '', queue, { properties: { get app_id() { throw new Error('boom'); } } }), /boom/);
  await ch.publish('after', '', queue, { properties: { app_id: 'after' } });
  const c = await next();
  assert.deepStrictEqual([c.body.toString(), c.properties.app_id], ['after', 'after']);
}

// 8. Publishes queued behind an unsettled call (not written at once) keep
// their own bodies and properties, whatever the publishes after them carry.
{
  const calls = [ch.queue_declare(queue, { passive: true })];
  const buf = Buffer.from('buffer-0');
  for (let i = 0; i < 50; i++) {
    buf.write(String(i % 10), 7); // the script reuses its buffer
    calls.push(ch.publish(i % 2 ? buf : `string-${i}`, '', queue,
      { properties: { message_id: `m${i}`, headers: { i }, priority: 1 + (i % 9) } }));
  }
  await Promise.all(calls);
  for (let i = 0; i < 50; i++) {
    let timer;
    const m = await Promise.race([next(), new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`message m${i} never arrived`)), 10000);
    })]);
    clearTimeout(timer);
    assert.strictEqual(m.properties.message_id, `m${i}`);
    assert.strictEqual(m.properties.headers.i, i);
    assert.strictEqual(m.properties.priority, 1 + (i % 9));
    assert.strictEqual(m.body.toString(), i % 2 ? `buffer-${i % 10}` : `string-${i}`);
  }
}

await protocol.close();
assert.deepStrictEqual(softFailures, []);
console.log('publish and consume ok');
