#!/usr/bin/env node
// amqpjs-wasm — `amqpjs run` on the WebAssembly build, in Node:
//
//   node wasm/host/bin.mjs [flags] script.js [args...]
//
// Output is streamed; the exit code is the script's (as `amqpjs run`).
//
//   node wasm/host/bin.mjs serve [--port 8080] [--broker localhost:5672]
//
// serves the playground page (see serve.mjs and README.md, "Playground").

import { load } from './index.mjs';

const usage = `Usage: node bin.mjs [flags] script.js [args...]
       node bin.mjs serve [--port 8080] [--broker localhost:5672]   (the playground: serve --help)

Runs a script on amqpjs.wasm (see README.md) as 'amqpjs run' does.

Flags:
  --url URL            AMQP URL whose parts are connect()'s defaults (default $AMQP_URL)
  --timeout D          end the run after D (e.g. 30s, 1500ms, 2m), exit 1
  --memory-limit N     the Go heap's soft limit (e.g. 256MiB, 1GiB; default 256MiB)
  --gc-percent N       GOGC (default 200)

GODEBUG, GOGC and GOMEMLIMIT in the environment reach the Go program.
  --stats              print peak RSS, Go heap and time on stderr at the end
  --wasm FILE          amqpjs.wasm to load (default dist/amqpjs.wasm)
  -h, --help           show this help
`;

function fail(msg) {
  process.stderr.write(`amqpjs-wasm: ${msg}\nRun 'node bin.mjs --help' for usage.\n`);
  process.exit(2);
}

export function parseDuration(s) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) return NaN;
  const n = Number(m[1]);
  return n * { ms: 1, s: 1000, m: 60000, h: 3600000 }[m[2] ?? 's'];
}

export function parseBytes(s) {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/i.exec(s);
  if (!m) return NaN;
  const units = { b: 1, kb: 1e3, kib: 1024, mb: 1e6, mib: 1024 ** 2, gb: 1e9, gib: 1024 ** 3 };
  return Math.floor(Number(m[1]) * units[(m[2] ?? 'b').toLowerCase()]);
}

const serveUsage = `Usage: node bin.mjs serve [flags]

Serves the amqpjs playground: a page where scripts run on amqpjs.wasm in the
browser, against the broker given by --broker, reached through this server.

Flags:
  --port N             the port to listen on (default 8080; 0 picks a free one)
  --host ADDR          the address to listen on (default 127.0.0.1)
  --broker HOST:PORT   the broker's TCP address (default localhost:5672)
  --origin URL         also accept pages from this origin, e.g. the
                       https://… address of a TLS proxy in front (repeatable)
  --quiet              do not log relay connections on stderr
  -h, --help           show this help

The page's WebSocket path /amqp is relayed to --broker and nowhere else: the
page cannot name another address. By default only this machine can connect,
and the server answers only under the names localhost, 127.0.0.1 and [::1]
and those of --origin, to pages of those origins.

Exposing it — listening on another address (--host 0.0.0.0) or behind a
proxy — lets everyone who can reach it open connections to the broker from
here (with any credentials they know) and use this machine's CPU to compile
scripts: the server has no authentication and no TLS. Do that only behind a
TLS reverse proxy that authenticates users, with --origin set to its
https:// address (wasm/host/README.md, "Playground", has an example).
`;

// flagAt reads argv[at.i] as `--flag` or `--flag=value`. value() returns
// the flag's argument: the inline one, or else the next word, which it
// consumes by advancing at.i; it fails when there is none.
function flagAt(argv, at) {
  const a = argv[at.i];
  const eq = a.indexOf('=');
  const [flag, inline] = eq >= 0 ? [a.slice(0, eq), a.slice(eq + 1)] : [a, undefined];
  const value = () => {
    if (inline !== undefined) return inline;
    if (at.i + 1 >= argv.length) fail(`flag needs an argument: ${flag}`);
    return argv[++at.i];
  };
  return { flag, value };
}

