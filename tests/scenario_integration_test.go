//go:build integration

package tests

// Scenarios against RabbitMQ through the built binary: 200 VUs at once, and
// the end-to-end latency header.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sinkQueueSetupJS is a setup that declares an exclusive queue with a
// consumer dropping what arrives (its connection kept in server for the
// run) and hands the queue's name to the VUs; then the VU's channel
// variable, opened by its first iteration.
const sinkQueueSetupJS = `let server;
export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const { queue } = await channel.queue_declare('', { exclusive: true });
  await channel.basic_consume(() => {}, { queue_name: queue, no_ack: true });
  server = { transport, protocol };
  return { queue };
}
let channel;
`

// TestIntegrationScenario200VUs: 200 VUs, each with its own connection,
// publish with confirms to a queue that setup's runtime consumes.
func TestIntegrationScenario200VUs(t *testing.T) {
	path := WriteScript(t, "vus200.js", `
import * as aioamqp from 'aioamqp';
import { setTimeout as sleep } from 'timers/promises';
export const options = {
  vus: 200, duration: '3s',
  thresholds: { errors: ['count==0'], amqp_confirmed: ['count>=200'], amqp_e2e_latency: ['p(99)<5000'] },
};
`+sinkQueueSetupJS+`export default async function ({ queue }) {
  if (!channel) {
    const [, protocol] = await aioamqp.connect({ client_properties: { connection_name: 'amqpjs-200-vus-' + __VU } });
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  await channel.publish('from VU ' + __VU, '', queue);
  await sleep(100);
}
export async function teardown() {
  await server.protocol.close();
  server.transport.close();
  console.log('done');
}`)
	sum := filepath.Join(t.TempDir(), "summary.json")
	start := time.Now()
	res := Run(t, Opts{Args: []string{"run", "--quiet", "--summary-export", sum, path}, Env: []string{"AMQP_URL=" + aioamqpURL()}, Timeout: 2 * time.Minute})
	if res.Code != 0 || res.Stdout != "done\n" {
		t.Fatalf("200 VUs: %s", res)
	}
	s := readExport(t, sum)
	v := func(m, k string) float64 { return s.Metrics[m].Values[k] }
	t.Logf("200 VUs in %s: %v published, %v confirmed, e2e p99 %.2f ms, confirm p99 %.2f ms",
		time.Since(start).Round(time.Millisecond), v("amqp_published", "count"), v("amqp_confirmed", "count"), v("amqp_e2e_latency", "p(99)"), v("amqp_confirm_latency", "p(99)"))
	if v("vus_max", "value") != 200 || v("vus", "max") != 200 {
		t.Errorf("vus_max %v, vus max %v", v("vus_max", "value"), v("vus", "max"))
	}
	// Every publish was confirmed (the iterations in flight at the end had
	// gracefulStop to finish) and consumed, and 200 connections were made.
	if v("amqp_published", "count") != v("amqp_confirmed", "count") || v("amqp_published", "count") < 200*5 {
		t.Errorf("published %v, confirmed %v", v("amqp_published", "count"), v("amqp_confirmed", "count"))
	}
	if v("amqp_e2e_latency", "count") < v("amqp_published", "count")*0.9 {
		t.Errorf("e2e samples %v for %v published", v("amqp_e2e_latency", "count"), v("amqp_published", "count"))
	}
	if v("amqp_rpc_duration{method:confirm_select}", "count") != 200 {
		t.Errorf("confirm_select rpc count %v", v("amqp_rpc_duration{method:confirm_select}", "count"))
	}
	// No connection of the run is left on the broker.
	waitNoConnections(t, "amqpjs-200-vus-")
}

