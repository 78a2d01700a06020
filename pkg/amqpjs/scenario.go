package amqpjs

import (
	"context"
	"errors"
	"fmt"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

// ExitThresholds is the exit code of a scenario whose thresholds failed.
const ExitThresholds = scenario.ExitThresholds

// Progress is how a scenario shows its live progress on its Stderr.
type Progress = scenario.Progress

// The progress displays.
const (
	ProgressNone  = scenario.ProgressNone  // none
	ProgressPlain = scenario.ProgressPlain // a line a second
	ProgressLine  = scenario.ProgressLine  // one line updated in place (a terminal)
)

// ScenarioOptions configure the runs of load and test scenarios
// ([Options].Scenario).
type ScenarioOptions struct {
	// Options are the scenario runner's: Overrides (of the script's
	// `options`: VUs, duration, iterations, stages, rate…), E2EHeader,
	// Progress, Outputs, SummaryExport, and whatever else it has; they
	// pass through as they are. The facade sets Script, Source and
	// NewRuntime (every VU is a runtime made from the same [Options],
	// with the host modules); a nil Registry is made (pass one to read the
	// metrics after the run); a nil Stderr is [Options].Stderr. The
	// Outputs are closed when the run ends, scenario or not.
	scenario.Options

	// Started, when not nil, is called once the script has turned out to
	// be a scenario, before its VUs start (`amqpjs run` gives the process
	// all CPUs there). It runs on the loop goroutine and must not block.
	Started func()
}

// ScenarioError ends a scenario run that did not succeed. What went wrong
// (setup's error, a VU's init error, a failed teardown) and the
// end-of-test summary, when the VUs ran, were already written to the
// scenario's Stderr. Code is the exit code `amqpjs run` gives:
// [ExitThresholds] (99) when a threshold failed, [ExitFailure] when setup,
// teardown or a VU's init failed or on a timeout, [ExitUsage] for invalid
// options, [ExitInterrupted] when the run was interrupted (its context
// cancelled, [Runtime.Close]: the VUs stop, teardown runs and the summary
// is printed), [ExitInternal] for a defect of amqpjs, or the code given to
// process.exit.
type ScenarioError struct {
	Code int
}

// Error says how the scenario ended.
func (e *ScenarioError) Error() string {
	switch e.Code {
	case ExitThresholds:
		return "amqpjs: scenario: a threshold failed"
	case ExitInterrupted:
		return "amqpjs: scenario: interrupted"
	case ExitInternal:
		return "amqpjs: scenario: internal error of amqpjs"
	case ExitUsage:
		return "amqpjs: scenario: invalid options"
	}
	return fmt.Sprintf("amqpjs: scenario failed (exit code %d)", e.Code)
}

// ExitCode returns Code, for [ExitCode].
func (e *ScenarioError) ExitCode() int { return e.Code }

// runMain runs the main module: the file at name, or src under that name;
// as a scenario when Options.Scenario says so and the script is one.
func (r *Runtime) runMain(ctx context.Context, name, src string, hasSource bool) error {
	if r.scen == nil {
		var err error
		if hasSource {
			_, err = r.rt.RunSource(ctx, name, src)
		} else {
			_, err = r.rt.RunFile(ctx, name)
		}
		return err
	}
	so := r.scen.Options
	so.Script = name
	if hasSource {
		so.Source = src
	}
	so.NewRuntime = r.newVU
	if so.Stderr == nil {
		so.Stderr = r.opts.Stderr
	}
	sc := scenario.New(so)

	// The main runtime runs setup() and teardown(): ctx's end must not
	// kill it once the script is a scenario, but interrupt the scenario
	// (no more iterations, teardown, the summary, 130). A timeout, as
	// `amqpjs run --timeout`, and an end before the script turned out to
	// be a scenario end the main runtime at once.
	mainCtx, cancelMain := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cancelMain(nil)
	runCtx := sc.Bind(mainCtx)
	stop := context.AfterFunc(ctx, func() {
		cause := context.Cause(ctx)
		var te *runtime.TimeoutError
		if sc.Active() && !errors.As(cause, &te) && !errors.Is(cause, context.DeadlineExceeded) {
			sc.Interrupt()
			return
		}
		cancelMain(cause)
	})
	defer stop()

	hook := sc.Hook(r.rt)
	then := func(vm *goja.Runtime, exports *goja.Object) error {
		err := hook(vm, exports)
		if sc.Active() && r.scen.Started != nil {
			r.scen.Started()
		}
		return err
	}
	var err error
	if hasSource {
		_, err = r.rt.RunSourceThen(runCtx, name, src, then)
	} else {
		_, err = r.rt.RunFileThen(runCtx, name, then)
	}
	if !sc.Active() {
		for _, o := range so.Outputs {
			_ = o.Close()
		}
		return err
	}
	if code := sc.Finish(r.rt, err); code != 0 {
		return &ScenarioError{Code: code}
	}
	return nil
}

// newVU makes the runtime of a scenario's VU: as the main runtime, with the
// host modules, whose calls see the run's context.
func (r *Runtime) newVU(int) (*runtime.Runtime, error) {
	r.mu.Lock()
	vr := &Runtime{opts: r.opts, log: r.log, defaults: r.defaults, faults: r.faults, scen: r.scen, done: r.done,
		started: true, ctx: r.ctx, cancel: r.cancel, hosts: r.hosts}
	modules := r.modules
	r.mu.Unlock()
	vr.rt = vr.newLowRuntime()
	for _, m := range modules {
		registerHostModule(vr, m.name, m.fn)
	}
	return vr.rt, nil
}
