// Package scenario runs load and test scenarios in k6's vocabulary: a
// script whose exports have a default function (or options.scenarios) is
// run by virtual users (VUs), each its own [runtime.Runtime] on its own
// goroutine. One or more scenarios run at once (the shorthand options make
// one, "default"), each with its VUs and one of six executors (constant
// VUs, ramping VUs, shared iterations, per-VU iterations, constant and
// ramping arrival rate); setup() runs once before and teardown(data) once
// after; metrics go to a shared [metrics.Registry], every sample of a VU
// tagged with its scenario; thresholds, live progress, and an end summary.
//
// # Flow
//
// The host (main) makes the runtime that runs the script's main module and
// passes [Scenario.Hook] to [runtime.Runtime.RunFileThen] with the context
// from [Scenario.Bind]. When the main module has loaded, the hook looks at
// its exports: without a default function or options.scenarios it does
// nothing (a plain script).
// Otherwise it reads `options` into a [Plan], registers thresholds, calls
// setup() on that runtime, and starts the controller goroutine, which makes
// every scenario's first VUs, runs the scenarios' executors at once (an
// engine each), stops their VUs, and queues teardown(data) back on the main
// runtime; when teardown has settled it ends the main runtime's loop. The
// host then calls [Scenario.Finish] for the summary and the exit code.
//
// # Concurrency
//
// Goroutines: each VU's loop (in RunFileThen); the controller; one per
// scenario's executor, and one forwarding the run's stops to it; one driver
// per VU slot (looping executors) or per iteration (arrival rates); the
// ticker (progress, time series, thresholds). Only a runtime's loop touches
// its goja values: the controller and drivers talk to VUs through
// [runtime.Ref.Enqueue] and Go channels. Every wait has a context.
package scenario

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario/segment"
)

// ExitThresholds is the exit code of a run whose thresholds failed.
const ExitThresholds = 99

// Progress is how live progress is shown.
type Progress int

// The progress modes.
const (
	ProgressNone  Progress = iota // --quiet
	ProgressPlain                 // a line per second (stderr is not a terminal)
	ProgressLine                  // one line updated in place (a terminal)
)

// Options configure a scenario run.
type Options struct {
	// Script is the path of the main module, run by every VU.
	Script string
	// Source, when not empty, is the main module's source, run by every
	// VU under the name Script instead of the file (a host without files:
	// the browser playground, an embedding host's string).
	Source string
	// NewRuntime makes VU id's runtime with the native modules registered
	// (aioamqp, amqpjs/metrics). The scenario sets its metrics and globals.
	NewRuntime func(id int) (*runtime.Runtime, error)
	// Registry receives every metric of the run.
	Registry *metrics.Registry
	// Overrides are the flags that override `options`.
	Overrides Overrides
	// E2EHeader turns on the end-to-end latency header of publishes.
	E2EHeader bool
	// Stderr receives progress, iteration errors and the summary.
	Stderr io.Writer
	// Progress selects the live progress display.
	Progress Progress
	// Outputs receive the per-second time series; closed by Finish.
	Outputs []metrics.Output
	// SummaryExport is a file for the JSON summary ("" for none).
	SummaryExport string
	// Tick is the progress and time-series interval (1s when 0).
	Tick time.Duration
	// Segment is this instance's part of a run split between instances
	// (--execution-segment, --instance); the zero Segment is the whole.
	Segment segment.Segment
	// StartAt holds the start (after init and setup) until that instant
	// (--start-at); zero: start at once.
	StartAt time.Time
}

