package runtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/dop251/goja"
)

// Task is a unit of work run on the loop goroutine. It may touch the VM and
// any goja value. A non-nil error ends [Loop.Run] with that error.
type Task func(vm *goja.Runtime) error

// ErrLoopStopped is returned by [Loop.Run] when the loop was already run and
// stopped; it is also what Enqueue reports (as false) once the loop ended.
var ErrLoopStopped = errors.New("event loop stopped")

// Loop is the event loop of one JavaScript runtime. It owns the
// [goja.Runtime]: only the goroutine inside [Loop.Run] (the loop goroutine)
// touches it or any value derived from it.
//
// Work reaches the loop through a FIFO queue that any goroutine may append
// to. The loop stays alive while the queue is non-empty or any [Ref] (timers,
// connections, consumers, unsettled promises created with [Loop.NewPromise])
// is open; it ends when both are empty — Node's lifetime rule.
type Loop struct {
	vm *goja.Runtime

	mu      sync.Mutex
	queue   []Task
	spare   []Task
	stopped bool

	wakeup chan struct{}
	refs   atomic.Int64

	// loop-owned
	unhandled []*goja.Promise
	closers   []func()
	running   bool
	failed    error
	taskSeq   uint64
	softHook  func()
	errHook   func(error) bool // see SetErrorHook (eval.go)

	inTask      atomic.Bool
	softPending atomic.Bool // counts tasks run; timers use it to share a start time per task

	// halted is set when Run's context ends: from then on no task runs
	// (the one running is interrupted) and none is accepted. Work that
	// arrives for the runtime then is dropped — a consumer's deliveries
	// stay unacked, so the broker requeues them.
	halted atomic.Bool
}

// NewLoop makes a loop around vm. The loop takes ownership of vm: from then
// on only the goroutine inside [Loop.Run] touches it.
func NewLoop(vm *goja.Runtime) *Loop {
	l := &Loop{vm: vm, wakeup: make(chan struct{}, 1)}
	vm.SetPromiseRejectionTracker(l.trackRejection)
	return l
}

// VM returns the runtime. Loop only.
func (l *Loop) VM() *goja.Runtime { return l.vm }

// Run runs first on the loop goroutine (the calling goroutine), then runs
// queued tasks in FIFO order until the loop is idle (no task queued and no
// Ref open), a task fails, an unhandled promise rejection remains after a
// task, or ctx ends. It then runs the shutdown hooks registered with
// [Loop.OnShutdown] and stops accepting tasks. Run may be called once.
//
// The error is the task's error, an [*UnhandledRejectionError], or
// context.Cause(ctx) when ctx ended first.
func (l *Loop) Run(ctx context.Context, first Task) (err error) {
	l.mu.Lock()
	if l.stopped || l.running {
		l.mu.Unlock()
		return ErrLoopStopped
	}
	l.running = true
	l.mu.Unlock()

	stopWatch := context.AfterFunc(ctx, func() {
		l.halted.Store(true)
		l.vm.Interrupt(ctxInterrupt{})
		l.poke()
	})
	defer stopWatch()

	err = l.runTask(first)
	for err == nil {
		if ctx.Err() != nil || l.halted.Load() {
			err = context.Cause(ctx)
			break
		}
		l.mu.Lock()
		if len(l.queue) == 0 {
			if l.refs.Load() == 0 {
				l.mu.Unlock()
				break
			}
			l.mu.Unlock()
			select {
			case <-l.wakeup:
			case <-ctx.Done():
			}
			continue
		}
		batch := l.queue
		l.queue = l.spare[:0]
		l.mu.Unlock()
		for i, t := range batch {
			batch[i] = nil
			if err == nil && l.halted.Load() {
				// The run is being stopped: what is left is dropped.
				err = context.Cause(ctx)
			}
			if err == nil {
				err = l.runTask(t)
			}
		}
		l.spare = batch[:0]
	}
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			if _, ok := ie.Value().(ctxInterrupt); ok {
				err = context.Cause(ctx)
			} else if e, ok := ie.Value().(error); ok {
				err = e
			}
		}
	}
	if perr := l.shutdown(); perr != nil {
		var ie *InternalError
		if !errors.As(err, &ie) {
			err = perr
		}
	}
	return err
}

type ctxInterrupt struct{}

func (l *Loop) runTask(t Task) error {
	l.taskSeq++
	l.inTask.Store(true)
	err := l.call(t)
	l.inTask.Store(false)
	var ie *InternalError
	if errors.As(err, &ie) {
		// The runtime may be in any state after a panic (goja's own
		// included): nothing more runs on it, no hook may take the error
		// as handled.
		l.failed = nil
		return err
	}
	if l.softPending.Swap(false) {
		l.vm.ClearInterrupt()
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			if _, ok := ie.Value().(softInterrupt); ok {
				err = nil
			}
		}
		l.onSoftInterrupt()
	}
	if l.failed != nil {
		err = l.failed
	} else if err == nil {
		err = l.checkRejections()
	}
	if err != nil && l.errHook != nil && l.errHook(err) {
		l.failed = nil
		return nil
	}
	return err
}

