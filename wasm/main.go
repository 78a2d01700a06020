//go:build js && wasm

// Command wasm is amqpjs as a js/wasm module for a JavaScript host (Node
// today): the host loader (wasm/host/index.mjs) instantiates it with Go's
// wasm_exec.js and gets back an object with run, runStreaming and a few
// memory knobs. Every run is its own pkg/amqpjs runtime; any number run at
// once, sharing nothing but the Go heap.
//
// Build it with wasm/build.sh (GOOS=js GOARCH=wasm go build -o
// wasm/host/dist/amqpjs.wasm ./wasm). See wasm/host/README.md for the
// JavaScript API.
//
// The handshake with the loader: the loader sets the environment variable
// AMQPJS_WASM_HOST to the name of a global property holding
//
//	{ net, write(socket, address, length), ready(exports) }
//
// net is Node's "net" module (broker connections are net.Socket's, see
// nodeconn.go); write, optional, is the fast path of socket writes (see
// nodeDialer); main calls ready once with the exports, then waits until
// exports.exit() is called.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall/js"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// DefaultMemoryLimit is the Go heap's soft limit (debug.SetMemoryLimit)
// unless the host sets GOMEMLIMIT or calls setMemoryLimit: the GC runs
// as often as needed to stay under it. See wasm/host/README.md.
const DefaultMemoryLimit = 256 << 20

var errAborted = errors.New("aborted by the host (AbortSignal)")

func main() {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	// As the CLI: dispatch allocates many short-lived JS objects.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}

	hostName := os.Getenv("AMQPJS_WASM_HOST")
	if hostName == "" {
		fmt.Fprintln(os.Stderr, "amqpjs.wasm: AMQPJS_WASM_HOST is not set: load this module with wasm/host/index.mjs")
		os.Exit(2)
	}
	host := js.Global().Get(hostName)
	if host.Type() != js.TypeObject {
		fmt.Fprintf(os.Stderr, "amqpjs.wasm: globalThis.%s is not the host object\n", hostName)
		os.Exit(2)
	}
	dialer := &nodeDialer{net: host.Get("net"), hostWrite: host.Get("write")}

	quit := make(chan struct{})
	exports := jsObject.New()
	exports.Set("version", amqpjs.Version())
	exports.Set("run", js.FuncOf(func(_ js.Value, args []js.Value) any {
		return startRun(dialer, args, nil)
	}))
	exports.Set("runStreaming", js.FuncOf(func(_ js.Value, args []js.Value) any {
		var cb js.Value
		if len(args) > 2 {
			cb = args[2]
		}
		if cb.Type() != js.TypeObject {
			return rejected(js.Global().Get("TypeError").New("runStreaming: the third argument must be { onStdout, onStderr }"))
		}
		return startRun(dialer, args, &cb)
	}))
	exports.Set("memoryStats", js.FuncOf(func(js.Value, []js.Value) any {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		o := jsObject.New()
		o.Set("heapAlloc", float64(ms.HeapAlloc))
		o.Set("heapSys", float64(ms.HeapSys))
		o.Set("sys", float64(ms.Sys))
		o.Set("numGC", ms.NumGC)
		o.Set("memoryLimit", float64(debug.SetMemoryLimit(-1)))
		return o
	}))
	exports.Set("setMemoryLimit", js.FuncOf(func(_ js.Value, args []js.Value) any {
		limit := int64(-1)
		if len(args) > 0 && args[0].Type() == js.TypeNumber {
			limit = int64(args[0].Float())
		}
		return float64(debug.SetMemoryLimit(limit))
	}))
	exports.Set("setGCPercent", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) == 0 || args[0].Type() != js.TypeNumber {
			return debug.SetGCPercent(debug.SetGCPercent(-1))
		}
		return debug.SetGCPercent(args[0].Int())
	}))
	exports.Set("exit", js.FuncOf(func(js.Value, []js.Value) any {
		select {
		case <-quit:
		default:
			close(quit)
		}
		return nil
	}))
	host.Call("ready", exports)
	<-quit
	closeAll()
}

// runOptions are run's second argument.
type runOptions struct {
	args    []string
	env     map[string]string
	url     string
	argv0   string
	timeout time.Duration
	signal  js.Value
	// progress of a scenario: a line a second on stderr, none when quiet
	progress amqpjs.Progress
}

