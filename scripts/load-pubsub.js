// load-pubsub.js — a load scenario with publishers and consumers, and
// thresholds on end-to-end latency. Run: amqpjs run scripts/load-pubsub.js
//
// Odd VUs publish, even VUs consume from the same queue. In a scenario run
// every publish carries the x-amqpjs-sent-at header (the publish time) and
// every delivery records now minus that time into amqp_e2e_latency (turn it
// off with --no-e2e-header).
import * as aioamqp from 'aioamqp';
import { setTimeout as sleep } from 'timers/promises';
import { Counter } from 'amqpjs/metrics';

export const options = {
  vus: 4,
  duration: '3s',
  thresholds: {
    amqp_e2e_latency: ['p(95)<1000', { threshold: 'p(99)<5000', abortOnFail: true, delayAbortEval: '1s' }], // generous, for CI
    amqp_consumed: ['count>0'],
    acked: ['count>0'],
    errors: ['count==0'],
  },
};

const acked = new Counter('acked'); // a custom metric

export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = `amqpjs.load-pubsub.${Date.now().toString(36)}`;
  await channel.queue_declare(queue, { arguments: { 'x-max-length': 100000 } });
  await protocol.close();
  transport.close();
  console.log('setup: declared the queue');
  return { queue };
}

let channel;
export default async function ({ queue }) {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    if (__VU % 2 === 0) {
      await channel.basic_qos({ prefetch_count: 100 });
      await channel.basic_consume(async (body, envelope, properties, ch) => {
        await ch.basic_client_ack(envelope.delivery_tag);
        acked.add(1);
      }, { queue_name: queue });
    } else {
      await channel.confirm_select();
    }
  }
  if (__VU % 2 === 0) {
    await sleep(200); // a consumer's iteration only waits; its callback does the work
    return;
  }
  // A publisher sends a burst of 20 messages, then pauses.
  const burst = [];
  for (let i = 0; i < 20; i++) burst.push(channel.publish(`message ${__VU}.${__ITER}.${i}`, '', queue));
  await Promise.all(burst);
  await sleep(20);
}

export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await ch.queue_delete(queue);
  await protocol.close();
  transport.close();
  console.log('teardown: deleted the queue');
}
