// throughput.js — publish and consume throughput of one amqpjs runtime, as
// one JSON line per phase on stdout. wasm/bench.sh runs it on the native
// binary and on the WebAssembly build, interleaved, in the same run.
//
//   amqpjs run wasm/bench/throughput.js [N] [size] [phases]
//   node wasm/host/bin.mjs wasm/bench/throughput.js [N] [size] [phases]
//
// Phases (default all, in this order; the consumes take what the publishes
// left in the queue), each on N messages of size bytes:
//   publish      await publish() in a loop (no confirms)
//   consume      basic_consume with no_ack, until N received
//   confirm      publish in confirm mode with 1000 unconfirmed in flight
//   consume_ack  prefetch 1000, basic_client_ack for each delivery
const aioamqp = require('aioamqp');

const N = Number(process.argv[2] || 20000);
const size = Number(process.argv[3] || 256);
const phases = (process.argv[4] || 'publish,consume,confirm,consume_ack').split(',');
const W = 1000;
const body = Buffer.alloc(size, 'x');
const now = () => performance.now() / 1000;
// CPU seconds of this process (0 where process.cpuUsage is not measured,
// as under WebAssembly: there the host measures its own process).
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const report = (phase, secs, cpuSecs) =>
  console.log(JSON.stringify({ phase, n: N, size, secs: +secs.toFixed(3), per_sec: Math.round(N / secs), cpu: +cpuSecs.toFixed(3) }));

const [transport, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue: q } = await ch.queue_declare('', { exclusive: true });

async function consume(noAck) {
  let got = 0;
  let tag;
  await new Promise((resolve) => {
    const cb = noAck
      ? () => { if (++got === N) resolve(); }
      : (b, envelope, properties, c) => {
        c.basic_client_ack(envelope.delivery_tag);
        if (++got === N) resolve();
      };
    ch.basic_consume(cb, { queue_name: q, no_ack: noAck }).then((r) => { tag = r.consumer_tag; });
  });
  await ch.basic_cancel(tag);
}

async function waitCount(n) {
  for (;;) {
    const { message_count } = await ch.queue_declare(q, { passive: true });
    if (message_count >= n) return;
    await new Promise((r) => setTimeout(r, 2));
  }
}

for (const phase of phases) {
  const t0 = now(), c0 = cpu();
  switch (phase) {
    case 'publish':
      for (let i = 0; i < N; i++) await ch.publish(body, '', q);
      await waitCount(N);
      break;
    case 'consume':
      await consume(true);
      break;
    case 'confirm': {
      const cc = await protocol.channel();
      await cc.confirm_select();
      const ring = new Array(Math.min(W, N));
      for (let i = 0; i < N; i++) {
        const k = i % W;
        if (i >= W) await ring[k];
        ring[k] = cc.publish(body, '', q);
      }
      await Promise.all(ring);
      await cc.close();
      break;
    }
    case 'consume_ack':
      await ch.basic_qos({ prefetch_count: W });
      await consume(false);
      break;
    default:
      throw new Error(`unknown phase ${phase}`);
  }
  report(phase, now() - t0, cpu() - c0);
}

await protocol.close();
transport.close();
