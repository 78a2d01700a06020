//go:build integration

package tests

// Broker metrics through the built binary: options.rabbitmq and
// --broker-metrics sample the management API into rabbitmq_* gauges that
// thresholds, the summary and --out json see (tests/broker.sh enables the
// management plugin).

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// brokerMetricsSrc: producers publish to QUEUE at RATE per second for
// PRODUCE; consumers take messages for CONSUME: FAST=1 with a consumer that
// keeps up, else one message at a time (prefetch 1), acked after 200 ms (5
// a second, too slow). setup() waits until the broker has statistics for
// the queue, so that the run samples it from the start. (The broker
// refreshes a queue's statistics every 5 to 10 s: the slow run lasts 15 s,
// its queue deep all along.)
const brokerMetricsSrc = `
import * as aioamqp from 'aioamqp';
import * as rabbitmq from 'amqpjs/rabbitmq';
import { setTimeout as sleep } from 'timers/promises';
const Q = __ENV.QUEUE;
const thresholds = {};
thresholds['rabbitmq_queue_messages{queue:' + Q + '}'] = ['max<' + __ENV.MAX];
export const options = {
  scenarios: {
    producers: { executor: 'constant-arrival-rate', rate: Number(__ENV.RATE), duration: __ENV.PRODUCE, preAllocatedVUs: 2, exec: 'produce' },
    consumers: { executor: 'constant-vus', vus: 1, duration: __ENV.CONSUME, exec: 'consume' },
  },
  thresholds,
};
if (!__ENV.FLAG) options.rabbitmq = { queues: [new RegExp('^' + Q + '$'), 'amqpjs-e2e-never-declared'], interval: '500ms' };

export async function setup() {
  const [, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  await channel.queue_declare(Q, { auto_delete: false });
  await channel.publish('first', '', Q);
  while (!(await rabbitmq.queue(Q)).has_stats) await sleep(200);
  await protocol.close();
}
let channel;
async function open() {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
  }
  return channel;
}
export async function produce() {
  await (await open()).publish('job', '', Q);
}
let consuming = false;
let messages;
export async function consume() {
  const ch = await open();
  if (__ENV.FAST) {
    if (!consuming) {
      consuming = true;
      await ch.basic_consume(() => {}, { queue_name: Q, no_ack: true });
    }
    await sleep(100);
    return;
  }
  if (!messages) {
    await ch.basic_qos({ prefetch_count: 1 });
    messages = await ch.consume(Q);
  }
  const { value: m } = await messages.next();
  await sleep(200);
  await m.ack();
}
export async function teardown() {
  const [, protocol] = await aioamqp.connect();
  await (await protocol.channel()).queue_delete(Q);
  await protocol.close();
  console.log('done');
}
`

type seriesPoint struct {
	Metric string            `json:"metric"`
	Tags   map[string]string `json:"tags"`
	Value  float64           `json:"value"`
}

func readSeries(t *testing.T, path string) []seriesPoint {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []seriesPoint
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p seriesPoint
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		out = append(out, p)
	}
	return out
}

// Consumers far slower than producers: the queue grows past the
// threshold's max, exit 99; the gauges are in the summary and the series.
func TestIntegrationBrokerMetricsSlowConsumers(t *testing.T) {
	q := fmt.Sprintf("amqpjs-e2e-broker-slow-%d", time.Now().UnixNano())
	path := WriteScript(t, "broker_slow.js", brokerMetricsSrc)
	dir := t.TempDir()
	sum, series := filepath.Join(dir, "summary.json"), filepath.Join(dir, "series.jsonl")
	res := Run(t, Opts{
		Args:    []string{"run", "--quiet", "--summary-export", sum, "--out", "json=" + series, path},
		Env:     []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + q, "RATE=250", "PRODUCE=2s", "CONSUME=15s", "MAX=100"},
		Timeout: 2 * time.Minute,
	})
	if res.Code != 99 || res.Stdout != "done\n" {
		t.Fatalf("slow consumers: want exit 99 from rabbitmq_queue_messages{queue:%s} max<100\n%s", q, res)
	}
	for _, want := range []string{
		"✗ rabbitmq_queue_messages{queue:" + q + "}",
		// The summary's table: each gauge, then its series by tag.
		"rabbitmq_queue_messages_unacked ", "rabbitmq_queue_consumers ", "rabbitmq_node_mem_used ",
		"{queue:" + q + "}", "{node:",
		// A name that never matched is reported once the run is over.
		"warning: options.rabbitmq: no statistics for queue 'amqpjs-e2e-never-declared'",
	} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, res.Stderr)
		}
	}
	s := readExport(t, sum)
	v := func(m string) float64 { return s.Metrics[m+"{queue:"+q+"}"].Values["max"] }
	depth := v("rabbitmq_queue_messages")
	t.Logf("deepest sample of %s: %v messages", q, depth)
	if depth < 100 || !s.ThresholdsFailed {
		t.Errorf("summary export: max depth %v, thresholds_failed %v", depth, s.ThresholdsFailed)
	}
	// The one consumer, prefetch 1: one consumer, one unacknowledged.
	if c, u := v("rabbitmq_queue_consumers"), v("rabbitmq_queue_messages_unacked"); c != 1 || u != 1 {
		t.Errorf("summary export: consumers max %v, unacked max %v; want 1 and 1", c, u)
	}
	var points, mem int
	for _, p := range readSeries(t, series) {
		switch {
		case p.Metric == "rabbitmq_queue_messages" && p.Tags["queue"] == q:
			points++
		case p.Metric == "rabbitmq_node_mem_used" && p.Value > 0:
			mem++
		}
	}
	if points < 2 || mem < 2 {
		t.Errorf("--out json: %d points of rabbitmq_queue_messages{queue:%s}, %d of rabbitmq_node_mem_used; want a few of each", points, q, mem)
	}
}

