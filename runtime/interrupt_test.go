package runtime

import (
	"context"
	"testing"

	"github.com/dop251/goja"
)

// A REPL stops a runaway evaluation with InterruptTask; the loop survives and
// runs what comes next.
func TestInterruptTaskKeepsLoop(t *testing.T) {
	t.Parallel()
	skipBusyLoopOnWasm(t)
	l := NewLoop(goja.New())
	hooked := make(chan struct{}, 1)
	l.SetSoftInterruptHook(func() { hooked <- struct{}{} })
	entered := make(chan struct{})
	var after goja.Value
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	err := l.Run(ctx, func(vm *goja.Runtime) error {
		ref := l.Ref()
		if err := vm.Set("entered", func() { close(entered) }); err != nil {
			return err
		}
		go func() {
			<-entered
			l.InterruptTask()
			<-hooked
			ref.Enqueue(func(vm *goja.Runtime) error {
				v, err := vm.RunString(`"still alive"`)
				after = v
				return err
			})
			ref.Close()
		}()
		l.RunOnLoop(func(vm *goja.Runtime) {
			_, _ = vm.RunString(`entered(); for (;;) {}`)
		})
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got error %v, want nil (a soft interrupt must not end the loop)", err)
	}
	if after == nil || after.String() != "still alive" {
		t.Fatalf("task after the interrupt: got %v, want \"still alive\"", after)
	}
}

// InterruptTask with no task running leaves no interrupt behind.
func TestInterruptTaskIdle(t *testing.T) {
	t.Parallel()
	l := NewLoop(goja.New())
	l.InterruptTask()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	var got goja.Value
	err := l.Run(ctx, func(vm *goja.Runtime) error {
		v, err := vm.RunString(`1 + 1`)
		got = v
		return err
	})
	if err != nil || got == nil || got.ToInteger() != 2 {
		t.Fatalf("got %v, %v; want 2, nil", got, err)
	}
}
