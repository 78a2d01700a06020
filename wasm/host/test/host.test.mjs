// Tests of the host package on the built amqpjs.wasm (wasm/build.sh first):
//
//   node --test wasm/host/test/
//
// None needs a broker; the scripts against RabbitMQ are run by
// tests/wasm_scripts_integration_test.go.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { load } from '../index.mjs';

const testdata = path.join(path.dirname(fileURLToPath(import.meta.url)), 'testdata');
let amqpjs;
before(async () => { amqpjs = await load(); });
after(async () => { await amqpjs?.close(); });

test('a source string runs; console output is collected', async () => {
  const r = await amqpjs.run('console.log("hello", 1 + 1); console.error("to stderr")');
  assert.deepEqual(r, { exitCode: 0, stdout: 'hello 2\n', stderr: 'to stderr\n', error: null });
});

test('args, env and argv0 reach the script', async () => {
  const r = await amqpjs.run('console.log(JSON.stringify([process.argv.slice(2), process.env.FOO, process.env.HOME, process.argv[0]]))',
    { args: ['a', 'b'], env: { FOO: 'bar' }, argv0: 'myhost' });
  assert.equal(r.stdout, '[["a","b"],"bar",null,"myhost"]\n');
});

test('exit codes and error texts are those of amqpjs run', async () => {
  const exit3 = await amqpjs.run('process.exit(3)');
  assert.equal(exit3.exitCode, 3);
  assert.equal(exit3.error, null);

  const thrown = await amqpjs.run('throw new TypeError("boom")');
  assert.equal(thrown.exitCode, 1);
  assert.match(thrown.stderr, /Uncaught TypeError: boom/);
  assert.equal(thrown.error, thrown.stderr.trimEnd());

  const rejected = await amqpjs.run('Promise.reject(new Error("nope"))');
  assert.equal(rejected.exitCode, 1);
  assert.match(rejected.stderr, /Uncaught \(in promise\) Error: nope/);

  const syntax = await amqpjs.run('let x = ;');
  assert.equal(syntax.exitCode, 2);
  assert.match(syntax.stderr, /SyntaxError/);

  const missing = await amqpjs.run({ path: '/nonexistent/script.js' });
  assert.equal(missing.exitCode, 2);
  assert.match(missing.stderr, /cannot open script '\/nonexistent\/script.js': no such file/);
});

test('{ path } reads the file and its imports through Node fs; TypeScript and ES modules', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'amqpjs-wasm-'));
  try {
    fs.writeFileSync(path.join(dir, 'lib.ts'), 'export const twice = (n: number): number => n * 2;\n');
    fs.mkdirSync(path.join(dir, 'pkg'));
    fs.writeFileSync(path.join(dir, 'pkg', 'index.js'), 'module.exports = { name: "pkg" };\n');
    fs.writeFileSync(path.join(dir, 'main.mjs'),
      'import { twice } from "./lib.js";\nimport pkg from "./pkg/index.js";\nconst cjs = require("./pkg");\n' +
      'await new Promise((r) => setTimeout(r, 5));\nconsole.log(twice(21), pkg.name, cjs.name);\n');
    const r = await amqpjs.run({ path: path.join(dir, 'main.mjs') });
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, '42 pkg pkg\n');

    // { path, source }: the source stands for the file at path.
    const s = await amqpjs.run({ path: path.join(dir, 'other.ts'), source: 'import { twice } from "./lib";\nconst n: number = twice(2);\nconsole.log(n);\n' });
    assert.equal(s.stdout, '4\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('runs at once are isolated', async () => {
  const src = (name) => `globalThis.mark = ${JSON.stringify(name)};
    await new Promise((r) => setTimeout(r, 50));
    console.log(globalThis.mark, typeof other);
    globalThis.other = 1;`;
  const rs = await Promise.all(['a', 'b', 'c', 'd'].map((n) => amqpjs.run(src(n))));
  assert.deepEqual(rs.map((r) => r.stdout), ['a undefined\n', 'b undefined\n', 'c undefined\n', 'd undefined\n']);
});

test('runStreaming hands output over as it is written', async () => {
  const chunks = [];
  let firstAt = 0;
  const t0 = Date.now();
  const r = await amqpjs.runStreaming(
    'console.log("first"); await new Promise((r) => setTimeout(r, 200)); process.stdout.write("second"); console.error("err")',
    {},
    {
      onStdout: (s) => { firstAt ||= Date.now() - t0; chunks.push(['out', s]); },
      onStderr: (s) => chunks.push(['err', s]),
    });
  assert.deepEqual(r, { exitCode: 0, error: null });
  assert.deepEqual(chunks, [['out', 'first\n'], ['out', 'second'], ['err', 'err\n']]);
  assert.ok(firstAt < Date.now() - t0, 'the first chunk came before the run ended');
});