// startRun validates run's arguments on the calling (JavaScript) goroutine
// and returns a promise; the run itself happens on a goroutine of its own.
// With cb (runStreaming), output goes to cb.onStdout / cb.onStderr as it is
// written and the promise resolves to { exitCode, error }; without,
// output is collected and the promise resolves to { exitCode, stdout,
// stderr, error }. error is the error text printed on stderr, or null.
func startRun(dialer *nodeDialer, args []js.Value, cb *js.Value) js.Value {
	arg := func(i int) js.Value {
		if i < len(args) {
			return args[i]
		}
		return js.Undefined()
	}
	name, src, hasSource, err := parseSpec(arg(0))
	if err != nil {
		return rejected(js.Global().Get("TypeError").New(err.Error()))
	}
	opts, err := parseOptions(arg(1))
	if err != nil {
		return rejected(js.Global().Get("TypeError").New(err.Error()))
	}
	var stdout, stderr io.Writer
	var outBuf, errBuf *bytes.Buffer
	if cb != nil {
		stdout = &jsWriter{fn: cb.Get("onStdout")}
		stderr = &jsWriter{fn: cb.Get("onStderr")}
	} else {
		outBuf, errBuf = &bytes.Buffer{}, &bytes.Buffer{}
		stdout, stderr = outBuf, errBuf
	}

	ctx, cancel := context.WithCancelCause(context.Background())
	var stopAbort func()
	if sig := opts.signal; sig.Type() == js.TypeObject {
		if sig.Get("aborted").Truthy() {
			cancel(errAborted)
		} else {
			onAbort := js.FuncOf(func(js.Value, []js.Value) any {
				cancel(errAborted)
				return nil
			})
			o := jsObject.New()
			o.Set("once", true)
			sig.Call("addEventListener", "abort", onAbort, o)
			stopAbort = func() {
				sig.Call("removeEventListener", "abort", onAbort)
				onAbort.Release()
			}
		}
	}

	return newPromise(func(resolve, reject js.Value) {
		go func() {
			defer cancel(nil)
			if stopAbort != nil {
				defer stopAbort()
			}
			runCtx := ctx
			if opts.timeout > 0 {
				var stop context.CancelFunc
				runCtx, stop = context.WithTimeoutCause(ctx, opts.timeout, &amqpjs.TimeoutError{After: opts.timeout})
				defer stop()
			}
			runErr := runOne(runCtx, dialer, name, src, hasSource, opts, stdout, stderr)
			msg := amqpjs.Message(runErr)
			if msg != "" {
				fmt.Fprintln(stderr, msg)
			}
			res := jsObject.New()
			res.Set("exitCode", amqpjs.ExitCode(runErr))
			if outBuf != nil {
				res.Set("stdout", outBuf.String())
				res.Set("stderr", errBuf.String())
			}
			if msg != "" {
				res.Set("error", msg)
			} else {
				res.Set("error", js.Null())
			}
			resolve.Invoke(res)
		}()
	})
}

// runOne is one run on a fresh runtime.
func runOne(ctx context.Context, dialer *nodeDialer, name, src string, hasSource bool, opts runOptions, stdout, stderr io.Writer) error {
	// A script with a default export or options.scenarios runs as `amqpjs
	// run` runs it: VUs (each a runtime on a goroutine of its own),
	// thresholds, the summary on stderr.
	so := &amqpjs.ScenarioOptions{}
	so.E2EHeader = true
	so.Progress = opts.progress
	r, err := amqpjs.New(amqpjs.Options{
		Stdout:   stdout,
		Stderr:   stderr,
		Env:      opts.env,
		Args:     opts.args,
		Argv0:    opts.argv0,
		URL:      opts.url,
		Dial:     dialer.DialContext,
		Scenario: so,
	})
	if err != nil {
		return err
	}
	defer r.Close()
	if hasSource {
		return r.RunSource(ctx, name, src)
	}
	return r.RunFile(ctx, name)
}

