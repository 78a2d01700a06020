package amqp

import (
	"context"
	"sync"
	"sync/atomic"
)

type opKind uint8

const (
	opQueueDeclare opKind = iota
	opQueueDelete
	opQueueBind
	opQueueUnbind
	opQueuePurge
	opExchangeDeclare
	opExchangeDelete
	opExchangeBind
	opExchangeUnbind
	opQos
	opFlow
	opRecover
	opClose
	opConfirm
	opPublish
	opAck
	opNack
	opReject
	opGet
	opConsume
	opCancel
	opBarrier // Conn.Close: everything queued before it is written
)

var opNames = [...]string{
	opQueueDeclare:    "queue_declare",
	opQueueDelete:     "queue_delete",
	opQueueBind:       "queue_bind",
	opQueueUnbind:     "queue_unbind",
	opQueuePurge:      "queue_purge",
	opExchangeDeclare: "exchange_declare",
	opExchangeDelete:  "exchange_delete",
	opExchangeBind:    "exchange_bind",
	opExchangeUnbind:  "exchange_unbind",
	opQos:             "basic_qos",
	opFlow:            "flow",
	opRecover:         "basic_recover",
	opClose:           "close",
	opConfirm:         "confirm_select",
	opPublish:         "basic_publish",
	opAck:             "basic_client_ack",
	opNack:            "basic_client_nack",
	opReject:          "basic_reject",
	opGet:             "basic_get",
	opConsume:         "basic_consume",
	opCancel:          "basic_cancel",
	opBarrier:         "barrier",
}

// op is one call queued on a channel's executor. Its fields are written by
// the caller before submit and read by the executor afterwards; only state
// is shared with other goroutines (the timeout and the confirm ring).
//
// Exactly one callback is set: done, or the typed one in args (see
// resultArgs). It is called exactly once: the goroutine that wins
// complete() (executor, ctx timer, confirm ring, channel end) calls deliver
// or fail.
type op struct {
	kind opKind
	// Flags of the hot operations (publish, ack, nack, reject), beside kind
	// so that they take no room of their own.
	waitConfirm bool          // publish: done waits for the broker's confirm
	multiple    bool          // ack/nack
	requeue     bool          // nack/reject/recover
	state       atomic.Uint32 // 0 pending, 1 completed
	ctx         context.Context
	stop        func() bool // stops the ctx timer; set before submit

	// The other arguments of the hot operations live in op itself, so that
	// they allocate nothing more; the other operations' in args.
	pub  *Publishing
	tag  uint64 // ack/nack/reject: the delivery tag; publish: its confirm tag
	done func(error)

	args any // the *xxxOp of the other operations (channel_api.go)
}

// resultArgs is the args of an operation whose callback takes results
// besides the error: failResult calls it with zero results.
type resultArgs interface {
	failResult(err error)
}

// name is the operation's name as errors report it (Error.Op); "op" for a
// kind without one (the executor's own tests).
func (o *op) name() string {
	if int(o.kind) < len(opNames) {
		return opNames[o.kind]
	}
	return "op"
}

// complete claims the right to call the callback. Only one caller wins.
func (o *op) complete() bool {
	if !o.state.CompareAndSwap(0, 1) {
		return false
	}
	if o.stop != nil {
		o.stop()
	}
	return true
}

// completed reports whether the callback was claimed already.
func (o *op) completed() bool { return o.state.Load() != 0 }

// deliver calls the callback with an error (nil for success) and zero
// results. The caller must have won complete().
func (o *op) deliver(err error) {
	if o.done != nil {
		o.done(err)
	} else if r, ok := o.args.(resultArgs); ok {
		r.failResult(err)
	}
}

// fail completes o with err (its Op set to o's name) unless it completed
// already.
func (o *op) fail(err *Error) {
	if o.complete() {
		o.deliver(err.withOp(o.name()))
	}
}

