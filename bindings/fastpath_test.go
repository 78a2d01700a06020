// Not under WebAssembly: the fake broker's TCP listener.
//go:build !js && !wasip1

package bindings

import (
	"bytes"
	"context"
	"os"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/fakebroker"
	"github.com/amqpjs/amqpjs/runtime"
)

// runFake runs src against an in-process fake broker (URL is a global);
// during, if not nil, runs on its own goroutine. It returns stdout.
func runFake(t *testing.T, src string, during func(srv *fakebroker.Server)) string {
	t.Helper()
	return runFakeWith(t, src, nil, during)
}

// runFakeWith is runFake with more globals for the script.
func runFakeWith(t *testing.T, src string, globals map[string]any, during func(srv *fakebroker.Server)) string {
	t.Helper()
	srv, err := fakebroker.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var out bytes.Buffer
	rt := runtime.New(runtime.Options{Stdout: &out, Stderr: os.Stderr})
	Register(rt, Options{})
	if err := rt.VM().Set("URL", srv.URL()); err != nil {
		t.Fatal(err)
	}
	for k, v := range globals {
		if err := rt.VM().Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if during != nil {
		go during(srv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := rt.RunSource(ctx, "test.js", src); err != nil {
		t.Fatal(rt.FormatError(err))
	}
	return out.String()
}

// TestFastPathOrder: promises settle in call order whichever path a call
// takes (a publish made while an earlier call is unsettled waits for it),
// and a fast publish resolves with null like a queued one.
func TestFastPathOrder(t *testing.T) {
	out := runFake(t, benchPrelude+`
const order = [];
const calls = [];
const track = (name, p) => { calls.push(p.then((v) => order.push(name + ':' + v))); };
track('p1', ch.publish(body, '', 'q'));
track('declare', ch.queue_declare('q'));
track('p2', ch.publish(body, '', 'q'));
track('ack', ch.basic_client_ack(1));
await Promise.all(calls);
track('p3', ch.basic_publish('text', '', 'q'));
track('p4', ch.publish(body, '', 'q'));
await Promise.all(calls);
console.log(order.join(' '));
console.log(String(await ch.publish(body, '', 'q')));
// An ack written directly while an earlier call, already answered, is not
// yet settled on the loop (this task keeps the loop busy meanwhile): its
// promise still settles after that call's.
order.length = 0;
track('declare', ch.queue_declare('q'));
for (const until = Date.now() + 300; Date.now() < until;) {}
track('ack', ch.basic_client_ack(2));
track('nack', ch.basic_client_nack(3));
await Promise.all(calls);
console.log(order.join(' '));
await protocol.close();
`, nil)
	want := "p1:null declare:[object Object] p2:null ack:null p3:null p4:null\nnull\ndeclare:[object Object] ack:null nack:null\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}
}

// TestEnvelopeView: the lazy envelope behaves as a plain object.
func TestEnvelopeView(t *testing.T) {
	out := runFake(t, benchPrelude+`
await new Promise((resolve) => {
  ch.basic_consume((b, env) => {
    console.log(JSON.stringify(env));
    console.log(Object.keys(env).join(','), 'delivery_tag' in env, env.hasOwnProperty('routing_key'));
    env.delivery_tag = 'changed';
    env.extra = 1;
    delete env.exchange_name;
    console.log(JSON.stringify({ ...env }), env.exchange_name, 'exchange_name' in env);
    console.log(b.toString(), b.length, Buffer.isBuffer(b));
    resolve();
  }, { queue_name: 'q', consumer_tag: 'tag', no_ack: true, no_ack_window: 0 });
});
await protocol.close();
`, func(srv *fakebroker.Server) {
		_ = srv.NextConsumer().Deliver(1, []byte("hello"))
	})
	want := strings.Join([]string{
		`{"consumer_tag":"tag","delivery_tag":1,"exchange_name":"","routing_key":"q","is_redeliver":false}`,
		`consumer_tag,delivery_tag,exchange_name,routing_key,is_redeliver true true`,
		`{"consumer_tag":"tag","delivery_tag":"changed","routing_key":"q","is_redeliver":false,"extra":1} undefined false`,
		`hello 5 true`, ``}, "\n")
	if out != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
}

// TestDeliveriesInOrder: many deliveries, batched onto the loop, reach the
// callback in order, each acked by the ack fast path.
func TestDeliveriesInOrder(t *testing.T) {
	const n = 20000
	var srv *fakebroker.Server
	out := runFake(t, benchPrelude+`
let next = 1;
await new Promise((resolve, reject) => {
  ch.basic_consume((b, env, props, c) => {
    if (env.delivery_tag !== next++) reject(new Error('out of order at ' + env.delivery_tag));
    c.basic_client_ack(env.delivery_tag);
    if (next > 20000) resolve();
  }, { queue_name: 'q' });
});
await ch.queue_declare('q'); // a round trip: the acks are written before it
console.log('ok', next - 1);
await protocol.close();
`, func(s *fakebroker.Server) {
		srv = s
		_ = s.NextConsumer().Deliver(n, []byte("m"))
	})
	if out != "ok 20000\n" {
		t.Fatalf("got %q", out)
	}
	if got := srv.Acks.Load(); got != n {
		t.Fatalf("the broker got acks for %d deliveries, want %d", got, n)
	}
	// Acks for consecutive deliveries in one loop turn leave as one
	// multiple ack (amqp/direct.go, "Acks coalesced").
	if frames := srv.AckFrames.Load(); frames >= n/2 {
		t.Errorf("%d ack frames for %d deliveries: not coalesced", frames, n)
	} else {
		t.Logf("%d ack frames for %d deliveries", frames, n)
	}
}

// TestConsumerStackStaysFlat: a consumer goes on after its callback's
// promise settles through a loop task of its own, so the Go stack under a
// callback does not grow with the deliveries already handled. Were the next
// callback called from the promise reaction, every delivery of a backlog
// would nest one more dispatch inside goja's job queue (thousands of frames
// deep), and stopping the runtime there would panic inside goja. Each
// consumer style that holds its slot with a promise is checked.
func TestConsumerStackStaysFlat(t *testing.T) {
	for _, tc := range []struct{ name, consume string }{
		{"await-ack", `ch.basic_consume(async (b, env) => { depth(); await ch.basic_client_ack(env.delivery_tag); count(); }, { queue_name: 'q' })`},
		{"await-resolved", `ch.basic_consume(async (b, env) => { depth(); await null; ch.basic_client_ack(env.delivery_tag); count(); }, { queue_name: 'q' })`},
		{"concurrency-8", `ch.basic_consume(async (b, env) => { depth(); await ch.basic_client_ack(env.delivery_tag); count(); }, { queue_name: 'q', concurrency: 8 })`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 3000
			minDepth, maxDepth := 1<<30, 0
			pcs := make([]uintptr, 1<<16)
			globals := map[string]any{
				"depth": func() {
					d := goruntime.Callers(0, pcs)
					minDepth, maxDepth = min(minDepth, d), max(maxDepth, d)
				},
			}
			out := runFakeWith(t, benchPrelude+`
let seen = 0, done;
const all = new Promise(r => { done = r; });
globalThis.count = () => { if (++seen === 3000) done(); };
await `+tc.consume+`;
await all;
console.log('ok', seen);
await protocol.close();
`, globals, func(s *fakebroker.Server) {
				_ = s.NextConsumer().Deliver(n, []byte("m"))
			})
			if out != "ok 3000\n" {
				t.Fatalf("got %q", out)
			}
			// The first callbacks run from the task that took the batch,
			// the others from pump tasks: a few frames apart at most.
			if maxDepth-minDepth > 64 {
				t.Errorf("Go stack under a callback: %d to %d frames over %d deliveries; it grows with the backlog", minDepth, maxDepth, n)
			}
			t.Logf("Go stack under a callback: %d to %d frames", minDepth, maxDepth)
		})
	}
}
