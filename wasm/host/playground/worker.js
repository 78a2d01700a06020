// The playground's Web Worker: it runs amqpjs.wasm (the same module as the
// Node host's, ../index.mjs), so that a busy script does not freeze the
// page. The page posts { type: 'run', name, source, env } and { type: 'stop' };
// the worker posts 'loading', 'ready', 'out', 'conn', 'stopping', 'done'
// and 'fatal' messages (see page.js).
//
// What Node gives the Go program and a browser does not, the worker
// supplies (main.go's handshake, AMQPJS_WASM_HOST):
//
//   net        an object with connect(options) returning a socket with
//              Node's net.Socket interface (the part ../../nodeconn.go
//              uses: events connect, data, drain, end, error, close; write,
//              end, destroy, pause, resume), over a WebSocket to the
//              server's relay, /amqp. The relay connects to the one broker
//              it was started with: the host and port the script gives
//              connect() are not sent anywhere. So the AMQP connection is a
//              Go net.Conn (nodeConn) over this WebSocket.
//   write      the fast path of socket writes: bytes copied out of the Go
//              memory, and what Go writes before it yields sent as one
//              WebSocket message.
//   esbuild    globalThis.__amqpjs_esbuild: transformSync, done by the
//              server's esbuild through a synchronous XMLHttpRequest to
//              /transform (runtime/transform_js.go needs a synchronous
//              call; serve.mjs explains why not esbuild-wasm).

/* global Go */

const post = (m) => self.postMessage(m);

// Before wasm_exec.js: its fallback process.cwd() throws, and the runtime
// resolves script names against the working directory.
const enosys = () => Object.assign(new Error('not implemented'), { code: 'ENOSYS' });
self.process = {
  getuid: () => -1, getgid: () => -1, geteuid: () => -1, getegid: () => -1,
  getgroups() { throw enosys(); },
  pid: -1, ppid: -1,
  umask() { throw enosys(); },
  cwd: () => '/',
  chdir() { throw enosys(); },
};

const relayURL = new URL('amqp', self.location.href);
relayURL.protocol = relayURL.protocol === 'https:' ? 'wss:' : 'ws:';

const writeHighWater = 1 << 20; // write() returns false past this much unsent
let connSeq = 0;

// A Node-style socket over a WebSocket to the relay.
class RelaySocket {
  #listeners = new Map();
  #ws;
  #pending = []; // chunks written since the last flush
  #pendingBytes = 0;
  #flushQueued = false;
  #draining = false;
  #connected = false;
  #relayError = null;
  #closed = false;
  destroyed = false;
  localAddress = undefined;
  localPort = undefined;
  remoteAddress = undefined;
  remotePort = undefined;

  constructor(options) {
    this.id = ++connSeq;
    // options.host and options.port are the script's; the relay does not
    // take a target, they are only shown to the user.
    this.target = `${options.host}:${options.port}`;
    post({ type: 'conn', id: this.id, state: 'connecting', target: this.target });
    let ws;
    try {
      ws = new WebSocket(relayURL.href);
    } catch (err) {
      queueMicrotask(() => this.#fail({ message: String(err.message ?? err), code: 'ECONNREFUSED' }));
      return;
    }
    this.#ws = ws;
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (e) => {
      if (typeof e.data !== 'string') {
        this.#emit('data', new Uint8Array(e.data));
        return;
      }
      let m;
      try { m = JSON.parse(e.data); } catch { return; }
      if (m.connected && !this.#connected) {
        this.#connected = true;
        post({ type: 'conn', id: this.id, state: 'connected', target: this.target });
        this.#emit('connect');
      } else if (m.error) {
        this.#relayError = m;
      }
    };
    ws.onclose = (e) => {
      if (this.#relayError) {
        this.#fail({ message: `${this.#relayError.error} (through the playground's relay)`, code: this.#relayError.code });
        return;
      }
      if (!this.#connected) {
        this.#fail({ message: `the playground's relay refused or closed the connection (WebSocket close ${e.code}${e.reason ? ' ' + e.reason : ''})`, code: 'ECONNREFUSED' });
        return;
      }
      this.#emit('end');
      this.#close();
    };
  }

  #fail(err) {
    if (this.#closed) return;
    post({ type: 'conn', id: this.id, state: 'error', target: this.target, error: err.message });
    this.#emit('error', Object.assign(new Error(err.message), { code: err.code ?? undefined }));
    this.#close();
  }

  #close() {
    if (this.#closed) return;
    this.#closed = true;
    this.destroyed = true;
    post({ type: 'conn', id: this.id, state: 'closed', target: this.target });
    this.#emit('close', false);
  }

  #emit(event, ...args) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) fn(...args);
  }