// Scenario is one scenario run. Make it with [New].
type Scenario struct {
	opts Options
	reg  *metrics.Registry

	active      atomic.Bool
	plan        *Plan
	engines     []*engine    // one per scenario; set before the ticker starts
	ids         *idStream    // ids of the VUs beyond the scenarios' blocks
	made        atomic.Int64 // VUs made, all scenarios
	vusMu       sync.Mutex   // orders the vus gauge's updates
	dataJSON    string       // setup's result, JSON; "" for undefined
	parent      context.Context
	endRun      context.CancelCauseFunc
	controlling atomic.Bool // the controller was started
	interrupted atomic.Bool
	defect      atomic.Pointer[string] // the first VU's internal error (see defective)
	aborted     atomic.Bool            // a threshold with abortOnFail failed

	stopOnce sync.Once
	stopC    chan struct{} // closed: start no more iterations (end, abort, Ctrl-C)
	hardOnce sync.Once
	hardC    chan struct{} // closed: interrupt iterations in flight
	finished chan struct{} // closed when the controller is done
	// written by the controller before finished is closed
	started     time.Time
	ended       time.Time
	ran         bool   // the executor started
	teardownErr string // formatted
	initErr     error  // a VU's init failed

	// built-in metrics
	iterations, iterationDuration, vus, vusMax, checks, errorsM, dropped *metrics.Series

	errs errPrinter
}

