// Not under WebAssembly: getrusage and the fake broker's TCP listener.
//go:build !js && !wasip1

package amqp

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/internal/cpuusage"
	"github.com/amqpjs/amqpjs/internal/fakebroker"
)

// Client-side cost of the message paths, raw amqp091-go against this
// package, both talking to an in-process fake broker (internal/fakebroker),
// so that no broker shares the CPUs: ns/op, allocations, and cpu-ns/op (the
// process's CPU time per message, the fake broker's share included, the
// same on both sides).
//
//	go test -run XXX -bench Client -benchmem ./amqp/

func cpuPerOp(b *testing.B) func() {
	start := cpuusage.Total()
	return func() { b.ReportMetric(float64(cpuusage.Total()-start)/float64(b.N), "cpu-ns/op") }
}

func fakeServer(b *testing.B) *fakebroker.Server {
	b.Helper()
	srv, err := fakebroker.Start()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Close)
	return srv
}

func fakeRaw(b *testing.B, srv *fakebroker.Server) (*amqp091.Connection, *amqp091.Channel) {
	b.Helper()
	conn, err := amqp091.Dial(srv.URL())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	return conn, ch
}

func fakeOurs(b *testing.B, srv *fakebroker.Server) *Channel {
	b.Helper()
	c, err := Dial(context.Background(), Config{Host: "127.0.0.1", Port: srv.Port(), Login: "guest", Password: "guest"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close(context.Background(), false) })
	ch, err := c.OpenChannel(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return ch
}

var benchBody = make([]byte, 100)

// BenchmarkClientPublish: publish without confirms.
func BenchmarkClientPublish(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		srv := fakeServer(b)
		_, ch := fakeRaw(b, srv)
		msg := amqp091.Publishing{Body: benchBody}
		b.ReportAllocs()
		b.ResetTimer()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			if err := ch.Publish("", "q", false, false, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("queued", func(b *testing.B) {
		srv := fakeServer(b)
		ch := fakeOurs(b, srv)
		var wg sync.WaitGroup
		done := func(error) { wg.Done() }
		b.ReportAllocs()
		b.ResetTimer()
		defer cpuPerOp(b)()
		wg.Add(b.N)
		for i := 0; i < b.N; i++ {
			ch.Publish(context.Background(), &Publishing{RoutingKey: "q", Body: benchBody}, false, done)
		}
		wg.Wait()
	})
	b.Run("direct", func(b *testing.B) {
		srv := fakeServer(b)
		ch := fakeOurs(b, srv)
		p := &Publishing{RoutingKey: "q", Body: benchBody}
		b.ReportAllocs()
		b.ResetTimer()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			if handled, _, _ := ch.TryPublish(p, false, nil); !handled {
				var wg sync.WaitGroup
				wg.Add(1)
				ch.Publish(context.Background(), &Publishing{RoutingKey: "q", Body: benchBody}, false, func(error) { wg.Done() })
				wg.Wait()
			}
			if i%100 == 99 {
				ch.Flush()
			}
		}
		ch.Flush()
	})
}

// BenchmarkClientConfirms: confirm mode with 10 000 publishes in flight
// (the fake broker acks each burst with one multiple ack).
func BenchmarkClientConfirms(b *testing.B) {
	const window = 10000
	b.Run("raw", func(b *testing.B) {
		srv := fakeServer(b)
		_, ch := fakeRaw(b, srv)
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		msg := amqp091.Publishing{Body: benchBody}
		ring := make([]*amqp091.DeferredConfirmation, window)
		b.ReportAllocs()
		b.ResetTimer()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			k := i % window
			if dc := ring[k]; dc != nil {
				dc.Wait()
			}
			dc, err := ch.PublishWithDeferredConfirm("", "q", false, false, msg)
			if err != nil {
				b.Fatal(err)
			}
			ring[k] = dc
		}
		for _, dc := range ring {
			if dc != nil {
				dc.Wait()
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		srv := fakeServer(b)
		ch := fakeOurs(b, srv)
		errc := make(chan error, 1)
		ch.Confirm(context.Background(), false, func(err error) { errc <- err })
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		p := &Publishing{RoutingKey: "q", Body: benchBody}
		sem := make(chan struct{}, window)
		var wg sync.WaitGroup
		done := func(error) { <-sem; wg.Done() }
		b.ReportAllocs()
		b.ResetTimer()
		defer cpuPerOp(b)()
		wg.Add(b.N)
		for i := 0; i < b.N; i++ {
			select {
			case sem <- struct{}{}:
			default:
				ch.Flush()
				sem <- struct{}{}
			}
			if handled, _, _ := ch.TryPublish(p, true, done); !handled {
				ch.Publish(context.Background(), &Publishing{RoutingKey: "q", Body: benchBody}, true, done)
			}
		}
		ch.Flush()
		wg.Wait()
	})
}

// countingHandler counts deliveries; inline when its channel says so.
type countingHandler struct {
	n    atomic.Int64
	want int64
	done chan struct{}
}

func (h *countingHandler) Delivery(*Delivery) {
	if h.n.Add(1) == h.want {
		close(h.done)
	}
}
func (h *countingHandler) Cancelled(string) {}
func (h *countingHandler) End(error)        {}

type inlineCounting struct{ *countingHandler }

func (inlineCounting) InlineDeliveries() {}

// timeDeliveries starts timing b and has srv's newest consumer delivered
// b.N messages of benchBody; the function it returns (deferred) reports the
// CPU time per op.
func timeDeliveries(b *testing.B, srv *fakebroker.Server) func() {
	k := srv.NextConsumer()
	b.ReportAllocs()
	b.ResetTimer()
	stop := cpuPerOp(b)
	go func() { _ = k.Deliver(b.N, benchBody) }()
	return stop
}

// BenchmarkClientConsume: deliveries of 100 bytes to a no_ack consumer.
func BenchmarkClientConsume(b *testing.B) {
	b.Run("raw", func(b *testing.B) {
		srv := fakeServer(b)
		_, ch := fakeRaw(b, srv)
		msgs, err := ch.Consume("q", "c", true, false, false, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer timeDeliveries(b, srv)()
		for i := 0; i < b.N; i++ {
			<-msgs
		}
	})
	for _, inline := range []bool{true, false} {
		name := "pump"
		if inline {
			name = "inline"
		}
		b.Run(name, func(b *testing.B) {
			srv := fakeServer(b)
			ch := fakeOurs(b, srv)
			h := &countingHandler{want: int64(b.N), done: make(chan struct{})}
			var handler ConsumerHandler = h
			if inline {
				handler = inlineCounting{h}
			}
			errc := make(chan error, 1)
			ch.Consume(context.Background(), ConsumeArgs{Queue: "q", NoAck: true}, handler, func(_ string, err error) { errc <- err })
			if err := <-errc; err != nil {
				b.Fatal(err)
			}
			defer timeDeliveries(b, srv)()
			<-h.done
		})
	}
}
