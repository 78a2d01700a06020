// Drives the playground in headless Chromium (Debian's /usr/bin/chromium,
// through npm playwright-core, which downloads no browser), for
// tests/playground_integration_test.go and for measuring the page:
//
//   node wasm/host/playground/drive.mjs BASE_URL JOBS.json
//
// JOBS.json is an array of jobs:
//
//   { "name": "hello", "query": "example=hello&autorun=1",
//     "screenshot": "out/hello.png",          // optional
//     "stopWhen": "consuming",                // optional: press Stop once
//                                             //   stdout contains this
//     "fresh": true,                          // optional: a first visit
//     "timeoutMs": 120000 }
//   { "name": "topology", "select": "topology" }
//   { "name": "mine", "source": "console.log(1)" }
//
// A job with "query" opens a page at BASE_URL?query; one with "select"
// picks that example in the menu of the previous job's page, one with
// "source" puts that script in its editor (window.playground.setSource),
// and either presses Run (amqpjs.wasm stays loaded). Either waits until #output has
// data-exit-code. The first job (and any "fresh" one) is a first visit, in
// a browser context of its own (nothing cached); the other pages share a
// context. Prints one JSON array on stdout: per job { name,
// exitCode, stdout, stderr, conn (the connection state's text), readyMs,
// connectedMs (from the navigation's start), relaysAfter (the server's
// relay connections still open after the run), foreignRequests (URLs
// requested of another server than BASE_URL's), downloadBytes (bytes
// received by the page and its worker: headers and encoded bodies), error }.
//
// Chromium runs as root here, hence --no-sandbox; AMQPJS_CHROMIUM names
// another binary.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const [base, jobsFile] = process.argv.slice(2);
if (!base || !jobsFile) {
  process.stderr.write('usage: node drive.mjs BASE_URL JOBS.json\n');
  process.exit(2);
}
const jobs = JSON.parse(fs.readFileSync(jobsFile, 'utf8'));
const executablePath = process.env.AMQPJS_CHROMIUM || '/usr/bin/chromium';
if (!fs.existsSync(executablePath)) {
  process.stderr.write(`drive.mjs: ${executablePath} not found: apt-get install chromium (or set AMQPJS_CHROMIUM)\n`);
  process.exit(3);
}

// Headless, as root (no sandbox), without the background traffic of a
// desktop browser. playwright-core gives it a new, empty --user-data-dir
// of its own (and removes it at the end).
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const contextOptions = { viewport: { width: 1280, height: 760 } };
let shared;
let page; // the last job's page, kept for a next job with "select"
let logs = [];
const results = [];
try {
  for (const [i, job] of jobs.entries()) {
    const res = { name: job.name };
    const inPage = job.select !== undefined || job.source !== undefined;
    if (inPage && !page) throw new Error(`job ${job.name}: "select" and "source" need a page opened by an earlier job`);
    if (!inPage) {
      // The first job (and a "fresh" one) is a first visit: a new browser
      // context, empty cache. The others share one context, as the same
      // user running more scripts would.
      if (page) await closePage(page);
      const context = i === 0 || job.fresh
        ? await browser.newContext(contextOptions)
        : (shared ??= await browser.newContext(contextOptions));
      page = await context.newPage();
      logs = [];
      page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
    }
    const context = page.context();
    // Bytes the page and its worker receive: headers and encoded bodies
    // (what crosses the network).
    let downloadBytes = 0;
    const sizes = [];
    const onFinished = (r) => {
      sizes.push(r.sizes().then((s) => { downloadBytes += s.responseBodySize + s.responseHeadersSize; }, () => {}));
    };
    context.on('requestfinished', onFinished);
    // Requests to anything but the server (the page must need no other).
    const foreign = [];
    const onRequest = (r) => {
      const u = new URL(r.url());
      if (!['data:', 'blob:'].includes(u.protocol) && u.host !== new URL(base).host) foreign.push(r.url());
    };
    context.on('request', onRequest);
    try {
      if (inPage) {
        // Another run in the same page: an example from the menu, or a
        // script put in the editor; then Run.
        await page.waitForSelector('#run:not([disabled])', { timeout: job.timeoutMs ?? 120000 });
        if (job.select !== undefined) await page.selectOption('#example', job.select);
        else await page.evaluate((src) => window.playground.setSource(src), job.source);
        await page.click('#run');
        await page.waitForFunction(() => document.getElementById('output').dataset.exitCode === undefined, null, { timeout: 5000 }).catch(() => {});
      } else {
        await page.goto(`${base}?${job.query}`);
      }
      if (job.stopWhen) {
        await page.waitForFunction((s) => {
          const o = document.getElementById('output');
          return o.dataset.exitCode !== undefined || [...o.querySelectorAll('.stdout')].some((x) => x.textContent.includes(s));
        }, job.stopWhen, { timeout: job.timeoutMs ?? 120000, polling: 100 });
        res.connBeforeStop = await page.textContent('#conn');
        await page.click('#stop');
      }
      await page.waitForSelector('#output[data-exit-code]', { timeout: job.timeoutMs ?? 120000 });
      // Let the connection state settle (the last 'close' events).
      await page.waitForFunction(() => !/connecting|connected \(/.test(document.getElementById('conn').textContent), null, { timeout: 5000 }).catch(() => {});
      Object.assign(res, await page.evaluate(() => {
        const o = document.getElementById('output');
        const text = (cls) => [...o.querySelectorAll(`.${cls}`)].map((x) => x.textContent).join('');
        return {
          exitCode: Number(o.dataset.exitCode),
          stdout: text('stdout'),
          stderr: text('stderr'),
          conn: document.getElementById('conn').textContent,
          readyMs: Number(document.body.dataset.readyMs ?? NaN),
          connectedMs: Number(document.body.dataset.connectedMs ?? NaN),
        };
      }));
      // The server's open relay connections once the state has settled
      // (only this page is open): 0 unless the run left one open.
      res.relaysAfter = await page.evaluate(async () => {
        let n;
        for (let i = 0; i < 300; i++) {
          n = (await (await fetch('config.json')).json()).relays;
          if (n === 0) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        return n;
      });
      if (job.screenshot) {
        fs.mkdirSync(path.dirname(job.screenshot), { recursive: true });
        await page.screenshot({ path: job.screenshot });
      }
    } catch (err) {
      res.error = String(err.message ?? err);
      res.output = await page.textContent('#output').catch(() => null);
    }
    context.off('requestfinished', onFinished);
    context.off('request', onRequest);
    res.foreignRequests = foreign;
    await Promise.all(sizes);
    res.downloadBytes = downloadBytes;
    res.console = [...logs];
    results.push(res);
  }
  if (page) await closePage(page);
} finally {
  await browser.close();
}

async function closePage(p) {
  if (p.context() === shared) await p.close();
  else await p.context().close();
}

process.stdout.write(JSON.stringify(results, null, 2) + '\n');
