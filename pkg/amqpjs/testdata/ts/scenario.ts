// A scenario that uses most of the API, type-checked against the shipped
// definitions by TestTypeScriptCompiles (never run).
import aioamqp, { connect, from_url, ChannelClosed, type Channel, type Message } from 'aioamqp';
import * as ns from 'node:aioamqp';
import assert from 'assert';
import { strictEqual } from 'node:assert/strict';
import { format, inspect, promisify, types } from 'util';
import { setTimeout as sleep, scheduler } from 'timers/promises';
import { Buffer as B } from 'buffer';
import { URL as U } from 'url';
import { Counter, Trend, Rate, check, type ScenarioOptions } from 'amqpjs/metrics';
import faults, { cut, stall, type FaultConnection } from 'amqpjs/faults';

export const options: ScenarioOptions = {
  vus: 2,
  duration: '10s',
  thresholds: { checks: ['rate==1'], errors: [{ threshold: 'count==0', abortOnFail: true }] },
};

// Named scenarios (not exported: a script has one options).
const named: ScenarioOptions = {
  scenarios: {
    producers: { executor: 'constant-arrival-rate', exec: 'produce', rate: 100, duration: '10s', preAllocatedVUs: 4, tags: { role: 'p' } },
    burst: { executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '5s', target: 400 }], startTime: '10s', env: { BURST: '1' } },
  },
  thresholds: { 'amqp_published{scenario:producers}': ['rate>90'] },
};
void named;

const sent = new Counter('sent');
const latency = new Trend('latency', true);
const ok = new Rate('ok');

const [transport, protocol] = await connect({ host: 'localhost', heartbeat: 10, on_error: (e) => console.error(e.code) });
const [, p2] = await connect('localhost', 5672, 'guest', 'guest', '/', false, 'PLAIN', false, { timeout: 5 });
const [, p3] = await from_url('amqp://guest:guest@localhost/', { client_properties: { connection_name: 'x' } });
console.log(transport.local_address, protocol.state === aioamqp.OPEN, ns.CLOSED, protocol.server_properties.product);
faults.latency(p3, '50ms');
faults.bandwidth(p3, '1MB');
faults.clear(p3);
const victims: FaultConnection[] = faults.connections({ scenario: 'producers' });
if (victims.length > 0) await stall(victims[0], 500);
const wasCut: boolean = cut(p2);
void wasCut;
const ch: Channel = await protocol.channel({ return_callback: (body, env) => console.log(body.toString(), env.reply_code) });
const { queue } = await ch.queue_declare('', { exclusive: true, arguments: { 'x-max-priority': 4, 'x-message-ttl': 2147483648 } });
await ch.queue_declare({ queue_name: 'q', durable: true });
await ch.queue_declare('q2', false, true, false, false, false, { timeout: 1 });
await ch.exchange_declare('ex', 'topic', { durable: false });
await ch.queue_bind(queue, 'ex', 'a.*');
await ch.queue_bind({ queue_name: queue, exchange_name: 'ex', routing_key: 'b.*' });
await ch.confirm_select();
await ch.publish('hello', 'ex', 'a.b', { properties: { content_type: 'text/plain', headers: { n: 1, when: new Date() }, delivery_mode: 2, expiration: 60000 } });
await ch.basic_publish(B.from('bytes'), '', queue, { content_type: 'application/octet-stream' }, true);
await ch.basic_qos({ prefetch_count: 10 });
const { consumer_tag } = await ch.basic_consume(async (body, envelope, properties, channel) => {
  sent.add(1, { queue });
  latency.add(properties.timestamp ? Date.now() - properties.timestamp.getTime() : 0);
  await channel.basic_client_ack(envelope.delivery_tag);
}, queue, { concurrency: 4, no_ack_window: 100 });
await ch.basic_cancel(consumer_tag);
const got = await ch.basic_get(queue, { no_ack: true });
console.log(got.message.toString('hex'), got.properties.headers?.n, got.message_count);
const it = await ch.consume(queue, { no_ack: false });
for await (const m of it) {
  const msg: Message = m;
  await msg.ack();
  ok.add(check(msg, { 'has body': (x) => x.body.length > 0 }));
  if (msg.envelope.is_redeliver) await msg.nack({ requeue: false });
  break;
}
await it.cancel();
ch.add_cancellation_callback((tag, channel) => console.log(tag, channel.channel_id));
ch.return_callback = null;
console.log(ch.consumer_tags.length, ch.is_open, ch.publisher_confirms, ch.protocol.channels_ids_count);
try {
  await ch.queue_declare('missing', { passive: true });
} catch (e) {
  if (e instanceof ChannelClosed) console.log(e.code, e.message);
  if (e instanceof aioamqp.exceptions.TimeoutError) console.log(e.timeout);
}
await ch.close();
await protocol.close({ timeout: 2 });
await Promise.all([p2.close(), p3.wait_closed()]);
transport.close();

assert(queue.length > 0, 'named');
assert.strictEqual(1, 1);
strictEqual('a', 'a');
await assert.rejects(Promise.reject(new Error('x')), /x/);
console.log(format('%s=%d', 'n', 1), inspect({ a: 1 }, { depth: 1, colors: false }), types.isDate(new Date()));
const read = promisify<string>((cb: (err: unknown, v: string) => void) => cb(null, 'v'));
console.log(await read(), await sleep(10, 'done'));
await scheduler.wait(1);
const t = setTimeout(() => {}, 10).unref();
clearTimeout(t);
const u = new U('amqp://h/v');
console.log(u.hostname, new URLSearchParams('a=1').get('a'), process.env.HOME, process.argv[2], __VU, __ITER);
console.log(Buffer.byteLength('é'), Buffer.compare(Buffer.from('a'), Buffer.alloc(1)), new TextDecoder().decode(new TextEncoder().encode('x')));
console.log(performance.now(), process.hrtime.bigint(), process.cpuUsage().user, process.memoryUsage().heapUsed);
if (process.exitCode === undefined) process.exit(0);
export default async function (data: { queue: string }): Promise<void> {
  console.log(data.queue);
}

// Mistakes the definitions catch (each line must fail to type-check).
async function mistakes(c: Channel) {
  // @ts-expect-error: unknown option (the runtime throws a TypeError too)
  await c.queue_declare('q', { durabel: true });
  // @ts-expect-error: loop is Python-only
  await connect({ loop: {} });
  // @ts-expect-error: delivery_mode is 1 or 2
  await c.publish('x', '', 'q', { properties: { delivery_mode: 3 } });
  // @ts-expect-error: queue_bind needs a routing key
  await c.queue_bind('q', 'ex');
  // @ts-expect-error: no such method
  await c.basic_ack(1);
  // @ts-expect-error: a fault needs a connection
  faults.cut(c);
  // @ts-expect-error: filters are by scenario and VU
  faults.connections({ queue: 'q' });
}
void mistakes;