// New makes a scenario run.
func New(opts Options) *Scenario {
	if opts.Registry == nil {
		opts.Registry = metrics.NewRegistry()
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	s := &Scenario{opts: opts, reg: opts.Registry, stopC: make(chan struct{}), hardC: make(chan struct{}), finished: make(chan struct{})}
	s.errs.w = opts.Stderr
	s.errs.tty = opts.Progress == ProgressLine
	RegisterBuiltins(s.reg)
	s.iterations = s.reg.Get(MetricIterations).Root()
	s.iterationDuration = s.reg.Get(MetricIterationDuration).Root()
	s.vus = s.reg.Get(MetricVUs).Root()
	s.vusMax = s.reg.Get(MetricVUsMax).Root()
	s.checks = s.reg.Get(MetricChecks).Root()
	s.errorsM = s.reg.Get(MetricErrors).Root()
	s.dropped = s.reg.Get(MetricDroppedIterations).Root()
	if len(opts.Outputs) > 0 {
		s.reg.EnableWindows()
	}
	return s
}

// The built-in metrics of a scenario run.
const (
	MetricIterations        = "iterations"         // counter: iterations completed (with or without an error)
	MetricIterationDuration = "iteration_duration" // trend (ms)
	MetricVUs               = "vus"                // gauge: active VUs
	MetricVUsMax            = "vus_max"            // gauge: VUs made
	MetricChecks            = "checks"             // rate: check() results, tag check
	MetricErrors            = "errors"             // counter: iterations that threw or rejected, and VUs that died
	MetricDroppedIterations = "dropped_iterations" // counter: arrival-rate iterations with no free VU
)

// RegisterBuiltins creates the scenario's built-in metrics in reg.
func RegisterBuiltins(reg *metrics.Registry) {
	reg.MustNew(MetricIterations, metrics.Counter, metrics.Default)
	reg.MustNew(MetricIterationDuration, metrics.Trend, metrics.Time)
	reg.MustNew(MetricVUs, metrics.Gauge, metrics.Default)
	reg.MustNew(MetricVUsMax, metrics.Gauge, metrics.Default)
	reg.MustNew(MetricChecks, metrics.Rate, metrics.Default)
	reg.MustNew(MetricErrors, metrics.Counter, metrics.Default)
	reg.MustNew(MetricDroppedIterations, metrics.Counter, metrics.Default)
}

// errScenarioDone ends the main runtime's loop after teardown.
var errScenarioDone = errors.New("scenario done")

// Bind returns the context to run the main runtime with: the scenario ends
// it (with a cause that Finish treats as success) once teardown settled.
func (s *Scenario) Bind(ctx context.Context) context.Context {
	s.parent = ctx
	ctx, s.endRun = context.WithCancelCause(ctx)
	return ctx
}

// Active reports whether the script turned out to be a scenario (the hook
// saw a default function). Any goroutine.
func (s *Scenario) Active() bool { return s.active.Load() }

// Interrupt stops the run early, as Ctrl-C does: no new iterations,
// iterations in flight are interrupted, teardown runs, the summary is
// printed and Finish returns 130. Any goroutine.
func (s *Scenario) Interrupt() {
	s.interrupted.Store(true)
	if !s.controlling.Load() {
		// Still in the main module or setup(): end the main runtime.
		s.endRun(runtime.ErrInterrupted)
	}
	s.stop()
	s.hardStop()
}

// defective ends the run after a Go panic in VU id (an internal error of
// amqpjs, not of the script): the VU is not restarted, the other VUs are
// stopped, teardown runs, the summary is printed and Finish returns 70 with
// err's one line. Any goroutine.
func (s *Scenario) defective(id int, err *runtime.InternalError) {
	msg := fmt.Sprintf("VU %d: %s", id, err.Error())
	if s.defect.CompareAndSwap(nil, &msg) {
		s.stop()
		s.hardStop()
	}
}

func (s *Scenario) stop()     { s.stopOnce.Do(func() { close(s.stopC) }) }
func (s *Scenario) hardStop() { s.hardOnce.Do(func() { close(s.hardC) }) }

// Plan returns the resolved scenarios and thresholds (nil before the hook
// ran or for a plain script).
func (s *Scenario) Plan() *Plan { return s.plan }

// updateVUs sets the vus gauge to the VUs active in every scenario.
func (s *Scenario) updateVUs() {
	s.vusMu.Lock()
	defer s.vusMu.Unlock()
	var n int64
	for _, e := range s.engines {
		n += e.active.Load()
	}
	s.vus.Add(float64(n))
}

// Hook is the function to pass to rt.RunFileThen, for the main runtime rt.
func (s *Scenario) Hook(rt *runtime.Runtime) func(vm *goja.Runtime, exports *goja.Object) error {
	return func(vm *goja.Runtime, exports *goja.Object) error {
		if !IsScenario(exports) {
			return nil
		}
		s.active.Store(true)
		rt.SetMetrics(s.reg)
		rt.SetE2EHeader(s.opts.E2EHeader)
		if err := vm.Set("__VU", 0); err != nil {
			return err
		}
		if err := vm.Set("__ITER", 0); err != nil {
			return err
		}
		optsJSON, err := stringify(vm, exports.Get("options"))
		if err != nil {
			return &ConfigError{Msg: "cannot read the options export: " + err.Error()}
		}
		plan, err := Resolve([]byte(optsJSON), s.opts.Overrides)
		if err != nil {
			return err
		}
		var funcs []string
		for _, k := range exports.Keys() {
			if _, ok := goja.AssertFunction(exports.Get(k)); ok {
				funcs = append(funcs, k)
			}
		}
		if err := plan.checkExec(funcs); err != nil {
			return err
		}
		if err := plan.checkThresholdScenarios(); err != nil {
			return err
		}
		if err := s.reg.AddThresholds(plan.Thresholds); err != nil {
			return &ConfigError{Msg: err.Error()}
		}
		s.plan = plan
		ref := rt.Loop().Ref()
		afterSetup := func(data goja.Value) error {
			js, err := stringify(vm, data)
			if err != nil {
				ref.Close()
				return fmt.Errorf("setup() returned a value that cannot be copied to the VUs as JSON: %w", err)
			}
			s.dataJSON = js
			s.controlling.Store(true)
			go s.control(rt, ref, exports)
			return nil
		}
		setup, ok := goja.AssertFunction(exports.Get("setup"))
		if ok && plan.SetupOnce && s.opts.Segment.From().Sign() != 0 {
			ok = false
			fmt.Fprintf(s.opts.Stderr, "amqpjs: setup() not run: options.setupOnce, and segment %s does not start at 0 (the instance whose segment does runs it); the VUs get undefined as data\n", s.opts.Segment)
		}
		if ok {
			ret, err := setup(goja.Undefined())
			if err != nil {
				ref.Close()
				return err
			}
			if p := asPromise(ret); p != nil {
				ref.Close() // OnSettled holds its own ref until p settles
				inner := rt.Loop().Ref()
				return rt.OnSettled(p, func(v goja.Value) error {
					ref = inner
					return afterSetup(v)
				})
			}
			return afterSetup(ret)
		}
		return afterSetup(goja.Undefined())
	}
}

// IsScenario reports whether a script's exports make it a scenario: a
// default function, or options.scenarios. Loop only.
func IsScenario(exports *goja.Object) bool {
	if _, ok := goja.AssertFunction(exports.Get("default")); ok {
		return true
	}
	if o, ok := exports.Get("options").(*goja.Object); ok {
		if v := o.Get("scenarios"); v != nil && !goja.IsUndefined(v) && !goja.IsNull(v) {
			return true
		}
	}
	return false
}

func asPromise(v goja.Value) *goja.Promise {
	if o, ok := v.(*goja.Object); ok {
		if p, ok := o.Export().(*goja.Promise); ok {
			return p
		}
	}
	return nil
}

// stringify is JSON.stringify(v); "" for undefined (and functions).
func stringify(vm *goja.Runtime, v goja.Value) (string, error) {
	if v == nil || goja.IsUndefined(v) {
		return "", nil
	}
	f, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	r, err := f(goja.Undefined(), v)
	if err != nil {
		return "", err
	}
	if goja.IsUndefined(r) {
		return "", nil
	}
	return r.String(), nil
}

// control runs the executor, then teardown on the main runtime, then ends
// the main runtime's loop. Its own goroutine.
func (s *Scenario) control(rt *runtime.Runtime, ref *runtime.Ref, exports *goja.Object) {
	defer close(s.finished)
	parent := s.parent
	if parent == nil {
		parent = context.Background()
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	go func() { // a hard stop interrupts the iterations in flight and stops the VUs
		select {
		case <-s.hardC:
		case <-ctx.Done():
		}
		cancel()
	}()
	s.initErr = s.runScenarios(ctx)

	// teardown(data), on the main runtime; parent (not ctx) bounds it, so
	// that it runs after Ctrl-C too.
	done := make(chan struct{})
	var once sync.Once
	finish := func(errText string) {
		once.Do(func() {
			s.teardownErr = errText
			close(done)
		})
	}
	queued := ref.Enqueue(func(vm *goja.Runtime) error {
		defer ref.Close()
		td, ok := goja.AssertFunction(exports.Get("teardown"))
		if !ok || s.initErr != nil {
			finish("")
			return nil
		}
		if s.plan.TeardownOnce && s.opts.Segment.From().Sign() != 0 {
			fmt.Fprintf(s.opts.Stderr, "amqpjs: teardown() not run: options.teardownOnce, and segment %s does not start at 0 (the instance whose segment does runs it)\n", s.opts.Segment)
			finish("")
			return nil
		}
		data := goja.Undefined()
		if s.dataJSON != "" {
			parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
			d, err := parse(goja.Undefined(), vm.ToValue(s.dataJSON))
			if err != nil {
				finish(rt.FormatError(err))
				return nil
			}
			data = d
		}
		ret, err := td(goja.Undefined(), data)
		if err != nil {
			finish(rt.FormatError(err))
			return nil
		}
		if p := asPromise(ret); p != nil {
			hold := rt.Loop().Ref()
			then, _ := goja.AssertFunction(ret.ToObject(vm).Get("then"))
			_, err := then(ret,
				vm.ToValue(func(goja.FunctionCall) goja.Value { hold.Close(); finish(""); return goja.Undefined() }),
				vm.ToValue(func(call goja.FunctionCall) goja.Value {
					hold.Close()
					finish(rt.FormatError(&runtime.UncaughtError{Value: call.Argument(0)}))
					return goja.Undefined()
				}))
			if err != nil {
				hold.Close()
				finish(rt.FormatError(err))
			}
			return nil
		}
		finish("")
		return nil
	})
	if queued {
		select {
		case <-done:
		case <-parent.Done():
		}
	} else {
		ref.Close()
	}
	s.endRun(errScenarioDone)
}

// runScenarios makes every scenario's first VUs, starts the scenarios
// together (each after its startTime), and returns when all have ended
// and their VUs are stopped. It returns an error only when a VU's init
// failed before the start. Controller goroutine.
func (s *Scenario) runScenarios(ctx context.Context) error {
	shares, base := s.plan.shares(s.opts.Segment)
	s.ids = &idStream{base: base, own: s.opts.Segment.Stream()}
	engines := make([]*engine, len(shares))
	for i, sh := range shares {
		engines[i] = s.newEngine(ctx, sh)
	}
	s.vusMu.Lock()
	s.engines = engines
	s.vusMu.Unlock()
	defer func() {
		for _, e := range engines {
			e.end()
			close(e.over)
		}
	}()
	pools := make([][]*vu, len(engines))
	for i, e := range engines {
		pool, err := e.makeVUs()
		if err != nil {
			for _, e := range engines {
				e.stopAll()
			}
			select {
			case <-s.stopC: // interrupted during init: that is not the VU's error
				return nil
			default:
			}
			return err
		}
		pools[i] = pool
	}
	select {
	case <-s.stopC: // interrupted during init
		for _, e := range engines {
			e.stopAll()
		}
		return nil
	default:
	}
	if at := s.opts.StartAt; !at.IsZero() && !s.holdUntil(at) {
		s.errs.always("stopped while waiting for the start (--start-at): no iteration ran")
		for _, e := range engines {
			e.stopAll()
		}
		return nil
	}

	s.started = time.Now()
	s.reg.Start(s.started)
	s.ran = true
	tickDone := make(chan struct{})
	tickStop := make(chan struct{})
	go func() {
		defer close(tickDone)
		s.ticker(tickStop)
	}()
	var wg sync.WaitGroup
	for i, e := range engines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.execute(pools[i])
		}()
	}
	wg.Wait()
	s.ended = time.Now()
	close(tickStop)
	<-tickDone
	return nil
}

