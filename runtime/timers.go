package runtime

import (
	"math"
	"sort"
	"time"

	"github.com/dop251/goja"
)

// timers implements setTimeout, setInterval, setImmediate, their clear*
// functions and queueMicrotask. All state is loop-owned; Go timers only
// enqueue tasks.
type timers struct {
	l      *Loop
	nextID int64
	active map[int64]*timer
	proto  *goja.Object

	// Timers created in one task measure their delay from one instant (as
	// Node's cached loop time does), so their order follows their delays.
	now     time.Time
	nowTask uint64
}

type timer struct {
	id      int64
	fn      goja.Callable
	args    []goja.Value
	delay   time.Duration
	when    time.Time // deadline of the pending run (setTimeout/setInterval)
	repeat  bool
	ref     *Ref // nil while unref'd
	t       *time.Timer
	cleared bool
}

func installTimers(l *Loop) {
	vm := l.vm
	ts := &timers{l: l, active: map[int64]*timer{}}
	// Stop the Go timers of what is still pending (e.g. unref'd timers) so
	// that they do not outlive the loop.
	l.OnShutdown(func() {
		for _, t := range ts.active {
			if t.t != nil {
				t.t.Stop()
			}
		}
	})
	ts.proto = vm.NewObject()
	must(ts.proto.Set("ref", func(call goja.FunctionCall) goja.Value {
		if t := ts.fromValue(call.This); t != nil && !t.cleared && t.ref == nil {
			t.ref = l.Ref()
		}
		return call.This
	}))
	must(ts.proto.Set("unref", func(call goja.FunctionCall) goja.Value {
		if t := ts.fromValue(call.This); t != nil && t.ref != nil {
			t.ref.Close()
			t.ref = nil
		}
		return call.This
	}))
	must(ts.proto.Set("hasRef", func(call goja.FunctionCall) goja.Value {
		t := ts.fromValue(call.This)
		return vm.ToValue(t != nil && t.ref != nil)
	}))
	must(ts.proto.Set("refresh", func(call goja.FunctionCall) goja.Value {
		if t := ts.fromValue(call.This); t != nil && !t.cleared && t.t != nil {
			t.when = time.Now().Add(t.delay)
			t.t.Reset(t.delay)
		}
		return call.This
	}))
	must(ts.proto.SetSymbol(goja.SymToPrimitive, func(call goja.FunctionCall) goja.Value {
		if t := ts.fromValue(call.This); t != nil {
			return vm.ToValue(t.id)
		}
		return goja.NaN()
	}))

	must(vm.Set("setTimeout", func(call goja.FunctionCall) goja.Value { return ts.schedule(call, false, "setTimeout") }))
	must(vm.Set("setInterval", func(call goja.FunctionCall) goja.Value { return ts.schedule(call, true, "setInterval") }))
	must(vm.Set("setImmediate", func(call goja.FunctionCall) goja.Value { return ts.immediate(call) }))
	clear := func(call goja.FunctionCall) goja.Value {
		ts.clear(call.Argument(0))
		return goja.Undefined()
	}
	must(vm.Set("clearTimeout", clear))
	must(vm.Set("clearInterval", clear))
	must(vm.Set("clearImmediate", clear))
	must(vm.Set("queueMicrotask", func(call goja.FunctionCall) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(vm.NewTypeError("queueMicrotask: parameter 'callback' must be a function"))
		}
		p, res, _ := vm.NewPromise()
		then, _ := goja.AssertFunction(vm.ToValue(p).ToObject(vm).Get("then"))
		_, err := then(vm.ToValue(p), vm.ToValue(func(goja.FunctionCall) goja.Value {
			if _, err := fn(goja.Undefined()); err != nil {
				panic(err)
			}
			return goja.Undefined()
		}))
		if err != nil {
			panic(err)
		}
		_ = res(goja.Undefined())
		return goja.Undefined()
	}))
}

func (ts *timers) fromValue(v goja.Value) *timer {
	o, ok := v.(*goja.Object)
	if !ok {
		if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
			return nil
		}
		return ts.active[v.ToInteger()]
	}
	id := o.Get("_id")
	if id == nil {
		return nil
	}
	return ts.active[id.ToInteger()]
}

