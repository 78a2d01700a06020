//go:build integration

// The fault tests of faults_test.go at the Go level, on package amqp
// directly, so that goleak can check that a fault leaves no goroutine
// behind: each subtest snapshots the goroutines at its start and verifies,
// after everything it opened is closed, that no new one is left.
package tests

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/amqp"
)

// leakCheck verifies at the very end of the test (after every cleanup
// registered later) that no goroutine started during it is still running.
func leakCheck(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// goFault injects fault kind (cut, stall, close, restart) on the
// connection named name, reached through proxy for cut and stall; it
// returns once the fault is under way.
func (f *faultEnv) goFault(t *testing.T, kind, name string, proxy *faultProxy, wg *sync.WaitGroup) {
	h := f.faultHandlers(t, proxy, name, wg)
	h[kind]("")
}

// goFaultEnds injects fault kind (goFault) and waits for the connection to
// end with the error the fault makes; wg is the fault's own work.
func (f *faultEnv) goFaultEnds(t *testing.T, kind, name string, proxy *faultProxy, closed <-chan *amqp.Error) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	f.goFault(t, kind, name, proxy, &wg)
	select {
	case err := <-closed:
		wantFault(t, kind, err)
	case <-time.After(30 * time.Second):
		t.Fatalf("the connection did not end within 30s of the fault")
	}
	return &wg
}

// goFaultConfig is the Config of a connection named name that the fault
// kind can reach.
func (f *faultEnv) goFaultConfig(t *testing.T, kind, name string) (amqp.Config, *faultProxy) {
	url, proxy := f.faultURL(t, kind)
	cfg := amqpConfig(t, url)
	cfg.ClientProperties = amqp.Table{"connection_name": name}
	if kind == "stall" {
		one := 1
		cfg.Heartbeat = &one
	}
	return cfg, proxy
}

// wantFault checks the end error of a connection hit by fault kind.
func wantFault(t *testing.T, kind string, err *amqp.Error) {
	t.Helper()
	if err == nil || err.Kind != amqp.KindConnectionClosed {
		t.Fatalf("OnClose(%v), want KindConnectionClosed", err)
	}
	switch kind {
	case "cut":
		if err.Code != 0 || !strings.Contains(err.Reason, "connection lost") {
			t.Errorf("OnClose(%v), want code 0, connection lost", err)
		}
	case "stall":
		if err.Code != 0 || !strings.Contains(err.Reason, "missed heartbeats") {
			t.Errorf("OnClose(%v), want code 0, missed heartbeats", err)
		}
	case "close", "restart":
		if err.Code != 320 || !strings.Contains(err.Reason, "CONNECTION_FORCED") {
			t.Errorf("OnClose(%v), want 320 CONNECTION_FORCED", err)
		}
	}
}

// wantPendingErr checks the error of a call pending at fault kind.
func wantPendingErr(t *testing.T, kind string, err error) {
	t.Helper()
	var e *amqp.Error
	if !errors.As(err, &e) {
		t.Errorf("pending call failed with %T %v, want *amqp.Error", err, err)
		return
	}
	switch {
	case e.Kind == amqp.KindConnectionClosed:
	case (kind == "close" || kind == "restart") && e.Kind == amqp.KindChannelClosed && e.Code == 320:
	default:
		t.Errorf("pending call failed with %v (kind %v, code %d)", e, e.Kind, e.Code)
	}
}

// onCloseOnce registers an OnClose that counts its calls.
func onCloseOnce(conn *amqp.Conn) (<-chan *amqp.Error, *atomic.Int32) {
	c := make(chan *amqp.Error, 1)
	var n atomic.Int32
	conn.OnClose(func(err *amqp.Error) {
		if n.Add(1) == 1 {
			c <- err
		}
	})
	return c, &n
}

// dialGoFault connects with cfg (goFaultConfig's) and opens a channel;
// closed and closes are onCloseOnce's.
func dialGoFault(t *testing.T, cfg amqp.Config) (*amqp.Conn, *amqp.Channel, <-chan *amqp.Error, *atomic.Int32) {
	t.Helper()
	conn, err := amqp.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	closed, closes := onCloseOnce(conn)
	ch, err := conn.OpenChannel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return conn, ch, closed, closes
}

