// Calls every binding of the aioamqp module with random argument shapes —
// every export (connect, from_url, the exception classes), every protocol,
// transport and channel method, the return_callback setter, and the
// methods of consume()'s iterators and of their messages — FUZZ_N times
// each, and requires each call to return or resolve, or to throw or reject
// a TypeError, a RangeError or an AioamqpException: never a Go panic (the
// process would die), never a GoError or an error that reads like Go, never
// a hang (each awaited promise is raced against FUZZ_CALL_MS; the calls
// that may rightly stay pending — wait_closed() on an open connection, an
// iterator's next() on an empty queue — must settle once their connection
// is closed at the end). The zoo's own throwing getters and proxy traps
// throw FuzzBoom, which may come through unchanged, as any JS function lets
// a getter's exception through.
//
// Driven by ../../fuzzbindings_test.go. env: FUZZ_URL (a broker URL of its
// own vhost), AMQP_URL (connect()'s defaults: a port that refuses, so that
// random options fail fast instead of meeting the broker's 3-s delay for a
// bad login), FUZZ_N, FUZZ_SEED, FUZZ_SHARD ("i/n": bindings i, i+n, …),
// FUZZ_CALL_MS, FUZZ_ONLY (a regexp of binding names, for debugging).
'use strict';
const aioamqp = require('aioamqp');
const util = require('util');

const N = Number(process.env.FUZZ_N || 10000);
const SEED = Number(process.env.FUZZ_SEED || 1);
const [SHARD, SHARDS] = (process.env.FUZZ_SHARD || '0/1').split('/').map(Number);
const FUZZ_URL = process.env.FUZZ_URL;
const CALL_MS = Number(process.env.FUZZ_CALL_MS || 8000);
const BATCH = 32;
if (!FUZZ_URL) throw new Error('FUZZ_URL is not set');

class FuzzBoom extends Error {}

// mulberry32
let seed = (SEED * 2654435761) >>> 0;
function rnd() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const chance = (p) => rnd() < p;

// ---- the zoo -------------------------------------------------------------
// Integers avoid the ports something listens on here (5672 included): a
// random port must refuse at once.
const numbers = [0, -0, 1, -1, 2, 7, 9, 255, 256, 4096, 4095, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
  2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, -(2 ** 63), 1e21, 1e308, Number.MAX_VALUE, Number.MIN_VALUE, 0.5, -1.5, 3.14159,
  NaN, Infinity, -Infinity, 1e-9, 0.001];
const strings = ['', 'a', ' ', 'direct', 'fanout', 'topic', 'headers', 'x-unknown-type', 'amq.direct', 'amq.gen-fuzz',
  'amq.fuzz', 'amqpjs.fuzz.q', 'amqpjs.fuzz.x', 'PLAIN', 'AMQPLAIN', 'EXTERNAL', 'plain', 'é☃😀', '\u0000', '\ud800', 'a\nb',
  'x'.repeat(255), 'x'.repeat(256), 'é'.repeat(128), 'x'.repeat(70000), '1', '-1', '1.5', 'NaN', 'true', '100',
  'amqp://guest:guest@127.0.0.1:1/', 'amqps://u:p@127.0.0.1:1/%2F?heartbeat=1&frame_max=4096&channel_max=2&connection_timeout=10',
  'amqp://[::1]:1/', 'amqp://h:99999/', 'amqp://%zz@h/', 'amqp://127.0.0.1:1/?heartbeat=x', 'amqp://127.0.0.1:1/?frame_max=1',
  'http://x/', 'amqp://', 'amqp:', '/', '%2F', 'localhost', '127.0.0.1', '::1', 'no-such-host.invalid', '/etc/passwd',
  '/nonexistent/ca.pem', '__proto__', 'constructor', 'toString', 'amq.rabbitmq.reply-to'];