// iterDone records a finished iteration. VU loop.
func (s *Scenario) iterDone(v *vu, d time.Duration, errText string) {
	e := v.e
	e.iterations.Add(1)
	e.iterationDuration.Add(float64(d) / float64(time.Millisecond))
	if errText != "" {
		e.errorsM.Add(1)
		// The position the error points at (for an aioamqp error, the
		// script's call that caused it) beside the VU and the iteration.
		where := ""
		if file, line, col, ok := runtime.StackPosition(errText); ok {
			where = fmt.Sprintf(" at %s:%d:%d", file, line, col)
		}
		s.errs.print(fmt.Sprintf("%sVU %d, iteration %d%s: %s", e.label(), v.id, v.iter-1, where, errText))
	}
}

// Finish ends the run after the main runtime's RunFileThen returned with
// runErr: it waits for the controller (stopping it first when the main
// runtime ended on its own), evaluates the thresholds, prints the summary,
// writes the exports, closes the outputs and returns the exit code: 130
// when interrupted, the main runtime's code on its error (setup failed,
// --timeout), 1 when a VU's init failed, 99 when a threshold failed, 1 when
// teardown failed, else 0. Call it only when [Scenario.Active].
func (s *Scenario) Finish(rt *runtime.Runtime, runErr error) int {
	if errors.Is(runErr, errScenarioDone) {
		runErr = nil
	}
	var ce *ConfigError
	if errors.As(runErr, &ce) {
		fmt.Fprintf(s.opts.Stderr, "amqpjs: %v\n", ce)
		s.closeOutputs()
		return runtime.ExitUsage
	}
	if s.controlling.Load() {
		if runErr != nil {
			s.stop()
			s.hardStop()
		}
		<-s.finished
	}
	code := 0
	if runErr != nil {
		if msg := rt.FormatError(runErr); msg != "" {
			fmt.Fprintln(s.opts.Stderr, msg)
		}
		code = rt.ExitCodeOf(runErr)
	}
	if s.initErr != nil {
		fmt.Fprintf(s.opts.Stderr, "amqpjs: %v\n", s.initErr)
		if code == 0 {
			code = runtime.ExitFailure
			var se *runtime.SyntaxError
			if errors.As(s.initErr, &se) {
				code = runtime.ExitUsage
			}
		}
	}
	if s.teardownErr != "" {
		fmt.Fprintf(s.opts.Stderr, "amqpjs: teardown: %s\n", s.teardownErr)
	}
	if s.ran {
		s.errs.flush()
		elapsed := s.ended.Sub(s.started)
		failed, _ := s.reg.EvalThresholds(elapsed)
		sum := s.reg.Summarize(elapsed)
		s.writeSummary(sum)
		s.reportRun(sum)
		if failed && code == 0 {
			code = ExitThresholds
		}
	}
	s.closeOutputs()
	if code == 0 && s.teardownErr != "" {
		code = runtime.ExitFailure
	}
	if s.interrupted.Load() {
		code = runtime.ExitInterrupted
	}
	// A defect of amqpjs wins over everything the script did: exit 70,
	// its line last, after the summary of what was measured.
	var ie *runtime.InternalError
	if msg := s.defect.Load(); msg != nil {
		fmt.Fprintf(s.opts.Stderr, "amqpjs: %s\n", *msg)
		code = runtime.ExitInternal
	} else if errors.As(runErr, &ie) || errors.As(s.initErr, &ie) {
		code = runtime.ExitInternal
	}
	return code
}