func waitNoConnections(t *testing.T, prefix string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := rabbitmqConnectionNames()
		if err != nil {
			t.Logf("cannot list connections: %v", err)
			return
		}
		if !strings.Contains(out, prefix) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("connections %s* still open", prefix)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestIntegrationE2EHeader: publishes of a scenario carry x-amqpjs-sent-at
// (a script's own value is kept); --no-e2e-header leaves it out.
func TestIntegrationE2EHeader(t *testing.T) {
	path := WriteScript(t, "e2e.js", `
import * as aioamqp from 'aioamqp';
import { check } from 'amqpjs/metrics';
const on = process.env.E2E === 'on';
export const options = { iterations: 4, thresholds: { checks: ['rate==1'] } };
let channel, queue;
export default async function () {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    queue = (await channel.queue_declare('', { exclusive: true })).queue;
  }
  const own = __ITER % 2 === 1;
  const headers = own ? { 'x-amqpjs-sent-at': 42, app: 'x' } : { app: 'x' };
  await channel.publish('m', '', queue, { properties: { headers } });
  let m;
  for (let i = 0; i < 100 && !m; i++) {
    try { m = await channel.basic_get(queue, { no_ack: true }); } catch (e) { await new Promise((r) => setTimeout(r, 10)); }
  }
  const h = m.properties.headers;
  check(h, {
    'script headers kept': (h) => h.app === 'x',
    'the header as expected': (h) => own ? Number(h['x-amqpjs-sent-at']) === 42
      : on ? Math.abs(Number(h['x-amqpjs-sent-at']) / 1e6 - Date.now()) < 60000 : !('x-amqpjs-sent-at' in h),
  });
}`)
	for _, mode := range []string{"on", "off"} {
		sum := filepath.Join(t.TempDir(), "summary.json")
		args := []string{"run", "--quiet", "--summary-export", sum}
		if mode == "off" {
			args = append(args, "--no-e2e-header")
		}
		res := Run(t, Opts{Args: append(args, path), Env: []string{"AMQP_URL=" + aioamqpURL(), "E2E=" + mode}})
		if res.Code != 0 {
			t.Fatalf("%s: %s", mode, res)
		}
		s := readExport(t, sum)
		// With the header: 2 of the 4 messages carry our time (the other 2
		// the script's 42, far in the past: recorded too, as latency).
		n := s.Metrics["amqp_e2e_latency"].Values["count"]
		if want := map[string]float64{"on": 4, "off": 2}[mode]; n != want {
			t.Errorf("%s: %v e2e samples, want %v", mode, n, want)
		}
	}
}

// rabbitmqConnectionNames lists the client properties of the broker's
// connections, one line each.
func rabbitmqConnectionNames() (string, error) {
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "client_properties").CombinedOutput()
	return string(out), err
}

// namedScenariosSrc has a producers scenario (arrival rate, confirms) and
// a consumers scenario (VUs) on one queue, with thresholds on each; FAIL=1
// makes a shorter run with one more threshold, which fails: the consumers
// published nothing, though amqp_published as a whole passes the same.
const namedScenariosSrc = `
import * as aioamqp from 'aioamqp';
import { setTimeout as sleep } from 'timers/promises';
const short = process.env.FAIL === '1';
export const options = {
  scenarios: {
    producers: { executor: 'constant-arrival-rate', exec: 'produce', rate: 100, duration: short ? '1s' : '2s', preAllocatedVUs: 4, maxVUs: 10 },
    consumers: { executor: 'constant-vus', exec: 'consume', vus: 2, duration: short ? '1s' : '3s', tags: { role: 'worker' } },
  },
  thresholds: Object.assign({
    'amqp_published{scenario:producers}': ['count>=100'],
    'amqp_consumed{scenario:consumers}': ['count>=100'],
    'amqp_consumed{role:worker}': ['count>=100'],
    amqp_published: ['count>0'],
  }, short ? { 'amqp_published{scenario:consumers}': ['count>0'] } : {}),
};
export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  const queue = 'amqpjs.named-scenarios.' + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
  await channel.queue_declare(queue);
  await protocol.close();
  transport.close();
  return { queue };
}
let channel;
export async function produce({ queue }) {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  await channel.publish('m', '', queue);
}
export async function consume({ queue }) {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.basic_consume((body, envelope, properties, ch) => ch.basic_client_ack(envelope.delivery_tag), { queue_name: queue });
  }
  await sleep(100);
}
export async function teardown({ queue }) {
  const [transport, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await ch.queue_delete(queue);
  await protocol.close();
  transport.close();
  console.log('done');
}`

