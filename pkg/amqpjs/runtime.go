package amqpjs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

// Options configure a [Runtime]. The zero value is valid: output discarded,
// an empty environment, no arguments, aioamqp's connect() defaults
// (localhost:5672, guest/guest, vhost "/"), the system dialer, no logger.
type Options struct {
	// Stdout and Stderr receive console.log / console.error and
	// process.stdout / process.stderr writes; nil discards them. They are
	// written from the runtime's loop goroutine only, so a writer used by
	// one runtime needs no locking; share one between runtimes only if it
	// is safe for concurrent use.
	Stdout, Stderr io.Writer

	// Env is process.env. nil is an empty environment (the host's is not
	// inherited: pass it explicitly if the script may see it).
	Env map[string]string

	// Args are process.argv after the script path; Argv0 is process.argv[0]
	// ("amqpjs" when empty).
	Args  []string
	Argv0 string

	// URL is an amqp:// or amqps:// URL whose parts are connect()'s
	// defaults for every option the script does not set, like `amqpjs run
	// --url`. Empty means aioamqp's defaults. The AMQP_URL variable is not
	// read: a host that wants it passes os.Getenv("AMQP_URL").
	URL string

	// Dial, when not nil, opens the transport of every broker connection
	// the script makes (connect, from_url), instead of a net.Dialer: a
	// proxy, a tunnel, an in-memory pipe, a fault injector. It is called
	// on a goroutine of its own (never the loop) with network "tcp", the
	// "host:port" the script asked for and a context bounded by the
	// connect timeout, and is cancelled when the run ends. TLS, when the
	// script asks for it, runs over the connection it returns.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger, when not nil, receives the warnings of the aioamqp module
	// (a message returned by the broker with no return_callback set, a
	// cancellation callback that failed) at level Warn, instead of the
	// "amqpjs: warning: …" lines written to Stderr, and the start and end
	// of each run at level Debug. It is called from the loop goroutine and
	// from the goroutine that called the run.
	Logger *slog.Logger

	// ManagementURL is the RabbitMQ management API of the script's
	// 'amqpjs/rabbitmq' module, like `amqpjs run --management-url`, e.g.
	// "http://admin:pw@broker:15672"; empty derives it from URL:
	// http://HOST:15672 with its user and password. A bad URL is a
	// TypeError at the module's first call.
	ManagementURL string

	// Scenario, when not nil, runs a script that is a load or test
	// scenario (its exports have a default function or options.scenarios)
	// as `amqpjs run` does: setup(), virtual users under executors,
	// teardown(), thresholds and the end-of-test summary on its Stderr;
	// see [ScenarioOptions]. Its module 'amqpjs/metrics' is then
	// available to every script. nil runs only such a script's top level.
	Scenario *ScenarioOptions
}

// Runtime is one embedded amqpjs runtime: a JavaScript engine with its
// event loop, the built-in modules and globals of `amqpjs run`, the aioamqp
// module, and the host modules registered with [Runtime.RegisterModule].
// It runs once: one RunFile, RunSource or Start. Its methods are safe for
// use from any goroutine other than its loop goroutine (see the package
// documentation).
type Runtime struct {
	rt   *runtime.Runtime
	opts Options
	log  *slog.Logger // nil: no logging

	done chan struct{} // closed when the run has ended (or Close before any)

	defaults *bindings.ConnectDefaults // connect()'s, from Options.URL
	faults   *bindings.FaultScope      // the connections amqpjs/faults lists: this runtime's and its VUs'
	scen     *ScenarioOptions          // a copy of Options.Scenario, Registry set; nil: none

	mu      sync.Mutex
	started bool
	hosts   map[string]bool
	modules []hostModule            // in the order registered, for the VUs' runtimes
	ctx     context.Context         // the run's context; ends with the run
	cancel  context.CancelCauseFunc // of ctx
	err     error                   // the run's error, once done
}

// ErrClosed is the cause of the [*InterruptedError] of a run ended by
// [Runtime.Close], and what Eval reports once the runtime has ended
// (wrapped, with the reason).
var ErrClosed = errors.New("amqpjs: runtime closed")

