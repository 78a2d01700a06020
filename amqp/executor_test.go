package amqp

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// opTest is an operation of the executor tests, never run by a Channel
// (its name is the fallback "op"); its arguments are a testOp.
const opTest opKind = 255

type testOp struct{ p, i int }

// TestExecutorOrderAndExactlyOnce submits from several goroutines, some ops
// with contexts that end at random moments, and checks that each
// goroutine's ops run in its order, that every done is called exactly once,
// and that an op whose done reported a timeout before it ran never runs.
func TestExecutorOrderAndExactlyOnce(t *testing.T) {
	const producers, perProducer = 8, 2000
	var mu sync.Mutex
	ran := make([][]int, producers)
	calls := make([][]atomic.Int32, producers)
	for i := range calls {
		calls[i] = make([]atomic.Int32, perProducer)
	}
	var batches atomic.Int32
	e := newExecutor(func(o *op) {
		mu.Lock()
		a := o.args.(*testOp)
		ran[a.p] = append(ran[a.p], a.i)
		mu.Unlock()
		if o.complete() {
			o.deliver(nil)
		}
	}, func() { batches.Add(1) })
	done := make(chan struct{})
	go func() {
		e.loop()
		close(done)
	}()

	var wg sync.WaitGroup
	var timeouts atomic.Int32
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perProducer; i++ {
				o := &op{kind: opTest, args: &testOp{p: p, i: i}}
				o.done = func(err error) {
					if calls[p][i].Add(1) != 1 {
						t.Errorf("op %d/%d: done called twice", p, i)
					}
					if err != nil {
						if e, ok := err.(*Error); !ok || e.Kind != KindTimeout || e.Op != "op" {
							t.Errorf("op %d/%d: %v", p, i, err)
						}
						timeouts.Add(1)
					}
				}
				switch i % 10 {
				case 3: // already over
					ctx, cancel := context.WithCancel(context.Background())
					cancel()
					o.ctx = ctx
				case 7: // over at some point
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%5)*time.Microsecond)
					defer cancel()
					o.ctx = ctx
				}
				o.arm()
				if !e.submit(o) {
					t.Errorf("submit refused")
				}
			}
		}()
	}
	wg.Wait()
	waitUntil(t, func() bool {
		for p := range calls {
			for i := range calls[p] {
				if calls[p][i].Load() == 0 {
					return false
				}
			}
		}
		return true
	})
	e.close(&Error{Kind: KindChannelClosed})
	<-done
	for p, seq := range ran {
		last := -1
		for _, i := range seq {
			if i <= last {
				t.Fatalf("producer %d: op %d ran after op %d", p, i, last)
			}
			last = i
			if i%10 == 3 {
				t.Fatalf("op %d/%d ran although its ctx was over before submit", p, i)
			}
		}
	}
	if timeouts.Load() < producers*perProducer/10 {
		t.Errorf("only %d timeouts", timeouts.Load())
	}
	if batches.Load() == 0 {
		t.Error("after hook never called")
	}
}

// TestExecutorClose: ops queued behind a blocked op fail with the close
// error, later submits are refused, and every done runs exactly once.
func TestExecutorClose(t *testing.T) {
	block := make(chan struct{})
	started := make(chan struct{})
	e := newExecutor(func(o *op) {
		if o.args.(*testOp).i == 0 {
			close(started)
			<-block
		}
		if o.complete() {
			o.deliver(nil)
		}
	}, nil)
	loopDone := make(chan struct{})
	go func() {
		e.loop()
		close(loopDone)
	}()
	results := make(chan error, 10)
	for i := 0; i < 10; i++ {
		o := &op{kind: opQueueDelete, done: func(err error) { results <- err }, args: &testOp{i: i}}
		e.submit(o)
	}
	<-started
	closeErr := &Error{Kind: KindChannelClosed, Code: 406, Reason: "gone"}
	e.close(closeErr)
	if e.submit(&op{kind: opTest}) {
		t.Error("submit after close accepted")
	}
	close(block)
	<-loopDone
	if err := <-results; err != nil {
		t.Errorf("running op: %v", err)
	}
	for i := 1; i < 10; i++ {
		err := <-results
		e, ok := err.(*Error)
		if !ok || e.Code != 406 || e.Op != "queue_delete" {
			t.Errorf("queued op %d: %v", i, err)
		}
	}
	select {
	case err := <-results:
		t.Errorf("extra result %v", err)
	default:
	}
}

