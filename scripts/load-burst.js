// load-burst.js — a burst of publishes: the arrival rate ramps up, holds,
// spikes and falls to zero (the ramping-arrival-rate executor).
// Run: amqpjs run scripts/load-burst.js
//
// Each stage goes linearly from the rate before it to its target (in
// iterations per timeUnit) over its duration. An iteration that finds no
// idle VU is dropped (dropped_iterations) while another VU starts, up to
// maxVUs; the threshold below says how many drops are acceptable.
import * as aioamqp from 'aioamqp';

export const options = {
  scenarios: {
    burst: {
      executor: 'ramping-arrival-rate',
      startRate: 20, timeUnit: '1s', preAllocatedVUs: 5, maxVUs: 50,
      stages: [
        { duration: '500ms', target: 100 }, // ramp up to 100 publishes a second
        { duration: '500ms', target: 400 }, // the burst
        { duration: '500ms', target: 400 },
        { duration: '500ms', target: 0 },   // and down
      ],
      tags: { workload: 'burst' }, // on every sample of this scenario, besides scenario:burst
    },
  },
  thresholds: {
    'amqp_confirm_latency{workload:burst}': ['p(99)<2000'], // ms from publish() to the broker's ack (generous, for CI)
    'iterations{scenario:burst}': ['count>100'],
    amqp_nacked: ['count==0'],
    errors: ['count==0'],
  },
};

const payload = Buffer.alloc(256, 'x');

export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = `amqpjs.load-burst.${Date.now().toString(36)}`;
  await channel.queue_declare(queue, { arguments: { 'x-max-length': 10000 } });
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
    await channel.confirm_select();
  }
  await channel.publish(payload, '', queue);
}

export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await ch.queue_delete(queue);
  await protocol.close();
  transport.close();
  console.log('teardown: deleted the queue');
}