// call runs t, turning a Go panic into an [*InternalError]. A task that
// panics with an *InternalError (one recovered on another goroutine and
// brought here) ends the run with it as it is. Loop only.
func (l *Loop) call(t Task) (err error) {
	defer func() {
		if v := recover(); v != nil {
			if ie, ok := v.(*InternalError); ok {
				err = ie // a panic caught elsewhere, brought to the loop
			} else {
				err = NewInternalError(panicSite(), v)
			}
		}
	}()
	return t(l.vm)
}

type softInterrupt struct{}

// InterruptTask stops the JavaScript running in the current task (a script
// stuck in a loop at the REPL) without ending the loop: the task ends, the
// hook set with [Loop.SetSoftInterruptHook] runs, and the loop goes on. When
// no task is running it does nothing. Any goroutine.
func (l *Loop) InterruptTask() {
	if l.inTask.Load() {
		l.softPending.Store(true)
		l.vm.Interrupt(softInterrupt{})
	}
}

// SetSoftInterruptHook sets fn to run on the loop after a task was stopped by
// [Loop.InterruptTask]. Loop only, or before Run.
func (l *Loop) SetSoftInterruptHook(fn func()) { l.softHook = fn }

func (l *Loop) onSoftInterrupt() {
	if l.softHook != nil {
		l.softHook()
	}
}

// Fail ends the run with err once the current task returns (the first
// failure wins). Loop only; used by native callbacks that cannot return an
// error, and by process.exit (with [ExitError]).
func (l *Loop) Fail(err error) {
	if l.failed == nil {
		l.failed = err
	}
}

func (l *Loop) shutdown() (panicked error) {
	l.mu.Lock()
	l.stopped = true
	l.queue = nil
	l.mu.Unlock()
	// Hooks run in reverse order of registration, like defers. A hook
	// that panics does not keep the others from closing what they own.
	for i := len(l.closers) - 1; i >= 0; i-- {
		if err := runCloser(l.closers[i]); err != nil && panicked == nil {
			panicked = err
		}
	}
	l.closers = nil
	return panicked
}

func runCloser(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = NewInternalError(panicSite(), v)
		}
	}()
	fn()
	return nil
}

// OnShutdown registers fn to run on the loop goroutine when Run ends for any
// reason (idle, error, interrupt). Hooks run in reverse registration order;
// they must not block for long (close connections with a bounded context).
// Loop only.
func (l *Loop) OnShutdown(fn func()) { l.closers = append(l.closers, fn) }

func (l *Loop) poke() {
	select {
	case l.wakeup <- struct{}{}:
	default:
	}
}

// enqueue appends t to the queue. Any goroutine. It reports false once the
// loop has stopped.
func (l *Loop) enqueue(t Task) bool {
	if l.halted.Load() {
		return false
	}
	l.mu.Lock()
	if l.stopped {
		l.mu.Unlock()
		return false
	}
	l.queue = append(l.queue, t)
	n := len(l.queue)
	l.mu.Unlock()
	if n == 1 {
		l.poke()
	}
	return true
}

// RunOnLoop queues t to run on the loop, after every task queued before it.
// Any goroutine, including the loop itself. It does not keep the loop alive:
// use a [Ref] for that. It reports false once the loop has stopped; t then
// never runs.
func (l *Loop) RunOnLoop(t func(vm *goja.Runtime)) bool {
	return l.enqueue(func(vm *goja.Runtime) error { t(vm); return nil })
}

// Ref keeps the loop alive until its Close. Obtain one on the loop (or from
// any goroutine while the caller knows the loop is still running, e.g. while
// holding another Ref) before starting asynchronous work whose results will
// be enqueued.
type Ref struct {
	l      *Loop
	closed atomic.Bool
}

// Ref opens a keep-alive reservation. Any goroutine (see [Ref]).
func (l *Loop) Ref() *Ref {
	l.refs.Add(1)
	return &Ref{l: l}
}

// Enqueue queues t on the loop. Any goroutine. It reports false after Close
// or once the loop has stopped; t then never runs.
func (r *Ref) Enqueue(t Task) bool {
	if r.closed.Load() {
		return false
	}
	return r.l.enqueue(t)
}

