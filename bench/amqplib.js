// The Node amqplib client of `amqpjs bench` (see bench.go): the workload of
// amqpjs.js written as an amqplib program would. Run by the harness as
//   node amqplib.js '<json config>'
// with amqplib installed beside it. Prints one JSON line per phase.
'use strict';
const amqp = require('amqplib');

const cfg = JSON.parse(process.argv[2]);
const N = cfg.n, W = cfg.window;
const body = Buffer.alloc(cfg.size, 'x');
const run = (p) => cfg.phases.includes(p);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const now = () => performance.now() / 1000;
const report = (r) => console.log(JSON.stringify(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const conn = await amqp.connect(cfg.url);
  const ch = await conn.createChannel();
  const { queue: q } = await ch.assertQueue('', { exclusive: true });

  async function waitCount(n) {
    for (;;) {
      const { messageCount } = await ch.checkQueue(q);
      if (messageCount >= n) return;
      await sleep(2);
    }
  }

  async function consume(noAck) {
    let got = 0, tag;
    await new Promise((resolve) => {
      ch.consume(q, (m) => {
        if (!noAck) ch.ack(m);
        if (++got === N) resolve();
      }, { noAck }).then((r) => { tag = r.consumerTag; });
    });
    await ch.cancel(tag);
  }

  if (run('publish')) {
    const c0 = cpu(), t0 = now();
    // sendToQueue buffers; false asks to wait for 'drain' (amqplib's backpressure).
    for (let i = 0; i < N; i++) {
      if (!ch.sendToQueue(q, body)) await new Promise((r) => ch.once('drain', r));
    }
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
    const cc = await conn.createConfirmChannel();
    const c0 = cpu(), t0 = now();
    const ring = new Array(Math.min(W, N));
    const publish = () => new Promise((resolve, reject) => {
      cc.sendToQueue(q, body, {}, (err) => (err ? reject(err) : resolve()));
    });
    for (let i = 0; i < N; i++) {
      const k = i % W;
      if (i >= W) await ring[k];
      ring[k] = publish();
    }
    const tl = now();
    await Promise.all(ring);
    report({ phase: 'confirm', n: N, secs: now() - t0, loop_secs: tl - t0, cpu: cpu() - c0 });
    await cc.close();
  }

  if (run('consume_ack')) {
    const c0 = cpu(), t0 = now();
    await ch.prefetch(cfg.prefetch);
    await consume(false);
    report({ phase: 'consume_ack', n: N, secs: now() - t0, cpu: cpu() - c0 });
  }

  if (run('latency')) {
    const lc = await conn.createChannel();
    const { queue: lq } = await lc.assertQueue('', { exclusive: true });
    const pc = await conn.createChannel();
    const total = Math.round(cfg.rate * cfg.duration);
    const lat = new Float64Array(total);
    let got = 0, sent = 0;
    const size = Math.max(cfg.size, 8);
    let c0, start;
    await new Promise((resolve, reject) => {
      lc.consume(lq, (m) => {
        lat[got++] = performance.now() - m.content.readDoubleLE(0);
        if (got === total) resolve();
      }, { noAck: true, consumerTag: 'lat' }).then(() => {
        c0 = cpu(); start = performance.now();
        const tick = () => {
          const due = Math.min(total, Math.floor((performance.now() - start) * cfg.rate / 1000));
          for (; sent < due; sent++) {
            const b = Buffer.alloc(size);
            b.writeDoubleLE(performance.now(), 0);
            pc.sendToQueue(lq, b);
          }
          if (sent < total) setTimeout(tick, 1);
        };
        tick();
      }, reject);
    });
    const secs = (performance.now() - start) / 1000, used = cpu() - c0;
    await lc.cancel('lat');
    lat.sort();
    const at = (p) => lat[Math.min(total - 1, Math.floor(p * total))];
    report({ phase: 'latency', n: total, secs, cpu: used, p50_ms: at(0.5), p99_ms: at(0.99) });
  }

  await conn.close();
}

main().catch((e) => { console.error(e); process.exit(1); });