// parseSpec reads run's first argument: a source string (run as
// "main.js"), or { path, source } — source run under the name path, or,
// without source, the file at path read through the host's fs.
func parseSpec(v js.Value) (name, src string, hasSource bool, err error) {
	switch v.Type() {
	case js.TypeString:
		return "main.js", v.String(), true, nil
	case js.TypeObject:
		p, s := v.Get("path"), v.Get("source")
		if p.Type() != js.TypeUndefined && p.Type() != js.TypeNull && p.Type() != js.TypeString {
			return "", "", false, errors.New("run: spec.path must be a string")
		}
		if p.Type() == js.TypeString {
			name = p.String()
		}
		switch s.Type() {
		case js.TypeString:
			if name == "" {
				name = "main.js"
			}
			return name, s.String(), true, nil
		case js.TypeUndefined, js.TypeNull:
			if name == "" {
				return "", "", false, errors.New("run: spec needs a path or a source")
			}
			return name, "", false, nil
		}
		return "", "", false, errors.New("run: spec.source must be a string")
	}
	return "", "", false, errors.New("run: the first argument must be a source string or { path, source }")
}

// parseOptions reads run's second argument: { args, env, url, timeout,
// argv0, signal, quiet }, all optional.
func parseOptions(v js.Value) (runOptions, error) {
	var o runOptions
	if v.Type() == js.TypeUndefined || v.Type() == js.TypeNull {
		return o, nil
	}
	if v.Type() != js.TypeObject {
		return o, errors.New("run: options must be an object")
	}
	if a := v.Get("args"); a.Type() != js.TypeUndefined && a.Type() != js.TypeNull {
		if !js.Global().Get("Array").Call("isArray", a).Bool() {
			return o, errors.New("run: options.args must be an array of strings")
		}
		for i := 0; i < a.Length(); i++ {
			o.args = append(o.args, jsString(a.Index(i)))
		}
	}
	if e := v.Get("env"); e.Type() == js.TypeObject {
		o.env = map[string]string{}
		keys := jsObject.Call("keys", e)
		for i := 0; i < keys.Length(); i++ {
			k := keys.Index(i).String()
			if val := e.Get(k); val.Type() != js.TypeUndefined {
				o.env[k] = jsString(val)
			}
		}
	} else if e.Type() != js.TypeUndefined && e.Type() != js.TypeNull {
		return o, errors.New("run: options.env must be an object")
	}
	if u := v.Get("url"); u.Type() == js.TypeString {
		o.url = u.String()
	} else if u.Type() != js.TypeUndefined && u.Type() != js.TypeNull {
		return o, errors.New("run: options.url must be a string")
	}
	if a0 := v.Get("argv0"); a0.Type() == js.TypeString {
		o.argv0 = a0.String()
	}
	if t := v.Get("timeout"); t.Type() == js.TypeNumber {
		if ms := t.Float(); ms > 0 {
			o.timeout = time.Duration(ms * float64(time.Millisecond))
		}
	} else if t.Type() != js.TypeUndefined && t.Type() != js.TypeNull {
		return o, errors.New("run: options.timeout must be a number of milliseconds")
	}
	o.signal = v.Get("signal")
	o.progress = amqpjs.ProgressPlain
	if q := v.Get("quiet"); q.Truthy() {
		o.progress = amqpjs.ProgressNone
	}
	return o, nil
}

func jsString(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	if v.Type() == js.TypeNumber {
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return js.Global().Get("String").Invoke(v).String()
}

// jsWriter calls a JavaScript function with each chunk written, as a
// string. It is written from a runtime's loop goroutine; the call is
// synchronous, and a callback that throws is ignored.
type jsWriter struct {
	fn js.Value
}

func (w *jsWriter) Write(p []byte) (int, error) {
	if w.fn.Type() != js.TypeFunction {
		return len(p), nil
	}
	func() {
		defer func() { _ = recover() }()
		w.fn.Invoke(string(p))
	}()
	return len(p), nil
}

// newPromise returns a JavaScript promise whose executor calls fn with
// resolve and reject; fn must not block.
func newPromise(fn func(resolve, reject js.Value)) js.Value {
	executor := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(args[0], args[1])
		return nil
	})
	defer executor.Release()
	return js.Global().Get("Promise").New(executor)
}

func rejected(err js.Value) js.Value {
	return js.Global().Get("Promise").Call("reject", err)
}