// Close releases the reservation. Any goroutine; idempotent. Tasks enqueued
// before Close still run.
func (r *Ref) Close() {
	if r.closed.CompareAndSwap(false, true) {
		if r.l.refs.Add(-1) == 0 {
			r.l.poke()
		}
	}
}

// Closed reports whether Close was called. Any goroutine.
func (r *Ref) Closed() bool { return r.closed.Load() }

// Pending reports the number of open refs. Any goroutine.
func (l *Loop) Pending() int { return int(l.refs.Load()) }

// Resolver settles a promise made by [Loop.NewPromise]. Its methods may be
// called from any goroutine; the first call wins and later calls do nothing.
type Resolver struct {
	ref     *Ref
	resolve func(any) error
	reject  func(any) error
	done    atomic.Bool
}

// NewPromise makes a promise on the loop and keeps the loop alive until it is
// settled through the returned [Resolver]. Loop only.
func (l *Loop) NewPromise() (*goja.Promise, *Resolver) {
	p, res, rej := l.vm.NewPromise()
	return p, &Resolver{ref: l.Ref(), resolve: res, reject: rej}
}

// Resolve fulfils the promise with v, converted on the loop with
// vm.ToValue. Any goroutine; exactly once.
func (r *Resolver) Resolve(v any) {
	r.Settle(func(*goja.Runtime) (any, error) { return v, nil })
}

// Reject rejects the promise with v (a goja value, or a Go value converted
// on the loop). Any goroutine; exactly once.
func (r *Resolver) Reject(v any) {
	r.settle(func(*goja.Runtime) error { return r.reject(v) })
}

// Settle runs build on the loop and resolves the promise with its value, or
// rejects it with the error: the value of a [*Rejection] or of a
// *goja.Exception; any other error becomes a JS Error with its text. Any
// goroutine; exactly once.
func (r *Resolver) Settle(build func(vm *goja.Runtime) (any, error)) {
	r.settle(func(vm *goja.Runtime) error {
		v, err := build(vm)
		if err != nil {
			return r.reject(RejectionValue(vm, err))
		}
		return r.resolve(v)
	})
}

// Rejection is an error that carries the JS value a promise rejects with.
type Rejection struct{ Value goja.Value }

// Error returns the value's string conversion. Loop only (it converts a
// JS value).
func (e *Rejection) Error() string { return e.Value.String() }

// RejectionValue turns err into the JS value to reject or throw with: the
// value of a [*Rejection] or *goja.Exception, else a JS Error with err's
// text (never a GoError). Loop only.
func RejectionValue(vm *goja.Runtime, err error) goja.Value {
	var rj *Rejection
	if errors.As(err, &rj) {
		return rj.Value
	}
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	c, _ := goja.AssertConstructor(vm.Get("Error"))
	o, cerr := c(nil, vm.ToValue(err.Error()))
	if cerr != nil {
		return vm.ToValue(err.Error())
	}
	return o
}

// SettleOnLoop is Settle for callers already on the loop: it settles at once.
// Loop only.
func (r *Resolver) SettleOnLoop(vm *goja.Runtime, v any, err any) error {
	if !r.done.CompareAndSwap(false, true) {
		return nil
	}
	defer r.ref.Close()
	if err != nil {
		return r.reject(err)
	}
	return r.resolve(v)
}

func (r *Resolver) settle(fn func(vm *goja.Runtime) error) {
	if !r.done.CompareAndSwap(false, true) {
		return
	}
	r.ref.Enqueue(fn)
	r.ref.Close()
}

// Done reports whether the promise was settled (or a settle is queued).
// Any goroutine.
func (r *Resolver) Done() bool { return r.done.Load() }

// UnhandledRejectionError ends a run when a promise was rejected and no
// handler was attached by the end of the task that rejected it (Node ≥ 15).
type UnhandledRejectionError struct {
	Reason goja.Value
	Text   string
}

// Error returns "Uncaught (in promise) " and the reason as described when
// the run ended (Text); any goroutine.
func (e *UnhandledRejectionError) Error() string { return "Uncaught (in promise) " + e.Text }

func (l *Loop) trackRejection(p *goja.Promise, op goja.PromiseRejectionOperation) {
	switch op {
	case goja.PromiseRejectionReject:
		l.unhandled = append(l.unhandled, p)
	case goja.PromiseRejectionHandle:
		for i, q := range l.unhandled {
			if q == p {
				l.unhandled = append(l.unhandled[:i], l.unhandled[i+1:]...)
				break
			}
		}
	}
}

func (l *Loop) checkRejections() error {
	if len(l.unhandled) == 0 {
		return nil
	}
	p := l.unhandled[0]
	l.unhandled = l.unhandled[:0]
	reason := p.Result()
	return &UnhandledRejectionError{Reason: reason, Text: describeValue(l.vm, reason)}
}
