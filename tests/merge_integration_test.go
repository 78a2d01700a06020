//go:build integration

package tests

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Three instances of scripts/load-pubsub.js run at once against RabbitMQ
// with --execution-segment and --out json=, then `amqpjs merge` makes the
// whole run's summary and report: the AMQP counters (in total and per
// scenario) add up, the end-to-end latency percentiles are those of every
// delivery of the three, and the thresholds are judged on the merged data.
func TestMergeInstancesAgainstRabbitMQ(t *testing.T) {
	script := filepath.Join(repoRoot, "scripts", "load-pubsub.js")
	dir := t.TempDir()
	// The instances share one queue (the script's $QUEUE), which the one at
	// 0 declares and deletes, and start together.
	queue := fmt.Sprintf("amqpjs-merge-pubsub-%d", time.Now().UnixNano())
	at := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	var procs []*Proc
	var sums, series []string
	for i, seg := range mergeSegments {
		sum, jl := filepath.Join(dir, fmt.Sprintf("summary%d.json", i)), filepath.Join(dir, fmt.Sprintf("series%d.jsonl", i))
		sums, series = append(sums, sum), append(series, jl)
		procs = append(procs, Start(t, Opts{Args: []string{"run", "--quiet", "--execution-segment", seg, "--start-at", at, "--summary-export", sum, "--out", "json=" + jl, script},
			Env: []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + queue}, Timeout: 2 * time.Minute}))
	}
	for i, p := range procs {
		// 99: a loaded machine can miss the producers' rate threshold.
		if res := p.Wait(); res.Code != 0 && res.Code != 99 {
			t.Fatalf("instance %d:\n%s", i, res)
		}
	}
	report := filepath.Join(dir, "whole.html")
	merged := filepath.Join(dir, "whole.json")
	res := RunArgs(t, append([]string{"merge", "--summary-export", merged, "--out", "html=" + report}, series...)...)
	if res.Code != 0 && res.Code != 99 {
		t.Fatalf("merge:\n%s", res)
	}
	for _, want := range []string{"scenarios: 2, ran ", "    producers  constant-arrival-rate", "amqp_published", "amqp_e2e_latency", "p(95)<1000  p(95)="} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("merged summary lacks %q\n%s", want, res)
		}
	}
	if st, err := os.Stat(report); err != nil || st.Size() < 10000 {
		t.Errorf("report: %v", err)
	}

	var parts []exportDoc
	for _, s := range sums {
		parts = append(parts, readExport(t, s))
	}
	m := readExport(t, merged)
	for _, key := range []string{"amqp_published", "amqp_published{scenario:producers}", "amqp_consumed", "acked", "iterations", "amqp_e2e_latency", "amqp_confirm_latency"} {
		var count int64
		var sum float64
		for _, p := range parts {
			count += p.Metrics[key].Data.Count
			sum += p.Metrics[key].Data.Sum
		}
		if got := m.Metrics[key].Data; count == 0 || got.Count != count || math.Abs(got.Sum-sum) > 1e-9*sum {
			t.Errorf("%s: merged %+v, the instances add up to %d, %v", key, got, count, sum)
		}
	}
	// One queue for the three: every message published by any instance was
	// consumed by some instance's consumer (instance 2 has none of the 2).
	if pub, acked := m.Metrics["amqp_published"].Data.Count, m.Metrics["acked"].Data.Count; acked != pub {
		t.Errorf("%d published, %d acked by the consumers of the three", pub, acked)
	}
	all := mergeSamples(t, parts, "amqp_e2e_latency")
	for _, pc := range []float64{90, 95, 99} {
		want := all.percentile(pc)
		if got := m.Metrics["amqp_e2e_latency"].Values[fmt.Sprintf("p(%v)", pc)]; got != want {
			t.Errorf("amqp_e2e_latency p(%v): merged %v, all deliveries %v", pc, got, want)
		}
	}
	// The verdicts are those of the merged values; the exit code follows.
	failed := false
	for _, th := range m.Thresholds {
		failed = failed || !th.OK
		switch th.Metric + " " + th.Threshold {
		case "amqp_e2e_latency p(95)<1000":
			if v := m.Metrics["amqp_e2e_latency"].Values["p(95)"]; th.Value != v || th.OK != (v < 1000) {
				t.Errorf("threshold %+v on p(95) %v", th, v)
			}
		case "errors count==0":
			if v := m.Metrics["errors"].Values["count"]; th.Value != v || th.OK != (v == 0) {
				t.Errorf("threshold %+v on errors %v", th, v)
			}
		}
	}
	if failed != (res.Code == 99) || failed != m.ThresholdsFailed {
		t.Errorf("a threshold failed: %v; exit %d; thresholds_failed %v", failed, res.Code, m.ThresholdsFailed)
	}
	t.Logf("merged: %v published, %v acked, e2e p95 %.2f ms over %d deliveries", m.Metrics["amqp_published"].Values["count"], m.Metrics["acked"].Values["count"],
		m.Metrics["amqp_e2e_latency"].Values["p(95)"], m.Metrics["amqp_e2e_latency"].Data.Count)
}
