package amqpjs

import (
	"context"
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/runtime"
)

// ModuleFunc defines a host module: it fills m with the module's exports
// (m.Set, m.Func, m.Async). It runs on the loop goroutine, once per
// runtime, when a script first requires or imports the module; an error
// makes that require throw it.
type ModuleFunc func(m *Module) error

// Func is a function of a host module, called by the script. It runs on the
// loop goroutine and must not block: work that waits (I/O, a lock, a
// channel) goes to a goroutine that settles a promise made with
// [Call.NewPromise] — which Func returns — or use [Module.Async]. The value
// is converted as [Module.Set] converts; an error is thrown as a JS Error
// with its text (a TypeError for [NewTypeError]'s).
type Func func(c *Call) (any, error)

// RegisterModule makes a host module available to the script's require
// and import under name (`import { lookup } from 'inventory'`). fn
// defines its exports when the script first loads it. A name already
// registered by the host, "aioamqp", or empty is an error; a host module
// named like a built-in ("util") replaces it. Call it before the run
// starts; it returns [ErrStarted] after.
func (r *Runtime) RegisterModule(name string, fn ModuleFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.started:
		return ErrStarted
	case name == "" || fn == nil:
		return errors.New("amqpjs: RegisterModule: empty name or nil ModuleFunc")
	case name == bindings.ModuleName || name == "node:"+bindings.ModuleName:
		return fmt.Errorf("amqpjs: RegisterModule: %q is the aioamqp module", name)
	case r.hosts[name]:
		return fmt.Errorf("amqpjs: RegisterModule: module %q already registered", name)
	}
	r.hosts[name] = true
	r.modules = append(r.modules, hostModule{name, fn})
	registerHostModule(r, name, fn)
	return nil
}

// hostModule is a module registered with RegisterModule.
type hostModule struct {
	name string
	fn   ModuleFunc
}

// registerHostModule registers fn as module name of r's lower-level
// runtime. Before r runs.
func registerHostModule(r *Runtime, name string, fn ModuleFunc) {
	r.rt.RegisterModule(name, func(vm *goja.Runtime, module *goja.Object) {
		exports, _ := module.Get("exports").(*goja.Object)
		if exports == nil {
			exports = vm.NewObject()
			_ = module.Set("exports", exports)
		}
		m := &Module{r: r, vm: vm, name: name, exports: exports}
		if err := fn(m); err != nil {
			panic(errorValue(vm, fmt.Errorf("module '%s': %w", name, err)))
		}
	})
}

// Module is the module being defined by a [ModuleFunc]. Use it on the loop
// goroutine, during the ModuleFunc call; the functions it defines stay
// callable for the whole run.
type Module struct {
	r       *Runtime
	vm      *goja.Runtime
	name    string
	exports *goja.Object
}

// Name returns the module's name.
func (m *Module) Name() string { return m.name }

// Set exports value under name. Go values are converted by goja's
// ToValue (numbers, strings, bools, other maps and slices — wrapped, not
// copied —, structs, funcs), with these exceptions: nil becomes null;
// []byte a Buffer (of the same memory); an error a JS Error; a [*Promise]
// its JS promise; map[string]any and []any a plain object and an array
// whose values are converted by these same rules.
func (m *Module) Set(name string, value any) error {
	return m.exports.Set(name, toJS(m.vm, value))
}

// Func exports a function that the script calls synchronously. See [Func].
func (m *Module) Func(name string, fn Func) error {
	r, vm := m.r, m.vm
	return m.exports.Set(name, func(call goja.FunctionCall) goja.Value {
		v, err := fn(&Call{r: r, vm: vm, call: call})
		if err != nil {
			panic(errorValue(vm, err))
		}
		return toJS(vm, v)
	})
}

// Async exports a function that returns a promise: fn runs on a goroutine
// of its own with the call's arguments (exported on the loop, see
// [Call.Args]) and the run's context (which ends when the run ends), and
// its result resolves the promise, its error rejects it. The run stays
// alive until fn returns. A panic in fn ends the run with an
// [*InternalError].
func (m *Module) Async(name string, fn func(ctx context.Context, args []any) (any, error)) error {
	return m.Func(name, func(c *Call) (any, error) {
		args := c.Args()
		ctx := c.Context()
		p := c.NewPromise()
		where := "host module " + m.name + ": " + name
		go func() {
			defer func() {
				// A panic in fn (a defect of the host or of amqpjs) ends
				// the run as an *InternalError, like a panic on the loop,
				// instead of killing the host's process.
				if v := recover(); v != nil {
					ie := runtime.NewInternalError(where, v)
					// Panicking with it on the loop ends the run before
					// the script could see the promise settle.
					p.res.Settle(func(*goja.Runtime) (any, error) { panic(ie) })
				}
			}()
			v, err := fn(ctx, args)
			if err != nil {
				p.Reject(err)
				return
			}
			p.Resolve(v)
		}()
		return p, nil
	})
}