func (ts *timers) newHandle(t *timer) goja.Value {
	o := ts.l.vm.NewObject()
	_ = o.SetPrototype(ts.proto)
	_ = o.DefineDataProperty("_id", ts.l.vm.ToValue(t.id), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	return o
}

func (ts *timers) callback(call goja.FunctionCall, name string) (goja.Callable, []goja.Value) {
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(ts.l.vm.NewTypeError("%s: parameter 'callback' must be a function, got %s", name, typeOf(call.Argument(0))))
	}
	var args []goja.Value
	if len(call.Arguments) > 2 {
		args = append(args, call.Arguments[2:]...)
	}
	return fn, args
}

func (ts *timers) schedule(call goja.FunctionCall, repeat bool, name string) goja.Value {
	fn, args := ts.callback(call, name)
	ms := call.Argument(1).ToFloat()
	if math.IsNaN(ms) || ms < 1 {
		ms = 1
	}
	if ms > math.MaxInt32 {
		ms = 1
	}
	ts.nextID++
	t := &timer{id: ts.nextID, fn: fn, args: args, repeat: repeat, delay: time.Duration(ms * float64(time.Millisecond)), ref: ts.l.Ref()}
	ts.active[t.id] = t
	ts.arm(t)
	return ts.newHandle(t)
}

// arm starts t's Go timer. When it fires, the loop runs every timer that is
// due, in order of deadline then creation (Node's order): each Go timer
// fires on its own goroutine, so their tasks may reach the queue in any
// order, and timers of equal delay would otherwise run out of order.
func (ts *timers) arm(t *timer) {
	if ts.nowTask != ts.l.taskSeq || ts.now.IsZero() {
		ts.now, ts.nowTask = time.Now(), ts.l.taskSeq
	}
	t.when = ts.now.Add(t.delay)
	t.t = time.AfterFunc(time.Until(t.when), func() {
		ts.l.enqueue(func(vm *goja.Runtime) error { return ts.runDue() })
	})
}

// runDue runs the timers whose deadline has passed. A timer that already ran
// (its task was stale) is skipped. Loop only.
func (ts *timers) runDue() error {
	now := time.Now()
	var due []*timer
	for _, t := range ts.active {
		if t.t != nil && !t.cleared && !t.when.After(now) {
			due = append(due, t)
		}
	}
	sort.Slice(due, func(i, j int) bool {
		if !due[i].when.Equal(due[j].when) {
			return due[i].when.Before(due[j].when)
		}
		return due[i].id < due[j].id
	})
	for _, t := range due {
		if err := ts.fire(t); err != nil {
			return err
		}
		if ts.l.failed != nil {
			return nil // runTask reports it
		}
		if err := ts.l.checkRejections(); err != nil {
			return err
		}
	}
	return nil
}

func (ts *timers) fire(t *timer) error {
	if t.cleared {
		return nil
	}
	if !t.repeat {
		ts.finish(t)
	}
	_, err := t.fn(goja.Undefined(), t.args...)
	if err != nil {
		return err
	}
	if t.repeat && !t.cleared {
		t.when = time.Now().Add(t.delay)
		t.t.Reset(t.delay)
	}
	return nil
}

func (ts *timers) finish(t *timer) {
	t.cleared = true
	delete(ts.active, t.id)
	if t.t != nil {
		t.t.Stop()
	}
	if t.ref != nil {
		t.ref.Close()
		t.ref = nil
	}
}

func (ts *timers) immediate(call goja.FunctionCall) goja.Value {
	fn, _ := goja.AssertFunction(call.Argument(0))
	if fn == nil {
		panic(ts.l.vm.NewTypeError("setImmediate: parameter 'callback' must be a function, got %s", typeOf(call.Argument(0))))
	}
	var args []goja.Value
	if len(call.Arguments) > 1 {
		args = append(args, call.Arguments[1:]...)
	}
	ts.nextID++
	t := &timer{id: ts.nextID, fn: fn, args: args, ref: ts.l.Ref()}
	ts.active[t.id] = t
	ts.l.enqueue(func(vm *goja.Runtime) error { return ts.fire(t) })
	return ts.newHandle(t)
}

func (ts *timers) clear(v goja.Value) {
	if t := ts.fromValue(v); t != nil {
		ts.finish(t)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}
