// Tests of the playground server (serve.mjs): the relay goes to the broker
// address the server was started with and nowhere else, whatever the page
// asks; it listens on loopback by default; other origins and host names
// are refused; /transform compiles with the runtime's options only.
//
//   node --test wasm/host/test/serve.test.mjs
//
// No broker: a TCP listener of the test stands for it. The page in a real
// browser against RabbitMQ is tests/playground_integration_test.go.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { WebSocket } from 'ws';
import { parseHostPort, startServer } from '../serve.mjs';

// A TCP listener that records its connections and what they send, and
// echoes it back prefixed with its name.
async function listener(name) {
  const l = { name, conns: 0, received: '' };
  l.server = net.createServer((s) => {
    l.conns++;
    s.on('data', (d) => {
      l.received += d.toString();
      s.write(`${name}:${d}`);
    });
    s.on('error', () => {});
  });
  l.server.listen(0, '127.0.0.1');
  await once(l.server, 'listening');
  l.port = l.server.address().port;
  return l;
}

let broker; // the address the server is started with
let other; // an address a page might try to reach
let srv;
let base;
let dir;

before(async () => {
  broker = await listener('broker');
  other = await listener('other');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amqpjs-serve-test-'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>test</title>');
  fs.writeFileSync(path.join(dir, 'amqpjs.wasm'), '\0asm');
  fs.writeFileSync(path.join(dir, 'wasm_exec.js'), '// test');
  srv = await startServer({ port: 0, broker: `127.0.0.1:${broker.port}`, dir, wasmDir: dir });
  base = `127.0.0.1:${srv.port}`;
});

after(async () => {
  await srv?.close();
  broker.server.close();
  other.server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// Opens a WebSocket to the server; resolves to { ws, messages, closed }.
function open(pathAndQuery, headers = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${base}${pathAndQuery}`, { headers });
    const messages = [];
    const closed = new Promise((r) => ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    ws.on('message', (data, isBinary) => messages.push(isBinary ? Buffer.from(data).toString() : JSON.parse(data.toString())));
    ws.on('open', () => resolve({ ws, messages, closed }));
    ws.on('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    ws.on('error', reject);
  });
}

async function until(cond, what) {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('listens on 127.0.0.1 by default', () => {
  assert.equal(srv.server.address().address, '127.0.0.1');
});

test('the relay connects to the configured broker, whatever the request names', async () => {
  const before = { broker: broker.conns, other: other.conns };
  const target = `127.0.0.1:${other.port}`;
  // The target in the query, in a text message, in headers: all ignored.
  const c = await open(`/amqp?host=127.0.0.1&port=${other.port}&broker=${target}&target=${target}`,
    { 'X-Forwarded-Host': target, Origin: `http://${base}` });
  await until(() => c.messages.length > 0, 'the connected message');
  assert.deepEqual(c.messages[0], { connected: true });
  c.ws.send(JSON.stringify({ host: '127.0.0.1', port: other.port, connect: target }));
  c.ws.send(Buffer.from('AMQP'), { binary: true });
  await until(() => c.messages.length > 1, 'the echo');
  assert.equal(c.messages[1], 'broker:AMQP');
  assert.equal(broker.received.endsWith('AMQP'), true);
  assert.equal(broker.conns, before.broker + 1);
  assert.equal(other.conns, before.other, 'the other address got a connection');
  c.ws.close();
  await c.closed;
});

test('no other path relays: /amqp/HOST:PORT and friends are 404', async () => {
  const before = other.conns;
  for (const p of [`/amqp/127.0.0.1:${other.port}`, `/127.0.0.1:${other.port}`, '/', `/amqp/../amqp2`, '/ws']) {
    await assert.rejects(open(p), { status: 404 }, p);
  }
  assert.equal(other.conns, before);
});

test('a page of another origin, or another host name, is refused', async () => {
  await assert.rejects(open('/amqp', { Origin: 'http://evil.example' }), { status: 403 });
  await assert.rejects(open('/amqp', { Origin: `http://localhost:${srv.port + 1}` }), { status: 403 });
  // DNS rebinding: a page of evil.example whose name now points here.
  await assert.rejects(open('/amqp', { Host: `evil.example:${srv.port}`, Origin: `http://evil.example:${srv.port}` }), { status: 403 });
  const status = await new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port: srv.port, path: '/', headers: { Host: `evil.example:${srv.port}` } }, (r) => {
      r.resume();
      resolve(r.statusCode);
    });
  });
  assert.equal(status, 421);
  // The server's own names are served.
  for (const h of [`localhost:${srv.port}`, `127.0.0.1:${srv.port}`]) {
    const r = await new Promise((resolve) => {
      http.get({ host: '127.0.0.1', port: srv.port, path: '/', headers: { Host: h } }, (x) => { x.resume(); resolve(x.statusCode); });
    });
    assert.equal(r, 200, h);
  }
});

