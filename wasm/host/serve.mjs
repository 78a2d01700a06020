// The playground server: `node bin.mjs serve` (see README.md, "Playground").
//
// It serves the page (dist/playground/, built by playground/build.mjs) and
// amqpjs.wasm, and does two things for the page that a browser cannot:
//
//   /amqp       a WebSocket relay (npm `ws`) to the ONE broker address the
//               server was started with. The page never names a target:
//               nothing in the request (path, query, messages) is read for
//               one. Binary messages are the TCP bytes both ways; the server
//               sends one text message, {"connected":true} once the TCP
//               connection is up, or {"error":…,"code":…} before closing.
//   /transform  esbuild's transformSync for the wasm runtime, which compiles
//               every script with esbuild (runtime/transform_js.go): the
//               page's worker calls it with a synchronous XMLHttpRequest
//               (allowed in workers), so that the browser does not download
//               a second Go program (esbuild.wasm, 3.7 MB gzip). Only the
//               options the runtime passes are accepted.
//
// Requests whose Origin (or Host) is not the server's own are refused, so
// that another site open in the same browser cannot use the relay (a
// WebSocket is not bound by CORS) nor reach it by DNS rebinding.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const distDir = path.join(here, 'dist');
export const playgroundDir = path.join(distDir, 'playground');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

const maxTransformBytes = 4 << 20; // the source plus its JSON envelope
const relayHighWater = 1 << 20; // pause the TCP side past this much unsent to the page

/** Parses "host:port" (port required; IPv6 in brackets). */
export function parseHostPort(s) {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(s ?? '');
  if (!m) return null;
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  return { host: m[1] ?? m[2], port };
}

// The esbuild options the runtime passes (runtime/transform.go,
// transform_js.go); anything else is refused.
const transformKeys = new Set(['loader', 'format', 'sourcefile', 'sourcemap', 'target', 'supported', 'logLevel']);

function checkTransformOptions(o) {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return 'options must be an object';
  for (const k of Object.keys(o)) if (!transformKeys.has(k)) return `option ${k} is not allowed`;
  if (!['js', 'ts'].includes(o.loader)) return 'loader must be js or ts';
  if (o.format !== undefined && !['cjs', 'esm'].includes(o.format)) return 'format must be cjs or esm';
  if (typeof o.sourcefile !== 'string' || o.sourcefile.length > 4096) return 'sourcefile must be a string';
  if (o.sourcemap !== undefined && o.sourcemap !== 'external') return 'sourcemap must be external';
  if (o.target !== undefined && o.target !== 'es2020') return 'target must be es2020';
  if (o.logLevel !== undefined && o.logLevel !== 'silent') return 'logLevel must be silent';
  if (o.supported !== undefined) {
    if (o.supported === null || typeof o.supported !== 'object') return 'supported must be an object';
    for (const [k, v] of Object.entries(o.supported)) {
      if (!/^[a-z-]{1,40}$/.test(k) || typeof v !== 'boolean') return 'supported must map feature names to booleans';
    }
  }
  return null;
}

/**
 * Starts the playground server. Resolves to { server, url, close() } once
 * it listens.
 *
 * @param {object} o
 * @param {number} [o.port] 8080; 0 picks a free port
 * @param {string} [o.host] the address to bind, 127.0.0.1 by default
 * @param {string} [o.broker] "host:port" of the broker, localhost:5672
 * @param {string[]} [o.origins] more allowed origins (e.g. https://amqp.example.com
 *   behind a TLS proxy); http://localhost:PORT, http://127.0.0.1:PORT and
 *   http://[::1]:PORT are always allowed
 * @param {number} [o.maxConnections] relay connections open at once (64)
 * @param {(line: string) => void} [o.log] one line per relay connection
 * @param {string} [o.dir] the page's files (dist/playground)
 * @param {string} [o.wasmDir] where amqpjs.wasm and wasm_exec.js are (dist)
 */
