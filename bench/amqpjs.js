// The amqpjs client of `amqpjs bench` (see bench.go): the workload written
// as an amqpjs script would, with aioamqp's API. Run by the harness as
//   amqpjs run --url URL amqpjs.js -- '<json config>'
// It prints one JSON line per phase. Keep it in step with amqplib.js and
// raw.go (the same phases, in the same order, doing the same).
const aioamqp = require('aioamqp');
const { setTimeout: sleep } = require('timers/promises');

const cfg = JSON.parse(process.argv[2]);
const N = cfg.n, W = cfg.window;
const body = Buffer.alloc(cfg.size, 'x');
const run = (p) => cfg.phases.includes(p);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const now = () => performance.now() / 1000;
const report = (r) => console.log(JSON.stringify(r));

const [transport, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue: q } = await ch.queue_declare('', { exclusive: true });

async function waitCount(n) {
  for (;;) {
    const { message_count } = await ch.queue_declare(q, { passive: true });
    if (message_count >= n) return;
    await sleep(2);
  }
}

// consume takes N messages from q, acknowledging each unless noAck (the
// ack is not awaited: like amqplib's ch.ack(), it is written in order, and
// a failure would be an unhandled rejection, ending the run).
async function consume(noAck) {
  let got = 0, tag;
  await new Promise((resolve) => {
    const cb = noAck
      ? () => { if (++got === N) resolve(); }
      : (b, envelope, properties, c) => {
        c.basic_client_ack(envelope.delivery_tag);
        if (++got === N) resolve();
      };
    // no_ack_window 0 (the harness's default): the broker's own no_ack, as
    // the other clients use (amqpjs's default, 1000, emulates no_ack with
    // acks to bound memory).
    const opts = { queue_name: q, no_ack: noAck };
    if (noAck) opts.no_ack_window = cfg.no_ack_window || 0;
    ch.basic_consume(cb, opts).then((r) => { tag = r.consumer_tag; });
  });
  await ch.basic_cancel(tag);
}

if (run('publish')) {
  const c0 = cpu(), t0 = now();
  for (let i = 0; i < N; i++) await ch.publish(body, '', q);
  const tl = now();
  await waitCount(N);
  report({ phase: 'publish', n: N, secs: now() - t0, loop_secs: tl - t0, cpu: cpu() - c0 });
}

if (run('consume')) {
  const c0 = cpu(), t0 = now();
  await consume(true);
  report({ phase: 'consume', n: N, secs: now() - t0, cpu: cpu() - c0 });
}

if (run('confirm')) {
  const cc = await protocol.channel();
  await cc.confirm_select();
  const c0 = cpu(), t0 = now();
  const ring = new Array(Math.min(W, N));
  for (let i = 0; i < N; i++) {
    const k = i % W;
    if (i >= W) await ring[k];
    ring[k] = cc.publish(body, '', q);
  }
  const tl = now();
  await Promise.all(ring);
  report({ phase: 'confirm', n: N, secs: now() - t0, loop_secs: tl - t0, cpu: cpu() - c0 });
  await cc.close();
}

if (run('consume_ack')) {
  const c0 = cpu(), t0 = now();
  await ch.basic_qos({ prefetch_count: cfg.prefetch });
  await consume(false);
  report({ phase: 'consume_ack', n: N, secs: now() - t0, cpu: cpu() - c0 });
}

if (run('latency')) {
  // cfg.rate messages per second for cfg.duration seconds, each carrying its
  // send time (performance.now(), float64 LE) in its first 8 bytes.
  const lc = await protocol.channel();
  const { queue: lq } = await lc.queue_declare('', { exclusive: true });
  const pc = await protocol.channel();
  const total = Math.round(cfg.rate * cfg.duration);
  const lat = new Float64Array(total);
  let got = 0, sent = 0;
  const size = Math.max(cfg.size, 8);
  let c0, start;
  await new Promise((resolve, reject) => {
    lc.basic_consume((b) => {
      lat[got++] = performance.now() - b.readDoubleLE(0);
      if (got === total) resolve();
    }, { queue_name: lq, no_ack: true, no_ack_window: 0, consumer_tag: 'lat' }).then(() => {
      c0 = cpu(); start = performance.now();
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - start) * cfg.rate / 1000));
        for (; sent < due; sent++) {
          const b = Buffer.alloc(size);
          b.writeDoubleLE(performance.now(), 0);
          pc.basic_publish(b, '', lq); // not awaited: a failure ends the run
        }
        if (sent < total) setTimeout(tick, 1);
      };
      tick();
    }, reject);
  });
  const secs = (performance.now() - start) / 1000, used = cpu() - c0;
  await lc.basic_cancel('lat');
  lat.sort();
  const at = (p) => lat[Math.min(total - 1, Math.floor(p * total))];
  report({ phase: 'latency', n: total, secs, cpu: used, p50_ms: at(0.5), p99_ms: at(0.99) });
}

await protocol.close();
transport.close();
