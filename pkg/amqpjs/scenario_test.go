package amqpjs_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// A scenario with no broker: iterations of a default function on VUs,
// each VU calling the host module.
const iterScenario = `
import { count } from 'counter';
export const options = { vus: 2, iterations: 6, thresholds: { iterations: ['count==6'] } };
export function setup() { console.log('setup'); return { n: 1 }; }
export default function (data) { count(data.n); }
export function teardown() { console.log('teardown'); }
`

func scenarioRuntime(t *testing.T, o *out, started *atomic.Int32, calls *atomic.Int64) *amqpjs.Runtime {
	t.Helper()
	so := &amqpjs.ScenarioOptions{Started: func() { started.Add(1) }}
	so.Progress = amqpjs.ProgressNone
	rt := newRuntime(t, o, amqpjs.Options{Scenario: so})
	if err := rt.RegisterModule("counter", func(m *amqpjs.Module) error {
		return m.Func("count", func(c *amqpjs.Call) (any, error) {
			n, _ := c.Arg(0).(int64)
			calls.Add(n)
			return nil, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return rt
}

func TestScenario(t *testing.T) {
	var o out
	var started atomic.Int32
	var calls atomic.Int64
	rt := scenarioRuntime(t, &o, &started, &calls)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	err := rt.RunSource(ctx, "scenario.js", iterScenario)
	if err != nil {
		t.Fatalf("%T %v\n%s", err, err, o.stderr.String())
	}
	if got := o.stdout.String(); got != "setup\nteardown\n" {
		t.Errorf("stdout %q, want setup and teardown", got)
	}
	if calls.Load() != 6 {
		t.Errorf("the host module was called %d times by the VUs, want 6", calls.Load())
	}
	if started.Load() != 1 {
		t.Errorf("Started called %d times, want 1", started.Load())
	}
	for _, want := range []string{"scenario: shared-iterations, 6 iterations shared by 2 VUs", "iterations", "thresholds", "✓ iterations"} {
		if !strings.Contains(o.stderr.String(), want) {
			t.Errorf("the summary on stderr has no %q:\n%s", want, o.stderr.String())
		}
	}
}

func TestScenarioThresholdFails(t *testing.T) {
	var o out
	var started atomic.Int32
	var calls atomic.Int64
	rt := scenarioRuntime(t, &o, &started, &calls)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	err := rt.RunSource(ctx, "scenario.js", strings.Replace(iterScenario, "count==6", "count>6", 1))
	var se *amqpjs.ScenarioError
	if !errors.As(err, &se) || se.Code != amqpjs.ExitThresholds || amqpjs.ExitCode(err) != 99 {
		t.Fatalf("got %T %v (exit %d), want a *ScenarioError with code 99", err, err, amqpjs.ExitCode(err))
	}
	if amqpjs.Message(err) != "" {
		t.Errorf("Message %q: the summary said it already", amqpjs.Message(err))
	}
	if !strings.Contains(o.stderr.String(), "✗ iterations") {
		t.Errorf("the summary does not show the failed threshold:\n%s", o.stderr.String())
	}
}

// A plain script runs as before, and is not a scenario.
func TestScenarioOptionsPlainScript(t *testing.T) {
	var o out
	var started atomic.Int32
	var calls atomic.Int64
	rt := scenarioRuntime(t, &o, &started, &calls)
	err := rt.RunSource(context.Background(), "plain.js", "export const options = { vus: 3 };\nconsole.log('plain');\n")
	if err != nil || o.stdout.String() != "plain\n" || o.stderr.String() != "" || started.Load() != 0 {
		t.Errorf("err %v, stdout %q, stderr %q, Started %d times; want a plain run", err, o.stdout.String(), o.stderr.String(), started.Load())
	}
}

// Without Options.Scenario a scenario script runs only its top level.
func TestNoScenarioOptions(t *testing.T) {
	err, o := runSource(t, "console.log('top');\nexport default function () { console.log('iteration'); }\n", amqpjs.Options{})
	if err != nil || o.stdout.String() != "top\n" {
		t.Errorf("err %v, stdout %q; want the top level only", err, o.stdout.String())
	}
}

// Cancelling a scenario's context interrupts it as Ctrl-C does: the VUs
// stop, teardown runs, the summary says so, exit code 130.
func TestScenarioInterrupted(t *testing.T) {
	var o out
	so := &amqpjs.ScenarioOptions{}
	rt := newRuntime(t, &o, amqpjs.Options{Scenario: so})
	iterating := make(chan struct{}, 1)
	if err := rt.RegisterModule("signal", func(m *amqpjs.Module) error {
		return m.Func("iterating", func(*amqpjs.Call) (any, error) {
			select {
			case iterating <- struct{}{}:
			default:
			}
			return nil, nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		<-iterating
		cancel(amqpjs.ErrInterrupted)
	}()
	src := `
import { iterating } from 'signal';
export const options = { vus: 1, duration: '1h' };
export default async function () { iterating(); await new Promise((r) => setTimeout(r, 50)); }
export function teardown() { console.log('teardown'); }
`
	err := rt.RunSource(ctx, "long.js", src)
	if amqpjs.ExitCode(err) != amqpjs.ExitInterrupted {
		t.Fatalf("got %T %v (exit %d), want exit 130\n%s", err, err, amqpjs.ExitCode(err), o.stderr.String())
	}
	if o.stdout.String() != "teardown\n" || !strings.Contains(o.stderr.String(), "(interrupted)") {
		t.Errorf("stdout %q, stderr:\n%s\nwant teardown and the summary of an interrupted run", o.stdout.String(), o.stderr.String())
	}
}

func TestExitCodeAndMessage(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, 0, ""},
		{&amqpjs.ExitError{Code: 4}, 4, ""},
		{&amqpjs.ScenarioError{Code: 99}, 99, ""},
		{&amqpjs.InterruptedError{Cause: amqpjs.ErrInterrupted}, 130, "amqpjs: interrupted"},
		{&amqpjs.InterruptedError{Cause: amqpjs.ErrClosed}, 130, "amqpjs: interrupted: amqpjs: runtime closed"},
		{&amqpjs.InterruptedError{Cause: &amqpjs.TimeoutError{After: 2e9}}, 1, "amqpjs: run timed out after 2s (--timeout)"},
		{&amqpjs.InterruptedError{Cause: context.DeadlineExceeded}, 1, "amqpjs: run timed out: context deadline exceeded"},
		{errors.New("x"), 1, "amqpjs: x"},
	} {
		if got := amqpjs.ExitCode(tc.err); got != tc.code {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.code)
		}
		if got := amqpjs.Message(tc.err); got != tc.msg {
			t.Errorf("Message(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
	if errors.Is(&amqpjs.InterruptedError{Cause: &amqpjs.TimeoutError{After: 1}}, amqpjs.ErrInterrupted) {
		t.Error("a timeout is ErrInterrupted")
	}
}