// ErrInterrupted is the cause to give a run's context to interrupt it as
// Ctrl-C does `amqpjs run` (its error then prints "amqpjs: interrupted").
// Every [*InterruptedError] but a timeout is it, for errors.Is.
var ErrInterrupted = runtime.ErrInterrupted

// ErrNotRunning is returned by [Runtime.Eval] on a runtime that was not
// started.
var ErrNotRunning = errors.New("amqpjs: runtime is not running (call Start, RunFile or RunSource first)")

// ErrStarted is returned by the methods that start a runtime, and by
// RegisterModule, once the runtime has started: a Runtime runs once.
var ErrStarted = errors.New("amqpjs: runtime already started (a Runtime runs once; make a new one)")

// New makes a runtime. It fails only on an invalid Options.URL. The
// returned runtime does nothing until RunFile, RunSource or Start.
func New(opts Options) (*Runtime, error) {
	defaults, err := bindings.DefaultsFromURL(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("amqpjs: Options.URL: %w", err)
	}
	r := &Runtime{opts: opts, log: opts.Logger, defaults: defaults, faults: bindings.NewFaultScope(), done: make(chan struct{}), hosts: map[string]bool{}}
	if opts.Scenario != nil {
		so := *opts.Scenario
		if so.Registry == nil {
			so.Registry = metrics.NewRegistry()
		}
		bindings.RegisterMetrics(so.Registry)
		r.scen = &so
	}
	r.rt = r.newLowRuntime()
	return r, nil
}

// newLowRuntime makes a lower-level runtime as Options say, with the
// aioamqp module (and 'amqpjs/metrics' for scenarios): the main one, or a
// VU's.
func (r *Runtime) newLowRuntime() *runtime.Runtime {
	rt := runtime.New(lowOptions(r.opts))
	r.setup(rt)
	return rt
}

// lowOptions are the lower-level runtime's options for o.
func lowOptions(o Options) runtime.Options {
	return runtime.Options{
		Stdout: o.Stdout,
		Stderr: o.Stderr,
		Env:    o.Env,
		Args:   o.Args,
		Argv0:  o.Argv0,
	}
}

// setup registers the modules of Options on rt (before it runs): aioamqp,
// and 'amqpjs/metrics' for scenarios.
func (r *Runtime) setup(rt *runtime.Runtime) {
	bindings.Register(rt, bindings.Options{Defaults: r.defaults, Dial: r.opts.Dial, Logger: r.opts.Logger, ManagementURL: r.opts.ManagementURL, Faults: r.faults})
	if r.scen != nil {
		scenario.RegisterModule(rt, r.scen.Registry)
	}
}

// Runtime returns the lower-level runtime this one wraps, for hosts that
// need what the facade leaves out (the event loop, the goja VM, runtime
// hooks). Its own rules apply: most of its methods are for the loop
// goroutine only, or before the run starts.
func (r *Runtime) Runtime() *runtime.Runtime { return r.rt }

// RunFile runs the script at path (.js, .mjs, .cjs, .ts; CommonJS or ES
// module; top-level await allowed) as `amqpjs run` does, then the event loop
// until nothing is pending, and returns the run's error (see the package
// documentation; [ExitCode] maps it to an exit code). When ctx ends, the
// script is interrupted, its connections are closed and the error is an
// [*InterruptedError]. A path that cannot be read gives an *fs.PathError and
// runs nothing (the runtime may still be used). It blocks until the run has
// ended; call it once.
func (r *Runtime) RunFile(ctx context.Context, path string) error {
	if st, err := os.Stat(path); err != nil {
		return err
	} else if st.IsDir() {
		return &os.PathError{Op: "run", Path: path, Err: errors.New("is a directory")}
	}
	return r.run(ctx, path, func(ctx context.Context) error {
		return r.runMain(ctx, path, "", false)
	})
}

// RunSource is [Runtime.RunFile] for a script given as source: name stands
// for its file name — it appears in stack traces, its extension picks the
// syntax (".ts" for TypeScript; "" is "main.js"), and relative imports
// resolve against its directory (relative to the working directory).
func (r *Runtime) RunSource(ctx context.Context, name, src string) error {
	if name == "" {
		name = "main.js"
	}
	return r.run(ctx, name, func(ctx context.Context) error {
		return r.runMain(ctx, name, src, true)
	})
}

