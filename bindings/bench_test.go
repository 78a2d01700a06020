// Not under WebAssembly: the fake broker's TCP listener.
//go:build !js && !wasip1

package bindings

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/cpuusage"
	"github.com/amqpjs/amqpjs/internal/fakebroker"
	"github.com/amqpjs/amqpjs/runtime"
)

// The hot paths of the bindings, measured against an in-process fake broker
// (internal/fakebroker), so that the numbers are the client's alone. Each
// benchmark runs a script that connects, calls startTimer(), does b.N
// operations and calls stopTimer(). Reported beside ns/op: cpu-ns/op, the
// process's CPU time per operation (the fake broker's share included; it
// only parses frames into a reused buffer).
//
//	go test -run XXX -bench . -benchmem ./bindings/

// benchScript runs src with N, URL, startTimer() and stopTimer() as
// globals, in a runtime with the bindings. during, if not nil, runs on its
// own goroutine once the timer started (e.g. pushing deliveries).
func benchScript(b *testing.B, src string, during func(srv *fakebroker.Server)) {
	b.Helper()
	rt := runtime.New(runtime.Options{Stdout: io.Discard, Stderr: os.Stderr})
	Register(rt, Options{})
	benchScriptIn(b, rt, src, during)
}

// benchScriptIn is benchScript in rt, which has the bindings registered.
func benchScriptIn(b *testing.B, rt *runtime.Runtime, src string, during func(srv *fakebroker.Server)) {
	b.Helper()
	srv, err := fakebroker.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	vm := rt.VM()
	var cpu0 time.Duration
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(vm.Set("N", b.N))
	must(vm.Set("URL", srv.URL()))
	must(vm.Set("startTimer", func() {
		if during != nil {
			go during(srv)
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu0 = cpuusage.Total()
	}))
	must(vm.Set("stopTimer", func() {
		b.StopTimer()
		b.ReportMetric(float64(cpuusage.Total()-cpu0)/float64(b.N), "cpu-ns/op")
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := rt.RunSource(ctx, "bench.js", src); err != nil {
		b.Fatal(rt.FormatError(err))
	}
}

const benchPrelude = `
const aioamqp = require('aioamqp');
const [transport, protocol] = await aioamqp.from_url(URL);
const ch = await protocol.channel();
const body = Buffer.alloc(100, 'x');
`

// BenchmarkPublishBinding is a script's await ch.publish(...) loop: the
// publish binding (arguments, payload, promise) and the amqp fast path
// (frames encoded into the write buffer, flushed once per loop turn).
func BenchmarkPublishBinding(b *testing.B) {
	benchScript(b, benchPrelude+`
startTimer();
for (let i = 0; i < N; i++) await ch.publish(body, '', 'q');
stopTimer();
await protocol.close();
`, nil)
}

// BenchmarkPublishBindingNoAwait publishes without awaiting each call.
func BenchmarkPublishBindingNoAwait(b *testing.B) {
	benchScript(b, benchPrelude+noAwaitScript, nil)
}

// noAwaitScript publishes N messages and awaits the last one only.
const noAwaitScript = `
startTimer();
let last;
for (let i = 0; i < N; i++) last = ch.basic_publish(body, '', 'q');
await last;
stopTimer();
await protocol.close();
`

// BenchmarkPublishConfirmWindow publishes in confirm mode with 10 000
// publishes in flight (the fake broker acks each burst with one multiple
// ack): per publish, a promise settled from the reader goroutine.
func BenchmarkPublishConfirmWindow(b *testing.B) {
	benchScript(b, benchPrelude+confirmWindowScript, nil)
}

// confirmWindowScript publishes N messages in confirm mode, at most 10 000
// unconfirmed.
const confirmWindowScript = `
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
`

// deliverAll pushes N deliveries of 100 bytes to the first consumer.
func deliverAll(n int) func(srv *fakebroker.Server) {
	return func(srv *fakebroker.Server) {
		k := srv.NextConsumer()
		_ = k.Deliver(n, make([]byte, 100))
	}
}

// dispatchScript consumes from 'q' with callback and options; callback calls
// resolve() at the N-th delivery. The timer starts once the consumer is on.
func dispatchScript(callback, options string) string {
	return benchPrelude + `
let got = 0;
const done = new Promise((resolve) => {
  ch.basic_consume(` + callback + `, ` + options + `).then(() => startTimer());
});
await done;
stopTimer();
await protocol.close();
`
}

// BenchmarkDeliveryDispatch is delivery dispatch: the tap assembles each
// basic.deliver, the consumer batches them onto the loop, and pump builds
// body, envelope and properties and calls the JS callback (no_ack_window 0:
// the broker's own no_ack, nothing written back).
func BenchmarkDeliveryDispatch(b *testing.B) {
	benchScript(b, dispatchScript(`(body, envelope, properties) => {
  if (envelope.delivery_tag !== ++got) throw new Error('out of order');
  if (got === N) resolve();
}`, `{ queue_name: 'q', no_ack: true, no_ack_window: 0 }`), deliverAll(b.N))
}

// BenchmarkDeliveryDispatchAck is BenchmarkDeliveryDispatch with a manual
// ack per delivery (not awaited), written by the ack fast path.
func BenchmarkDeliveryDispatchAck(b *testing.B) {
	benchScript(b, dispatchScript(`(body, envelope, properties, c) => {
  c.basic_client_ack(envelope.delivery_tag);
  if (++got === N) resolve();
}`, `{ queue_name: 'q' }`), deliverAll(b.N))
}

// BenchmarkDeliveryDispatchAsyncAck: an async callback that awaits its ack
// (the common style): each next delivery is dispatched by a pump task queued
// when the callback's promise settles.
func BenchmarkDeliveryDispatchAsyncAck(b *testing.B) {
	benchScript(b, dispatchScript(`async (body, envelope, properties, c) => {
  await c.basic_client_ack(envelope.delivery_tag);
  if (++got === N) resolve();
}`, `{ queue_name: 'q' }`), deliverAll(b.N))
}

// BenchmarkTableFromJS converts a headers object of 8 entries to a field
// table (what a publish with headers pays).
func BenchmarkTableFromJS(b *testing.B) {
	vm := newVM(b)
	v := jsEval(b, vm, `({ a: 'text', n: 42, big: 2147483648, f: 1.5, t: true, nul: null,
		d: new Date(0), nested: { x: [1, 'two', false] } })`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tableFromJS(vm, v, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTableToJS converts a received field table of 8 entries to a JS
// object (what reading properties.headers pays).
func BenchmarkTableToJS(b *testing.B) {
	vm := newVM(b)
	v := jsEval(b, vm, `({ a: 'text', n: 42, big: 2147483648, f: 1.5, t: true, nul: null,
		d: new Date(0), nested: { x: [1, 'two', false] } })`)
	t, err := tableFromJS(vm, v, "bench")
	if err != nil {
		b.Fatal(err)
	}
	// As received: integers as int64, nested tables as Table.
	t = normaliseTable(t)
	b.ReportAllocs()
	b.ResetTimer()
	var sink goja.Value
	for i := 0; i < b.N; i++ {
		sink = tableToJS(vm, t)
	}
	_ = sink
}

// BenchmarkCallSite runs the hot paths with the capture of call sites
// (callsite.go) on and off, in one process, for a comparison of its cost:
//
//	go test -run XXX -bench CallSite -count 6 ./bindings/ | tee cs.txt
//	benchstat -col /capture cs.txt
//
// Only the confirmed publish captures (it settles later); the unconfirmed
// publish and the ack take the fast path, which captures nothing.
func BenchmarkCallSite(b *testing.B) {
	for _, bm := range []struct {
		name string
		fn   func(*testing.B)
	}{
		{"PublishAwait", BenchmarkPublishBinding},
		{"PublishNoAwait", BenchmarkPublishBindingNoAwait},
		{"PublishConfirm", BenchmarkPublishConfirmWindow},
		{"ConsumeAck", BenchmarkDeliveryDispatchAck},
	} {
		for _, capture := range []string{"on", "off"} {
			b.Run(bm.name+"/capture="+capture, func(b *testing.B) {
				siteCaptureOff = capture == "off"
				defer func() { siteCaptureOff = false }()
				bm.fn(b)
			})
		}
	}
}

// BenchmarkSiteCapture is the capture alone: a Go function called from
// three nested script functions, the innermost async, captures its site.
func BenchmarkSiteCapture(b *testing.B) {
	rt := runtime.New(runtime.Options{Stdout: io.Discard, Stderr: os.Stderr})
	m := &module{rt: rt}
	vm := rt.VM()
	var keep callSite
	if err := vm.Set("capture", func() { keep = m.site() }); err != nil {
		b.Fatal(err)
	}
	if err := vm.Set("N", b.N); err != nil {
		b.Fatal(err)
	}
	if err := vm.Set("startTimer", func() { b.ReportAllocs(); b.ResetTimer() }); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	src := `
async function inner() { await null; for (let i = 0; i < N; i++) capture(); }
function middle() { return inner(); }
async function outer() { startTimer(); await middle(); }
await outer();
`
	if _, err := rt.RunSource(ctx, "bench.js", src); err != nil {
		b.Fatal(rt.FormatError(err))
	}
	b.StopTimer()
	if !keep.known() || len(keep.f) < 2 {
		b.Fatalf("no frames captured: %d", len(keep.f))
	}
}