func (s *Scenario) writeSummary(sum *metrics.Summary) {
	w := s.opts.Stderr
	how := ""
	if s.interrupted.Load() {
		how = " (interrupted)"
	} else if s.aborted.Load() {
		how = " (aborted by a threshold)"
	}
	if !s.plan.Named {
		c := s.plan.Scenarios[0]
		fmt.Fprintf(w, "\n  scenario: %s, %s; ran %s%s\n", c.Executor, describe(c), sum.Duration.Round(time.Millisecond), how)
		if seg := s.opts.Segment; !seg.IsWhole() {
			fmt.Fprintf(w, "  segment %s: %s\n", seg, s.engines[0].sh.shareLine())
		}
		// Every sample has scenario:default: the tag says nothing here.
		sum.HideTag("scenario")
	} else {
		fmt.Fprintf(w, "\n  scenarios: %d, ran %s%s\n", len(s.engines), sum.Duration.Round(time.Millisecond), how)
		if seg := s.opts.Segment; !seg.IsWhole() {
			fmt.Fprintf(w, "  segment %s: this instance ran its share of each scenario, as its line says\n", seg)
		}
		nameW := 0
		for _, e := range s.engines {
			nameW = max(nameW, len(e.cfg.Name))
		}
		for _, e := range s.engines {
			fmt.Fprintf(w, "    %-*s  %s\n", nameW, e.cfg.Name, e.summaryLine())
		}
	}
	if err := sum.WriteText(w); err != nil {
		return
	}
	if s.opts.SummaryExport != "" {
		var b strings.Builder
		if err := sum.WriteJSON(&b); err == nil {
			if err := writeFile(s.opts.SummaryExport, b.String()); err != nil {
				fmt.Fprintf(w, "amqpjs: --summary-export: %v\n", err)
			}
		}
	}
}