async function serveMain(argv) {
  const opts = { origins: [] };
  let quiet = false;
  for (const at = { i: 0 }; at.i < argv.length; at.i++) {
    const { flag, value } = flagAt(argv, at);
    switch (flag) {
      case '-h': case '--help':
        process.stdout.write(serveUsage);
        return 0;
      case '--port': {
        const v = value();
        opts.port = Number(v);
        if (!/^\d+$/.test(v) || opts.port > 65535) fail(`invalid --port ${v}`);
        break;
      }
      case '--host': opts.host = value(); break;
      case '--broker': opts.broker = value(); break;
      case '--origin': {
        const v = value();
        let u;
        try { u = new URL(v); } catch { fail(`invalid --origin ${v}`); }
        opts.origins.push(u.origin);
        break;
      }
      case '--quiet': quiet = true; break;
      default: fail(`unknown flag ${flag}`);
    }
  }
  const { startServer, playgroundDir } = await import('./serve.mjs');
  const fs = await import('node:fs');
  const path = await import('node:path');
  if (!fs.existsSync(path.join(playgroundDir, 'index.html'))) {
    // A checkout: build the page (needs the dev dependencies).
    process.stderr.write('amqpjs-wasm: building the playground page (playground/build.mjs)\n');
    const { build } = await import('./playground/build.mjs');
    await build();
  }
  let s;
  try {
    s = await startServer({ ...opts, log: quiet ? undefined : (l) => process.stderr.write(`amqpjs-wasm: ${l}\n`) });
  } catch (err) {
    process.stderr.write(`amqpjs-wasm: ${err.message}\n`);
    return 1;
  }
  const b = opts.broker ?? 'localhost:5672';
  process.stdout.write(`amqpjs playground on ${s.url} (broker ${b})\n`);
  await new Promise((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await s.close();
  return 0;
}

async function main(argv) {
  if (argv[0] === 'serve') return serveMain(argv.slice(1));
  const opts = { url: process.env.AMQP_URL || undefined };
  let stats = false;
  let wasm;
  let memoryLimit;
  let gcPercent;
  const at = { i: 0 };
  for (; at.i < argv.length; at.i++) {
    const a = argv[at.i];
    if (a === '--') { at.i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    const { flag, value } = flagAt(argv, at);
    switch (flag) {
      case '-h': case '--help':
        process.stdout.write(usage);
        return 0;
      case '--url': opts.url = value(); break;
      case '--timeout': {
        const v = value();
        opts.timeout = parseDuration(v);
        if (!(opts.timeout >= 0)) fail(`invalid --timeout ${v}`);
        break;
      }
      case '--memory-limit': {
        const v = value();
        memoryLimit = parseBytes(v);
        if (!(memoryLimit > 0)) fail(`invalid --memory-limit ${v}`);
        break;
      }
      case '--gc-percent': gcPercent = Number(value()); break;
      case '--stats': stats = true; break;
      case '--wasm': wasm = value(); break;
      default: fail(`unknown flag ${flag}`);
    }
  }
  const script = argv[at.i];
  if (!script) fail('missing script path');
  opts.args = argv.slice(at.i + 1);
  opts.env = { ...process.env };
  opts.argv0 = 'amqpjs';

  let peakRss = process.memoryUsage.rss();
  const sampler = stats ? setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 20) : null;
  const started = performance.now();

  // The Go runtime's own variables reach the Go program (the script sees
  // them too, in process.env).
  const goEnv = {};
  for (const k of ['GODEBUG', 'GOGC', 'GOMEMLIMIT']) if (process.env[k]) goEnv[k] = process.env[k];
  const amqpjs = await load({ wasm, memoryLimit, gcPercent, env: goEnv });
  const ac = new AbortController();
  opts.signal = ac.signal;
  let interrupts = 0;
  const onSignal = () => {
    if (++interrupts > 1) {
      process.stderr.write('amqpjs: interrupted twice, exiting at once\n');
      process.exit(130);
    }
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const res = await amqpjs.runStreaming({ path: script }, opts, {
    onStdout: (s) => process.stdout.write(s),
    onStderr: (s) => process.stderr.write(s),
  });
  let code = res.exitCode;
  if (interrupts > 0 && code === 1) code = 130; // aborted, as Ctrl-C in `amqpjs run`
  if (stats) {
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const m = amqpjs.memoryStats();
    const mib = (n) => (n / 1024 / 1024).toFixed(1) + ' MiB';
    process.stderr.write(`amqpjs-wasm: peak RSS ${mib(peakRss)}, wasm memory ${mib(m.sys)}, Go heap ${mib(m.heapAlloc)} ` +
      `(limit ${mib(m.memoryLimit)}, ${m.numGC} GCs), ${((performance.now() - started) / 1000).toFixed(2)} s\n`);
  }
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await amqpjs.close();
  return code;
}

if (import.meta.url === (await import('node:url')).pathToFileURL(process.argv[1]).href ||
    process.argv[1]?.endsWith('/bin.mjs') || process.argv[1]?.endsWith('/amqpjs-wasm')) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // Nothing of amqpjs should keep Node alive now; if something does, go.
  setTimeout(() => process.exit(code), 2000).unref();
}