// TestOpDoneIsAsynchronous: a ctx that is already over reports from the
// timer goroutine, not from inside arm.
func TestOpDoneIsAsynchronous(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	release := make(chan struct{})
	got := make(chan struct{})
	o := &op{kind: opTest, ctx: ctx, done: func(error) {
		<-release // would deadlock if called from inside arm
		close(got)
	}}
	armed := make(chan struct{})
	go func() {
		o.arm()
		close(armed)
	}()
	select {
	case <-armed:
	case <-time.After(5 * time.Second):
		t.Fatal("arm called done synchronously")
	}
	close(release)
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("done not called")
	}
}

func TestOpDeliverCallbacks(t *testing.T) {
	e := &Error{Kind: KindChannelClosed}
	var n int
	ops := []*op{
		{kind: opQueueDeclare, args: &queueDeclareOp{done: func(q QueueInfo, err error) { n++ }}},
		{kind: opQueuePurge, args: &queuePurgeOp{done: func(c int, err error) { n++ }}},
		{kind: opFlow, args: &flowOp{done: func(b bool, err error) { n++ }}},
		{kind: opGet, args: &getOp{done: func(d *Delivery, ok bool, err error) { n++ }}},
		{kind: opConsume, args: &consumeOp{done: func(s string, err error) { n++ }}},
		{kind: opAck, done: func(err error) { n++ }},
		{kind: opAck}, // nil done is allowed
		{kind: opGet, args: &getOp{}},
	}
	for _, o := range ops {
		o.fail(e)
		o.fail(e)
	}
	if n != 6 {
		t.Errorf("%d callbacks, want 6", n)
	}
}

func waitUntil(t *testing.T, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestExecutorClaim: a claim succeeds only when nothing is queued or
// running; operations submitted during a claim run after its release, in
// order.
func TestExecutorClaim(t *testing.T) {
	var mu sync.Mutex
	var ran []int
	block := make(chan struct{})
	e := newExecutor(func(o *op) {
		if o.args.(*testOp).i == 0 {
			<-block
		}
		mu.Lock()
		ran = append(ran, o.args.(*testOp).i)
		mu.Unlock()
		ok(o)
	}, nil)
	go e.loop()
	defer e.close(&Error{Kind: KindChannelClosed})
	if !e.claim() {
		t.Fatal("claim of an idle executor failed")
	}
	if e.claim() {
		t.Fatal("second claim succeeded")
	}
	done := make(chan struct{}, 3)
	for i := 1; i <= 2; i++ {
		e.submit(&op{kind: opTest, args: &testOp{i: i}, done: func(error) { done <- struct{}{} }})
	}
	time.Sleep(10 * time.Millisecond)
	mu.Lock()
	if len(ran) != 0 {
		t.Fatal("an op ran during a claim")
	}
	mu.Unlock()
	e.release()
	<-done
	<-done
	if !reflect.DeepEqual(ran, []int{1, 2}) {
		t.Fatalf("ran %v", ran)
	}
	// Running: no claim.
	e.submit(&op{kind: opTest, args: &testOp{i: 0}, done: func(error) { done <- struct{}{} }})
	waitUntil(t, func() bool { e.mu.Lock(); defer e.mu.Unlock(); return e.running })
	if e.claim() {
		t.Fatal("claim while running")
	}
	close(block)
	<-done
	waitUntil(t, func() bool { return e.claim() })
	e.release()
}
