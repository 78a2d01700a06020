package merge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// realisticExport is the --summary-export document of instance i of n: 20
// metrics as a scenario run against RabbitMQ has them (counters, rates,
// gauges, latency trends with per-queue sub-series), each trend with
// thousands of distinct values, and thresholds.
func realisticExport(tb testing.TB, i, n int) []byte {
	reg := metrics.NewRegistry()
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	queues := []metrics.Tags{{{Key: "queue", Value: "orders"}}, {{Key: "queue", Value: "events"}}}
	for k := 0; k < 5; k++ { // latency trends, ~4000 samples each, to the microsecond
		m := reg.MustNew(fmt.Sprintf("latency_%d", k), metrics.Trend, metrics.Time)
		for j := 0; j < 4000; j++ {
			m.Series(queues[j%2]).Add(math.Round(rng.ExpFloat64()*(5+float64(k))*1000) / 1000)
		}
	}
	for k := 0; k < 8; k++ {
		m := reg.MustNew(fmt.Sprintf("counter_%d", k), metrics.Counter, metrics.Data)
		for j := 0; j < 50; j++ {
			m.Series(queues[j%2]).Add(float64(rng.IntN(4096)))
		}
	}
	for k := 0; k < 3; k++ {
		m := reg.MustNew(fmt.Sprintf("rate_%d", k), metrics.Rate, metrics.Default)
		for j := 0; j < 500; j++ {
			m.Series(queues[j%2]).Add(float64(rng.IntN(10) % 9))
		}
	}
	for k := 0; k < 4; k++ {
		m := reg.MustNew(fmt.Sprintf("gauge_%d", k), metrics.Gauge, metrics.Default)
		for j := 0; j < 20; j++ {
			m.Add(float64(rng.IntN(100)))
		}
	}
	if err := reg.AddThresholds([]metrics.ThresholdSpec{
		{Selector: "latency_0", Source: "p(95)<50"}, {Selector: "latency_1{queue:orders}", Source: "p(99)<100"},
		{Selector: "rate_0", Source: "rate>0.8"}, {Selector: "counter_0", Source: "count>0"},
	}); err != nil {
		tb.Fatal(err)
	}
	reg.EvalThresholds(time.Minute)
	js := reg.Summarize(time.Minute).JSON()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	js.Run = &metrics.RunInfo{ID: fmt.Sprint("run", i), Script: "load.js", ScriptSHA256: "f00d", Segment: fmt.Sprintf("%d/%d:%d/%d", i, n, i+1, n),
		Start: t0, End: t0.Add(time.Minute), Options: json.RawMessage(`{"Scenarios":[{"Executor":"constant-arrival-rate","Rate":5000}]}`)}
	b, err := json.Marshal(js)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// BenchmarkMerge100 reads and merges the summary exports of 100 instances
// (the issue asks for under a second). It reports the CPU time per merge
// too: on a machine shared with other work the wall time is longer.
func BenchmarkMerge100(b *testing.B) {
	const n = 100
	docs := make([][]byte, n)
	size := 0
	for i := range docs {
		docs[i] = realisticExport(b, i, n)
		size += len(docs[i])
	}
	cpu0, ops := cpuTime(), 0
	for b.Loop() {
		ops++
		ins := make([]*Input, n)
		for i, d := range docs {
			in, err := Read(bytes.NewReader(d), fmt.Sprint("instance", i), true)
			if err != nil {
				b.Fatal(err)
			}
			ins[i] = in
		}
		res, err := Merge(ins)
		if err != nil {
			b.Fatal(err)
		}
		if res.Registry.Get("latency_0").Root().Stats().Count != n*4000 {
			b.Fatal("lost samples")
		}
	}
	b.ReportMetric(float64(size)/n, "bytes/export")
	if cpu := cpuTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(ops), "cpu-ns/op") // every thread: the GC's too
	}
}
