// Package runtime is the JavaScript engine of amqpjs: a goja VM with a
// Node-like event loop ([Loop]), CommonJS/ES module/TypeScript loading with
// top-level await, the globals of docs/api.md §1 (console, timers, Buffer,
// process, TextEncoder…) and the built-in modules (assert, util,
// timers/promises, buffer). Native modules such as the aioamqp bindings are
// added with [Runtime.RegisterModule].
//
// # Goroutines
//
// A [Runtime] and every goja value it makes belong to its loop goroutine:
// the goroutine inside RunFile / RunSource (or [Loop.Run]). Other
// goroutines reach it only through the loop's queue ([Loop.RunOnLoop],
// [Ref.Enqueue], [Resolver]); each method says where it may be called
// ("Loop only", "Any goroutine"). Before the run starts, the goroutine that
// made the runtime may configure it. Runtimes share no mutable state, so
// any number may run side by side in one process; package-level values are
// read-only (compiled built-in programs, regular expressions, [Version],
// which main sets before any runtime exists).
//
// For embedding in a Go program, package github.com/amqpjs/amqpjs/pkg/amqpjs
// wraps this package and the bindings in a smaller API.
package runtime

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"
	"github.com/dop251/goja_nodejs/require"
	"github.com/dop251/goja_nodejs/url"
)

//go:embed js/util.js
var utilJS string

//go:embed js/assert.js
var assertJS string

//go:embed js/buffer_extras.js
var bufferExtrasJS string

var (
	utilPrg   = goja.MustCompile("amqpjs:util.js", utilJS, true)
	assertPrg = goja.MustCompile("amqpjs:assert.js", assertJS, true)

	bufferExtrasPrg = goja.MustCompile("amqpjs:buffer_extras.js", bufferExtrasJS, true)
)

// Version is the amqpjs version; main sets it from build info.
var Version = "0.1.0-dev"

// ModuleLoader fills module.exports of a native module. It runs on the loop.
type ModuleLoader func(vm *goja.Runtime, module *goja.Object)

// Options configure a [Runtime].
type Options struct {
	Stdout, Stderr io.Writer // nil: io.Discard
	Env            map[string]string
	Args           []string // process.argv after the script path
	Argv0          string   // process.argv[0]; "amqpjs" when empty
	// Color makes console output of inspected values use ANSI colours.
	Color bool
}

// Runtime is one JavaScript runtime: a goja VM, its event loop, require with
// the built-in modules, and the globals of docs/api.md §1. Runtimes share no state.
// Unless a method says otherwise it must be called on the loop goroutine, or
// before [Runtime.Run] starts.
type Runtime struct {
	opts     Options
	vm       *goja.Runtime
	loop     *Loop
	registry *require.Registry
	req      *require.RequireModule
	mainPath string
	mainSrc  *memSource // RunSource's main module (source.go)
	util     *goja.Object
	inspect  goja.Callable
	format   goja.Callable
	process  *goja.Object
	modules  map[string]ModuleLoader
	stdout   io.Writer
	stderr   io.Writer
	mhook    metricsHook // metrics_hook.go
}

// New makes a runtime. Native modules are added with [Runtime.RegisterModule].
// Any goroutine; the goroutine that then calls RunFile (or RunSource)
// becomes its loop goroutine.
func New(opts Options) *Runtime {
	vm := goja.New()
	r := &Runtime{opts: opts, vm: vm, modules: map[string]ModuleLoader{}}
	r.stdout, r.stderr = opts.Stdout, opts.Stderr
	if r.stdout == nil {
		r.stdout = io.Discard
	}
	if r.stderr == nil {
		r.stderr = io.Discard
	}
	r.loop = NewLoop(vm)
	r.registry = require.NewRegistry(require.WithLoader(r.loadSource))
	r.req = r.registry.Enable(vm)
	r.installGlobals()
	return r
}

// VM returns the goja runtime. Loop only.
func (r *Runtime) VM() *goja.Runtime { return r.vm }

// Loop returns the event loop. Any goroutine (the Loop's methods say where
// they may be called).
func (r *Runtime) Loop() *Loop { return r.loop }

// Stdout returns the writer console.log writes to. Any goroutine; the
// runtime writes to it on the loop goroutine only.
func (r *Runtime) Stdout() io.Writer { return r.stdout }

