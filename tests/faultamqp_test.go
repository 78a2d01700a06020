//go:build integration

// Go-side helpers of the fault tests: a small synchronous client over
// package amqp, to prepare queues and to count what a fault left in them.
package tests

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/internal/testutil"
)

const faultCallTimeout = 30 * time.Second

// amqpConfig turns an amqp:// URL into a Config.
func amqpConfig(t testing.TB, raw string) amqp.Config {
	t.Helper()
	u, err := amqp.ParseURL(raw)
	if err != nil {
		t.Fatalf("URL: %v", err)
	}
	return amqp.Config{Host: u.Host, Port: u.Port, Login: u.Login, Password: u.Password, Vhost: u.Vhost, ConnectTimeout: 10 * time.Second}
}

// syncClient is a connection and channel used synchronously by a test.
type syncClient struct {
	t    testing.TB
	conn *amqp.Conn
	ch   *amqp.Channel
}

func dialSync(t testing.TB, cfg amqp.Config) *syncClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), faultCallTimeout)
	defer cancel()
	c, err := amqp.Dial(ctx, cfg)
	if err != nil {
		t.Fatalf("Dial %s: %v", cfg, err)
	}
	ch, err := c.OpenChannel(ctx)
	if err != nil {
		t.Fatalf("OpenChannel: %v", err)
	}
	sc := &syncClient{t: t, conn: c, ch: ch}
	t.Cleanup(sc.Close)
	return sc
}

func (s *syncClient) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.conn.Close(ctx, false); err != nil {
		s.conn.Abort()
	}
	<-s.conn.Done()
}

func waitErr(t testing.TB, what string, f func(done func(error))) error {
	t.Helper()
	return testutil.AwaitDone(t, what, faultCallTimeout, f)
}

// Declare declares a durable queue and returns its message count.
func (s *syncClient) Declare(name string) int {
	s.t.Helper()
	var n int
	if err := waitErr(s.t, "queue_declare", func(done func(error)) {
		s.ch.QueueDeclare(context.Background(), amqp.QueueDeclareArgs{Name: name, Durable: true}, func(q amqp.QueueInfo, err error) {
			n = q.MessageCount
			done(err)
		})
	}); err != nil {
		s.t.Fatalf("queue_declare %s: %v", name, err)
	}
	return n
}

// Delete deletes a queue.
func (s *syncClient) Delete(name string) {
	s.t.Helper()
	if err := waitErr(s.t, "queue_delete", func(done func(error)) {
		s.ch.QueueDelete(context.Background(), name, false, false, false, done)
	}); err != nil {
		s.t.Errorf("queue_delete %s: %v", name, err)
	}
}

// Fill publishes messages with message_id from..to-1 (confirmed).
func (s *syncClient) Fill(queue string, from, to int) {
	s.t.Helper()
	if !s.ch.Confirming() {
		if err := waitErr(s.t, "confirm_select", func(done func(error)) { s.ch.Confirm(context.Background(), false, done) }); err != nil {
			s.t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := from; i < to; i++ {
		wg.Add(1)
		p := &amqp.Publishing{RoutingKey: queue, Body: []byte("m" + strconv.Itoa(i)),
			Properties: amqp.Properties{MessageID: strconv.Itoa(i), DeliveryMode: 2}}
		s.ch.Publish(context.Background(), p, true, func(err error) {
			if err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
			wg.Done()
		})
	}
	wg.Wait()
	if firstErr != nil {
		s.t.Fatalf("filling %s: %v", queue, firstErr)
	}
}

// idHandler collects the message ids of a consumer's deliveries.
type idHandler struct {
	mu    sync.Mutex
	ids   map[int]int // id -> times seen
	n     int
	onDel func(d *amqp.Delivery)
	end   chan error
}

func newIDHandler() *idHandler { return &idHandler{ids: map[int]int{}, end: make(chan error, 1)} }

func (h *idHandler) Delivery(d *amqp.Delivery) {
	id, err := strconv.Atoi(d.Properties.MessageID)
	h.mu.Lock()
	if err == nil {
		h.ids[id]++
	}
	h.n++
	fn := h.onDel
	h.mu.Unlock()
	if fn != nil {
		fn(d)
	}
}
func (h *idHandler) Cancelled(string) {}
func (h *idHandler) End(err error)    { h.end <- err }
func (h *idHandler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n
}

// Drain consumes every message of queue (no_ack) and returns their ids
// with how many times each was there.
func (s *syncClient) Drain(queue string) map[int]int {
	s.t.Helper()
	want := s.Declare(queue)
	h := newIDHandler()
	var tag string
	if err := waitErr(s.t, "basic_consume", func(done func(error)) {
		s.ch.Consume(context.Background(), amqp.ConsumeArgs{Queue: queue, NoAck: true}, h, func(tg string, err error) { tag = tg; done(err) })
	}); err != nil {
		s.t.Fatalf("basic_consume %s: %v", queue, err)
	}
	deadline := time.Now().Add(faultCallTimeout)
	for h.count() < want {
		if time.Now().After(deadline) {
			s.t.Fatalf("draining %s: %d of %d messages after %s", queue, h.count(), want, faultCallTimeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := waitErr(s.t, "basic_cancel", func(done func(error)) { s.ch.Cancel(context.Background(), tag, false, done) }); err != nil {
		s.t.Fatal(err)
	}
	<-h.end
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ids
}

// parseRanges parses "0-41,43" (or "-") into a set.
func parseRanges(t testing.TB, s string) map[int]bool {
	t.Helper()
	out := map[int]bool{}
	s = strings.TrimSpace(s)
	if s == "-" || s == "" {
		return out
	}
	for _, part := range strings.Split(s, ",") {
		a, b, isRange := strings.Cut(part, "-")
		lo, err := strconv.Atoi(a)
		if err != nil {
			t.Fatalf("bad range %q", part)
		}
		hi := lo
		if isRange {
			if hi, err = strconv.Atoi(b); err != nil {
				t.Fatalf("bad range %q", part)
			}
		}
		for i := lo; i <= hi; i++ {
			out[i] = true
		}
	}
	return out
}

// missing returns the ids of want that got lacks (sorted, at most 20).
func missing(want map[int]bool, got map[int]int) (n int, sample []int) {
	for id := range want {
		if got[id] == 0 {
			n++
			if len(sample) < 20 {
				sample = append(sample, id)
			}
		}
	}
	return n, sample
}

func uniqueName(t testing.TB, what string) string {
	return fmt.Sprintf("amqpjs-fault.%s.%s.%d", strings.NewReplacer("/", ".", " ", "_").Replace(t.Name()), what, time.Now().UnixNano()%1e9)
}
