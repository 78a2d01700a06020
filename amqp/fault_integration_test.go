//go:build integration

package amqp

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// dialEnds dials cfg (the connection is aborted at cleanup) and returns it
// with the channel that receives its OnClose error.
func dialEnds(t *testing.T, cfg Config) (*Conn, chan *Error) {
	t.Helper()
	c, err := Dial(bg(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort(); <-c.Done() })
	ends := make(chan *Error, 1)
	c.OnClose(func(e *Error) { ends <- e })
	return c, ends
}

// faultEnd dials, declares a queue, confirms 10 publishes, starts a
// consumer on another queue, stalls the connection (so that what follows
// stays pending), starts 5 publishes that wait for confirms, runs fault,
// and returns what the connection's end, the pending publishes and the
// consumer reported, and the queue's message count seen from a new
// connection.
func faultEnd(t *testing.T, cfg Config, fault func(c *Conn)) (end *Error, pending []error, consumerEnd error, queued int) {
	t.Helper()
	c, ends := dialEnds(t, cfg)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), Durable: true})
	other := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "other"), Exclusive: true})
	t.Cleanup(func() {
		c2 := dialT(t)
		ch2 := openCh(t, c2)
		must(t, func(done func(error)) { ch2.QueueDelete(bg(), q.Name, false, false, false, done) })
	})
	must(t, func(done func(error)) { ch.Confirm(bg(), false, done) })
	for i := 0; i < 10; i++ {
		must(t, func(done func(error)) {
			ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte("confirmed")}, true, done)
		})
	}
	rec := newRecorder()
	consume(t, ch, ConsumeArgs{Queue: other.Name}, rec)

	c.Stall(time.Hour)
	errs := make(chan error, 5)
	for i := 0; i < 5; i++ {
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte("pending")}, true, func(err error) { errs <- err })
	}
	fault(c)
	for i := 0; i < 5; i++ {
		select {
		case err := <-errs:
			pending = append(pending, err)
		case <-time.After(callTimeout):
			t.Fatal("a pending publish never settled")
		}
	}
	select {
	case end = <-ends:
	case <-time.After(callTimeout):
		t.Fatal("OnClose was not called")
	}
	consumerEnd = rec.waitEnd(t)

	c2 := dialT(t)
	info := declareQ(t, openCh(t, c2), QueueDeclareArgs{Name: q.Name, Passive: true})
	return end, pending, consumerEnd, info.MessageCount
}

// pendingFailed checks faultEnd's outcome: every publish pending during the
// stall failed with the connection's close, and the queue holds the 10
// confirmed messages.
func pendingFailed(t *testing.T, pending []error, queued int, when string) {
	t.Helper()
	for _, err := range pending {
		if err == nil {
			t.Error("a publish was confirmed " + when)
			continue
		}
		asError(t, err, KindConnectionClosed, 0)
	}
	if queued < 10 {
		t.Errorf("the queue holds %d messages; the 10 confirmed ones must be there", queued)
	}
}

func TestFaultCutBroker(t *testing.T) {
	end, pending, consumerEnd, queued := faultEnd(t, testConfig(t), func(c *Conn) {
		if !c.Cut() {
			t.Error("Cut reported nothing to cut")
		}
	})
	if end == nil || end.Kind != KindConnectionClosed || end.Code != 0 || !strings.Contains(end.Reason, "connection reset by peer") {
		t.Errorf("OnClose got %v; want KindConnectionClosed, code 0, a reset", end)
	}
	pendingFailed(t, pending, queued, "while the connection was stalled")
	if consumerEnd != nil {
		asError(t, consumerEnd, KindConnectionClosed, 0)
	} else {
		t.Error("the consumer ended without an error")
	}
}

