// Helpers shared by the fault scripts (run by ../../faults_test.go).
//
// A script talks to the test through stdout: a line "@@<command> <args>"
// asks the test for a fault (cut, stall, close, restart, alarm-on, ...) or
// reports a result (resolved, received). Everything else is a log line.
'use strict';
const assert = require('assert');
const aioamqp = require('aioamqp');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// within rejects when p has not settled after ms: a hang fails the script
// with a message instead of running into the binary's --timeout.
function within(p, ms, what) {
  let timer;
  const t = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

// ranges compresses integers into "0-41,43,45-50" ("-" when empty).
function ranges(ids) {
  const s = [...ids].sort((a, b) => a - b);
  const out = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.length ? out.join(',') : '-';
}

// connect opens a connection named name that records on_error calls.
async function connect(name, extra = {}) {
  const errors = [];
  let first;
  const errored = new Promise((r) => { first = r; });
  const [transport, protocol] = await aioamqp.connect({
    client_properties: { connection_name: name },
    on_error: (e) => { errors.push(e); first(e); },
    ...extra,
  });
  return { transport, protocol, errors, errored };
}

// publishLoop publishes messages 0, 1, 2, ... (message_id = the number) to
// queue through the default exchange, keeping at most `window` publishes
// in flight, until stop(). It records which resolved and which rejected.
function publishLoop(ch, queue, opts = {}) {
  const window = opts.window || 200;
  const body = 'x'.repeat(opts.size || 64);
  const base = opts.persistent ? { delivery_mode: 2 } : {};
  const resolved = [];
  const rejected = [];
  let inflight = 0;
  let next = 0;
  let stopped = false;
  let wake = null;
  const kick = () => { if (wake) { const w = wake; wake = null; w(); } };
  async function run() {
    while (!stopped) {
      if (inflight >= window) {
        await new Promise((r) => { wake = r; });
        continue;
      }
      const id = next++;
      inflight++;
      ch.publish(body, '', queue, { properties: { ...base, message_id: String(id) } }).then(
        () => { resolved.push(id); },
        (e) => { rejected.push([id, e]); },
      ).finally(() => { inflight--; kick(); });
      if (id % 64 === 63) await new Promise((r) => setImmediate(r));
    }
  }
  const done = run();
  return {
    resolved,
    rejected,
    get published() { return next; },
    get inflight() { return inflight; },
    stop() { stopped = true; kick(); },
    // settled resolves once every publish made has settled.
    async settled(ms) {
      await within(done, ms, 'the publish loop');
      const t0 = Date.now();
      while (inflight > 0) {
        if (Date.now() - t0 > ms) throw new Error(`${inflight} publishes still pending after ${ms} ms`);
        await sleep(10);
      }
    },
    async untilResolved(n, ms) {
      const t0 = Date.now();
      while (resolved.length < n) {
        if (Date.now() - t0 > ms) throw new Error(`only ${resolved.length} of ${n} publishes resolved within ${ms} ms`);
        await sleep(5);
      }
    },
  };
}

// expectClass asserts e is an instance of one of classes (aioamqp names),
// with code when given.
function expectClass(e, names, code, what) {
  const ok = names.some((n) => e instanceof aioamqp[n]);
  assert.ok(ok, `${what}: got ${e && e.name} (${e && e.code}): ${e && e.message}; want ${names.join(' or ')}`);
  if (code !== undefined) assert.strictEqual(e.code, code, `${what}: code of ${e.name}: ${e.message}`);
}

// expectFaultError asserts err is the on_error of a connection hit by the
// fault kind: AmqpClosedConnection with that fault's code and message.
function expectFaultError(err, kind) {
  const want = {
    cut: [0, /connection lost/],
    stall: [0, /missed heartbeats/],
    close: [320, /CONNECTION_FORCED.*closed by the amqpjs fault test/],
    restart: [320, /CONNECTION_FORCED.*shutdown/],
  }[kind];
  expectClass(err, ['AmqpClosedConnection'], want[0], 'on_error');
  assert.ok(want[1].test(err.message), `on_error message: ${err.message}`);
}

// settleAll waits (bounded) for every promise and returns their outcomes.
async function settleAll(promises, ms, what) {
  return within(Promise.allSettled(promises), ms, what);
}

module.exports = { aioamqp, assert, sleep, within, ranges, connect, publishLoop, expectClass, expectFaultError, settleAll };