// TestIntegrationNamedScenarios: producers at an arrival rate and
// consumers as VUs in one run through the binary: a summary line per
// scenario, thresholds on one scenario's samples that pass, then one that
// fails (exit 99); the scenario tag in the JSON summary and time series.
func TestIntegrationNamedScenarios(t *testing.T) {
	path := WriteScript(t, "named.js", namedScenariosSrc)
	dir := t.TempDir()
	sum, series := filepath.Join(dir, "summary.json"), filepath.Join(dir, "series.jsonl")
	res := Run(t, Opts{Args: []string{"run", "--summary-export", sum, "--out", "json=" + series, path}, Env: []string{"AMQP_URL=" + aioamqpURL()}, Timeout: 2 * time.Minute})
	if res.Code != 0 || res.Stdout != "done\n" {
		t.Fatalf("named scenarios: %s", res)
	}
	for _, want := range []string{
		"scenarios: 2, ran ",
		"producers  constant-arrival-rate, 100 iterations per 1s for 2s (VUs: 4 pre-allocated, max 10), exec produce; done in ",
		"consumers  constant-vus, 2 VUs for 3s, exec consume; done in ",
		"✓ amqp_published{scenario:producers}", "✓ amqp_consumed{scenario:consumers}", "✓ amqp_consumed{role:worker}",
		"| producers running ", "| consumers running ", // the progress lines
	} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, res.Stderr)
		}
	}
	s := readExport(t, sum)
	v := func(m, k string) float64 { return s.Metrics[m].Values[k] }
	pub, cons := v("amqp_published{scenario:producers}", "count"), v("amqp_consumed{role:worker,scenario:consumers}", "count")
	t.Logf("producers published %v, consumers consumed %v; iterations %v + %v", pub, cons, v("iterations{scenario:producers}", "count"), v("iterations{role:worker,scenario:consumers}", "count"))
	// Every message published was consumed (the consumers outlast the
	// producers by a second), and all by the consumers scenario.
	if pub < 100 || pub != v("amqp_published", "count") || cons != pub || v("amqp_consumed", "count") != cons {
		t.Errorf("published %v (all %v), consumed %v (all %v)", pub, v("amqp_published", "count"), cons, v("amqp_consumed", "count"))
	}
	if v("iterations{scenario:producers}", "count")+v("dropped_iterations{scenario:producers}", "count") != 200 {
		t.Errorf("producers: %v iterations + %v dropped, want 200 due", v("iterations{scenario:producers}", "count"), v("dropped_iterations{scenario:producers}", "count"))
	}
	// The time series has points per scenario.
	b, err := os.ReadFile(series)
	if err != nil {
		t.Fatal(err)
	}
	var tagged float64
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p struct {
			Metric string            `json:"metric"`
			Tags   map[string]string `json:"tags"`
			Value  float64           `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if p.Metric == "amqp_published" && p.Tags["scenario"] == "producers" {
			tagged += p.Value
		}
	}
	if tagged != pub {
		t.Errorf("time series: amqp_published{scenario:producers} adds up to %v, summary %v", tagged, pub)
	}

	res = Run(t, Opts{Args: []string{"run", "--quiet", path}, Env: []string{"AMQP_URL=" + aioamqpURL(), "FAIL=1"}, Timeout: 2 * time.Minute})
	if res.Code != 99 || res.Stdout != "done\n" {
		t.Fatalf("a failing tagged threshold: want exit 99\n%s", res)
	}
	if !strings.Contains(res.Stderr, "✗ amqp_published{scenario:consumers}") || !strings.Contains(res.Stderr, "✓ amqp_published ") {
		t.Errorf("summary:\n%s", res.Stderr)
	}
}
