// Not under WebAssembly: the fake broker's TCP listener.
//go:build !js && !wasip1

package bindings

import (
	"io"
	"os"
	"testing"

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
	benchPublishMetrics(b, noAwaitScript)
}

// BenchmarkPublishConfirmMetrics is BenchmarkPublishConfirmWindow with
// metrics as BenchmarkPublishMetrics: each publish also records
// amqp_confirmed and amqp_confirm_latency (a trend).
func BenchmarkPublishConfirmMetrics(b *testing.B) {
	benchPublishMetrics(b, confirmWindowScript)
}

func benchPublishMetrics(b *testing.B, script string) {
	for _, c := range []struct {
		name string
		tags metrics.Tags
	}{{"root", nil}, {"scenario-tag", metrics.Tags{{Key: "scenario", Value: "default"}}}} {
		b.Run(c.name, func(b *testing.B) {
			rt := runtime.New(runtime.Options{Stdout: io.Discard, Stderr: os.Stderr})
			Register(rt, Options{})
			reg := metrics.NewRegistry()
			rt.SetMetricTags(c.tags)
			rt.SetMetrics(reg)
			benchScriptIn(b, rt, benchPrelude+script, nil)
			if got := reg.Get(MetricPublished).Root().Stats().Sum; got != float64(b.N) {
				b.Fatalf("amqp_published %v, want %d", got, b.N)
			}
			if len(c.tags) > 0 && reg.Get(MetricPublished).Series(c.tags).Stats().Sum != float64(b.N) {
				b.Fatal("the tagged series missed publishes")
			}
		})
	}
}
