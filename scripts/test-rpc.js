// test-rpc.js — a pass/fail test scenario: an RPC server answers requests
// sent by 5 VUs; check() verifies every reply, and thresholds turn the
// checks into the exit code (0 pass, 99 fail). Run:
//   amqpjs run scripts/test-rpc.js && echo passed
//
// setup() starts the server on the runtime that runs setup and teardown; it
// keeps serving while the VUs run. teardown() stops it.
import * as aioamqp from 'aioamqp';
import { check, Trend } from 'amqpjs/metrics';

export const options = {
  vus: 5,
  iterations: 50, // shared by the VUs
  thresholds: {
    checks: ['rate==1'], // every check passed
    // Generous bounds, for a busy CI machine; tighten them for your setup.
    rpc_roundtrip: ['p(95)<3000'],
    'amqp_rpc_duration{method:queue_declare}': ['p(99)<3000'],
  },
};

const roundtrip = new Trend('rpc_roundtrip', true); // milliseconds

function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

let server; // setup's runtime only
export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const { queue } = await channel.queue_declare('', { exclusive: true });
  let served = 0;
  await channel.basic_consume(async (body, envelope, properties, ch) => {
    const n = Number(body.toString());
    await ch.basic_publish(String(fib(n)), '', properties.reply_to, {
      properties: { correlation_id: properties.correlation_id },
    });
    await ch.basic_client_ack(envelope.delivery_tag);
    served++;
  }, { queue_name: queue });
  server = { transport, protocol, served: () => served };
  console.log('setup: the rpc server is listening');
  return { queue };
}

// Each VU: one connection, one exclusive reply queue, pending calls by id.
let client;
async function rpcClient() {
  if (client) return client;
  const [, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const { queue: replyTo } = await channel.queue_declare('', { exclusive: true });
  const pending = new Map();
  await channel.basic_consume((body, envelope, properties) => {
    const resolve = pending.get(properties.correlation_id);
    if (resolve) {
      pending.delete(properties.correlation_id);
      resolve(Number(body.toString()));
    }
  }, { queue_name: replyTo, no_ack: true });
  let next = 0;
  client = (queue, n) => new Promise((resolve) => {
    const id = `${__VU}.${++next}`;
    pending.set(id, resolve);
    channel.basic_publish(String(n), '', queue, { properties: { reply_to: replyTo, correlation_id: id } });
  });
  return client;
}

export default async function ({ queue }) {
  const call = await rpcClient();
  const n = 10 + (__ITER % 5);
  const started = Date.now();
  const answer = await call(queue, n);
  roundtrip.add(Date.now() - started);
  check(answer, {
    'the answer is fib(n)': (a) => a === fib(n),
    'the answer is a number': (a) => Number.isInteger(a),
  });
}

export async function teardown() {
  console.log(`teardown: the rpc server answered ${server.served()} requests`);
  await server.protocol.close();
  server.transport.close();
}
