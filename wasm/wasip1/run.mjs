// run.mjs — runs the WASI build of amqpjs (see main.go) with Node's WASI
// (node:wasi, preview1), the working directory preopened:
//
//   node wasm/wasip1/run.mjs amqpjs-wasip1.wasm script.js [args...]
import fs from 'node:fs';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
if (!file) {
  console.error('usage: node run.mjs amqpjs-wasip1.wasm script.js [args...]');
  process.exit(2);
}
const wasi = new WASI({
  version: 'preview1',
  args: ['amqpjs', ...args],
  env: process.env,
  preopens: { '.': process.cwd(), '/': '/' },
  returnOnExit: true,
});
const module = await WebAssembly.compile(fs.readFileSync(file));
const instance = await WebAssembly.instantiate(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
