package scenario

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// errVUStopped is the cause that ends a VU's loop at the end of the run.
var errVUStopped = errors.New("VU stopped")

// errVUDead is what iterate returns when the VU's runtime ended (an error
// outside an iteration, e.g. an exception in a consumer callback, or an
// unhandled rejection); the executor replaces the VU.
var errVUDead = errors.New("VU ended")

// vu is one virtual user: its own runtime, on its own goroutine (the one in
// RunFileThen), that runs the script's default function on request.
type vu struct {
	id     int
	s      *Scenario
	e      *engine // its scenario
	rt     *runtime.Runtime
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the loop ended; err is then set
	err    error

	// loop-owned
	ref     *runtime.Ref
	fn      goja.Callable
	data    goja.Value
	iter    int64
	pending chan iterResult // the iteration in flight
	more    func() bool     // whether to go on with another iteration; nil: no
	started time.Time
	onOK    goja.Value
	onErr   goja.Value
}

type iterResult struct {
	err string // formatted error; "" on success
}

// startVU makes VU id of scenario e and runs the script's init code (its
// top level). It returns when the VU is ready to iterate, or with the error
// that ended its init. ctx bounds the wait and the VU's life.
func (s *Scenario) startVU(ctx context.Context, e *engine, id int) (*vu, error) {
	rt, err := s.opts.NewRuntime(id)
	if err != nil {
		return nil, err
	}
	rt.SetMetricTags(e.tags)
	rt.SetMetrics(s.reg)
	rt.SetE2EHeader(s.opts.E2EHeader)
	vm := rt.VM()
	if err := vm.Set("__VU", id); err != nil {
		return nil, err
	}
	if err := vm.Set("__ITER", 0); err != nil {
		return nil, err
	}
	if err := setEnv(vm, e.cfg.Env); err != nil {
		return nil, err
	}
	vctx, cancel := context.WithCancelCause(ctx)
	v := &vu{id: id, s: s, e: e, rt: rt, cancel: cancel, done: make(chan struct{})}
	ready := make(chan error, 1)
	go func() {
		_, err := s.runMain(vctx, rt, func(vm *goja.Runtime, exports *goja.Object) error {
			fn, ok := goja.AssertFunction(exports.Get(e.cfg.Exec))
			if !ok {
				return fmt.Errorf("VU %d: the script exports no function %q", id, e.cfg.Exec)
			}
			v.fn = fn
			v.data = goja.Undefined()
			if s.dataJSON != "" {
				parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
				d, err := parse(goja.Undefined(), vm.ToValue(s.dataJSON))
				if err != nil {
					return err
				}
				v.data = d
			}
			v.onOK = vm.ToValue(func(goja.FunctionCall) goja.Value {
				v.finish("")
				return goja.Undefined()
			})
			v.onErr = vm.ToValue(func(call goja.FunctionCall) goja.Value {
				v.finish(rt.FormatError(&runtime.UncaughtError{Value: call.Argument(0)}))
				return goja.Undefined()
			})
			v.ref = rt.Loop().Ref()
			ready <- nil
			return nil
		})
		v.err = err
		close(v.done)
	}()
	select {
	case err := <-ready:
		return v, err
	case <-v.done:
		cancel(errVUStopped)
		if v.err == nil {
			v.err = fmt.Errorf("VU %d: the script ended before it was ready", id)
		}
		return nil, v.err
	case <-ctx.Done():
		v.stop()
		return nil, context.Cause(ctx)
	}
}

// runMain runs the main module (Options.Script, or Options.Source under
// that name) on rt, then hook. VU goroutine.
func (s *Scenario) runMain(ctx context.Context, rt *runtime.Runtime, hook func(*goja.Runtime, *goja.Object) error) (*goja.Object, error) {
	if s.opts.Source != "" {
		return rt.RunSourceThen(ctx, s.opts.Script, s.opts.Source, hook)
	}
	return rt.RunFileThen(ctx, s.opts.Script, hook)
}

// finish ends the iteration in flight: it is recorded, then the next one
// starts at once on the loop when more allows, else the waiting goroutine
// is told. Loop only.
func (v *vu) finish(errText string) {
	if v.pending == nil {
		return
	}
	v.s.iterDone(v, time.Since(v.started), errText)
	if v.more != nil && v.more() {
		// A task of its own: the next iteration does not run inside this
		// one's promise callbacks, and the stack stays flat.
		v.rt.Loop().RunOnLoop(func(vm *goja.Runtime) {
			if err := v.start(vm); err != nil {
				v.rt.Loop().Fail(err)
			}
		})
		return
	}
	v.pending <- iterResult{err: errText}
	v.pending = nil
}

// start begins an iteration: __ITER, the default function, and its promise.
// Loop only.
func (v *vu) start(vm *goja.Runtime) error {
	if err := vm.Set("__ITER", v.iter); err != nil {
		return err
	}
	v.iter++
	v.started = time.Now()
	ret, err := v.fn(goja.Undefined(), v.data)
	if err != nil {
		var ie *goja.InterruptedError
		if errors.As(err, &ie) {
			return err // the VU is being stopped
		}
		v.finish(v.rt.FormatError(err))
		return nil
	}
	if o, isObj := ret.(*goja.Object); isObj {
		if p, isPromise := o.Export().(*goja.Promise); isPromise {
			if p.State() == goja.PromiseStateFulfilled {
				v.finish("")
				return nil
			}
			then, _ := goja.AssertFunction(o.Get("then"))
			_, err := then(o, v.onOK, v.onErr)
			return err
		}
	}
	v.finish("")
	return nil
}

// iterate runs one iteration and waits for it to settle; see run.
func (v *vu) iterate(ctx context.Context) error { return v.run(ctx, nil) }

// run runs iterations back to back on the VU's loop, the first one at
// once and each next one while more (called on the loop after each
// iteration; it must not block; nil: one iteration) allows. It returns when
// more said no and the last iteration settled, errVUDead when the VU's
// runtime ended, or ctx's cause when ctx ended first (the iteration in
// flight is then interrupted by stopping the VU). An exception in an
// iteration is not an error here: it was counted and reported on the loop.
func (v *vu) run(ctx context.Context, more func() bool) error {
	res := make(chan iterResult, 1)
	ok := v.ref.Enqueue(func(vm *goja.Runtime) error {
		v.pending = res
		v.more = more
		return v.start(vm)
	})
	if !ok {
		return errVUDead
	}
	select {
	case <-res:
		return nil
	case <-v.done:
		select {
		case <-res:
			return nil
		default:
		}
		return errVUDead
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// stop ends the VU: its loop is interrupted, its shutdown hooks close its
// connections. It waits for the loop to end. Any goroutine; idempotent.
func (v *vu) stop() {
	v.cancel(errVUStopped)
	<-v.done
}

// deathError is the error that ended the VU's loop, formatted, or "" when
// the loop was stopped by the scenario.
func (v *vu) deathError() string {
	if v.err == nil || errors.Is(v.err, errVUStopped) || errors.Is(v.err, context.Canceled) {
		return ""
	}
	return v.rt.FormatError(v.err)
}

// setEnv adds env to the runtime's process.env. Before the runtime runs.
func setEnv(vm *goja.Runtime, env map[string]string) error {
	if len(env) == 0 {
		return nil
	}
	p, ok := vm.Get("process").(*goja.Object)
	if !ok {
		return errors.New("no process global")
	}
	pe, ok := p.Get("env").(*goja.Object)
	if !ok {
		return errors.New("no process.env")
	}
	for k, v := range env {
		if err := pe.Set(k, v); err != nil {
			return err
		}
	}
	return nil
}
