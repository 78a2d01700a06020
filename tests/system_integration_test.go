//go:build integration

package tests

// The whole of issue #16 in one run, through the built binary against
// RabbitMQ: scripts/chaos.js (producers at an arrival rate, consumers as
// VUs, a chaos scenario at its startTime cutting, slowing and stalling
// their connections) sampled by --broker-metrics. The run passes its tagged
// thresholds (nothing confirmed is lost), the summary has a line per
// scenario and the broker's gauges per queue, and --out json= carries the
// faults as events. (The failing side, a queue-depth threshold giving exit
// 99 when consumers are too slow, is TestIntegrationBrokerMetricsSlowConsumers.)

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSystemChaosWithBrokerMetrics(t *testing.T) {
	dir := t.TempDir()
	jsonl := filepath.Join(dir, "run.jsonl")
	res := Run(t, Opts{
		Args: []string{"run", "--quiet", "--broker-metrics", `/^amqpjs\.chaos\./`,
			"--out", "json=" + jsonl, filepath.Join(repoRoot, "scripts", "chaos.js")},
		Env:     []string{"AMQP_URL=" + aioamqpURL()},
		Timeout: 2 * time.Minute,
	})
	if res.Code != 0 {
		t.Fatalf("exit %d, want 0\n%s", res.Code, res)
	}
	out := res.Stdout + res.Stderr
	for _, want := range []string{
		"scenarios: 3, ran ",
		"    producers  constant-arrival-rate",
		"    consumers  constant-vus",
		"    chaos      per-vu-iterations",
		"startTime 1s, exec chaos",
		"teardown: every confirmed message was consumed or is still queued",
		"rabbitmq_queue_messages ",
		"{queue:amqpjs.chaos.",
		"rabbitmq_node_mem_used",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the run's output lacks %q\n%s", want, res)
		}
	}

	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	events := map[string]int{}
	gaugeQueues := map[string]bool{}
	lostSeen := false
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var l struct {
			Type    string            `json:"type"`
			Event   string            `json:"event"`
			Metric  string            `json:"metric"`
			Tags    map[string]string `json:"tags"`
			Summary *struct {
				Thresholds []struct {
					Metric, Threshold string
					OK                bool
				} `json:"thresholds"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		switch {
		case l.Type == "event":
			events[l.Event]++
			if l.Tags["scenario"] != "chaos" || l.Tags["target_scenario"] == "" {
				t.Errorf("event without the chaos scenario and its target: %s", sc.Text())
			}
		case l.Metric == "rabbitmq_queue_messages" && strings.HasPrefix(l.Tags["queue"], "amqpjs.chaos."):
			gaugeQueues[l.Tags["queue"]] = true
		case l.Summary != nil: // the run line, last: the summary and the verdicts
			for _, th := range l.Summary.Thresholds {
				if !th.OK {
					t.Errorf("threshold %s %s failed", th.Metric, th.Threshold)
				}
				if th.Metric == "lost" && th.Threshold == "count==0" {
					lostSeen = true
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	// chaos.js cuts twice, sets latency and bandwidth, clears, and stalls.
	for _, ev := range []string{"fault.cut", "fault.latency", "fault.bandwidth", "fault.clear", "fault.stall"} {
		if events[ev] == 0 {
			t.Errorf("no %s event in --out json (events: %v)", ev, events)
		}
	}
	if events["fault.cut"] != 2 {
		t.Errorf("%d fault.cut events, want 2", events["fault.cut"])
	}
	if len(gaugeQueues) != 3 { // the queue, .confirmed and .consumed
		t.Errorf("rabbitmq_queue_messages sampled for %v, want the chaos run's three queues", gaugeQueues)
	}
	if !lostSeen {
		t.Error("the run line of --out json has no verdict on lost: ['count==0']")
	}
}