// summaryLine is a scenario's line in the summary of a run with
// options.scenarios: executor and configuration, then what it did.
func (e *engine) summaryLine() string {
	c := e.sh.global
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %s", c.Executor, describe(c))
	if c.StartTime > 0 {
		fmt.Fprintf(&b, ", startTime %s", c.StartTime)
	}
	if c.Exec != "default" {
		fmt.Fprintf(&b, ", exec %s", c.Exec)
	}
	if !e.sh.seg.IsWhole() {
		fmt.Fprintf(&b, "; this segment: %s", e.sh.shareLine())
	}
	st := e.started()
	if e.sh.none {
		return b.String()
	}
	if st.IsZero() {
		b.WriteString("; stopped before its start")
		return b.String()
	}
	ran := time.Unix(0, e.endedAt.Load()).Sub(st)
	how := "done in"
	select {
	case <-e.hardC: // gracefulStop ran out, Ctrl-C, or a threshold aborted the run
		how = "interrupted after"
	default:
	}
	fmt.Fprintf(&b, "; %s %s: %d iterations", how, ran.Round(time.Millisecond), int64(e.iterations.Stats().Sum))
	if n := int64(e.dropped.Stats().Sum); n > 0 {
		fmt.Fprintf(&b, " (%d dropped)", n)
	}
	fmt.Fprintf(&b, ", %d VUs", e.made.Load())
	if n := int64(e.errorsM.Stats().Sum); n > 0 {
		fmt.Fprintf(&b, ", %d errors", n)
	}
	return b.String()
}