// Consumers that keep up, the queue named by --broker-metrics: the
// threshold holds, exit 0, and the gauges are in the summary.
func TestIntegrationBrokerMetricsFlag(t *testing.T) {
	q := fmt.Sprintf("amqpjs-e2e-broker-fast-%d", time.Now().UnixNano())
	path := WriteScript(t, "broker_fast.js", brokerMetricsSrc)
	sum := filepath.Join(t.TempDir(), "summary.json")
	res := Run(t, Opts{
		Args:    []string{"run", "--quiet", "--broker-metrics", "amqpjs-e2e-unrelated," + q, "--summary-export", sum, path},
		Env:     []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + q, "RATE=20", "PRODUCE=6s", "CONSUME=6s", "MAX=50", "FAST=1", "FLAG=1"},
		Timeout: 2 * time.Minute,
	})
	if res.Code != 0 || res.Stdout != "done\n" {
		t.Fatalf("consumers that keep up: want exit 0\n%s", res)
	}
	for _, want := range []string{"✓ rabbitmq_queue_messages{queue:" + q + "}", "rabbitmq_node_mem_used ", "rabbitmq_queue_consumers ", "{queue:" + q + "}"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, res.Stderr)
		}
	}
	s := readExport(t, sum)
	for _, m := range []string{"rabbitmq_queue_messages", "rabbitmq_queue_messages_unacked", "rabbitmq_queue_consumers"} {
		if _, ok := s.Metrics[m+"{queue:"+q+"}"].Values["max"]; !ok {
			t.Errorf("summary export lacks %s{queue:%s}", m, q)
		}
	}
	if s.Metrics["rabbitmq_node_mem_used"].Values["max"] <= 0 {
		t.Errorf("summary export: rabbitmq_node_mem_used %v", s.Metrics["rabbitmq_node_mem_used"].Values)
	}
}

// Bad broker-metrics configurations are usage errors (exit 2) naming the
// key; an unreachable management API only warns.
func TestIntegrationBrokerMetricsConfig(t *testing.T) {
	for _, tc := range []struct {
		name, opts string
		args       []string
		code       int
		want       string
	}{
		{"unknown key", `{ queues: ['a'], intervall: '1s' }`, nil, 2, `options: rabbitmq: unknown option "intervall" (expected one of: queues, interval, vhost)`},
		{"bad interval", `{ queues: ['a'], interval: '10ms' }`, nil, 2, "options: rabbitmq: interval: must be at least 100ms"},
		{"bad pattern", `{ queues: [/(?<=a)b/] }`, nil, 2, "options: rabbitmq: queues: pattern /(?<=a)b/ is not one Go's regexp package (RE2) accepts"},
		{"bad flag", `undefined`, []string{"--broker-metrics", "/open"}, 2, `options: rabbitmq: --broker-metrics: pattern "/open" has no closing '/'`},
		{"unreachable", `{ queues: ['a'] }`, []string{"--management-url", "http://127.0.0.1:1"}, 0, "warning: options.rabbitmq: cannot reach the RabbitMQ management API at http://127.0.0.1:1/api/queues/%2F: connection refused;"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := WriteScript(t, "broker_cfg.js", `export const options = { iterations: 1, rabbitmq: `+tc.opts+` };
export default async function () { await new Promise((r) => setTimeout(r, 300)); }`)
			res := Run(t, Opts{Args: append(append([]string{"run", "--quiet"}, tc.args...), path), Env: []string{"AMQP_URL=" + aioamqpURL()}})
			if res.Code != tc.code || !strings.Contains(res.Stderr, tc.want) {
				t.Errorf("want exit %d and %q\n%s", tc.code, tc.want, res)
			}
			if tc.code == 0 && (strings.Count(res.Stderr, "cannot reach") != 1 || !strings.Contains(res.Stderr, "rabbitmq-plugins enable rabbitmq_management")) {
				t.Errorf("want the warning once, with how to enable the plugin\n%s", res)
			}
		})
	}
	res := Run(t, Opts{Args: []string{"run", "--management-url", "localhost:15672", WriteScript(t, "plain.js", "")}})
	if res.Code != 2 || !strings.Contains(res.Stderr, "amqpjs run: --management-url: invalid management URL \"localhost:15672\": the scheme must be http or https") {
		t.Errorf("a bad --management-url: want exit 2\n%s", res)
	}
}
