// The playground page: a CodeMirror editor, the examples of scripts/, Run
// and Stop, the output and the broker connections' state. Scripts run on
// amqpjs.wasm in a Web Worker (worker.js).
//
// Testable by URL: ?example=hello (an example's name) or ?source=… (the
// script, URL-encoded) or ?source64=… (base64 or base64url of its UTF-8),
// with &autorun=1 to run it as soon as amqpjs.wasm is loaded, and
// &env=K=V,K2=V2 for its process.env. A load or test scenario (a default
// export or options.scenarios) runs as `amqpjs run` runs it: its VUs, a
// progress line a second and the end-of-test summary on stderr, exit code
// 99 when a threshold failed. The output
// goes into #output (stdout in span.stdout, stderr in span.stderr), and
// when the run ends #output gets data-exit-code. document.body gets
// data-ready-ms (amqpjs.wasm loaded, from the navigation's start) and
// data-connected-ms (the first connection to the broker up).
// window.playground.setSource(src), .run() and .stop() do what the editor
// and the buttons do.

import { EditorView, basicSetup } from 'codemirror';
import { keymap } from '@codemirror/view';
import { javascript, javascriptLanguage } from '@codemirror/lang-javascript';
import { completeFromList } from '@codemirror/autocomplete';
import examples from 'playground:examples';
import apiNames from 'playground:api';

const $ = (id) => document.getElementById(id);
const output = $('output');
const runButton = $('run');
const stopButton = $('stop');
const select = $('example');
const stateEl = $('conn');
const statusEl = $('status');

const params = new URLSearchParams(location.search);

// ?env=K=V,K2=V2: the scripts' process.env (and __ENV), e.g. knobs that
// make a scenario shorter. A value may not hold a comma.
const env = {};
for (const kv of (params.get('env') ?? '').split(',')) {
  const i = kv.indexOf('=');
  if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
}

function decodeSource64(s) {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/').replace(/\s/g, '');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

// The aioamqp API's names from bindings/types/aioamqp.d.ts, after a dot.
const apiCompletion = completeFromList(apiNames.map((n) => ({ label: n.name, type: n.kind, detail: n.detail })));
const afterDot = (ctx) => (ctx.matchBefore(/\.\w*$/) ? apiCompletion(ctx) : null);

const editor = new EditorView({
  parent: $('editor'),
  doc: '',
  extensions: [
    basicSetup,
    javascript(),
    javascriptLanguage.data.of({ autocomplete: afterDot }),
    keymap.of([{ key: 'Mod-Enter', run: () => { run(); return true; } }]),
    EditorView.theme({ '&': { height: '100%' }, '.cm-scroller': { fontFamily: 'var(--mono)' } }),
  ],
});

function setSource(src) {
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: src } });
}

for (const ex of examples) {
  const o = document.createElement('option');
  o.value = ex.name;
  o.textContent = `${ex.name}.js — ${ex.title}`;
  select.append(o);
}
const custom = document.createElement('option');
custom.value = '';
custom.textContent = '(your script)';
select.append(custom);

let scriptName = 'main.js';
function showExample(name) {
  const ex = examples.find((x) => x.name === name);
  if (!ex) return false;
  select.value = name;
  scriptName = `${name}.js`;
  setSource(ex.source);
  return true;
}
select.addEventListener('change', () => {
  if (select.value) showExample(select.value);
  else scriptName = 'main.js';
});

try {
  if (params.has('source64')) {
    setSource(decodeSource64(params.get('source64')));
    select.value = '';
  } else if (params.has('source')) {
    setSource(params.get('source'));
    select.value = '';
  } else if (!showExample(params.get('example') ?? 'hello') && examples.length > 0) {
    showExample(examples[0].name);
  }
} catch (err) {
  append('stderr', `cannot read the script from the URL: ${err.message}\n`);
}

// Connections to the broker, by the worker's id.
const conns = new Map();
let lastConnError = null;
function showConns() {
  const open = [...conns.values()].filter((s) => s === 'connected').length;
  const connecting = [...conns.values()].filter((s) => s === 'connecting').length;
  let text;
  let cls;
  if (open > 0) {
    text = `connected (${open} open)`;
    cls = 'ok';
  } else if (connecting > 0) {
    text = 'connecting…';
    cls = 'busy';
  } else if (lastConnError) {
    text = `error: ${lastConnError}`;
    cls = 'bad';
  } else {
    text = conns.size > 0 ? 'closed' : 'not connected';
    cls = '';
  }
  stateEl.textContent = `broker ${broker}: ${text}`;
  stateEl.className = `state ${cls}`;
  stateEl.dataset.open = String(open);
}

