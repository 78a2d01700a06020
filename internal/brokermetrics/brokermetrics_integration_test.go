//go:build integration && unix

package brokermetrics

import (
	"context"
	"encoding/json"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// BenchmarkSample is one sample against the broker's management API (a
// queue list filtered by a pattern, and the nodes): what options.rabbitmq
// costs the run per interval, on its own goroutine.
//
//	go test -tags integration -run '^$' -bench Sample ./internal/brokermetrics
func BenchmarkSample(b *testing.B) {
	d, err := bindings.DefaultsFromURL(os.Getenv("AMQP_URL"))
	if err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	sm, err := Option(bindings.ManagementConfig(d, ""), "").New(json.RawMessage(`{"queues":["/^amqpjs\\./"]}`), reg)
	if err != nil {
		b.Fatal(err)
	}
	defer sm.Close()
	ctx := context.Background()
	if err := sm.Sample(ctx, reg); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	for range b.N {
		if err := sm.Sample(ctx, reg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// The client's CPU per sample (the rest of ns/op is the API's latency).
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	if reg.Get(MetricNodeMemUsed).Root().Stats().Max <= 0 {
		b.Fatal("no rabbitmq_node_mem_used sample")
	}
}

// processCPU is this process's user + system time.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