func TestFaultStallBroker(t *testing.T) {
	cfg := testConfig(t)
	hb := 1
	cfg.Heartbeat = &hb
	end, pending, _, queued := faultEnd(t, cfg, func(*Conn) {}) // the stall of faultEnd lasts
	if end == nil || end.Kind != KindConnectionClosed || end.Code != 0 || !strings.Contains(end.Reason, "missed heartbeats") {
		t.Errorf("OnClose got %v; want KindConnectionClosed, code 0, missed heartbeats", end)
	}
	pendingFailed(t, pending, queued, "during the stall")
}

// Latency and a bandwidth limit slow the connection down; every message,
// large ones included, arrives intact and in order, and clearing the faults
// leaves a working connection.
func TestFaultLatencyBandwidthBroker(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), Exclusive: true})
	must(t, func(done func(error)) { ch.Confirm(bg(), false, done) })
	c.SetLatency(20 * time.Millisecond)
	c.SetBandwidth(2_000_000)
	if st := c.Faults(); !st.Engaged || st.Latency != 20*time.Millisecond || st.Bandwidth != 2_000_000 {
		t.Fatalf("state %+v", st)
	}
	bodies := [][]byte{[]byte("first"), bytes.Repeat([]byte("x"), 600_000), []byte("third")}
	rec := newRecorder()
	got := make(chan struct{}, len(bodies))
	rec.onDeliver = func(*Delivery) { got <- struct{}{} }
	consume(t, ch, ConsumeArgs{Queue: q.Name, NoAck: true}, rec)
	for _, b := range bodies {
		must(t, func(done func(error)) { ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: b}, true, done) })
	}
	for range bodies {
		select {
		case <-got:
		case <-time.After(callTimeout):
			t.Fatalf("only %d of %d messages arrived", rec.count(), len(bodies))
		}
	}
	rec.mu.Lock()
	for i, d := range rec.ds {
		if !bytes.Equal(d.Body, bodies[i]) {
			t.Errorf("message %d: %d bytes, want %d", i, len(d.Body), len(bodies[i]))
		}
	}
	rec.mu.Unlock()
	c.ClearFaults()
	ctx, cancel := context.WithTimeout(bg(), callTimeout)
	defer cancel()
	must(t, func(done func(error)) {
		ch.Publish(ctx, &Publishing{RoutingKey: q.Name, Body: []byte("after")}, true, done)
	})
	if st := c.Faults(); st.Latency != 0 || st.Bandwidth != 0 || c.IsClosed() {
		t.Errorf("after clear: %+v, closed %v", st, c.IsClosed())
	}
}

// The fault layer lies under TLS: latency and a bandwidth limit delay TLS
// records without breaking them, and a cut resets the connection.
func TestFaultUnderTLS(t *testing.T) {
	base := testConfig(t)
	port, caFile := tlsProxy(t, net.JoinHostPort(base.Host, strconv.Itoa(base.Port)))
	cfg := base
	cfg.Host, cfg.Port = "127.0.0.1", port
	cfg.TLS = &TLSOptions{CAFile: caFile}
	c, ends := dialEnds(t, cfg)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	c.SetLatency(10 * time.Millisecond)
	c.SetBandwidth(1_000_000)
	body := bytes.Repeat([]byte("tls"), 70_000)
	must(t, func(d func(error)) { ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: body}, false, d) })
	var got []byte
	must(t, func(d func(error)) {
		ch.Get(bg(), q.Name, true, func(m *Delivery, ok bool, err error) {
			if ok {
				got = m.Body
			}
			d(err)
		})
	})
	if !bytes.Equal(got, body) {
		t.Fatalf("got %d bytes back, want %d", len(got), len(body))
	}
	if !c.Cut() {
		t.Fatal("Cut reported nothing to cut")
	}
	select {
	case e := <-ends:
		if e == nil || e.Kind != KindConnectionClosed || !strings.Contains(e.Reason, "connection reset by peer") {
			t.Errorf("OnClose got %v; want a reset", e)
		}
	case <-time.After(callTimeout):
		t.Fatal("OnClose was not called")
	}
}
