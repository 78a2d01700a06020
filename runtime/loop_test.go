package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dop251/goja"
)

func newTestLoop() *Loop { return NewLoop(goja.New()) }

// runLoop runs l with a safety context; it fails the test if the loop does
// not end.
func runLoop(t *testing.T, l *Loop, first Task) error {
	t.Helper()
	ctx, cancel := context.WithTimeoutCause(context.Background(), safety, errSafety)
	defer cancel()
	err := l.Run(ctx, first)
	if errors.Is(err, errSafety) {
		t.Fatalf("loop did not end within %s", safety)
	}
	return err
}

func TestLoopFIFOFromGoroutines(t *testing.T) {
	t.Parallel()
	const producers, perProducer = 8, 500
	l := newTestLoop()
	type item struct{ p, seq int }
	var got []item // loop-owned
	err := runLoop(t, l, func(vm *goja.Runtime) error {
		ref := l.Ref()
		var wg sync.WaitGroup
		start := make(chan struct{})
		for p := 0; p < producers; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for i := 0; i < perProducer; i++ {
					if !ref.Enqueue(func(*goja.Runtime) error {
						got = append(got, item{p, i})
						return nil
					}) {
						t.Errorf("producer %d: Enqueue %d returned false", p, i)
						return
					}
				}
			}()
		}
		close(start)
		go func() {
			wg.Wait()
			ref.Close()
		}()
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if len(got) != producers*perProducer {
		t.Fatalf("ran %d tasks, want %d", len(got), producers*perProducer)
	}
	next := make([]int, producers)
	for _, it := range got {
		if it.seq != next[it.p] {
			t.Fatalf("producer %d: task %d ran when %d was expected (per-producer FIFO broken)", it.p, it.seq, next[it.p])
		}
		next[it.p]++
	}
}

// wantOrder checks the order in which a test's tasks ran, as fmt prints it.
func wantOrder(t *testing.T, order []string, want string) {
	t.Helper()
	if got := fmt.Sprint(order); got != want {
		t.Errorf("order: got %s, want %s", got, want)
	}
}

