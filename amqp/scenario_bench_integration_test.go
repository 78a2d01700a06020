//go:build integration

package amqp_test

// BenchmarkIntegrationScenarioPublish10VUs compares the publish rate that
// one process sustains with 10 publishing VUs of a scenario (JavaScript, the
// aioamqp bindings, this package) with raw amqp091-go: 10 goroutines, each
// with its own connection and channel, publishing in a loop, in the same
// run. It lives here because only this directory may import amqp091-go
// (this is the external test package amqp_test, which may also import the
// bindings and the scenario engine).
//
// Both sides publish 128-byte messages to amq.direct with a routing key
// bound to nothing (the broker drops them), without confirms, for
// benchDuration each. Two VU scripts are measured:
//
//   - batch:  each iteration publishes 100 messages (basic_publish) and
//     awaits them all: how scripts that push load are written;
//   - single: each iteration awaits one basic_publish: the cost of an
//     iteration itself.
//
// The VU side runs first, and each side starts after a pause, so that the
// broker (on the same machine) is not still busy with the other side's
// messages. The VUs record their metrics and add the e2e header, as in
// any scenario run. Reported: msgs/s of each side and vus/raw. Run:
//
//	go test -tags integration -run XXX -bench ScenarioPublish10VUs -benchtime 1x ./amqp/

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

const (
	benchVUs      = 10
	benchDuration = 3 * time.Second
	settle        = 2 * time.Second
)

func benchURL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

const vuPrelude = `
import * as aioamqp from 'aioamqp';
const body = Buffer.alloc(128, 'x');
let channel;
async function ch() {
  if (!channel) { const [, protocol] = await aioamqp.connect(); channel = await protocol.channel(); }
  return channel;
}
`

var vuScripts = map[string]string{
	"batch": vuPrelude + `
export default async function () {
  const c = await ch();
  const all = [];
  for (let i = 0; i < 100; i++) all.push(c.basic_publish(body, 'amq.direct', 'nowhere'));
  await Promise.all(all);
}`,
	"single": vuPrelude + `
export default async function () {
  await (await ch()).basic_publish(body, 'amq.direct', 'nowhere');
}`,
}

func BenchmarkIntegrationScenarioPublish10VUs(b *testing.B) {
	for _, name := range []string{"batch", "single"} {
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				// The broker shares the machine and works on after a flood:
				// let it settle before each side.
				time.Sleep(settle)
				vus := vuPublishRate(b, vuScripts[name])
				time.Sleep(settle)
				raw := rawPublishRate(b)
				b.ReportMetric(raw, "raw-msgs/s")
				b.ReportMetric(vus, "vus-msgs/s")
				b.ReportMetric(vus/raw, "vus/raw")
			}
		})
	}
}

// rawPublishRate: benchVUs goroutines with a connection each publish for
// benchDuration.
func rawPublishRate(b *testing.B) float64 {
	b.Helper()
	body := make([]byte, 128)
	var total atomic.Int64
	var wg sync.WaitGroup
	conns := make([]*amqp091.Connection, benchVUs)
	chans := make([]*amqp091.Channel, benchVUs)
	for i := range conns {
		c, err := amqp091.Dial(benchURL())
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		if chans[i], err = c.Channel(); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	deadline := start.Add(benchDuration)
	for _, ch := range chans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := amqp091.Publishing{Body: body}
			n := int64(0)
			for time.Now().Before(deadline) {
				for j := 0; j < 100; j++ {
					if err := ch.PublishWithContext(context.Background(), "amq.direct", "nowhere", false, false, msg); err != nil {
						b.Error(err)
						return
					}
				}
				n += 100
			}
			total.Add(n)
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, c := range conns {
		_ = c.Close()
	}
	return float64(total.Load()) / elapsed.Seconds()
}

// vuPublishRate runs src as a constant-vus scenario of benchVUs VUs for
// benchDuration, the way `amqpjs run` does, and returns amqp_published per
// second of the run.
func vuPublishRate(b *testing.B, src string) float64 {
	b.Helper()
	dir := b.TempDir()
	path := filepath.Join(dir, "publish.js")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	defaults, err := bindings.DefaultsFromURL(benchURL())
	if err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	newRT := func(int) (*runtime.Runtime, error) {
		rt := runtime.New(runtime.Options{})
		bindings.Register(rt, bindings.Options{Defaults: defaults})
		scenario.RegisterModule(rt, reg)
		return rt, nil
	}
	bindings.RegisterMetrics(reg)
	vus, dur := benchVUs, benchDuration
	export := filepath.Join(dir, "summary.json")
	sc := scenario.New(scenario.Options{
		Script: path, NewRuntime: newRT, Registry: reg, E2EHeader: true, SummaryExport: export,
		Overrides: scenario.Overrides{VUs: &vus, Duration: &dur},
	})
	rt, _ := newRT(0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = rt.RunFileThen(sc.Bind(ctx), path, sc.Hook(rt))
	if code := sc.Finish(rt, err); code != 0 {
		b.Fatalf("scenario exit %d: %v", code, err)
	}
	s := testutil.ReadJSON[metrics.JSONSummary](b, export)
	if s.Metrics["errors"].Values["count"] != 0 {
		b.Fatalf("iteration errors: %+v", s.Metrics["errors"])
	}
	return s.Metrics["amqp_published"].Values["count"] / (s.DurationMs / 1000)
}
