// A fault while consuming: argv[2] is the fault (cut, stall, close,
// restart; see publish_fault.js). The test filled three queues (FAULT_QUEUE
// + '.a', '.b', '.c') with FAULT_N messages each (message_id 0..N-1):
//   .a  basic_consume callback, manual acks, prefetch 50
//   .b  consume() iterator, manual acks, prefetch 50
//   .c  basic_consume with no_ack (the emulated, windowed no_ack)
// Once each consumer has had some messages, the fault. Asserts: on_error
// once with the right class and code; the iterator ends with a rejection of
// the right class; acks awaited by callbacks reject; reports the ids each
// consumer was handed (@@received) so that the test can check that every
// message is either in its queue afterwards or was handed to the script.
const { aioamqp, assert, sleep, within, ranges, connect, expectClass, expectFaultError, settleAll } = require('./lib.js');

const kind = process.argv[2];
const base = process.env.FAULT_QUEUE;
const name = process.env.FAULT_NAME;
const N = Number(process.env.FAULT_N);
assert.ok(['cut', 'stall', 'close', 'restart'].includes(kind), `unknown fault ${kind}`);
const brokerClosed = kind === 'close' || kind === 'restart';
const closeClasses = brokerClosed ? ['ChannelClosed', 'AmqpClosedConnection'] : ['AmqpClosedConnection'];

const c = await connect(name, kind === 'stall' ? { heartbeat: 1 } : {});
const got = { a: [], b: [], c: [] };
const ackFailures = [];
let faultAsked = false;
let errorSeen = false;
let callbacksAfterError = 0;
// Each consumer takes at most ~1000 messages a second, so that the fault
// comes mid-consume.
const slow = () => new Promise((r) => setTimeout(r, 5));
function maybeFault() {
  if (!faultAsked && got.a.length >= 300 && got.b.length >= 300 && got.c.length >= 300) {
    faultAsked = true;
    console.log(`@@${kind}`);
  }
}

const cha = await c.protocol.channel();
await cha.basic_qos({ prefetch_count: 50 });
await cha.basic_consume(async (body, envelope, properties, ch) => {
  if (errorSeen) callbacksAfterError++;
  got.a.push(Number(properties.message_id));
  maybeFault();
  if (got.a.length % 5 === 0) await slow();
  try {
    await ch.basic_client_ack(envelope.delivery_tag);
  } catch (e) {
    ackFailures.push(e);
  }
}, { queue_name: `${base}.a` });

const chb = await c.protocol.channel();
await chb.basic_qos({ prefetch_count: 50 });
const iter = await chb.consume(`${base}.b`);
const iterated = (async () => {
  for await (const m of iter) {
    got.b.push(Number(m.properties.message_id));
    maybeFault();
    if (got.b.length % 5 === 0) await slow();
    try {
      await m.ack();
    } catch (e) {
      ackFailures.push(e);
    }
  }
})();
iterated.catch(() => {}); // checked below

const chc = await c.protocol.channel();
await chc.basic_consume(async (body, envelope, properties) => {
  if (errorSeen) callbacksAfterError++;
  got.c.push(Number(properties.message_id));
  maybeFault();
  if (got.c.length % 5 === 0) await slow();
}, { queue_name: `${base}.c`, no_ack: true });

const err = await within(c.errored, 60000, 'on_error');
errorSeen = true;
expectFaultError(err, kind);

// The iterator ends with the connection's error.
const [it] = await settleAll([iterated], 15000, 'the consume() iterator');
assert.strictEqual(it.status, 'rejected', 'the for-await loop ends with a rejection');
expectClass(it.reason, closeClasses, undefined, 'iterator');
for (const e of ackFailures) expectClass(e, closeClasses, undefined, 'an ack awaited by a consumer');

await sleep(500);
assert.strictEqual(c.errors.length, 1, `on_error called ${c.errors.length} times`);
// The emulated no_ack consumer hands nothing over once its channel is gone.
assert.strictEqual(chc.is_open, false);
for (const k of ['a', 'b', 'c']) {
  assert.ok(got[k].length >= 300, `consumer ${k} got ${got[k].length} messages`);
  assert.ok(got[k].length < N, `consumer ${k} got all ${N} messages before the fault`);
  console.log(`@@received ${k} ${ranges(got[k])}`);
}
console.log(`${kind}: handed over a=${got.a.length} b=${got.b.length} c=${got.c.length} of ${N} each; ` +
  `${ackFailures.length} awaited acks rejected; ${callbacksAfterError} callbacks ran after on_error; on_error: ${err.name} ${err.code}`);