// goPublishFault publishes with confirms, 500 in flight, until the fault;
// every publish must complete, and every confirmed message be in the queue.
func (f *faultEnv) goPublishFault(t *testing.T, kind string) {
	leakCheck(t)
	name, queue := uniqueName(t, "conn"), uniqueName(t, "q")
	cfg, proxy := f.goFaultConfig(t, kind, name)
	ctx := context.Background()
	conn, ch, closed, closes := dialGoFault(t, cfg)
	if err := waitErr(t, "queue_declare", func(done func(error)) {
		ch.QueueDeclare(ctx, amqp.QueueDeclareArgs{Name: queue, Durable: true}, func(_ amqp.QueueInfo, err error) { done(err) })
	}); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, "confirm", func(done func(error)) { ch.Confirm(ctx, false, done) }); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	resolved := map[int]bool{}
	var failures []error
	var pending sync.WaitGroup
	sem := make(chan struct{}, 500)
	var stop atomic.Bool
	published := make(chan int, 1)
	go func() {
		i := 0
		for ; !stop.Load(); i++ {
			sem <- struct{}{}
			pending.Add(1)
			id := i
			p := &amqp.Publishing{RoutingKey: queue, Body: []byte("m"), Properties: amqp.Properties{MessageID: strconv.Itoa(id), DeliveryMode: 2}}
			ch.Publish(ctx, p, true, func(err error) {
				mu.Lock()
				if err == nil {
					resolved[id] = true
				} else {
					failures = append(failures, err)
				}
				mu.Unlock()
				<-sem
				pending.Done()
			})
		}
		published <- i
	}()
	waitUntil(t, 30*time.Second, "2000 confirms", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(resolved) >= 2000
	})
	wg := f.goFaultEnds(t, kind, name, proxy, closed)
	stop.Store(true)
	n := <-published
	if !waitGroupWithin(&pending, 15*time.Second) {
		t.Fatalf("publishes still pending 15s after the connection ended")
	}
	wg.Wait()
	if proxy != nil {
		proxy.Resume()
	}
	<-conn.Done()
	time.Sleep(200 * time.Millisecond)
	if c := closes.Load(); c != 1 {
		t.Errorf("OnClose called %d times", c)
	}
	mu.Lock()
	for _, e := range failures {
		wantPendingErr(t, kind, e)
	}
	if len(resolved)+len(failures) != n {
		t.Errorf("%d publishes, %d confirmed, %d failed", n, len(resolved), len(failures))
	}
	mu.Unlock()
	if ch.IsOpen() || conn.ChannelsInUse() != 0 {
		t.Errorf("after the end: channel open %v, channels in use %d", ch.IsOpen(), conn.ChannelsInUse())
	}

	c := dialSync(t, amqpConfig(t, f.url))
	got := c.Drain(queue)
	c.Delete(queue)
	c.Close()
	if lost, sample := missing(resolved, got); lost > 0 {
		t.Errorf("%d of %d confirmed messages are not in the queue, e.g. %v", lost, len(resolved), sample)
	}
	t.Logf("%s: %d published, %d confirmed, %d failed; 0 lost", kind, n, len(resolved), len(failures))
}