export async function startServer(o = {}) {
  const broker = parseHostPort(o.broker ?? 'localhost:5672');
  if (!broker) throw new Error(`invalid broker address ${JSON.stringify(o.broker)}: want host:port`);
  const bindHost = o.host ?? '127.0.0.1';
  const maxConnections = o.maxConnections ?? 64;
  const log = o.log ?? (() => {});
  const dir = o.dir ?? playgroundDir;
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    throw new Error(`${dir}/index.html not found: build the page with node wasm/host/playground/build.mjs`);
  }
  const wasmDir = o.wasmDir ?? distDir;
  const wasmFile = path.join(wasmDir, 'amqpjs.wasm');
  if (!fs.existsSync(wasmFile)) throw new Error(`${wasmFile} not found: build it with wasm/build.sh`);
  const esbuild = require('esbuild');

  let origins; // Set of allowed origins, once the port is known
  const hostAllowed = (h) => [...origins].some((x) => new URL(x).host === h);

  const relays = new Set();

  function send(res, status, type, body, extra = {}) {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
      ...extra,
    });
    res.end(body);
  }

  function serveFile(req, res, file) {
    let st;
    try {
      st = fs.statSync(file);
    } catch {
      send(res, 404, 'text/plain', 'not found\n');
      return;
    }
    const headers = {
      'Content-Type': types[path.extname(file)] ?? 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
      'Last-Modified': st.mtime.toUTCString(),
    };
    if (req.headers['if-modified-since'] === headers['Last-Modified']) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    // A precompressed file (build.mjs gzips amqpjs.wasm) when it is current.
    let body = file;
    if (/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      try {
        const gz = fs.statSync(file + '.gz');
        if (gz.mtimeMs >= st.mtimeMs) {
          body = file + '.gz';
          headers['Content-Encoding'] = 'gzip';
          headers['Content-Length'] = gz.size;
        }
      } catch { /* none */ }
    }
    headers['Vary'] = 'Accept-Encoding';
    if (body === file) {
      headers['Content-Length'] = st.size;
    }
    res.writeHead(200, headers);
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    fs.createReadStream(body).pipe(res);
  }

  function transform(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > maxTransformBytes) {
        send(res, 413, 'text/plain', 'source too large\n');
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (size > maxTransformBytes) return;
      let msg;
      try {
        msg = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        send(res, 400, 'text/plain', 'invalid JSON\n');
        return;
      }
      const bad = typeof msg?.source !== 'string' ? 'source must be a string' : checkTransformOptions(msg.options);
      if (bad) {
        send(res, 400, 'text/plain', `transform: ${bad}\n`);
        return;
      }
      let out;
      try {
        const r = esbuild.transformSync(msg.source, msg.options);
        out = { code: r.code, map: r.map };
      } catch (err) {
        // A source that does not compile: esbuild's messages, which the
        // runtime turns into a SyntaxError.
        out = Array.isArray(err?.errors) && err.errors.length > 0
          ? { errors: err.errors.map((e) => ({ text: e.text, location: e.location && { line: e.location.line, column: e.location.column, lineText: e.location.lineText } })) }
          : { failure: String(err?.message ?? err) };
      }
      send(res, 200, types['.json'], JSON.stringify(out));
    });
  }

  const server = http.createServer((req, res) => {
    if (!hostAllowed(req.headers.host ?? '')) {
      send(res, 421, 'text/plain', 'this server does not answer for that host name (see --origin)\n');
      return;
    }
    const url = new URL(req.url, 'http://x');
    if (req.method === 'POST' && url.pathname === '/transform') {
      const origin = req.headers.origin;
      if (origin !== undefined && !origins.has(origin)) {
        send(res, 403, 'text/plain', 'origin not allowed\n');
        return;
      }
      transform(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain', 'method not allowed\n');
      return;
    }
    switch (url.pathname) {
      case '/config.json':
        send(res, 200, types['.json'], JSON.stringify({
          broker: `${broker.host.includes(':') ? `[${broker.host}]` : broker.host}:${broker.port}`,
          esbuild: esbuild.version,
          relays: relays.size,
        }));
        return;
      case '/amqpjs.wasm':
      case '/wasm_exec.js':
        serveFile(req, res, path.join(wasmDir, url.pathname.slice(1)));
        return;
    }
    let rel;
    try {
      rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    } catch {
      rel = '\0'; // malformed %-encoding
    }
    const file = path.resolve(dir, rel);
    if (!file.startsWith(path.resolve(dir) + path.sep) || rel.includes('\0')) {
      send(res, 404, 'text/plain', 'not found\n');
      return;
    }
    serveFile(req, res, file);
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 << 20, perMessageDeflate: false });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url, 'http://x');
    const origin = req.headers.origin;
    const refuse = (status, text) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    if (url.pathname !== '/amqp') return refuse(404, 'Not Found');
    if (!hostAllowed(req.headers.host ?? '') || (origin !== undefined && !origins.has(origin))) {
      return refuse(403, 'Forbidden');
    }
    if (relays.size >= maxConnections) return refuse(503, 'Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => relay(ws, req));
  });

  // relay connects ws to the broker: the one address of the server's
  // options, whatever the request said.
  function relay(ws, req) {
    const id = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const tcp = net.connect({ host: broker.host, port: broker.port, noDelay: true });
    const entry = { ws, tcp };
    relays.add(entry);
    let connected = false;
    let done = false;
    const finish = (why) => {
      if (done) return;
      done = true;
      relays.delete(entry);
      log(`relay ${id}: closed (${why})`);
    };
    tcp.on('connect', () => {
      connected = true;
      log(`relay ${id}: connected to ${broker.host}:${broker.port}`);
      ws.send(JSON.stringify({ connected: true }));
    });
    tcp.on('data', (data) => {
      ws.send(data, { binary: true });
      if (ws.bufferedAmount > relayHighWater && !tcp.isPaused()) {
        tcp.pause();
        const wait = setInterval(() => {
          if (ws.readyState !== ws.OPEN || ws.bufferedAmount < relayHighWater / 4) {
            clearInterval(wait);
            tcp.resume();
          }
        }, 5);
      }
    });
    tcp.on('drain', () => ws.resume?.());
    tcp.on('error', (err) => {
      if (ws.readyState === ws.OPEN) {
        ws.send(JSON.stringify({ error: err.message, code: err.code ?? null, connected }));
        ws.close(connected ? 1011 : 4000, (err.code ?? 'error').slice(0, 100));
      }
      finish(err.message);
    });
    tcp.on('close', () => {
      if (ws.readyState === ws.OPEN) ws.close(1000, 'broker closed the connection');
      finish('broker side');
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary) return; // the page sends only bytes
      if (!tcp.write(data)) ws.pause?.();
    });
    ws.on('close', () => {
      tcp.end();
      setTimeout(() => tcp.destroy(), 2000).unref();
      finish('page side');
    });
    ws.on('error', () => tcp.destroy());
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8080, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = server.address().port;
  // As browsers send them: new URL().origin drops a default port.
  origins = new Set([`http://localhost:${port}`, `http://127.0.0.1:${port}`, `http://[::1]:${port}`, ...(o.origins ?? [])]
    .map((x) => new URL(x).origin));
  const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost;
  const url = `http://${bindHost === '0.0.0.0' || bindHost === '::' ? 'localhost' : shownHost}:${port}/`;
  if (bindHost !== '127.0.0.1' && bindHost !== 'localhost' && bindHost !== '::1') {
    origins.add(new URL(`http://${shownHost}:${port}`).origin);
  }
  return {
    server,
    url,
    port,
    relays,
    close: () => new Promise((resolve) => {
      for (const r of relays) {
        r.ws.terminate();
        r.tcp.destroy();
      }
      server.close(() => resolve());
      server.closeAllConnections?.();
    }),
  };
}

/** gzips a file next to itself (file.gz) unless a current one is there. */
export function gzipFile(file, force = false) {
  const gz = file + '.gz';
  try {
    if (!force && fs.statSync(gz).mtimeMs >= fs.statSync(file).mtimeMs) return gz;
  } catch { /* make it */ }
  // GNU gzip -9 makes amqpjs.wasm 3% smaller than Node's zlib at level 9.
  let data;
  try {
    data = execFileSync('gzip', ['-9', '-n', '-c', file], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    data = zlib.gzipSync(fs.readFileSync(file), { level: 9 });
  }
  fs.writeFileSync(gz + '.tmp', data);
  fs.renameSync(gz + '.tmp', gz);
  return gz;
}
