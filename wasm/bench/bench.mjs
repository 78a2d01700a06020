// bench.mjs — publish and consume throughput of the WebAssembly build
// against the native binary, in the same run (see ../bench.sh, which builds
// both and calls this):
//
//   node wasm/bench/bench.mjs --native ./amqpjs [--wasm wasm/host/dist/amqpjs.wasm]
//        [--n 20000] [--size 256] [--runs 3] [--warmup 5000] [--json FILE]
//
// Both run throughput.js (the same script, the same broker, the same
// machine), interleaved: native, wasm, native, wasm, ... Each wasm run
// happens in this process on one amqpjs.wasm instance that first ran the
// script once with --warmup messages (so that V8 has tiered the hot code
// up, as in any long-lived host; a new instance of the same module reuses
// the compiled code); the native binary gets the same warm-up run. The
// table shows the median messages per second of each phase and the ratio
// wasm / native.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from '../host/index.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'throughput.js');

const opts = { n: 20000, size: 256, runs: 3, warmup: 5000, wasm: undefined, native: undefined, json: undefined };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '');
  if (!(k in opts)) {
    console.error(`bench.mjs: unknown flag ${argv[i]}`);
    process.exit(2);
  }
  const v = argv[++i];
  opts[k] = ['n', 'size', 'runs', 'warmup'].includes(k) ? Number(v) : v;
}
if (!opts.native) {
  console.error('bench.mjs: --native BINARY is required');
  process.exit(2);
}

// parse reads throughput.js's lines into { phase: msg/s, ..., cpu_us: CPU
// microseconds per message over all phases }.
function parse(out, cpuSecs) {
  const res = {};
  let cpu = 0, msgs = 0;
  for (const line of out.split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    res[r.phase] = r.per_sec;
    cpu += r.cpu;
    msgs += r.n;
  }
  res.cpu_us = +((cpuSecs ?? cpu) * 1e6 / msgs).toFixed(1);
  return res;
}

function runNative(n) {
  const p = spawnSync(opts.native, ['run', script, String(n), String(opts.size)], { encoding: 'utf8', timeout: 300000 });
  if (p.status !== 0) throw new Error(`native run failed (${p.status}): ${p.stderr}`);
  return parse(p.stdout);
}

const amqpjs = await load({ wasm: opts.wasm });
async function runWasm(n) {
  const c0 = process.cpuUsage();
  const r = await amqpjs.run({ path: script }, { args: [String(n), String(opts.size)], env: { ...process.env } });
  const c = process.cpuUsage(c0);
  if (r.exitCode !== 0) throw new Error(`wasm run failed (${r.exitCode}): ${r.stderr}`);
  // This process's CPU time over the whole run (connecting included, and
  // V8's background threads), in seconds.
  return parse(r.stdout, (c.user + c.system) / 1e6);
}

if (opts.warmup > 0) {
  runNative(opts.warmup);
  await runWasm(opts.warmup);
}
const results = { native: [], wasm: [] };
for (let i = 0; i < opts.runs; i++) {
  results.native.push(runNative(opts.n));
  results.wasm.push(await runWasm(opts.n));
  process.stderr.write(`run ${i + 1}/${opts.runs}: native ${JSON.stringify(results.native.at(-1))} wasm ${JSON.stringify(results.wasm.at(-1))}\n`);
}
await amqpjs.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const phases = Object.keys(results.native[0]).filter((p) => p !== 'cpu_us');
const rows = phases.map((phase) => {
  const nat = median(results.native.map((r) => r[phase]));
  const w = median(results.wasm.map((r) => r[phase]));
  return { phase, native: Math.round(nat), wasm: Math.round(w), ratio: w / nat };
});
const cpuNative = median(results.native.map((r) => r.cpu_us));
const cpuWasm = median(results.wasm.map((r) => r.cpu_us));
console.log(`${opts.n} messages of ${opts.size} B, median of ${opts.runs} interleaved runs (msg/s):`);
console.log('phase        native     wasm   wasm/native');
for (const r of rows) {
  console.log(`${r.phase.padEnd(12)} ${String(r.native).padStart(7)}  ${String(r.wasm).padStart(7)}   ${(r.ratio * 100).toFixed(0).padStart(4)} %`);
}
console.log(`CPU per message (all phases): native ${cpuNative} µs, wasm ${cpuWasm} µs (${(cpuWasm / cpuNative).toFixed(1)}x)`);
if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ opts, results, rows, cpuNative, cpuWasm }, null, 2));
