// Not under WebAssembly: the fake broker's TCP listener.
//go:build !js && !wasip1

package bindings

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/cpuusage"
	"github.com/amqpjs/amqpjs/internal/fakebroker"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// BenchmarkPublishMetrics is BenchmarkPublishBindingNoAwait in a scenario
// run's runtime: every publish records amqp_published and
// amqp_publish_bytes. "root" records into the metrics' untagged series (a
// runtime without metric tags); "scenario-tag" into the series of the
// runtime's metric tags, {scenario:default}, which also count in the root
// (what every scenario VU does).
//
//	go test -run XXX -bench PublishMetrics -count 10 ./bindings/
func BenchmarkPublishMetrics(b *testing.B) {
	benchPublishMetrics(b, `
startTimer();
let last;
for (let i = 0; i < N; i++) last = ch.basic_publish(body, '', 'q');
await last;
stopTimer();
await protocol.close();
`)
}

// BenchmarkPublishConfirmMetrics is BenchmarkPublishConfirmWindow with
// metrics as BenchmarkPublishMetrics: each publish also records
// amqp_confirmed and amqp_confirm_latency (a trend).
func BenchmarkPublishConfirmMetrics(b *testing.B) {
	benchPublishMetrics(b, `
await ch.confirm_select();
const W = 10000, ring = new Array(Math.min(W, N));
startTimer();
for (let i = 0; i < N; i++) {
  const k = i % W;
  if (i >= W) await ring[k];
  ring[k] = ch.publish(body, '', 'q');
}
await Promise.all(ring);
stopTimer();
await protocol.close();
`)
}

func benchPublishMetrics(b *testing.B, script string) {
	for _, c := range []struct {
		name string
		tags metrics.Tags
	}{{"root", nil}, {"scenario-tag", metrics.Tags{{Key: "scenario", Value: "default"}}}} {
		b.Run(c.name, func(b *testing.B) {
			srv, err := fakebroker.Start()
			if err != nil {
				b.Fatal(err)
			}
			defer srv.Close()
			rt := runtime.New(runtime.Options{Stdout: io.Discard, Stderr: os.Stderr})
			Register(rt, Options{})
			reg := metrics.NewRegistry()
			rt.SetMetricTags(c.tags)
			rt.SetMetrics(reg)
			vm := rt.VM()
			var cpu0 time.Duration
			_ = vm.Set("N", b.N)
			_ = vm.Set("URL", srv.URL())
			_ = vm.Set("startTimer", func() {
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 = cpuusage.Total()
			})
			_ = vm.Set("stopTimer", func() {
				b.StopTimer()
				b.ReportMetric(float64(cpuusage.Total()-cpu0)/float64(b.N), "cpu-ns/op")
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			if _, err := rt.RunSource(ctx, "bench.js", benchPrelude+script); err != nil {
				b.Fatal(rt.FormatError(err))
			}
			if got := reg.Get(MetricPublished).Root().Stats().Sum; got != float64(b.N) {
				b.Fatalf("amqp_published %v, want %d", got, b.N)
			}
			if len(c.tags) > 0 && reg.Get(MetricPublished).Series(c.tags).Stats().Sum != float64(b.N) {
				b.Fatal("the tagged series missed publishes")
			}
		})
	}
}
