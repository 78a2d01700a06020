// load-pubsub.js — a load scenario with two named scenarios: producers at a
// fixed rate and a pool of consumers, with thresholds per scenario and on
// end-to-end latency. Run: amqpjs run scripts/load-pubsub.js
//
// `producers` (constant-arrival-rate) starts 200 iterations a second, each
// one publish with confirms; `consumers` (constant-vus) is 2 VUs that each
// consume from the queue. Every sample carries the scenario's name as the
// tag `scenario`, so thresholds can look at one scenario. Every publish
// carries the x-amqpjs-sent-at header and every delivery records now minus
// that time into amqp_e2e_latency (turn it off with --no-e2e-header).
//
// Split between instances (amqpjs run --instance I/N, docs/distributed.md),
// all instances share one queue: give each the same name in $QUEUE, e.g.
//   QUEUE=load-$(date +%s) amqpjs run --instance 0/3 --start-at T scripts/load-pubsub.js
// (and 1/3, 2/3 with the same QUEUE and T). The instance at 0 declares it
// (setupOnce) and deletes it at the end (teardownOnce); an instance without
// a consumer VU (2 consumers over 3 instances are 1 + 1 + 0) only publishes,
// and the others' consumers take its messages. Alone, without $QUEUE, the
// run declares a queue of its own.
import * as aioamqp from 'aioamqp';
import { setTimeout as sleep } from 'timers/promises';
import { Counter } from 'amqpjs/metrics';

export const options = {
  setupOnce: true, // only the instance at 0 of a split run (a run alone: always)
  teardownOnce: true,
  scenarios: {
    producers: {
      executor: 'constant-arrival-rate', exec: 'produce',
      rate: 200, timeUnit: '1s', duration: '2s', preAllocatedVUs: 4, maxVUs: 20,
    },
    consumers: {
      executor: 'constant-vus', exec: 'consume',
      vus: 2, duration: '3s', // a second longer than the producers, to drain the queue
      env: { PREFETCH: '100' }, // added to process.env of this scenario's VUs
    },
  },
  thresholds: {
    'amqp_published{scenario:producers}': ['rate>50'], // generous, for CI
    'amqp_consumed{scenario:consumers}': ['count>0'],
    amqp_e2e_latency: ['p(95)<1000', { threshold: 'p(99)<5000', abortOnFail: true, delayAbortEval: '1s' }],
    acked: ['count>0'],
    errors: ['count==0'],
  },
};

const acked = new Counter('acked'); // a custom metric: it gets the scenario tag too

export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = process.env.QUEUE || `amqpjs.load-pubsub.${Date.now().toString(36)}`;
  await channel.queue_declare(queue, { arguments: { 'x-max-length': 100000 } });
  await protocol.close();
  transport.close();
  console.log('setup: declared the queue');
  return { queue };
}

// The queue: setup()'s, or (an instance of a split run other than the one
// at 0, whose VUs get no data) $QUEUE.
function queueOf(data) {
  if (data) return data.queue;
  if (process.env.QUEUE) return process.env.QUEUE;
  throw new Error('a run split between instances needs one queue: give every instance the same QUEUE=name');
}

// Each VU opens its connection on its first iteration and keeps it.
let channel;

export async function produce(data) {
  const queue = queueOf(data);
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  await channel.publish(`message ${__VU}.${__ITER}`, '', queue);
}

export async function consume(data) {
  const queue = queueOf(data);
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.basic_qos({ prefetch_count: Number(process.env.PREFETCH) });
    await channel.basic_consume(async (body, envelope, properties, ch) => {
      await ch.basic_client_ack(envelope.delivery_tag);
      acked.add(1);
    }, { queue_name: queue });
  }
  await sleep(200); // a consumer's iteration only waits; its callback does the work
}

export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await ch.queue_delete(queue);
  await protocol.close();
  transport.close();
  console.log('teardown: deleted the queue');
}
