// chaos.js — faults on cue while a workload runs, and proof that nothing
// confirmed is lost. Run: amqpjs run scripts/chaos.js
//
// `producers` (constant-arrival-rate) publish persistent messages with
// publisher confirms; `consumers` (constant-vus) consume and ack them; the
// `chaos` scenario starts a second in (startTime) and, through the
// amqpjs/faults module, cuts a producer's and a consumer's connection, slows
// a producer down (latency, bandwidth), then stalls a consumer for longer
// than its heartbeat timeout. Every VU follows the reconnect recipe of
// scripts/reconnect.js: when its connection is gone it connects again on its
// next iteration, and a producer publishes the message it could not get
// confirmed again (same message id).
//
// Lost messages are counted at teardown: producers write the ids they got
// confirmed to the queue <queue>.confirmed, consumers write the ids they
// consumed to <queue>.consumed before acking; a confirmed id that is neither
// consumed nor still queued is lost. The threshold `lost: ['count==0']`
// fails the run (exit 99) otherwise.
//
// Knobs (environment): RATE publishes a second (50), DURATION of the
// producers ('4s'), STALL of the consumer ('3s').
//   RATE=500 DURATION=60s amqpjs run scripts/chaos.js
import * as aioamqp from 'aioamqp';
import * as faults from 'amqpjs/faults';
import { setTimeout as sleep } from 'timers/promises';
import { Counter } from 'amqpjs/metrics';

const RATE = Number(process.env.RATE || 50);
const DURATION = process.env.DURATION || '4s';
const STALL = process.env.STALL || '3s';
const seconds = (d) => Number.parseFloat(d) * ({ ms: 0.001, s: 1, m: 60, h: 3600 }[d.replace(/^[\d.]+/, '')] ?? 1);

export const options = {
  scenarios: {
    producers: {
      executor: 'constant-arrival-rate', exec: 'produce',
      rate: RATE, timeUnit: '1s', duration: DURATION, preAllocatedVUs: 2, maxVUs: 20,
    },
    consumers: {
      executor: 'constant-vus', exec: 'consume',
      vus: 2, duration: `${seconds(DURATION) + 1}s`,
    },
    chaos: {
      executor: 'per-vu-iterations', exec: 'chaos',
      vus: 1, iterations: 1, startTime: '1s', maxDuration: `${seconds(STALL) + 10}s`,
    },
  },
  thresholds: {
    lost: ['count==0'], // confirmed, then neither consumed nor still queued
    'confirmed{scenario:producers}': ['count>0'],
    'consumed{scenario:consumers}': ['count>0'],
    reconnects: ['count>0'], // the faults hit, and the sessions came back
  },
};

const confirmed = new Counter('confirmed');
const consumed = new Counter('consumed');
const reconnects = new Counter('reconnects');
const lost = new Counter('lost');

export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = `amqpjs.chaos.${Date.now().toString(36)}`;
  for (const q of [queue, `${queue}.confirmed`, `${queue}.consumed`]) {
    await channel.queue_declare(q, { durable: true });
  }
  await protocol.close();
  transport.close();
  console.log('setup: declared the queues');
  return { queue };
}

// This VU's session (the reconnect recipe): a connection and its channels,
// opened again on the next iteration once the connection is gone.
let session = null;

async function connect(role, open) {
  if (session && session.protocol.state === aioamqp.OPEN) return session;
  if (session) reconnects.add(1);
  session = null;
  const [, protocol] = await aioamqp.connect({
    heartbeat: 1, // a stall longer than the heartbeat timeout ends the connection
    client_properties: { connection_name: `chaos.js ${role} ${__VU}` },
    on_error: () => {}, // the next call rejects; the next iteration reconnects
  });
  session = { protocol, ...(await open(protocol)) };
  return session;
}

const gone = (e) => e instanceof aioamqp.AmqpClosedConnection || e instanceof aioamqp.ChannelClosed;

let seq = 0; // the last message id of this VU that was confirmed
const backlog = []; // confirmed ids not yet written to <queue>.confirmed

export async function produce({ queue }) {
  try {
    const { channel } = await connect('producer', async (protocol) => {
      const channel = await protocol.channel();
      await channel.confirm_select();
      return { channel };
    });
    const id = `${__VU}.${seq + 1}`;
    await channel.publish(id, '', queue, { properties: { message_id: id, delivery_mode: 2 } });
    seq++;
    confirmed.add(1);
    backlog.push(id);
    await channel.publish(backlog.join(','), '', `${queue}.confirmed`, { properties: { delivery_mode: 2 } });
    backlog.length = 0;
  } catch (e) {
    if (!gone(e)) throw e; // the connection went: the same id again next time
  }
}

export async function consume({ queue }) {
  try {
    await connect('consumer', async (protocol) => {
      const channel = await protocol.channel();
      const ledger = await protocol.channel();
      await ledger.confirm_select();
      await channel.basic_qos({ prefetch_count: 50 });
      await channel.basic_consume(async (body, envelope, properties, ch) => {
        try {
          await ledger.publish(properties.message_id, '', `${queue}.consumed`, { properties: { delivery_mode: 2 } });
          await ch.basic_client_ack(envelope.delivery_tag);
          consumed.add(1);
        } catch (e) {
          if (!gone(e)) throw e; // else the broker delivers it again
        }
      }, { queue_name: queue });
      return {};
    });
  } catch (e) {
    if (!gone(e)) throw e;
  }
  await sleep(200); // the consumer callback does the work
}

export async function chaos() {
  const one = (scenario) => faults.connections({ scenario })[0];
  // The others connect on their first iteration: wait for them (a slow start).
  for (let i = 0; i < 100 && !(one('producers') && one('consumers')); i++) await sleep(100);
  const p = one('producers');
  const c = one('consumers');
  if (!p || !c) throw new Error('chaos: no producer or consumer connection to break');
  faults.cut(p);
  faults.cut(c);
  console.log('chaos: cut a producer connection and a consumer connection');
  await sleep(500);

  const slow = one('producers');
  if (slow) {
    faults.latency(slow, '50ms');
    faults.bandwidth(slow, '100kB');
    await sleep(500);
    faults.clear(slow);
    console.log('chaos: 50ms of latency and 100kB/s on a producer connection, then cleared');
  }

  const stalled = one('consumers');
  if (stalled) {
    await faults.stall(stalled, STALL); // settles when the stall is over or the connection ended
    console.log(`chaos: stalled a consumer connection for ${STALL} (heartbeat 1s)`);
  }
}

export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  const drain = async (q, each) => {
    for (;;) {
      let m;
      try {
        m = await ch.basic_get(q, { no_ack: true });
      } catch (e) {
        if (e instanceof aioamqp.EmptyQueue) return;
        throw e;
      }
      each(m.message.toString(), m.properties);
    }
  };
  const ok = new Set();
  const present = new Set();
  await drain(`${queue}.confirmed`, (ids) => ids.split(',').forEach((id) => ok.add(id)));
  await drain(`${queue}.consumed`, (id) => present.add(id));
  await drain(queue, (body, props) => present.add(props.message_id));
  let missing = 0;
  for (const id of ok) if (!present.has(id)) missing++;
  lost.add(missing);
  for (const q of [queue, `${queue}.confirmed`, `${queue}.consumed`]) await ch.queue_delete(q);
  await protocol.close();
  transport.close();
  console.log(missing === 0
    ? 'teardown: every confirmed message was consumed or is still queued'
    : `teardown: ${missing} confirmed messages lost`);
}