const names = {
  connect: ['host', 'port', 'login', 'password', 'virtualhost', 'ssl', 'login_method', 'insist', 'verify_ssl', 'heartbeat',
    'channel_max', 'frame_max', 'client_properties', 'on_error', 'on_blocked', 'on_unblocked', 'timeout', 'loop', 'protocol_factory'],
  ssl: ['ca_file', 'cert_file', 'key_file', 'server_name'],
  properties: ['content_type', 'content_encoding', 'headers', 'delivery_mode', 'priority', 'correlation_id', 'reply_to',
    'expiration', 'message_id', 'timestamp', 'type', 'user_id', 'app_id', 'cluster_id'],
  table: ['a', 'x-max-priority', 'x-message-ttl', 'x-expires', 'x-queue-type', 'alternate-exchange', 'x-match', '', 'é', 'k'.repeat(300)],
  channel: ['queue_name', 'passive', 'durable', 'exclusive', 'auto_delete', 'no_wait', 'arguments', 'timeout', 'if_unused',
    'if_empty', 'exchange_name', 'routing_key', 'type_name', 'exchange_destination', 'exchange_source', 'payload', 'properties',
    'mandatory', 'immediate', 'prefetch_size', 'prefetch_count', 'connection_global', 'callback', 'consumer_tag', 'no_local',
    'no_ack', 'concurrency', 'no_ack_window', 'delivery_tag', 'multiple', 'requeue', 'active', 'reply_code', 'reply_text',
    'return_callback'],
  message: ['requeue'],
};
const allNames = [...new Set(Object.values(names).flat())];

// (String() of a sparse array joins every hole: 1e6 holes cost 300 ms.)
function sparse() { const a = []; a[1e4] = 1; return a; }
function cyclic() { const o = { a: 1 }; o.self = o; o.arr = [o]; return o; }
function deep(n) { let o = {}; for (let i = 0; i < n; i++) o = { x: o }; return o; }
function deepArray(n) { let a = []; for (let i = 0; i < n; i++) a = [a]; return a; }
function throwingGetter(key) {
  return Object.defineProperty({}, key, { enumerable: true, get() { throw new FuzzBoom(`getter ${key}`); } });
}
function throwingProxy() {
  const trap = pick(['get', 'getPrototypeOf', 'ownKeys', 'has', 'getOwnPropertyDescriptor']);
  return new Proxy(chance(0.5) ? {} : { timeout: 1 }, { [trap]() { throw new FuzzBoom(`trap ${trap}`); } });
}
// Functions: callbacks must not throw (a throwing consumer callback is an
// uncaught error by design), so these return, hang or resolve.
const functions = [() => {}, async () => {}, function () { return 1; }, () => ({ then(r) { r(1); } }),
  () => new Promise(() => {}), async () => { await null; }, class K {}, Math.max, Object.freeze(function f() {}),
  new Proxy(() => {}, {}), (...a) => a.length];
function boxed() {
  return pick([() => new Map([[1, 2]]), () => new Set([1]), () => /re/g, () => new Error('e'), () => Promise.resolve(1),
    () => Object(1), () => new Boolean(false), () => new String('s'), () => new Number(1), () => Object(Symbol('b')),
    () => Object(1n), () => new WeakMap(), () => new aioamqp.ChannelClosed(404, 'x')])();
}
function binary() {
  return pick([() => Buffer.from('ab'), () => new Uint8Array(3), () => new Int32Array(2), () => new Float64Array([NaN]),
    () => new DataView(new ArrayBuffer(4), 1), () => new ArrayBuffer(8), () => Buffer.alloc(0), () => new Uint8Array(70000),
    () => new Uint8Array(new ArrayBuffer(16), 4, 4), () => new BigInt64Array(1)])();
}

