//go:build integration

package amqp

import (
	"fmt"
	"sync"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The benchmarks publish to amq.direct with a key nothing is bound to, so the
// broker drops the messages (and acks them at once in confirm mode): what is
// measured is the client.

const benchWindow = 10000

var benchSizes = []int{128, 16 << 10}

// timeBodies starts timing b's loop over benchBody messages after its
// setup: bytes and allocations per op, and, through the function it
// returns (deferred), CPU time per op.
func timeBodies(b *testing.B) func() {
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	b.ResetTimer()
	return cpuPerOp(b)
}

// rawChannel opens a channel with amqp091-go itself, on a connection named
// after the test.
func rawChannel(tb testing.TB) (*amqp091.Connection, *amqp091.Channel) {
	tb.Helper()
	cfg := amqp091.Config{Properties: amqp091.Table{"connection_name": tb.Name()}}
	conn, err := amqp091.DialConfig(amqpURL(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	return conn, ch
}

func BenchmarkIntegrationPublish(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchPublish(b, make([]byte, size)) })
	}
}

func BenchmarkIntegrationConfirms(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprint(size), func(b *testing.B) { benchConfirms(b, make([]byte, size)) })
	}
}

func benchPublish(b *testing.B, benchBody []byte) {
	b.Run("raw", func(b *testing.B) {
		conn, ch := rawChannel(b)
		defer conn.Close()
		msg := amqp091.Publishing{Body: benchBody}
		defer timeBodies(b)()
		for i := 0; i < b.N; i++ {
			if err := ch.Publish("amq.direct", "nowhere", false, false, msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
	})
	b.Run("ours", func(b *testing.B) {
		c := dial(b, testConfig(b))
		ch := openCh(b, c)
		p := &Publishing{Exchange: "amq.direct", RoutingKey: "nowhere", Body: benchBody}
		var wg sync.WaitGroup
		wg.Add(b.N)
		done := func(err error) {
			if err != nil {
				b.Error(err)
			}
			wg.Done()
		}
		ctx := bg()
		defer timeBodies(b)()
		for i := 0; i < b.N; i++ {
			ch.Publish(ctx, p, false, done)
		}
		wg.Wait()
		b.StopTimer()
	})
}

func benchConfirms(b *testing.B, benchBody []byte) {
	b.Run("raw", func(b *testing.B) {
		conn, ch := rawChannel(b)
		defer conn.Close()
		if err := ch.Confirm(false); err != nil {
			b.Fatal(err)
		}
		msg := amqp091.Publishing{Body: benchBody}
		inflight := make([]*amqp091.DeferredConfirmation, 0, benchWindow)
		head := 0
		defer timeBodies(b)()
		for i := 0; i < b.N; i++ {
			if len(inflight)-head == benchWindow {
				if !inflight[head].Wait() {
					b.Fatal("nacked")
				}
				inflight[head] = nil
				head++
				if head == benchWindow {
					inflight = append(inflight[:0], inflight[head:]...)
					head = 0
				}
			}
			dc, err := ch.PublishWithDeferredConfirm("amq.direct", "nowhere", false, false, msg)
			if err != nil {
				b.Fatal(err)
			}
			inflight = append(inflight, dc)
		}
		for _, dc := range inflight[head:] {
			if !dc.Wait() {
				b.Fatal("nacked")
			}
		}
		b.StopTimer()
	})
	b.Run("ours", func(b *testing.B) {
		c := dial(b, testConfig(b))
		ch := openCh(b, c)
		must(b, func(d func(error)) { ch.Confirm(bg(), false, d) })
		p := &Publishing{Exchange: "amq.direct", RoutingKey: "nowhere", Body: benchBody}
		sem := make(chan struct{}, benchWindow)
		var wg sync.WaitGroup
		wg.Add(b.N)
		done := func(err error) {
			if err != nil {
				b.Error(err)
			}
			<-sem
			wg.Done()
		}
		ctx := bg()
		defer timeBodies(b)()
		for i := 0; i < b.N; i++ {
			sem <- struct{}{}
			ch.Publish(ctx, p, true, done)
		}
		wg.Wait()
		b.StopTimer()
	})
}

// BenchmarkIntegrationPublishAwait waits for each publish before the next
// (a script's `await ch.basic_publish(...)`): the executor hop costs two
// goroutine handoffs per message here, with nothing to batch.
func BenchmarkIntegrationPublishAwait(b *testing.B) {
	body := make([]byte, 128)
	b.Run("raw", func(b *testing.B) {
		conn, ch := rawChannel(b)
		defer conn.Close()
		msg := amqp091.Publishing{Body: body}
		b.ResetTimer()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			if err := ch.Publish("amq.direct", "nowhere", false, false, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ours", func(b *testing.B) {
		c := dial(b, testConfig(b))
		ch := openCh(b, c)
		p := &Publishing{Exchange: "amq.direct", RoutingKey: "nowhere", Body: body}
		wait := make(chan error, 1)
		done := func(err error) { wait <- err }
		ctx := bg()
		b.ResetTimer()
		defer cpuPerOp(b)()
		for i := 0; i < b.N; i++ {
			ch.Publish(ctx, p, false, done)
			if err := <-wait; err != nil {
				b.Fatal(err)
			}
		}
	})
}