// Stderr returns the writer console.error writes to. Any goroutine; the
// runtime writes to it on the loop goroutine only.
func (r *Runtime) Stderr() io.Writer { return r.stderr }

// RegisterModule makes a native module available to require and import
// under name (and "node:"+name). Call it before Run.
func (r *Runtime) RegisterModule(name string, loader ModuleLoader) {
	r.modules[name] = loader
	r.registry.RegisterNativeModule(name, require.ModuleLoader(loader))
}

// Require loads a module as the script's require would. Loop only.
func (r *Runtime) Require(name string) (goja.Value, error) {
	return r.req.Require(name)
}

func (r *Runtime) loadSource(path string) ([]byte, error) {
	src, err := r.readSource(path)
	if errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(path, ".js") {
		// TypeScript's convention: import './lib.js' (or './lib', which the
		// resolver tries as './lib.js') finds lib.ts.
		for _, ext := range []string{".ts", ".mts"} {
			alt := strings.TrimSuffix(path, ".js") + ext
			if b, aerr := os.ReadFile(alt); aerr == nil {
				src, err, path = b, nil, alt
				break
			}
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isDirErr(err) {
			return nil, require.ModuleFileDoesNotExistError
		}
		return nil, err
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".json", ".map":
		return src, nil
	}
	code, err := transform(path, src, path == r.mainPath)
	if err != nil {
		return nil, err
	}
	return []byte(code), nil
}

func isDirErr(err error) bool {
	var pe *fs.PathError
	// syscall.EISDIR's text is "Is a directory" under js/wasm.
	return errors.As(err, &pe) && (errors.Is(pe.Err, syscall.EISDIR) || strings.Contains(pe.Err.Error(), "is a directory"))
}

// Inspect formats v like Node's util.inspect. Loop only.
func (r *Runtime) Inspect(v goja.Value, colors bool) string {
	opts := r.vm.NewObject()
	_ = opts.Set("colors", colors)
	res, err := r.inspect(goja.Undefined(), v, opts)
	if err != nil {
		return v.String()
	}
	return res.String()
}

func (r *Runtime) installGlobals() {
	vm := r.vm
	// goja has no Symbol.asyncIterator; esbuild's for-await helper falls
	// back to Symbol.for("Symbol.asyncIterator"), so use that symbol.
	_, err := vm.RunString(`if (!Symbol.asyncIterator) Object.defineProperty(Symbol, "asyncIterator", { value: Symbol.for("Symbol.asyncIterator") })`)
	must(err)
	installTimers(r.loop)
	buffer.Enable(vm)
	_, err = vm.RunProgram(bufferExtrasPrg)
	must(err)
	url.Enable(vm)
	installTextCoding(vm)

	// util and assert, from embedded JS.
	natives := vm.NewObject()
	must(natives.Set("promiseState", func(call goja.FunctionCall) goja.Value {
		p, ok := call.Argument(0).Export().(*goja.Promise)
		if !ok {
			return vm.ToValue([]any{"fulfilled", call.Argument(0)})
		}
		switch p.State() {
		case goja.PromiseStatePending:
			return vm.ToValue([]any{"pending", goja.Undefined()})
		case goja.PromiseStateRejected:
			return vm.ToValue([]any{"rejected", p.Result()})
		}
		return vm.ToValue([]any{"fulfilled", p.Result()})
	}))
	must(natives.Set("cleanStack", func(call goja.FunctionCall) goja.Value {
		return vm.ToValue(CleanStack(call.Argument(0).String()))
	}))
	utilFactory, _ := vm.RunProgram(utilPrg)
	uf, _ := goja.AssertFunction(utilFactory)
	utilV, err := uf(goja.Undefined(), natives)
	must(err)
	r.util = utilV.ToObject(vm)
	r.inspect, _ = goja.AssertFunction(r.util.Get("inspect"))
	r.format, _ = goja.AssertFunction(r.util.Get("formatWithOptions"))
	assertFactory, _ := vm.RunProgram(assertPrg)
	af, _ := goja.AssertFunction(assertFactory)
	assertV, err := af(goja.Undefined(), r.util)
	must(err)
	must(natives.Set("deepEqual", assertV.ToObject(vm).Get("isDeepStrictEqual")))
	must(vm.GlobalObject().DefineDataProperty("__amqpjs_inspect", r.util.Get("inspect"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE))

	exportsOf := func(v goja.Value) ModuleLoader {
		return func(vm *goja.Runtime, module *goja.Object) { must(module.Set("exports", v)) }
	}
	r.RegisterModule("util", exportsOf(r.util))
	r.RegisterModule("node:util", exportsOf(r.util))
	r.RegisterModule("assert", exportsOf(assertV))
	r.RegisterModule("node:assert", exportsOf(assertV))
	r.RegisterModule("assert/strict", exportsOf(assertV))
	r.RegisterModule("node:assert/strict", exportsOf(assertV))
	timersPromises, err := vm.RunString(`({
		setTimeout: (ms, value) => new Promise(resolve => setTimeout(resolve, ms, value)),
		setImmediate: (value) => new Promise(resolve => setImmediate(resolve, value)),
		scheduler: { wait: (ms) => new Promise(resolve => setTimeout(resolve, ms)) },
	})`)
	must(err)
	r.RegisterModule("timers/promises", exportsOf(timersPromises))
	r.RegisterModule("node:timers/promises", exportsOf(timersPromises))

	r.installConsole()
	r.installProcess()
	perf := vm.NewObject()
	start := time.Now()
	must(perf.Set("now", func(goja.FunctionCall) goja.Value {
		return vm.ToValue(float64(time.Since(start).Nanoseconds()) / 1e6)
	}))
	must(perf.Set("timeOrigin", float64(start.UnixNano())/1e6))
	must(vm.Set("performance", perf))

	helpers, err := vm.RunString(`({
		def: (m) => (m && m.__esModule) ? m.default : m,
		reexport: (target, m) => { for (const k of Object.keys(m)) if (k !== 'default' && !Object.prototype.hasOwnProperty.call(target, k)) Object.defineProperty(target, k, { enumerable: true, get: () => m[k] }); },
	})`)
	must(err)
	h := helpers.ToObject(vm)
	global := vm.GlobalObject()
	must(global.DefineDataProperty("__amqpjs_default", h.Get("def"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE))
	must(global.DefineDataProperty("__amqpjs_reexport", h.Get("reexport"), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE))

	// require: wrap goja_nodejs's so that failures are JS errors, never GoError.
	must(vm.Set("require", r.jsRequire))
}

func (r *Runtime) jsRequire(call goja.FunctionCall) goja.Value {
	name := call.Argument(0)
	if _, ok := name.Export().(string); !ok {
		panic(r.vm.NewTypeError("require: parameter 'id' must be a string, got %s", typeOf(name)))
	}
	v, err := r.req.Require(name.String())
	if err != nil {
		panic(r.requireError(name.String(), err))
	}
	return v
}

func (r *Runtime) requireError(name string, err error) goja.Value {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return ex.Value()
	}
	var se *SyntaxError
	if errors.As(err, &se) {
		obj := r.vm.NewGoError(se) // replaced below with a real SyntaxError
		ctor := r.vm.Get("SyntaxError")
		if c, ok := goja.AssertConstructor(ctor); ok {
			if o, cerr := c(nil, r.vm.ToValue(se.Error())); cerr == nil {
				_ = o.Set("code", "ERR_SYNTAX")
				_ = o.DefineDataProperty("__amqpjs_syntax", r.vm.ToValue(se), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
				return o
			}
		}
		return obj
	}
	if errors.Is(err, require.InvalidModuleError) || errors.Is(err, require.NoSuchBuiltInModuleError) || errors.Is(err, require.IllegalModuleNameError) {
		o := r.vm.NewGoError(err)
		c, _ := goja.AssertConstructor(r.vm.Get("Error"))
		if e, cerr := c(nil, r.vm.ToValue(fmt.Sprintf("Cannot find module '%s'", name))); cerr == nil {
			_ = e.Set("code", "MODULE_NOT_FOUND")
			return e
		}
		return o
	}
	c, _ := goja.AssertConstructor(r.vm.Get("Error"))
	e, _ := c(nil, r.vm.ToValue(fmt.Sprintf("Cannot load module '%s': %v", name, err)))
	return e
}

// ExitError is process.exit(code).
type ExitError struct{ Code int }

// Error returns "process.exit(<code>)".
func (e *ExitError) Error() string { return fmt.Sprintf("process.exit(%d)", e.Code) }

// ExitCode returns process.exitCode as the script left it (0 when unset).
// Loop only, or after Run returned.
func (r *Runtime) ExitCode() int {
	v := r.process.Get("exitCode")
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return 0
	}
	return int(v.ToInteger())
}

// RunFile runs the script at path as the main module, then the event loop
// until nothing is pending, ctx ends, or an error is uncaught. It returns
// the module's exports (nil on error) and the error. The calling goroutine
// is the loop goroutine until RunFile returns; a Runtime runs once (one
// RunFile, RunFileThen, RunSource or RunSourceThen).
func (r *Runtime) RunFile(ctx context.Context, path string) (*goja.Object, error) {
	return r.RunFileThen(ctx, path, nil)
}

// RunFileThen is RunFile with a hook: then (optional) runs on the loop once
// the main module has finished loading, top-level await included, with its
// exports. It may hold a [Ref] and schedule more work (scenario iterations,
// a REPL session); the loop ends when that work is done. An error from then
// ends the run.
func (r *Runtime) RunFileThen(ctx context.Context, path string, then func(vm *goja.Runtime, exports *goja.Object) error) (*goja.Object, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	r.mainPath = abs
	argv := []any{r.argv0(), abs}
	for _, a := range r.opts.Args {
		argv = append(argv, a)
	}
	must(r.process.Set("argv", argv))
	var exports *goja.Object
	err = r.loop.Run(ctx, func(vm *goja.Runtime) error {
		v, err := r.req.Require(abs)
		if err != nil {
			var se *SyntaxError
			if errors.As(err, &se) {
				return se
			}
			return err
		}
		exports = v.ToObject(vm)
		return r.awaitTLA(exports, then)
	})
	return exports, err
}

// awaitTLA keeps the loop alive until a top-level-await body settles, and
// makes its rejection an uncaught error.
func (r *Runtime) awaitTLA(exports *goja.Object, then func(vm *goja.Runtime, exports *goja.Object) error) error {
	sym, err := r.vm.RunString(`Symbol.for("` + tlaSymbol + `")`)
	if err != nil {
		return err
	}
	var p *goja.Promise
	if v := exports.GetSymbol(sym.(*goja.Symbol)); v != nil {
		p, _ = v.Export().(*goja.Promise)
	}
	if p == nil {
		if then != nil {
			return then(r.vm, exports)
		}
		return nil
	}
	var onOK func(goja.Value) error
	if then != nil {
		onOK = func(goja.Value) error { return then(r.vm, exports) }
	}
	return r.OnSettled(p, onOK)
}

// OnSettled keeps the loop alive until p settles. A rejection ends the run
// as an uncaught exception; onOK (optional) runs with the value, in a loop
// task of its own queued when p fulfils; its error ends the run. Loop only.
func (r *Runtime) OnSettled(p *goja.Promise, onOK func(goja.Value) error) error {
	ref := r.loop.Ref()
	then, _ := goja.AssertFunction(r.vm.ToValue(p).ToObject(r.vm).Get("then"))
	_, err := then(r.vm.ToValue(p),
		r.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			if onOK != nil {
				// A promise reaction runs inside goja's job queue:
				// what follows (a scenario's setup, a REPL session)
				// runs as a loop task of its own, not nested here.
				v := call.Argument(0)
				ref.Enqueue(func(*goja.Runtime) error { return onOK(v) })
			}
			ref.Close()
			return goja.Undefined()
		}),
		r.vm.ToValue(func(call goja.FunctionCall) goja.Value {
			ref.Close()
			r.loop.Fail(&UncaughtError{Value: call.Argument(0)})
			return goja.Undefined()
		}))
	return err
}

// UncaughtError is a thrown value nobody caught (e.g. a rejected top-level
// await, or an exception in a callback the runtime called).
type UncaughtError struct{ Value goja.Value }

// Error returns "Uncaught " and the value's string conversion. Loop only,
// or after Run returned (it converts a JS value); FormatError renders it
// with the stack.
func (e *UncaughtError) Error() string { return "Uncaught " + e.Value.String() }

func (r *Runtime) argv0() string {
	if r.opts.Argv0 != "" {
		return r.opts.Argv0
	}
	return "amqpjs"
}