function append(stream, text) {
  const span = document.createElement('span');
  span.className = stream;
  span.textContent = text;
  output.append(span);
  output.scrollTop = output.scrollHeight;
}

let worker;
let ready = false;
let broker = '…';
let running = null; // { runId, started, stopTimer }
let runSeq = 0;
let autorun = params.get('autorun') === '1';

function startWorker() {
  ready = false;
  runButton.disabled = true;
  worker = new Worker('worker.js');
  worker.onmessage = (e) => onWorker(e.data);
  worker.onerror = (e) => {
    statusEl.textContent = `the worker failed: ${e.message}`;
  };
}

function onWorker(m) {
  switch (m.type) {
    case 'loading':
      statusEl.textContent = 'loading amqpjs.wasm…';
      break;
    case 'ready':
      ready = true;
      broker = m.broker;
      statusEl.textContent = `amqpjs ${m.version} loaded in ${(m.loadMs / 1000).toFixed(2)} s`;
      document.body.dataset.readyMs = String(Math.round(performance.now()));
      runButton.disabled = running !== null;
      showConns();
      if (autorun) {
        autorun = false;
        run();
      }
      break;
    case 'fatal':
      statusEl.textContent = 'amqpjs.wasm failed';
      append('stderr', `${m.error}\n`);
      if (running) finish(1);
      else output.dataset.exitCode = '1'; // for a page opened with autorun
      break;
    case 'conn':
      conns.set(m.id, m.state);
      if (m.state === 'error') lastConnError = m.error;
      if (m.state === 'connected') {
        lastConnError = null;
        if (!document.body.dataset.connectedMs) document.body.dataset.connectedMs = String(Math.round(performance.now()));
      }
      showConns();
      break;
    case 'out':
      if (running && m.runId === running.runId) append(m.stream, m.text);
      break;
    case 'stopping':
      // The worker got the abort: the run ends once the script next
      // yields and its connections are closed. Terminate it only if that
      // takes very long.
      if (running && m.runId === running.runId) {
        clearTimeout(running.stopTimer);
        running.stopTimer = setTimeout(() => terminateRun(running, 'did not end within 30 s of Stop'), 30000);
      }
      break;
    case 'done':
      if (running && m.runId === running.runId) finish(running.stopped && m.exitCode === 1 ? 130 : m.exitCode);
      break;
  }
}

function run() {
  if (!ready || running) return;
  output.textContent = '';
  delete output.dataset.exitCode;
  output.dataset.state = 'running';
  conns.clear();
  lastConnError = null;
  showConns();
  running = { runId: ++runSeq, started: performance.now(), stopped: false };
  runButton.disabled = true;
  stopButton.disabled = false;
  statusEl.textContent = `running ${scriptName}…`;
  const source = editor.state.doc.toString();
  worker.postMessage({ type: 'run', runId: running.runId, name: scriptName, source, env });
}

// Stop aborts the run (the script is interrupted and its connections
// closed, as Ctrl-C does to `amqpjs run`). A worker that does not even
// take the message within 3 s is running a loop that never yields: it is
// terminated (which closes its connections) and a new one started.
function stop() {
  if (!running || running.stopped) return;
  running.stopped = true;
  worker.postMessage({ type: 'stop' });
  statusEl.textContent = 'stopping…';
  const r = running;
  r.stopTimer = setTimeout(() => terminateRun(r, 'did not stop within 3 s (a loop that never yields?)'), 3000);
}

function terminateRun(r, why) {
  if (running !== r) return;
  worker.terminate();
  append('stderr', `amqpjs: the script ${why}: its worker was terminated (its connections closed with it)\n`);
  conns.clear();
  showConns();
  finish(130);
  startWorker();
}

function finish(exitCode) {
  const r = running;
  running = null;
  clearTimeout(r.stopTimer);
  const secs = ((performance.now() - r.started) / 1000).toFixed(2);
  statusEl.textContent = `${scriptName}: exit code ${exitCode} (${secs} s)`;
  statusEl.className = exitCode === 0 ? 'ok' : 'bad';
  output.dataset.state = 'done';
  output.dataset.exitCode = String(exitCode);
  runButton.disabled = !ready;
  stopButton.disabled = true;
}

// For tests and for pages that embed the playground: put a script in the
// editor (as "your script"), run it, stop it.
window.playground = {
  setSource(src) {
    setSource(src);
    select.value = '';
    scriptName = 'main.js';
  },
  run,
  stop,
};

runButton.addEventListener('click', run);
stopButton.addEventListener('click', stop);
stopButton.disabled = true;
showConns();
startWorker();
