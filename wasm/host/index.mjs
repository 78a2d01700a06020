// @amqpjs/wasm-host — loads amqpjs.wasm (amqpjs compiled with GOOS=js
// GOARCH=wasm, see ../main.go) into Node and exposes run / runStreaming.
//
//   import { load } from '@amqpjs/wasm-host';
//   const amqpjs = await load();
//   const { exitCode, stdout, stderr } = await amqpjs.run({ path: 'scripts/hello.js' });
//   await amqpjs.close();
//
// See README.md for the API, the options and the limits.

import fs from 'node:fs';
import net from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { webcrypto } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Where build.sh puts amqpjs.wasm and Go's wasm_exec.js. */
export const distDir = path.join(here, 'dist');

let goClass; // Promise<typeof Go>: wasm_exec.js is evaluated once per process
const compiled = new Map(); // wasm path -> Promise<WebAssembly.Module>
let seq = 0;

// Go's syscall/js runtime reaches the host through globals: fs and path
// (os.Open, os.ReadFile: the scripts, the modules they import, TLS files),
// process (cwd, pid), crypto (crypto/rand). They are Node's own modules;
// a global the host already set is left alone.
//
// globalThis.__amqpjs_esbuild returns the esbuild module that compiles the
// scripts (ES modules, TypeScript, top-level await): amqpjs.wasm does not
// link esbuild (8 MB), it calls esbuild.transformSync, the npm package of
// the same version (package.json's dependency) from this package's
// node_modules, loaded on first use. A function set before load() is kept.
function installGlobals() {
  globalThis.fs ??= fs;
  globalThis.path ??= path;
  globalThis.crypto ??= webcrypto;
  globalThis.__amqpjs_esbuild ??= loadEsbuild;
}

let esbuild;

function loadEsbuild() {
  if (!esbuild) {
    try {
      esbuild = require('esbuild');
    } catch (err) {
      const version = require('./package.json').dependencies.esbuild;
      throw new Error(`amqpjs (wasm): the esbuild package ${version} is needed to run scripts: npm install in ${here} (${String(err.message).split('\n')[0]})`);
    }
  }
  return esbuild;
}

function loadGo(dir) {
  if (!goClass) {
    installGlobals();
    const file = path.join(dir, 'wasm_exec.js');
    if (!fs.existsSync(file)) {
      throw new Error(`${file} not found: build it with wasm/build.sh`);
    }
    goClass = import(pathToFileURL(file).href).then(() => globalThis.Go);
  }
  return goClass;
}

// Go's crypto/x509 has no system roots under js/wasm unless SSL_CERT_FILE
// or SSL_CERT_DIR names them: pass the host's, or the first bundle found
// where Go looks on Linux and macOS, so that `ssl: true` trusts what the
// native build trusts.
const rootFiles = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/pki/tls/cacert.pem',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

function systemRoots() {
  const env = {};
  for (const k of ['SSL_CERT_FILE', 'SSL_CERT_DIR']) if (process.env[k]) env[k] = process.env[k];
  if (Object.keys(env).length === 0) {
    const file = rootFiles.find((f) => fs.existsSync(f));
    if (file) env.SSL_CERT_FILE = file;
  }
  return env;
}

function compile(file) {
  let p = compiled.get(file);
  if (!p) {
    p = fs.promises.readFile(file).then((bytes) => WebAssembly.compile(bytes));
    compiled.set(file, p);
    p.catch(() => compiled.delete(file));
  }
  return p;
}

/**
 * Instantiates amqpjs.wasm: a Go program with its own heap, in which any
 * number of runs may go on at once (each on its own amqpjs runtime).
 *
 * @param {object} [options]
 * @param {string} [options.wasm] path of amqpjs.wasm (default dist/amqpjs.wasm)
 * @param {number} [options.memoryLimit] the Go heap's soft limit in bytes
 *   (GOMEMLIMIT; default 256 MiB, see README.md "Memory")
 * @param {number} [options.gcPercent] GOGC (default 200, as `amqpjs run`)
 * @param {object} [options.net] the "net" module sockets are made with
 *   (default Node's)
 * @param {Record<string,string>} [options.env] extra environment of the Go
 *   program itself (not the scripts': see run's options.env)
 * @returns {Promise<Amqpjs>}
 */