// Start starts a live runtime: its event loop runs on a goroutine of its
// own and stays alive, whether or not anything is pending, until
// [Runtime.Close], until ctx ends, or until the script ends it (an uncaught
// error in a callback, an unhandled rejection, process.exit). Evaluate code
// in it with [Runtime.Eval]; [Runtime.Done] and [Runtime.Err] tell when and
// why it ended. Start returns once the runtime is ready.
func (r *Runtime) Start(ctx context.Context) error {
	ready := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- r.run(ctx, "<live>", func(ctx context.Context) error {
			_, err := r.rt.RunSourceThen(ctx, "[live].js", "", func(*goja.Runtime, *goja.Object) error {
				r.rt.Loop().Ref() // never closed: only ctx, Close or an error end the loop
				close(ready)
				return nil
			})
			return err
		})
	}()
	select {
	case <-ready:
		return nil
	case err := <-errc:
		if err == nil {
			err = ErrClosed
		}
		return err
	}
}

// Close ends the runtime: a run or live runtime in progress is interrupted
// (its context is cancelled with cause [ErrClosed]), its connections are
// closed, and Close waits until its loop has stopped. It returns the error
// that had ended the runtime before Close was called (an uncaught error in a
// live runtime, say), or nil. Closing a runtime that never started makes it
// unusable. Close is idempotent; do not call it from the loop goroutine.
func (r *Runtime) Close() error {
	r.mu.Lock()
	if !r.started {
		r.started = true
		close(r.done)
		r.mu.Unlock()
		return nil
	}
	cancel := r.cancel
	r.mu.Unlock()
	select {
	case <-r.done:
		return r.errBeforeClose()
	default:
	}
	cancel(ErrClosed)
	<-r.done
	return r.errBeforeClose()
}

func (r *Runtime) errBeforeClose() error {
	err := r.Err()
	var ie *InterruptedError
	if errors.As(err, &ie) && errors.Is(ie.Cause, ErrClosed) {
		return nil
	}
	return err
}

// Done returns a channel closed once the runtime has ended: its run
// returned, its live session ended, or it was closed.
func (r *Runtime) Done() <-chan struct{} { return r.done }

// Err returns the error that ended the runtime (what RunFile or RunSource
// returned, why a live runtime ended), once [Runtime.Done] is closed; nil
// before, and for a run that succeeded.
func (r *Runtime) Err() error {
	select {
	case <-r.done:
	default:
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// run does the bookkeeping around one run: start once, a cancellable
// context, logging, and the conversion of the runtime's error.
func (r *Runtime) run(ctx context.Context, what string, body func(ctx context.Context) error) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return ErrStarted
	}
	r.started = true
	runCtx, cancel := context.WithCancelCause(ctx)
	r.ctx, r.cancel = runCtx, cancel
	r.mu.Unlock()

	if r.log != nil {
		r.log.Debug("amqpjs: run started", "script", what)
	}
	raw := body(runCtx)
	err := r.convert(runCtx, raw)
	cancel(nil)
	if r.log != nil {
		r.log.Debug("amqpjs: run ended", "script", what, "exit_code", ExitCode(err), "error", err)
	}
	r.mu.Lock()
	r.err = err
	r.mu.Unlock()
	close(r.done)
	return err
}

// convert turns the runtime's error into the package's types. It runs once
// the loop has stopped (so the VM may be read) or on the loop.
func (r *Runtime) convert(runCtx context.Context, err error) error {
	var sc *ScenarioError
	if errors.As(err, &sc) {
		return sc
	}
	if err == nil {
		if code := r.rt.ExitCode(); code != 0 {
			return &ExitError{Code: code}
		}
		return nil
	}
	var ee *runtime.ExitError
	if errors.As(err, &ee) {
		if ee.Code == 0 {
			return nil
		}
		return ee
	}
	var se *runtime.SyntaxError
	if errors.As(err, &se) {
		return se
	}
	if runCtx != nil && runCtx.Err() != nil && errors.Is(err, context.Cause(runCtx)) {
		return &InterruptedError{Cause: err}
	}
	return r.scriptError(err)
}