function gen(depth = 0, keyNames = null) {
  switch (Math.floor(rnd() * 26)) {
    case 0: return undefined;
    case 1: return null;
    case 2: return chance(0.5);
    case 3: case 4: return pick(numbers);
    case 5: return (chance(0.5) ? 1 : -1) * Math.floor(rnd() * 2 ** 32) / (chance(0.8) ? 1 : 7);
    case 6: case 7: case 8: return pick(strings);
    case 9: return chance(0.5) ? Symbol('fuzz') : Symbol.iterator;
    case 10: return pick([0n, 1n, -1n, 2n ** 63n, 2n ** 64n, -(2n ** 63n) - 1n, 255n]);
    case 11: return depth > 3 ? [] : Array.from({ length: Math.floor(rnd() * 4) }, () => gen(depth + 1));
    // A huge array only at the top: String([hugeArray]) would make the
    // engine join billions of holes (goja cannot interrupt that).
    case 12: return pick([sparse, () => (depth ? [] : new Array(2 ** 32 - 1)), () => [1, , 3], () => deepArray(300), () => Object.assign([1], { x: 1 })])();
    case 13: case 14: case 15: return depth > 3 ? {} : randomObject(keyNames || pick(Object.values(names)), depth + 1);
    case 16: return pick([cyclic, () => deep(300), () => Object.create(null), () => Object.create({ inherited: 1 }),
      () => new (class Opts { constructor() { this.timeout = 1; } })(), () => Object.freeze({ timeout: 1 })])();
    case 17: return pick(functions);
    case 18: return binary();
    case 19: return pick([new Date(), new Date(NaN), new Date(8.64e15), new Date(-1), new Date(0)]);
    case 20: return throwingProxy();
    case 21: return throwingGetter(pick(allNames));
    case 22: return boxed();
    case 23: return { toString() { throw new FuzzBoom('toString'); }, valueOf() { throw new FuzzBoom('valueOf'); } };
    default: return pick(strings);
  }
}

// randomObject makes an options-like object, mostly with keys of keyNames.
function randomObject(keyNames, depth) {
  const o = chance(0.05) ? Object.create(null) : {};
  const n = Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) {
    const k = chance(0.85) ? pick(keyNames) : pick(['__proto__', 'x'.repeat(300), '', 'timeout', 'é', 'constructor']);
    let v;
    if (k === 'properties') v = chance(0.8) ? randomObject(names.properties, depth + 1) : gen(depth + 1);
    else if (k === 'ssl') v = chance(0.5) ? randomObject(names.ssl, depth + 1) : gen(depth + 1);
    else if (['arguments', 'client_properties', 'headers'].includes(k)) v = chance(0.7) ? randomObject(names.table, depth + 1) : gen(depth + 1);
    else v = gen(depth + 1);
    Object.defineProperty(o, k, { value: v, enumerable: true, configurable: true, writable: true });
  }
  return o;
}

function randomArgs(keyNames) {
  const n = Math.floor(rnd() * 6);
  const args = [];
  for (let i = 0; i < n; i++) args.push(gen(0));
  if (chance(0.4)) args.push(randomObject(keyNames, 1));
  return args;
}

