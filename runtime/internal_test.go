package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
)

// TestLoopPanicIsInternalError: a Go panic in a task — in Go code of ours,
// or in a Go function that JavaScript called — ends the run with an
// *InternalError (exit 70, one line naming where, the Go stack in a file),
// no later task runs, the shutdown hooks still run, and no error hook can
// take it as handled.
func TestLoopPanicIsInternalError(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, tc := range []struct {
		name  string
		task  func(l *Loop) Task
		where string
	}{
		{"go task", func(*Loop) Task {
			return func(*goja.Runtime) error { var m map[string]int; m["x"]++; return nil }
		}, "runtime.TestLoopPanicIsInternalError"},
		{"go function called by JS", func(*Loop) Task {
			return func(vm *goja.Runtime) error {
				if err := vm.Set("explode", func() { panic("boom from Go") }); err != nil {
					return err
				}
				_, err := vm.RunString(`function f() { explode(); } try { f(); } catch (e) { 'caught' }`)
				return err
			}
		}, "runtime.TestLoopPanicIsInternalError"},
		{"queued task", func(l *Loop) Task {
			return func(*goja.Runtime) error {
				l.RunOnLoop(func(*goja.Runtime) { panic(errors.New("late boom")) })
				return nil
			}
		}, "runtime.TestLoopPanicIsInternalError"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLoop()
			ran, closed := false, false
			l.SetErrorHook(func(error) bool { return true }) // the REPL's: must not swallow a panic
			err := runLoop(t, l, func(vm *goja.Runtime) error {
				l.OnShutdown(func() { closed = true })
				if err := tc.task(l)(vm); err != nil {
					return err
				}
				l.RunOnLoop(func(*goja.Runtime) { ran = true })
				return nil
			})
			var ie *InternalError
			if !errors.As(err, &ie) {
				t.Fatalf("Run: got %v (%T), want an *InternalError", err, err)
			}
			if !strings.HasPrefix(ie.Where, tc.where) {
				t.Errorf("Where: got %q, want it to start with %q", ie.Where, tc.where)
			}
			if tc.name != "queued task" && ran {
				t.Error("a task queued after the panicking one ran")
			}
			if !closed {
				t.Error("the shutdown hooks did not run")
			}
			r := New(Options{})
			if code := r.ExitCodeOf(err); code != ExitInternal {
				t.Errorf("exit code: got %d, want %d", code, ExitInternal)
			}
			line := r.FormatError(err)
			if strings.Contains(line, "\n") || !strings.HasPrefix(line, "amqpjs: internal error") || !strings.Contains(line, ie.StackFile) {
				t.Errorf("message: got %q, want one line naming the stack file", line)
			}
			if ie.StackFile == "" || filepath.Dir(ie.StackFile) != os.Getenv("TMPDIR") {
				t.Fatalf("stack file: %q", ie.StackFile)
			}
			b, rerr := os.ReadFile(ie.StackFile)
			if rerr != nil {
				t.Fatal(rerr)
			}
			if !strings.Contains(string(b), "goroutine ") || !strings.Contains(string(b), "internal_test.go") {
				t.Errorf("stack file holds no Go stack of the panic:\n%s", b)
			}
		})
	}
}

// TestLoopPanicInShutdownHook: a hook that panics does not keep the others
// from running, and the run ends with the internal error.
func TestLoopPanicInShutdownHook(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	l := newTestLoop()
	closed := false
	err := runLoop(t, l, func(*goja.Runtime) error {
		l.OnShutdown(func() { closed = true })
		l.OnShutdown(func() { panic("hook boom") })
		return nil
	})
	var ie *InternalError
	if !errors.As(err, &ie) || !closed {
		t.Fatalf("Run: got %v, closed %v; want an *InternalError and the other hook run", err, closed)
	}
}

// TestLoopHaltedRunsNoFurtherTask: once the run's context ends, no task
// that was already queued runs, and nothing more is accepted (a consumer's
// deliveries arriving then are dropped, never handed to the script).
func TestLoopHaltedRunsNoFurtherTask(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	cause := errors.New("end of the run")
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	after := 0
	accepted := true
	err := l.Run(ctx, func(*goja.Runtime) error {
		l.Ref() // as an open connection would
		l.RunOnLoop(func(*goja.Runtime) {
			cancel(cause)
			deadline := time.Now().Add(safety)
			for !l.halted.Load() && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			accepted = l.RunOnLoop(func(*goja.Runtime) { after++ })
		})
		for range 50 {
			l.RunOnLoop(func(*goja.Runtime) { after++ })
		}
		return nil
	})
	if !errors.Is(err, cause) {
		t.Errorf("Run: got %v, want %v", err, cause)
	}
	if after != 0 {
		t.Errorf("%d tasks ran after the context ended", after)
	}
	if accepted {
		t.Error("RunOnLoop accepted a task after the context ended")
	}
}