test('timeout and AbortSignal end a waiting script', async () => {
  const t = await amqpjs.run('setInterval(() => {}, 1000)', { timeout: 100 });
  assert.equal(t.exitCode, 1);
  assert.match(t.stderr, /run timed out after 100ms/);

  const ac = new AbortController();
  const p = amqpjs.run('setInterval(() => {}, 1000)', { signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  const a = await p;
  assert.equal(a.exitCode, 130);
  assert.match(a.stderr, /interrupted/);

  const pre = await amqpjs.run('console.log("never")', { signal: AbortSignal.abort() });
  assert.equal(pre.exitCode, 130);
});

test('invalid arguments reject', async () => {
  await assert.rejects(amqpjs.run(42), TypeError);
  await assert.rejects(amqpjs.run({}), /needs a path or a source/);
  await assert.rejects(amqpjs.run('1', { args: 'x' }), /options.args/);
  await assert.rejects(amqpjs.run('1', { timeout: '1s' }), /milliseconds/);
  await assert.rejects(amqpjs.runStreaming('1', {}, 42), /onStdout/);
});

test('a refused broker connection is an AmqpClosedConnection', async () => {
  // A port that was free a moment ago.
  const port = await new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
  const r = await amqpjs.run(`const aioamqp = require('aioamqp');
    try { await aioamqp.connect({ host: '127.0.0.1', port: ${port} }); }
    catch (e) { console.log(e.constructor.name, e.message); }`);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^AmqpClosedConnection connection refused to 127.0.0.1:${port}`));
});

test('the broker connection goes through the injected net module', async () => {
  // A "net" module that sends every connection to a local server, which
  // reads the AMQP protocol header the client writes first and hangs up.
  let header;
  const server = net.createServer((sock) => {
    sock.once('data', (d) => { header = d.subarray(0, 8).toString('latin1'); sock.destroy(); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const asked = [];
  const fakeNet = {
    connect(opts) {
      asked.push(`${opts.host}:${opts.port}`);
      return net.connect({ ...opts, host: '127.0.0.1', port: server.address().port });
    },
  };
  const other = await load({ net: fakeNet });
  try {
    const r = await other.run(`const aioamqp = require('aioamqp');
      try { await aioamqp.connect({ host: 'broker.invalid', port: 5672 }); } catch (e) { console.log(e.constructor.name); }`);
    assert.equal(r.stdout, 'AmqpClosedConnection\n', r.stderr);
    assert.deepEqual(asked, ['broker.invalid:5672']);
    assert.equal(header, 'AMQP\x00\x00\x09\x01');
  } finally {
    await other.close();
    server.close();
  }
});

test('TLS runs in Go over the Node socket, verified against the CA file', async () => {
  // A TLS server (certificate for localhost and 127.0.0.1 from testdata's
  // CA) that reads the AMQP protocol header in clear and hangs up.
  let header;
  const server = tls.createServer({
    key: fs.readFileSync(path.join(testdata, 'server.key')),
    cert: fs.readFileSync(path.join(testdata, 'server.pem')),
  }, (sock) => {
    sock.once('data', (d) => { header = d.subarray(0, 8).toString('latin1'); sock.destroy(); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  try {
    const connect = (ssl) => amqpjs.run(`const aioamqp = require('aioamqp');
      try { await aioamqp.connect({ host: 'localhost', port: ${port}, ssl: ${JSON.stringify(ssl)} }); }
      catch (e) { console.log(e.constructor.name, e.message); }`);
    const ok = await connect({ ca_file: path.join(testdata, 'ca.pem') });
    assert.match(ok.stdout, /^AmqpClosedConnection /, ok.stderr);
    assert.doesNotMatch(ok.stdout, /TLS/);
    assert.equal(header, 'AMQP\x00\x00\x09\x01');

    header = undefined;
    const untrusted = await connect(true); // the system roots do not know the test CA
    assert.match(untrusted.stdout, /^AmqpClosedConnection TLS handshake failed/, untrusted.stderr);
    assert.equal(header, undefined);
  } finally {
    server.close();
  }
});

test('memory knobs', async () => {
  const m = amqpjs.memoryStats();
  assert.equal(m.memoryLimit, 256 * 1024 * 1024);
  assert.ok(m.heapAlloc > 0 && m.sys >= m.heapAlloc);
  const prev = amqpjs.setMemoryLimit(128 * 1024 * 1024);
  assert.equal(prev, 256 * 1024 * 1024);
  assert.equal(amqpjs.memoryStats().memoryLimit, 128 * 1024 * 1024);
  amqpjs.setMemoryLimit(prev);
  assert.equal(amqpjs.setGCPercent(150), 200);
  amqpjs.setGCPercent(200);
});

test('a closed instance refuses runs; closing rejects the runs in progress', async () => {
  const x = await load({ memoryLimit: 64 * 1024 * 1024 });
  assert.equal(x.memoryStats().memoryLimit, 64 * 1024 * 1024);
  const pending = x.run('setInterval(() => {}, 1000)');
  await new Promise((r) => setTimeout(r, 50));
  await x.close();
  await assert.rejects(pending, /closed during the run/);
  assert.throws(() => x.run('1'), /closed/);
});
