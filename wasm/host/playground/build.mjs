// Builds the playground page into ../dist/playground/ (served by
// ../serve.mjs): page.js (CodeMirror and the page) and worker.js bundled by
// the host's esbuild, index.html and style.css, the examples of the
// repository's scripts/ and the API names of bindings/types/aioamqp.d.ts
// compiled into page.js, and gzip -9 copies (.gz) of page.js, worker.js,
// dist/amqpjs.wasm and dist/wasm_exec.js, which the server sends to browsers that accept gzip.
//
//   node wasm/host/playground/build.mjs
//
// Needs the dev dependencies (npm ci in wasm/host) and, for the .gz, a
// built amqpjs.wasm (wasm/build.sh).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { distDir, gzipFile } from '../serve.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

/** The examples: scripts/*.js, with the first comment line as title. */
export function readExamples(dir = path.join(repo, 'scripts')) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.js')).sort().map((f) => {
    const source = fs.readFileSync(path.join(dir, f), 'utf8');
    const first = /^\/\/\s*[\w.-]+\s+—\s+(.*)$/m.exec(source);
    return { name: f.slice(0, -3), title: (first?.[1] ?? '').replace(/[,:.]$/, ''), source };
  });
}

/** Method and property names of the .d.ts, for completion after a dot. */
export function readApiNames(file = path.join(repo, 'bindings/types/aioamqp.d.ts')) {
  if (!fs.existsSync(file)) return [];
  const seen = new Map();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let m = /^ {4}(?:readonly )?([a-zA-Z_]\w*)(\(.*)$/.exec(line);
    if (m) {
      if (!seen.has(m[1])) seen.set(m[1], { name: m[1], kind: 'method', detail: m[2].replace(/;$/, '') });
      continue;
    }
    m = /^ {4}(?:readonly )?([a-zA-Z_]\w*)\??: (.*);$/.exec(line);
    if (m && !seen.has(m[1])) seen.set(m[1], { name: m[1], kind: 'property', detail: m[2] });
  }
  return [...seen.values()];
}

export async function build({ outdir = path.join(distDir, 'playground'), minify = true } = {}) {
  fs.mkdirSync(outdir, { recursive: true });
  const virtual = {
    'playground:examples': readExamples(),
    'playground:api': readApiNames(),
  };
  await esbuild.build({
    entryPoints: [path.join(here, 'page.js'), path.join(here, 'worker.js')],
    outdir,
    bundle: true,
    minify,
    format: 'iife',
    target: 'es2020',
    logLevel: 'warning',
    plugins: [{
      name: 'playground-data',
      setup(b) {
        b.onResolve({ filter: /^playground:/ }, (a) => ({ path: a.path, namespace: 'playground' }));
        b.onLoad({ filter: /.*/, namespace: 'playground' }, (a) => ({ contents: JSON.stringify(virtual[a.path]), loader: 'json' }));
      },
    }],
  });
  for (const f of ['index.html', 'style.css']) fs.copyFileSync(path.join(here, f), path.join(outdir, f));
  for (const f of ['page.js', 'worker.js']) gzipFile(path.join(outdir, f), true);
  const wasm = path.join(distDir, 'amqpjs.wasm');
  if (fs.existsSync(wasm)) gzipFile(wasm);
  const wasmExec = path.join(distDir, 'wasm_exec.js');
  if (fs.existsSync(wasmExec)) gzipFile(wasmExec);
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const t0 = performance.now();
  const out = await build();
  const size = (f) => fs.statSync(path.join(out, f)).size;
  const wasmGz = path.join(distDir, 'amqpjs.wasm.gz');
  console.log(`playground: ${path.relative(process.cwd(), out)} built in ${((performance.now() - t0) / 1000).toFixed(1)} s: ` +
    `page.js ${size('page.js')} B (gzip ${size('page.js.gz')}), worker.js ${size('worker.js')} B (gzip ${size('worker.js.gz')})` +
    (fs.existsSync(wasmGz) ? `, amqpjs.wasm.gz ${fs.statSync(wasmGz).size} B` : ''));
}