func describe(c *Config) string {
	switch c.Executor {
	case ConstantVUs:
		return fmt.Sprintf("%d VUs for %s", c.VUs, c.Duration)
	case SharedIterations:
		return fmt.Sprintf("%d iterations shared by %d VUs (max %s)", c.Iterations, c.VUs, c.Duration)
	case PerVUIterations:
		return fmt.Sprintf("%d iterations for each of %d VUs (max %s)", c.Iterations, c.VUs, c.Duration)
	case RampingArrivalRate:
		return fmt.Sprintf("from %s iterations per %s through stages %s (VUs: %d pre-allocated, max %d)", trimFloat(c.StartRate), c.TimeUnit, stagesString(c.Stages), c.PreAllocatedVUs, c.MaxVUs)
	case RampingVUs:
		return fmt.Sprintf("from %d VUs through stages %s", c.VUs, stagesString(c.Stages))
	case ConstantArrivalRate:
		return fmt.Sprintf("%s iterations per %s for %s (VUs: %d pre-allocated, max %d)", trimFloat(c.Rate), c.TimeUnit, c.Duration, c.PreAllocatedVUs, c.MaxVUs)
	}
	return ""
}

func stagesString(stages []Stage) string {
	parts := make([]string, len(stages))
	for i, st := range stages {
		parts[i] = fmt.Sprintf("%s:%d", st.Duration, st.Target)
	}
	return strings.Join(parts, ", ")
}

func trimFloat(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}

func (s *Scenario) closeOutputs() {
	for _, o := range s.opts.Outputs {
		if err := o.Close(); err != nil {
			fmt.Fprintf(s.opts.Stderr, "amqpjs: --out: %v\n", err)
		}
	}
	s.opts.Outputs = nil
}

// errPrinter prints iteration errors and progress lines on one writer: the
// first few errors at once, then at most one a second, counting the rest.
// On a terminal it clears the progress line before an error.
type errPrinter struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	printed    int
	last       time.Time
	suppressed int
}

const errBurst = 5

func (p *errPrinter) print(msg string) { p.write(msg, false) }

// always prints msg whatever the rate.
func (p *errPrinter) always(msg string) { p.write(msg, true) }

func (p *errPrinter) write(msg string, always bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if !always && p.printed >= errBurst && now.Sub(p.last) < time.Second {
		p.suppressed++
		return
	}
	var b strings.Builder
	if p.tty {
		b.WriteString("\r\x1b[K")
	}
	b.WriteString("amqpjs: ")
	b.WriteString(msg)
	if p.suppressed > 0 {
		fmt.Fprintf(&b, "\namqpjs: (%d more iteration errors not shown)", p.suppressed)
		p.suppressed = 0
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(p.w, b.String())
	p.printed++
	p.last = now
}

// progress writes a progress line: in place on a terminal, else a line.
func (p *errPrinter) progress(line string, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty {
		end := ""
		if final {
			end = "\n"
		}
		_, _ = io.WriteString(p.w, "\r\x1b[K"+line+end)
		return
	}
	_, _ = io.WriteString(p.w, line+"\n")
}

func (p *errPrinter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.suppressed > 0 {
		fmt.Fprintf(p.w, "amqpjs: (%d more iteration errors not shown)\n", p.suppressed)
		p.suppressed = 0
	}
}
