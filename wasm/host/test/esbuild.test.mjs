// The scripts are compiled by the host's esbuild npm package (amqpjs.wasm
// does not link esbuild): globalThis.__amqpjs_esbuild, set by index.mjs,
// returns it. Run with: node --test wasm/host/test/

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { load } from '../index.mjs';

const hostDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const pinned = JSON.parse(fs.readFileSync(path.join(hostDir, 'package.json'), 'utf8')).dependencies.esbuild;

test('the host loads the pinned esbuild; TypeScript, ES modules and syntax errors go through it', async () => {
  const x = await load();
  try {
    assert.equal(typeof globalThis.__amqpjs_esbuild, 'function');
    assert.equal(globalThis.__amqpjs_esbuild().version, pinned);
    const ts = await x.run({ path: 'main.ts', source: 'export const k: number = 21;\nconst n: number = await Promise.resolve(2);\nconsole.log(n * k);\n' });
    assert.equal(ts.stderr, '');
    assert.equal(ts.stdout, '42\n');
    const bad = await x.run({ path: 'bad.js', source: 'let a = 1;\nlet b = (;\n' });
    assert.equal(bad.exitCode, 2);
    assert.match(bad.stderr, /bad\.js:2:10: SyntaxError: Unexpected ";"\n {4}let b = \(;\n {13}\^/);
  } finally {
    await x.close();
  }
});

test('without esbuild a run fails and says how to install it', async () => {
  const saved = globalThis.__amqpjs_esbuild;
  globalThis.__amqpjs_esbuild = () => { throw new Error("Cannot find module 'esbuild'"); };
  const x = await load(); // a new Go program: it looks esbuild up anew
  try {
    const r = await x.run('console.log(1)');
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, new RegExp(`the esbuild package ${pinned.replaceAll('.', '\\.')} is needed to run scripts: npm install in wasm/host .*Cannot find module 'esbuild'`));
  } finally {
    globalThis.__amqpjs_esbuild = saved;
    await x.close();
  }
});