func TestLoopRunOnLoopFromInside(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	var order []string
	err := runLoop(t, l, func(vm *goja.Runtime) error {
		order = append(order, "first")
		l.RunOnLoop(func(*goja.Runtime) {
			order = append(order, "a")
			l.RunOnLoop(func(*goja.Runtime) { order = append(order, "c") })
		})
		l.RunOnLoop(func(*goja.Runtime) { order = append(order, "b") })
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	wantOrder(t, order, "[first a b c]")
}

func TestLoopEndsWhenIdle(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	ran := false
	if err := runLoop(t, l, func(*goja.Runtime) error { ran = true; return nil }); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if !ran {
		t.Error("first task did not run")
	}
	if n := l.refs.Load(); n != 0 {
		t.Errorf("open refs: got %d, want 0", n)
	}
}

func TestLoopRefKeepsAlive(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	var ref *Ref
	started := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	var order []string
	go func() {
		done <- runLoop(t, l, func(*goja.Runtime) error {
			ref = l.Ref()
			close(started)
			return nil
		})
	}()
	<-started
	// The loop is idle but for the ref: it must still be running, so a task
	// enqueued now runs.
	ran := make(chan struct{})
	if !ref.Enqueue(func(*goja.Runtime) error { order = append(order, "task"); close(ran); return nil }) {
		t.Fatal("Enqueue while the ref is open: got false, want true")
	}
	<-ran
	select {
	case err := <-done:
		t.Fatalf("Run ended (%v) while a Ref was open", err)
	default:
	}
	go func() {
		<-release
		ref.Close()
	}()
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	ref.Close() // idempotent (TestLoopRefClosedRejectsEnqueue: a closed ref takes no task)
	if n := l.refs.Load(); n != 0 {
		t.Errorf("open refs after Close twice: got %d, want 0", n)
	}
	wantOrder(t, order, "[task]")
}

func TestLoopRefClosedRejectsEnqueue(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	err := runLoop(t, l, func(*goja.Runtime) error {
		ref := l.Ref()
		ref.Close()
		if ref.Enqueue(func(*goja.Runtime) error { t.Error("task of a closed ref ran"); return nil }) {
			t.Error("Enqueue after Close: got true, want false")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
}

func TestLoopTasksQueuedBeforeCloseRun(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	ran := 0
	err := runLoop(t, l, func(*goja.Runtime) error {
		ref := l.Ref()
		go func() {
			for i := 0; i < 10; i++ {
				ref.Enqueue(func(*goja.Runtime) error { ran++; return nil })
			}
			ref.Close()
		}()
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if ran != 10 {
		t.Errorf("tasks run: got %d, want 10", ran)
	}
}

func TestLoopContextCancel(t *testing.T) {
	t.Parallel()
	cause := errors.New("stop now")
	t.Run("idle with ref", func(t *testing.T) {
		t.Parallel()
		l := newTestLoop()
		ctx, cancel := context.WithCancelCause(context.Background())
		err := l.Run(ctx, func(*goja.Runtime) error {
			l.Ref() // never closed
			go cancel(cause)
			return nil
		})
		if !errors.Is(err, cause) {
			t.Errorf("Run: got %v, want %v", err, cause)
		}
	})
	t.Run("busy JavaScript", func(t *testing.T) {
		t.Parallel()
		skipBusyLoopOnWasm(t)
		l := newTestLoop()
		ctx, cancel := context.WithCancelCause(context.Background())
		err := l.Run(ctx, func(vm *goja.Runtime) error {
			go cancel(cause)
			_, err := vm.RunString(`for (;;) {}`)
			return err
		})
		if !errors.Is(err, cause) {
			t.Errorf("Run: got %v, want %v", err, cause)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		t.Parallel()
		l := newTestLoop()
		ctx, cancel := context.WithCancelCause(context.Background())
		cancel(cause)
		err := l.Run(ctx, func(*goja.Runtime) error {
			l.Ref()
			return nil
		})
		if !errors.Is(err, cause) {
			t.Errorf("Run: got %v, want %v", err, cause)
		}
	})
}

func TestLoopTaskErrorEndsRun(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	boom := errors.New("boom")
	ranAfter := false
	err := runLoop(t, l, func(*goja.Runtime) error {
		l.Ref() // an open ref must not keep a failed loop alive
		l.RunOnLoop(func(*goja.Runtime) {})
		ref := l.Ref()
		ref.Enqueue(func(*goja.Runtime) error { return boom })
		ref.Enqueue(func(*goja.Runtime) error { ranAfter = true; return nil })
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run: got %v, want %v", err, boom)
	}
	if ranAfter {
		t.Error("a task queued after the failing one ran")
	}
}

func TestLoopFirstTaskError(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	boom := errors.New("boom")
	if err := runLoop(t, l, func(*goja.Runtime) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Run: got %v, want %v", err, boom)
	}
}

func TestLoopFail(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	first, second := errors.New("first"), errors.New("second")
	err := runLoop(t, l, func(vm *goja.Runtime) error {
		l.Ref()
		l.RunOnLoop(func(*goja.Runtime) {
			l.Fail(first)
			l.Fail(second) // the first failure wins
		})
		return nil
	})
	if !errors.Is(err, first) {
		t.Fatalf("Run: got %v, want %v", err, first)
	}
}

func TestLoopOnShutdown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		fail    error
		wantErr bool
	}{
		{name: "idle"},
		{name: "error", fail: errors.New("boom"), wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newTestLoop()
			var order []string
			err := runLoop(t, l, func(*goja.Runtime) error {
				l.OnShutdown(func() { order = append(order, "1") })
				l.OnShutdown(func() { order = append(order, "2") })
				return tc.fail
			})
			if (err != nil) != tc.wantErr {
				t.Fatalf("Run: got %v, want error %v", err, tc.wantErr)
			}
			if got, want := fmt.Sprint(order), "[2 1]"; got != want {
				t.Errorf("shutdown hooks: got %s, want %s (reverse registration order)", got, want)
			}
		})
	}
}

func TestLoopEnqueueAfterStop(t *testing.T) {
	t.Parallel()
	l := newTestLoop()
	var ref *Ref
	if err := runLoop(t, l, func(*goja.Runtime) error {
		ref = l.Ref()
		ref.Close()
		return nil
	}); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if l.RunOnLoop(func(*goja.Runtime) { t.Error("task ran after stop") }) {
		t.Error("RunOnLoop after stop: got true, want false")
	}
	late := l.Ref() // a ref taken too late cannot revive the loop
	if late.Enqueue(func(*goja.Runtime) error { t.Error("task ran after stop"); return nil }) {
		t.Error("Ref.Enqueue after stop: got true, want false")
	}
	late.Close()
	if err := l.Run(context.Background(), func(*goja.Runtime) error { return nil }); !errors.Is(err, ErrLoopStopped) {
		t.Errorf("second Run: got %v, want ErrLoopStopped", err)
	}
}

func BenchmarkEnqueue(b *testing.B) {
	l := newTestLoop()
	n := 0
	ctx := context.Background()
	err := l.Run(ctx, func(*goja.Runtime) error {
		ref := l.Ref()
		go func() {
			for i := 0; i < b.N; i++ {
				ref.Enqueue(func(*goja.Runtime) error { n++; return nil })
			}
			ref.Close()
		}()
		b.ResetTimer()
		return nil
	})
	b.StopTimer()
	if err != nil || n != b.N {
		b.Fatalf("Run: %v, %d of %d tasks", err, n, b.N)
	}
}