export async function load(options = {}) {
  const wasmFile = path.resolve(options.wasm ?? path.join(distDir, 'amqpjs.wasm'));
  const Go = await loadGo(options.wasm ? path.dirname(wasmFile) : distDir);
  const module = await compile(wasmFile);

  const go = new Go();
  const key = `__amqpjsWasmHost${++seq}_${process.pid}`;
  let ready;
  const readyP = new Promise((resolve) => { ready = resolve; });
  let memory; // the instance's WebAssembly.Memory
  const corked = new WeakSet();
  globalThis[key] = {
    net: options.net ?? net,
    // write(socket, address, length): Go's fast path for socket writes
    // (see ../nodeconn.go). The bytes are copied out of the Go program's
    // memory at once; the socket stays corked until process.nextTick, so
    // that what Go writes before it next yields leaves in one writev.
    write(socket, address, length) {
      if (!corked.has(socket)) {
        corked.add(socket);
        socket.cork();
        process.nextTick(() => {
          corked.delete(socket);
          socket.uncork();
        });
      }
      return socket.write(Buffer.from(new Uint8Array(memory.buffer, address, length)));
    },
    ready: (exports) => ready(exports),
  };
  go.argv = ['amqpjs.wasm'];
  go.env = {
    TMPDIR: os.tmpdir(),
    HOME: os.homedir(),
    ...systemRoots(),
    ...options.env,
    AMQPJS_WASM_HOST: key,
  };
  if (options.memoryLimit != null) go.env.GOMEMLIMIT = String(Math.floor(options.memoryLimit));
  if (options.gcPercent != null) go.env.GOGC = String(options.gcPercent);
  let exitCode = null;
  go.exit = (code) => {
    exitCode = code;
    // The Go program is gone: a late event (a socket's, a timer Go had
    // scheduled) must not call into it ("Go program has already exited").
    go._resume = () => {};
    for (const t of go._scheduledTimeouts.values()) clearTimeout(t);
    go._scheduledTimeouts.clear();
  };

  try {
    const instance = await WebAssembly.instantiate(module, go.importObject);
    memory = instance.exports.mem;
    const exited = go.run(instance);
    const exports = await Promise.race([
      readyP,
      exited.then(() => { throw new Error(`amqpjs.wasm exited during start (exit code ${exitCode})`); }),
    ]);
    return new Amqpjs(exports, exited, () => exitCode);
  } finally {
    delete globalThis[key];
  }
}

function checkOpen(a) {
  if (a.closed) throw new Error('amqpjs: this instance is closed');
}

/** One instance of amqpjs.wasm. */
export class Amqpjs {
  #x;
  #exited;
  #gone; // rejects once the Go program has exited: runs then never settle
  closed = false;

  constructor(exports, exited, exitCode) {
    this.#x = exports;
    this.#exited = exited;
    this.#gone = exited.then(() => {
      throw new Error(this.closed ? 'amqpjs: the instance was closed during the run'
        : `amqpjs: the Go program exited (code ${exitCode()}) during the run`);
    });
    this.#gone.catch(() => {}); // only runs in progress care
    /** The amqpjs version compiled in. */
    this.version = exports.version;
  }

  /**
   * Runs a script to its end. spec is a source string (run as "main.js"),
   * or { path, source }: source run under the name path (stack traces,
   * ".ts" for TypeScript, relative imports), or, without source, the file
   * at path read through Node's fs.
   *
   * options: { args, env, url, timeout (ms), argv0, signal (AbortSignal) }.
   *
   * Resolves to { exitCode, stdout, stderr, error } (error: the text printed
   * on stderr for an uncaught error, a timeout or an abort, else null). It
   * rejects on invalid arguments, and when the instance is closed (or the
   * Go program dies) before the run ends.
   */
  run(spec, options) {
    checkOpen(this);
    return Promise.race([this.#x.run(spec, options), this.#gone]);
  }

  /**
   * run, with output handed to callbacks.onStdout(chunk) and
   * callbacks.onStderr(chunk) (strings) as the script writes it. Resolves
   * to { exitCode, error }.
   */
  runStreaming(spec, options, callbacks) {
    checkOpen(this);
    return Promise.race([this.#x.runStreaming(spec, options, callbacks ?? {}), this.#gone]);
  }

  /** The Go heap: { heapAlloc, heapSys, sys, numGC, memoryLimit } (bytes). */
  memoryStats() {
    checkOpen(this);
    return this.#x.memoryStats();
  }

  /** Sets the Go heap's soft limit in bytes; returns the previous one. */
  setMemoryLimit(bytes) {
    checkOpen(this);
    return this.#x.setMemoryLimit(bytes);
  }

  /** Sets GOGC; returns the previous value. */
  setGCPercent(percent) {
    checkOpen(this);
    return this.#x.setGCPercent(percent);
  }

  /**
   * Ends the Go program (runs still going on are dropped with it). The
   * wasm memory is released once nothing references this object.
   */
  async close() {
    if (this.closed) return;
    this.closed = true;
    this.#x.exit();
    await this.#exited;
  }
}

let shared; // Promise<Amqpjs> for the module-level helpers

function sharedInstance() {
  shared ??= load();
  return shared;
}

/** Amqpjs#run on a shared instance, loaded on first use. */
export async function run(spec, options) {
  return (await sharedInstance()).run(spec, options);
}

/** Amqpjs#runStreaming on a shared instance, loaded on first use. */
export async function runStreaming(spec, options, callbacks) {
  return (await sharedInstance()).runStreaming(spec, options, callbacks);
}

/** Closes the shared instance of run / runStreaming, if any. */
export async function closeShared() {
  if (!shared) return;
  const p = shared;
  shared = undefined;
  await (await p).close();
}