test('a broker that refuses: the page is told why, then the WebSocket closes', async () => {
  const l = await listener('gone');
  const port = l.port;
  l.server.close();
  await once(l.server, 'close');
  const s2 = await startServer({ port: 0, broker: `127.0.0.1:${port}`, dir, wasmDir: dir });
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${s2.port}/amqp`);
    const msgs = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString())));
    const [code] = await once(ws, 'close');
    assert.equal(code, 4000);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].code, 'ECONNREFUSED');
    assert.equal(msgs[0].connected, false);
  } finally {
    await s2.close();
  }
});

async function transform(body) {
  const r = await fetch(`http://${base}/transform`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
  return { status: r.status, body: r.status === 200 ? await r.json() : await r.text() };
}

test('/transform compiles with the runtime\'s options and refuses others', async () => {
  const opts = { loader: 'ts', format: 'cjs', sourcefile: 'a.ts', sourcemap: 'external', target: 'es2020', supported: { 'async-await': true }, logLevel: 'silent' };
  const ok = await transform({ source: 'export const x: number = 1;', options: opts });
  assert.equal(ok.status, 200);
  assert.match(ok.body.code, /exports/);
  assert.equal(typeof ok.body.map, 'string');

  const bad = await transform({ source: 'let = ;', options: opts });
  assert.equal(bad.status, 200);
  assert.equal(bad.body.errors.length > 0, true);
  assert.equal(bad.body.errors[0].location.line, 1);

  for (const o of [{ ...opts, plugins: [] }, { ...opts, loader: 'file' }, { ...opts, sourcemap: 'inline' }, null]) {
    const r = await transform({ source: 'x', options: o });
    assert.equal(r.status, 400, JSON.stringify(o));
  }
});

test('files: the page\'s and the module\'s, nothing outside them', async () => {
  const get = (p) => new Promise((resolve) => {
    http.get({ host: '127.0.0.1', port: srv.port, path: p }, (r) => {
      let body = '';
      r.on('data', (d) => { body += d; });
      r.on('end', () => resolve({ status: r.statusCode, type: r.headers['content-type'], body }));
    });
  });
  const index = await get('/');
  assert.equal(index.status, 200);
  assert.match(index.body, /<title>test<\/title>/);
  assert.equal((await get('/amqpjs.wasm')).type, 'application/wasm');
  for (const p of ['/../serve.test.mjs', '/%2e%2e/serve.test.mjs', '/..%2fserve.test.mjs', '/%E0%A4%A', '/nope.js']) {
    assert.equal((await get(p)).status, 404, p);
  }
  // The server is still there after a malformed path.
  assert.equal((await get('/')).status, 200);
});

test('parseHostPort', () => {
  assert.deepEqual(parseHostPort('localhost:5672'), { host: 'localhost', port: 5672 });
  assert.deepEqual(parseHostPort('[::1]:5672'), { host: '::1', port: 5672 });
  for (const s of ['localhost', ':5672', 'h:0', 'h:70000', 'a:b:1', '']) assert.equal(parseHostPort(s), null, s);
});
