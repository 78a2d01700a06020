// load-publish.js — a load scenario: publishers at a fixed rate, with
// publisher confirms. Run: amqpjs run scripts/load-publish.js
// (override with flags, e.g. --rate 2000 --duration 1m --max-vus 50).
//
// The constant-arrival-rate executor starts `rate` iterations per second,
// each on an idle virtual user (VU); each VU has its own connection and
// channel in confirm mode. amqp_published, amqp_confirmed,
// amqp_confirm_latency, ... are recorded without any code here; the summary
// goes to stderr.
import * as aioamqp from 'aioamqp';

export const options = {
  rate: 200, // iterations (here: publishes) per second
  duration: '3s',
  preAllocatedVUs: 4,
  maxVUs: 20,
  thresholds: {
    amqp_confirm_latency: ['p(99)<2000'], // ms from publish() to the broker's ack (generous, for CI)
    amqp_nacked: ['count==0'],
    errors: ['count==0'],
  },
};

const payload = Buffer.alloc(512, 'x');

// setup() runs once, before the VUs; what it returns reaches every VU.
export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = `amqpjs.load-publish.${Date.now().toString(36)}`;
  // A bounded queue: the test measures the publishers, not a growing backlog.
  await channel.queue_declare(queue, { arguments: { 'x-max-length': 10000 } });
  await protocol.close();
  transport.close();
  console.log('setup: declared the queue');
  return { queue };
}

// Each VU opens its connection on its first iteration and keeps it.
let channel;
async function myChannel() {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  return channel;
}

export default async function ({ queue }) {
  const ch = await myChannel();
  await ch.publish(payload, '', queue, { properties: { content_type: 'application/octet-stream' } });
}

export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await ch.queue_delete(queue);
  await protocol.close();
  transport.close();
  console.log('teardown: deleted the queue');
}