// arm starts o's ctx timer: when ctx ends first, the callback gets a
// KindTimeout error at once, from the timer's goroutine.
func (o *op) arm() {
	if o.ctx == nil || o.ctx.Done() == nil {
		return
	}
	o.stop = context.AfterFunc(o.ctx, func() {
		// Not complete(): o.stop may not be visible to this goroutine.
		if o.state.CompareAndSwap(0, 1) {
			o.deliver(timeoutError(o.name(), o.ctx))
		}
	})
}

// expired reports whether o's ctx has ended; the timer then reports it.
func (o *op) expired() bool { return o.ctx != nil && o.ctx.Err() != nil }

func timeoutError(op string, ctx context.Context) *Error {
	cause := context.Cause(ctx)
	reason := "timed out"
	if ctx.Err() == context.Canceled {
		reason = "cancelled"
	}
	return &Error{Kind: KindTimeout, Op: op, Reason: reason, Err: cause}
}

// executor runs the ops of one channel in submission order on one goroutine.
// The queue is an unbounded FIFO (mutex + slice); each wakeup drains
// everything queued so far as one batch, swapping two slices so that steady
// state allocates nothing.
type executor struct {
	mu     sync.Mutex
	queue  []*op
	closed bool
	err    *Error // for ops still queued at close
	wake   chan struct{}

	spare    []*op       // owned by the loop goroutine
	isClosed atomic.Bool // lets the loop stop running a batch early
	run      func(*op)   // executes one op; set before loop starts
	after    func()      // called after each batch (may be nil)
	idle     func()      // called after each wakeup, queue drained (may be nil)

	// running: the loop goroutine is running a batch; inline: a caller
	// claimed the channel to run an operation on its own goroutine (see
	// claim). Both guarded by mu.
	running, inline bool
}

func newExecutor(run func(*op), after func()) *executor {
	return &executor{wake: make(chan struct{}, 1), run: run, after: after}
}

// submit queues o. It returns false when the executor is closed; the caller
// must then fail o from another goroutine.
func (e *executor) submit(o *op) bool {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return false
	}
	e.queue = append(e.queue, o)
	first := len(e.queue) == 1
	e.mu.Unlock()
	if first {
		e.signal()
	}
	return true
}

func (e *executor) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// close stops the executor: queued ops fail with err, later submits are
// refused, and loop returns once the current op is done.
func (e *executor) close(err *Error) {
	e.mu.Lock()
	if !e.closed {
		e.closed = true
		e.err = err
		e.isClosed.Store(true)
	}
	e.mu.Unlock()
	e.signal()
}

// claim lets the caller run one operation on its own goroutine instead of
// queueing it, when that keeps the channel's order: nothing is queued or
// running and the executor is open. A successful claim must be followed by
// release; meanwhile the loop runs nothing.
func (e *executor) claim() bool {
	e.mu.Lock()
	ok := !e.closed && !e.running && !e.inline && len(e.queue) == 0
	if ok {
		e.inline = true
	}
	e.mu.Unlock()
	return ok
}

// release ends a claim, waking the loop for what was queued meanwhile.
func (e *executor) release() {
	e.mu.Lock()
	e.inline = false
	wake := len(e.queue) > 0 || e.closed
	e.mu.Unlock()
	if wake {
		e.signal()
	}
}

// loop is the executor goroutine.
func (e *executor) loop() {
	for range e.wake {
		for {
			e.mu.Lock()
			if e.inline {
				// A claim is running; its release wakes us again.
				e.mu.Unlock()
				break
			}
			batch := e.queue
			if len(batch) == 0 {
				e.running = false
				closed := e.closed
				e.mu.Unlock()
				if closed {
					return
				}
				break
			}
			e.running = true
			e.queue = e.spare
			e.mu.Unlock()
			for i, o := range batch {
				switch {
				case e.isClosed.Load():
					o.fail(e.closeErr())
				case o.completed():
					// timed out while queued: never sent
				case o.expired():
					// the ctx timer is about to report it
				default:
					e.run(o)
				}
				batch[i] = nil
			}
			e.spare = batch[:0]
			if e.after != nil {
				e.after()
			}
		}
		if e.idle != nil {
			e.idle()
		}
	}
}

func (e *executor) closeErr() *Error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}