// ---- verdicts ------------------------------------------------------------
const goish = /\b(runtime error|nil pointer|goroutine \d|panic[:(]|interface conversion|reflect\.|github\.com\/|\.go:\d+|\*?goja\.|\*amqp\.|amqp091|value of type)/;
const failures = [];
const stats = {};
const seenBase = new Set();
let calls = 0;

function show(v) {
  try {
    return util.inspect(v, { depth: 2, breakLength: Infinity }).slice(0, 300);
  } catch (e) {
    return `<uninspectable: ${e && e.message}>`;
  }
}

function fail(binding, args, what) {
  if (failures.length < 1000) failures.push(`${binding}(${args.map(show).join(', ')}): ${what}`);
}

function judge(binding, args, e, how) {
  let kind;
  if (e instanceof FuzzBoom) kind = 'FuzzBoom';
  else if (e instanceof aioamqp.AioamqpException) kind = e.name;
  else if (e instanceof RangeError) kind = 'RangeError';
  else if (e instanceof TypeError) kind = 'TypeError';
  else {
    fail(binding, args, `${how} ${show(e)}, not a TypeError, RangeError or AioamqpException`);
    return;
  }
  let msg = '';
  try { msg = String(e.message); } catch (_) { /* a FuzzBoom subclass never has this */ }
  if (e.name === 'GoError' || (e.value !== undefined && !(e instanceof FuzzBoom)) || goish.test(msg)) {
    fail(binding, args, `${how} a Go-looking error: ${show(e)} (${msg})`);
    return;
  }
  const key = `${how} ${kind}`;
  stats[binding][key] = (stats[binding][key] || 0) + 1;
  if (kind === 'AioamqpException' && !seenBase.has(msg)) {
    seenBase.add(msg);
    console.log(`note: ${binding} ${how} AioamqpException: ${msg}`);
  }
}

const TIMEOUT = Symbol('timeout');
const mayPend = [];

// call runs one call; it resolves once the call has settled (or was given
// up on after CALL_MS).
async function call(binding, fn, thisArg, args, opts = {}) {
  calls++;
  let r;
  try {
    r = opts.construct ? Reflect.construct(fn, args) : Reflect.apply(fn, thisArg, args);
  } catch (e) {
    judge(binding, args, e, 'threw');
    return;
  }
  if (r === null || (typeof r !== 'object' && typeof r !== 'function') || typeof r.then !== 'function' || opts.construct) {
    stats[binding].returned = (stats[binding].returned || 0) + 1;
    return;
  }
  // A call that may rightly stay pending is given a short while only; it is
  // checked again at the end.
  const ms = opts.mayPend ? 5 : opts.window || CALL_MS;
  let timer;
  const out = await Promise.race([
    r.then((v) => ({ v }), (e) => ({ e })),
    new Promise((res) => { timer = setTimeout(() => res(TIMEOUT), ms); }),
  ]);
  clearTimeout(timer);
  if (out === TIMEOUT) {
    if (opts.mayPend) {
      // Not the arguments: 10 000 of them kept alive would make the GC the
      // bottleneck (a Uint8Array of 70 000 bytes here and there).
      mayPend.push({ binding, args: [], p: r });
      stats[binding].pending = (stats[binding].pending || 0) + 1;
      return;
    }
    fail(binding, args, `neither resolved nor rejected within ${CALL_MS} ms`);
    return;
  }
  if ('e' in out) {
    judge(binding, args, out.e, 'rejected');
    return;
  }
  stats[binding].resolved = (stats[binding].resolved || 0) + 1;
  if (opts.onValue) await opts.onValue(out.v);
}

// ---- the live objects that the calls act on --------------------------------
const live = { transport: null, protocol: null, channel: null, iters: [], msgs: [], conns: [] };
let reconnects = 0;
let channels = 0;

// ensure makes sure there is an open connection and channel to call on
// (the previous calls may have closed them, even while this runs).
async function ensure() {
  try {
    await retrying(ensureOnce);
  } catch (e) {
    console.log(`cannot get a connection and channel to call on: ${e.name}: ${e.message}`);
    throw e;
  }
}

// retrying runs once() until it does not fail with an AioamqpException (up
// to 200 more times, 5 ms apart): the connection may be ending without the
// script knowing yet (its state changes once its close has been processed).
async function retrying(once) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await once();
    } catch (e) {
      if (!(e instanceof aioamqp.AioamqpException) || attempt > 200) throw e;
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function ensureOnce() {
  if (!live.protocol || live.protocol.state !== aioamqp.OPEN) {
    [live.transport, live.protocol] = await aioamqp.from_url(FUZZ_URL, { client_properties: { connection_name: `amqpjs-fuzz-${SHARD}` } });
    // Kept to be closed at the end; closed ones are let go (hundreds of
    // them, with their channels, would weigh on the GC).
    live.conns = live.conns.filter((c) => c.state !== aioamqp.CLOSED);
    live.conns.push(live.protocol);
    live.channel = null;
    live.iters = [];
    live.msgs = [];
    reconnects++;
  }
  if (!live.channel || !live.channel.is_open) {
    // The fuzz queue may have been deleted, or declared with other
    // attributes, by the random calls: check, then declare if need be.
    let ch = await live.protocol.channel();
    try {
      await ch.queue_declare('amqpjs.fuzz.q', { passive: true });
    } catch (e) {
      if (!(e instanceof aioamqp.ChannelClosed) || e.code !== 404) throw e;
      ch = await live.protocol.channel();
      await ch.queue_declare('amqpjs.fuzz.q');
    }
    // A window per consumer: the random consumers (some never finish a
    // callback, iterators nobody reads) must not pile up every message.
    await ch.basic_qos({ prefetch_count: 20 });
    if (chance(0.5)) await ch.confirm_select();
    live.channel = ch;
    channels++;
  }
}

async function feedIterators() {
  await retrying(feedOnce);
}

async function feedOnce() {
  await ensure();
  const ch = live.channel;
  live.iters = live.iters.filter((it) => it.channel.is_open);
  while (live.iters.length < 3) {
    const it = await ch.consume('amqpjs.fuzz.q', { no_ack: chance(0.5) });
    it.next().catch(() => {}); // keep one next() pending
    live.iters.push(it);
  }
  live.msgs = live.msgs.filter((m) => m.channel === undefined || m.channel.is_open);
  if (live.msgs.length < 4) {
    const { message_count } = await ch.queue_declare('amqpjs.fuzz.q', { passive: true });
    if (message_count < 100) for (let i = 0; i < 8; i++) ch.basic_publish(`m${i}`, '', 'amqpjs.fuzz.q').catch(() => {});
    const it = pick(live.iters);
    const t0 = Date.now();
    while (live.msgs.length < 4 && Date.now() - t0 < 200) {
      const r = await Promise.race([it.next().catch(() => null), new Promise((res) => setTimeout(() => res(null), 20))]);
      if (r && !r.done) live.msgs.push(r.value);
    }
  }
}

// Values that a call resolved with and that hold resources are closed.
async function release(v) {
  if (Array.isArray(v) && v.length === 2 && v[0] && typeof v[0].close === 'function') {
    v[0].close(); // a connection that random options managed to open
  } else if (v && typeof v === 'object' && typeof v.queue_declare === 'function' && v !== live.channel) {
    try { await v.close(); } catch (e) { /* closed already */ }
  } else if (v && typeof v === 'object' && typeof v.next === 'function' && typeof v.cancel === 'function') {
    if (live.iters.length < 6) live.iters.push(v);
    else v.cancel().catch(() => {});
  } else if (v && typeof v === 'object' && v.done === false && v.value && typeof v.value.ack === 'function') {
    if (live.msgs.length < 50) live.msgs.push(v.value);
  }
}

// ---- the bindings ----------------------------------------------------------
const channelMethods = ['queue_declare', 'queue_delete', 'queue_bind', 'queue_unbind', 'queue_purge', 'exchange_declare',
  'exchange_delete', 'exchange_bind', 'exchange_unbind', 'publish', 'basic_publish', 'confirm_select', 'basic_qos',
  'basic_consume', 'basic_cancel', 'basic_get', 'basic_client_ack', 'basic_client_nack', 'basic_reject', 'basic_recover',
  'basic_recover_async', 'flow', 'close', 'add_cancellation_callback', 'consume'];
const exceptionNames = ['AioamqpException', 'AmqpClosedConnection', 'ChannelClosed', 'DuplicateConsumerTag',
  'ConsumerCancelled', 'EmptyQueue', 'NoChannelAvailable', 'PublishFailed', 'SynchronizationError', 'TimeoutError'];

const bindings = [];
// A random host is looked up in DNS, which a loaded DNS server may answer
// only after the resolver's retries: connect gets longer than other calls
// (its own default timeout, 30 s, bounds it).
const connectWindow = Math.max(CALL_MS, 40000);
bindings.push({ name: 'aioamqp.connect', run: () => call('aioamqp.connect', aioamqp.connect, aioamqp, randomArgs(names.connect), { onValue: release, window: connectWindow }) });
bindings.push({ name: 'aioamqp.from_url', run: () => call('aioamqp.from_url', aioamqp.from_url, aioamqp, randomArgs(names.connect), { onValue: release, window: connectWindow }) });
exceptionNames.forEach((e, k) => {
  const made = { name: `new aioamqp.${e}`, run: () => call(`new aioamqp.${e}`, aioamqp[e], undefined, randomArgs(['message', 'code']), { construct: true }) };
  const called = { name: `aioamqp.${e}()`, run: () => call(`aioamqp.${e}()`, aioamqp[e], undefined, randomArgs(['message', 'code'])) };
  // Alternate the order, so that shards (every other binding) share the
  // costlier constructions.
  if (k % 2) bindings.push(called, made);
  else bindings.push(made, called);
});
bindings.push({ name: 'protocol.channel', needs: true, run: () => call('protocol.channel', live.protocol.channel, live.protocol, randomArgs(['return_callback', 'timeout']), { onValue: release }) });
bindings.push({ name: 'protocol.close', needs: true, run: () => call('protocol.close', live.protocol.close, live.protocol, randomArgs(['no_wait', 'timeout'])) });
bindings.push({ name: 'protocol.wait_closed', needs: true, mayPend: true, run: () => call('protocol.wait_closed', live.protocol.wait_closed, live.protocol, randomArgs(['timeout']), { mayPend: true }) });
bindings.push({ name: 'transport.close', needs: true, run: () => call('transport.close', live.transport.close, live.transport, randomArgs([])) });
for (const m of channelMethods) {
  bindings.push({
    name: `channel.${m}`, needs: true,
    run: () => call(`channel.${m}`, live.channel[m], live.channel, randomArgs(names.channel), { onValue: release }),
  });
}
bindings.push({
  name: 'channel.return_callback=', needs: true,
  run: () => {
    calls++;
    const v = gen(0);
    try {
      live.channel.return_callback = v;
      stats['channel.return_callback='].returned = (stats['channel.return_callback='].returned || 0) + 1;
    } catch (e) {
      judge('channel.return_callback=', [v], e, 'threw');
    }
  },
});
for (const m of ['next', 'return', 'cancel', Symbol.asyncIterator]) {
  const name = `iterator.${String(m)}`;
  bindings.push({
    name, needs: true, iters: true, mayPend: m === 'next',
    run: () => {
      const it = pick(live.iters);
      return call(name, it[m], it, randomArgs(['value']), { mayPend: m === 'next', onValue: release });
    },
  });
}
for (const m of ['ack', 'nack', 'reject']) {
  const name = `message.${m}`;
  bindings.push({
    name, needs: true, iters: true,
    run: () => {
      const msg = live.msgs.length ? pick(live.msgs) : null;
      if (!msg) return null;
      return call(name, msg[m], msg, randomArgs(names.message));
    },
  });
}

// ---- the run ---------------------------------------------------------------
const only = process.env.FUZZ_ONLY ? new RegExp(process.env.FUZZ_ONLY) : null;
const mine = bindings.filter((b, i) => i % SHARDS === SHARD && (!only || only.test(b.name)));
const t0 = Date.now();
for (const b of mine) {
  stats[b.name] = {};
  const tb = Date.now();
  let done = 0;
  while (done < N) {
    if (b.needs) await ensure();
    if (b.iters) await feedIterators();
    const batch = [];
    const size = Math.min(b.mayPend ? 4 * BATCH : BATCH, N - done);
    for (let j = 0; j < size; j++) batch.push(b.run());
    await Promise.all(batch);
    done += size;
  }
  console.log(`${b.name}: ${N} calls in ${Date.now() - tb} ms ${JSON.stringify(stats[b.name])}`);
}

// Close everything: the calls that could stay pending must settle now.
for (const p of live.conns) {
  if (p.state === aioamqp.OPEN) {
    try { await p.close({ timeout: 10 }); } catch (e) { /* closed meanwhile */ }
  }
}
const outcome = await Promise.race([
  Promise.allSettled(mayPend.map((x) => x.p)),
  new Promise((res) => setTimeout(() => res(TIMEOUT), 15000)),
]);
if (outcome === TIMEOUT) {
  fail('pending calls', [], `${mayPend.length} calls that could pend did not all settle within 15 s of closing their connection`);
} else {
  outcome.forEach((o, i) => {
    if (o.status === 'rejected') {
      const e = o.reason;
      if (!(e instanceof aioamqp.AioamqpException)) fail(mayPend[i].binding, mayPend[i].args, `rejected at the end with ${show(e)}`);
    }
  });
}

console.log(`@@result shard ${SHARD}/${SHARDS}: ${mine.length} bindings, ${calls} calls, ${mayPend.length} pending until the end, ` +
  `${reconnects} connections, ${channels} channels, ${failures.length} failures, ${Date.now() - t0} ms`);
for (const f of failures.slice(0, 30)) console.log(`FAIL ${f}`);
if (failures.length) process.exitCode = 1;
