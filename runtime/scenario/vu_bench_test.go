package scenario

import (
	"context"
	"os"
	"path/filepath"
	goruntime "runtime"
	"testing"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// idleVUBytes makes n VUs of a scenario script that imports aioamqp and
// amqpjs/metrics (a VU's runtime as main makes it) and returns the heap
// they hold once ready and idle, per VU.
func idleVUBytes(tb testing.TB, n int) float64 {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "idle.js")
	src := `import * as aioamqp from 'aioamqp';
import { Counter, check } from 'amqpjs/metrics';
const sent = new Counter('sent');
let channel;
export default async function () {
  if (!channel) { const [, protocol] = await aioamqp.connect(); channel = await protocol.channel(); }
  await channel.publish('x', '', 'q');
  sent.add(1);
}`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	reg := metrics.NewRegistry()
	bindings.RegisterMetrics(reg)
	newRT := func(int) (*runtime.Runtime, error) {
		rt := runtime.New(runtime.Options{})
		bindings.Register(rt, bindings.Options{})
		RegisterModule(rt, reg)
		return rt, nil
	}
	s := New(Options{Script: path, NewRuntime: newRT, Registry: reg})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Config{Name: DefaultName, Exec: "default"}
	e := s.newEngine(ctx, &share{global: c, cfg: c, ids: []int{1}})
	defer close(e.over)
	// One VU first, so that what all VUs share (compiled built-ins, the
	// transform's caches) is not counted per VU.
	if _, err := e.makeVUs(); err != nil {
		tb.Fatal(err)
	}
	e.sh.ids = nil
	for i := range n {
		e.sh.ids = append(e.sh.ids, 2+i)
	}
	before := testutil.HeapInUse()
	vus, err := e.makeVUs()
	if err != nil {
		tb.Fatal(err)
	}
	after := testutil.HeapInUse()
	goruntime.KeepAlive(vus)
	e.stopAll()
	return float64(int64(after)-int64(before)) / float64(n)
}

// BenchmarkIdleVUMemory reports the heap held per idle VU (target ≤ 1 MB).
func BenchmarkIdleVUMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		b.ReportMetric(idleVUBytes(b, 50), "heap-B/VU")
	}
}

// TestIdleVUMemory keeps the per-VU heap under a loose bound (twice the
// 1 MB target, for noise and -race).
func TestIdleVUMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	if got := idleVUBytes(t, 20); got > 2<<20 {
		t.Fatalf("an idle VU holds %.0f bytes of heap", got)
	}
}