  on(event, fn) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, []);
    this.#listeners.get(event).push(fn);
    return this;
  }

  removeAllListeners() {
    this.#listeners.clear();
    return this;
  }

  write(chunk) {
    if (this.destroyed || !this.#ws || this.#ws.readyState !== WebSocket.OPEN) {
      queueMicrotask(() => this.#fail({ message: 'write after the connection closed', code: 'EPIPE' }));
      return false;
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
    const ok = this.#ws.bufferedAmount + this.#pendingBytes < writeHighWater;
    if (!ok) this.#waitDrain();
    return ok;
  }

  #flush() {
    this.#flushQueued = false;
    if (this.#pending.length === 0 || !this.#ws || this.#ws.readyState !== WebSocket.OPEN) return;
    let data = this.#pending[0];
    if (this.#pending.length > 1) {
      data = new Uint8Array(this.#pendingBytes);
      let off = 0;
      for (const c of this.#pending) {
        data.set(c, off);
        off += c.length;
      }
    }
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#ws.send(data);
  }

  // A WebSocket has no 'drain' event: poll bufferedAmount.
  #waitDrain() {
    if (this.#draining) return;
    this.#draining = true;
    const check = () => {
      if (this.#closed) return;
      if (this.#ws.bufferedAmount + this.#pendingBytes < writeHighWater / 4) {
        this.#draining = false;
        this.#emit('drain');
        return;
      }
      setTimeout(check, 5);
    };
    setTimeout(check, 5);
  }

  end() {
    this.#flush();
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(1000, 'closed by the script');
  }

  destroy() {
    this.#pending = [];
    if (this.#ws && this.#ws.readyState <= WebSocket.OPEN) this.#ws.close(1000, 'destroyed');
    if (!this.#connected) {
      this.#close();
    }
  }

  pause() {} // a WebSocket cannot be paused: nodeConn buffers what comes
  resume() {}
  cork() {}
  uncork() {}
}

const netShim = { connect: (options) => new RelaySocket(options) };

let config;

function transformSync(source, options) {
  const xhr = new XMLHttpRequest();
  xhr.open('POST', 'transform', false); // synchronous: allowed in a worker
  xhr.setRequestHeader('Content-Type', 'application/json');
  xhr.send(JSON.stringify({ source, options }));
  if (xhr.status !== 200) {
    throw new Error(`the playground server's /transform answered ${xhr.status}: ${xhr.responseText.trim()}`);
  }
  const r = JSON.parse(xhr.responseText);
  if (r.errors) throw Object.assign(new Error('Transform failed'), { errors: r.errors });
  if (r.failure) throw new Error(r.failure);
  return r;
}

let amqpjs; // the exports of amqpjs.wasm
let current; // { ac } of the run in progress

async function load() {
  const t0 = performance.now();
  post({ type: 'loading' });
  config = await (await fetch('config.json')).json();
  self.__amqpjs_esbuild = () => ({ version: config.esbuild, transformSync });
  self.importScripts('wasm_exec.js');
  // The page has no files: a module the runtime looks for (require('./x'),
  // node_modules/…) does not exist, rather than "not implemented".
  const enoent = () => Object.assign(new Error('no such file or directory'), { code: 'ENOENT' });
  for (const op of ['stat', 'lstat', 'open', 'readdir', 'readlink']) {
    self.fs[op] = (...args) => args[args.length - 1](enoent());
  }
  const go = new Go();
  let memory;
  let ready;
  const readyP = new Promise((resolve) => { ready = resolve; });
  const key = '__amqpjsWasmHost';
  self[key] = {
    net: netShim,
    write(socket, address, length) {
      return socket.write(new Uint8Array(memory.buffer, address, length).slice());
    },
    ready: (exports) => ready(exports),
  };
  go.argv = ['amqpjs.wasm'];
  go.env = { AMQPJS_WASM_HOST: key, HOME: '/', TMPDIR: '/tmp' };
  const resp = fetch('amqpjs.wasm');
  let result;
  try {
    result = await WebAssembly.instantiateStreaming(resp, go.importObject);
  } catch (err) {
    // A server that does not say application/wasm.
    const bytes = await (await fetch('amqpjs.wasm')).arrayBuffer();
    result = await WebAssembly.instantiate(bytes, go.importObject);
  }
  memory = result.instance.exports.mem;
  const exited = go.run(result.instance);
  exited.then(() => post({ type: 'fatal', error: 'amqpjs.wasm exited' }));
  amqpjs = await readyP;
  post({ type: 'ready', version: amqpjs.version, broker: config.broker, loadMs: performance.now() - t0 });
}

const loaded = load().catch((err) => {
  post({ type: 'fatal', error: String(err?.stack ?? err) });
  throw err;
});

self.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'stop') {
    // This handler runs only when the thread is free: the abort reaches
    // the run now (main.go listens to the signal), and the page knows the
    // script is not in a loop that never yields.
    if (current) {
      current.ac.abort();
      post({ type: 'stopping', runId: current.runId });
    }
    return;
  }
  if (m.type !== 'run') return;
  try {
    await loaded;
  } catch {
    return;
  }
  if (current) {
    post({ type: 'done', runId: m.runId, exitCode: 2, error: 'a run is in progress' });
    return;
  }
  const ac = new AbortController();
  current = { ac, runId: m.runId };
  let res;
  try {
    res = await amqpjs.runStreaming({ path: m.name || 'main.js', source: m.source }, {
      signal: ac.signal,
      argv0: 'amqpjs',
      args: [],
      env: m.env ?? {},
    }, {
      onStdout: (s) => post({ type: 'out', runId: m.runId, stream: 'stdout', text: s }),
      onStderr: (s) => post({ type: 'out', runId: m.runId, stream: 'stderr', text: s }),
    });
  } catch (err) {
    res = { exitCode: 1, error: String(err?.stack ?? err) };
    post({ type: 'out', runId: m.runId, stream: 'stderr', text: res.error + '\n' });
  }
  current = undefined;
  post({ type: 'done', runId: m.runId, exitCode: res.exitCode, error: res.error ?? null, aborted: ac.signal.aborted });
};