// goConsumeFault consumes with manual acks (a prefetch window of 50) and
// acks every delivery until the fault: the consumer must end with the
// error, and every message be in the queue or have been delivered.
func (f *faultEnv) goConsumeFault(t *testing.T, kind string) {
	leakCheck(t)
	const n = 20000
	name, queue := uniqueName(t, "conn"), uniqueName(t, "q")
	prep := dialSync(t, amqpConfig(t, f.url))
	prep.Declare(queue)
	prep.Fill(queue, 0, n)
	prep.Close()

	cfg, proxy := f.goFaultConfig(t, kind, name)
	ctx := context.Background()
	conn, ch, closed, closes := dialGoFault(t, cfg)
	h := newIDHandler()
	var acks sync.WaitGroup
	var ackFailures atomic.Int32
	var slow atomic.Int64
	h.onDel = func(d *amqp.Delivery) {
		acks.Add(1)
		ch.Ack(d.DeliveryTag, false, func(err error) {
			if err != nil {
				ackFailures.Add(1)
			}
			acks.Done()
		})
		if slow.Add(1)%10 == 0 {
			time.Sleep(time.Millisecond) // a consumer slow enough for the fault to come mid-queue
		}
	}
	if err := waitErr(t, "consume", func(done func(error)) {
		ch.Consume(ctx, amqp.ConsumeArgs{Queue: queue, Prefetch: 50}, h, func(_ string, err error) { done(err) })
	}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 30*time.Second, "500 deliveries", func() bool { return h.count() >= 500 })
	wg := f.goFaultEnds(t, kind, name, proxy, closed)
	select {
	case err := <-h.end:
		if err == nil {
			t.Errorf("the consumer ended with nil, want the connection's error")
		} else {
			wantPendingErr(t, kind, err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("the consumer did not end")
	}
	if !waitGroupWithin(&acks, 15*time.Second) {
		t.Fatalf("acks still pending after the end")
	}
	wg.Wait()
	if proxy != nil {
		proxy.Resume()
	}
	<-conn.Done()
	if c := closes.Load(); c != 1 {
		t.Errorf("OnClose called %d times", c)
	}
	delivered := h.count()
	if delivered >= n {
		t.Fatalf("all %d messages were consumed before the fault", n)
	}
	c := dialSync(t, amqpConfig(t, f.url))
	got := c.Drain(queue)
	c.Delete(queue)
	c.Close()
	h.mu.Lock()
	for id, times := range h.ids {
		got[id] += times
	}
	h.mu.Unlock()
	want := map[int]bool{}
	for i := 0; i < n; i++ {
		want[i] = true
	}
	if lost, sample := missing(want, got); lost > 0 {
		t.Errorf("%d of %d messages neither in the queue nor delivered, e.g. %v", lost, n, sample)
	}
	t.Logf("%s: %d delivered, %d acks failed; 0 lost", kind, delivered, ackFailures.Load())
}

// goMemoryAlarm: OnBlocked/OnUnblocked are called once each, a confirmed
// publish made while blocked waits and then succeeds.
func (f *faultEnv) goMemoryAlarm(t *testing.T) {
	leakCheck(t)
	restore := func() { f.node.Ctl(t, "set_vm_memory_high_watermark", "0.4") }
	t.Cleanup(restore)
	blocked := make(chan string, 4)
	unblocked := make(chan struct{}, 4)
	cfg := amqpConfig(t, f.url)
	cfg.OnBlocked = func(reason string) { blocked <- reason }
	cfg.OnUnblocked = func() { unblocked <- struct{}{} }
	c := dialSync(t, cfg)
	queue := uniqueName(t, "q")
	c.Declare(queue)
	c.Fill(queue, 0, 10)
	f.node.Ctl(t, "set_vm_memory_high_watermark", "0.0000001")
	var reason string
	deadline := time.After(30 * time.Second)
	var early sync.WaitGroup
	for i := 10; reason == ""; i++ {
		early.Add(1)
		c.ch.Publish(context.Background(), &amqp.Publishing{RoutingKey: queue, Body: []byte("early")}, true, func(error) { early.Done() })
		select {
		case reason = <-blocked:
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("OnBlocked was not called within 30s of the alarm")
		}
	}
	if reason != "low on memory" {
		t.Errorf("OnBlocked(%q)", reason)
	}
	done := make(chan error, 1)
	c.ch.Publish(context.Background(), &amqp.Publishing{RoutingKey: queue, Body: []byte("during")}, true, func(err error) { done <- err })
	select {
	case err := <-done:
		t.Fatalf("a publish completed while blocked: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	restore()
	select {
	case <-unblocked:
	case <-time.After(30 * time.Second):
		t.Fatal("OnUnblocked was not called within 30s of the end of the alarm")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the publish made while blocked failed: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the publish made while blocked did not complete after the alarm")
	}
	early.Wait()
	c.Delete(queue)
	c.Close()
	if len(blocked) != 0 || len(unblocked) != 0 {
		t.Errorf("OnBlocked/OnUnblocked called more than once")
	}
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	c := make(chan struct{})
	go func() {
		wg.Wait()
		close(c)
	}()
	select {
	case <-c:
		return true
	case <-time.After(d):
		return false
	}
}