// Call is one call of a [Func] by the script. Use it on the loop
// goroutine, during the call; what it returns ([Call.Args],
// [Call.NewPromise]) may be kept.
type Call struct {
	r    *Runtime
	vm   *goja.Runtime
	call goja.FunctionCall
}

// NumArgs returns the number of arguments the script passed.
func (c *Call) NumArgs() int { return len(c.call.Arguments) }

// Arg returns argument i exported to Go (goja's Export: nil for undefined,
// null or a missing argument; string; int64 or float64; bool; []byte for a
// Buffer or Uint8Array; map[string]any for an object and []any for an
// array, both copies; a func for a JS function, which may only be called
// on the loop).
func (c *Call) Arg(i int) any { return export(c.call.Argument(i)) }

// Args returns every argument, as [Call.Arg] exports them.
func (c *Call) Args() []any {
	out := make([]any, len(c.call.Arguments))
	for i := range out {
		out[i] = c.Arg(i)
	}
	return out
}

// Value returns argument i as a goja value (undefined when missing), for
// hosts that work with goja directly. Loop only.
func (c *Call) Value(i int) goja.Value { return c.call.Argument(i) }

// VM returns the runtime's goja VM. Loop only.
func (c *Call) VM() *goja.Runtime { return c.vm }

// Context returns the run's context: it ends when the run ends (finished,
// failed, cancelled or closed), so goroutines started by the call can stop.
func (c *Call) Context() context.Context {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.r.ctx == nil {
		return context.Background()
	}
	return c.r.ctx
}

// NewPromise makes a JS promise for the function to return and the
// [*Promise] that settles it from any goroutine. The run stays alive until
// it is settled (or the run is cancelled).
func (c *Call) NewPromise() *Promise {
	p, res := c.r.rt.Loop().NewPromise()
	return &Promise{p: p, res: res}
}

// Promise settles a JS promise made by [Call.NewPromise]. Its methods may
// be called from any goroutine; the first call wins, later ones do nothing.
// The value is converted on the loop, as [Module.Set] converts.
type Promise struct {
	p   *goja.Promise
	res *runtime.Resolver
}

// Resolve fulfils the promise with v. Any goroutine.
func (p *Promise) Resolve(v any) {
	p.res.Settle(func(vm *goja.Runtime) (any, error) { return toJS(vm, v), nil })
}

// Reject rejects the promise with a JS Error whose message is err's text
// (a TypeError for [NewTypeError]'s). Any goroutine.
func (p *Promise) Reject(err error) {
	if err == nil {
		err = errors.New("rejected")
	}
	p.res.Settle(func(vm *goja.Runtime) (any, error) {
		return nil, &runtime.Rejection{Value: errorValue(vm, err)}
	})
}

// NewTypeError returns an error that a [Func] returns (or a [Promise]
// rejects with) to make the script see a TypeError, as for a bad argument.
func NewTypeError(format string, args ...any) error {
	return &typeError{msg: fmt.Sprintf(format, args...)}
}

type typeError struct{ msg string }

func (e *typeError) Error() string { return e.msg }

// errorValue makes the JS Error thrown for err. Loop only.
func errorValue(vm *goja.Runtime, err error) goja.Value {
	var te *typeError
	if errors.As(err, &te) {
		return vm.NewTypeError("%s", err.Error())
	}
	return runtime.RejectionValue(vm, err)
}

// toJS converts a host value for the script. Loop only.
func toJS(vm *goja.Runtime, v any) goja.Value {
	switch x := v.(type) {
	case nil:
		return goja.Null()
	case goja.Value:
		return x
	case []byte:
		return buffer.WrapBytes(vm, x)
	case *Promise:
		return vm.ToValue(x.p)
	case error:
		return errorValue(vm, x)
	case map[string]any:
		o := vm.NewObject()
		for k, e := range x {
			_ = o.Set(k, toJS(vm, e))
		}
		return o
	case []any:
		vals := make([]any, len(x))
		for i, e := range x {
			vals[i] = toJS(vm, e)
		}
		return vm.NewArray(vals...)
	}
	return vm.ToValue(v)
}
