package amqpjs_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// safety bounds runs so that a hang fails instead of blocking the suite.
const safety = 30 * time.Second

type out struct{ stdout, stderr testutil.SyncBuffer }

// closedWithin waits for ch to be closed, failing the test with msg when
// it is not within the safety timeout.
func closedWithin[T any](t *testing.T, ch <-chan T, msg string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(safety):
		t.Fatal(msg)
	}
}

// runEach runs n runtimes side by side: setup(i, o) makes runtime i, its
// output going to o, and returns its run, which goroutine i calls. Each run
// must end without an error, having printed want(i).
func runEach(t *testing.T, n int, setup func(i int, o *out) (run func() error), want func(i int) string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	outs := make([]*out, n)
	for i := range n {
		outs[i] = &out{}
		run := setup(i, outs[i])
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run()
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("runtime %d: %v", i, errs[i])
		}
		if got, want := outs[i].stdout.String(), want(i); got != want {
			t.Errorf("runtime %d: stdout %q, want %q", i, got, want)
		}
	}
}

func newRuntime(t *testing.T, o *out, opts amqpjs.Options) *amqpjs.Runtime {
	t.Helper()
	if o != nil {
		opts.Stdout, opts.Stderr = &o.stdout, &o.stderr
	}
	rt, err := amqpjs.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

func runSource(t *testing.T, src string, opts amqpjs.Options) (error, *out) {
	t.Helper()
	var o out
	rt := newRuntime(t, &o, opts)
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	return rt.RunSource(ctx, "main.js", src), &o
}

func TestRunSourceOutputEnvArgs(t *testing.T) {
	err, o := runSource(t, `
		console.log('hello', 1 + 1, process.env.WHO, process.argv.slice(2).join(','))
		console.error('to stderr')
		process.argv[0]`,
		amqpjs.Options{Env: map[string]string{"WHO": "host"}, Args: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.stdout.String(); got != "hello 2 host a,b\n" {
		t.Errorf("stdout %q", got)
	}
	if got := o.stderr.String(); got != "to stderr\n" {
		t.Errorf("stderr %q", got)
	}
}

func TestRunFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "lib.ts"), []byte("export const n: number = 41\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.mjs")
	if err := os.WriteFile(main, []byte("import { n } from './lib.js'\nconsole.log(await Promise.resolve(n + 1))\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var o out
	rt := newRuntime(t, &o, amqpjs.Options{})
	if err := rt.RunFile(context.Background(), main); err != nil {
		t.Fatal(err)
	}
	if got := o.stdout.String(); got != "42\n" {
		t.Errorf("stdout %q", got)
	}
	if err := rt.RunFile(context.Background(), main); !errors.Is(err, amqpjs.ErrStarted) {
		t.Errorf("second run: %v, want ErrStarted", err)
	}
	<-rt.Done()
	if rt.Err() != nil {
		t.Errorf("Err() = %v", rt.Err())
	}

	rt2 := newRuntime(t, nil, amqpjs.Options{})
	err := rt2.RunFile(context.Background(), filepath.Join(dir, "missing.js"))
	var pe *fs.PathError
	if !errors.As(err, &pe) || amqpjs.ExitCode(err) != amqpjs.ExitUsage {
		t.Errorf("missing file: %T %v (exit %d)", err, err, amqpjs.ExitCode(err))
	}
	if err := rt2.RunSource(context.Background(), "x.js", ""); err != nil {
		t.Errorf("a runtime whose RunFile found no file is still usable: %v", err)
	}
}

func TestScriptErrors(t *testing.T) {
	t.Run("uncaught", func(t *testing.T) {
		err, _ := runSource(t, "const x = 1\nsetTimeout(() => { null.boom }, 1)\n", amqpjs.Options{})
		var se *amqpjs.ScriptError
		if !errors.As(err, &se) {
			t.Fatalf("got %T %v", err, err)
		}
		if se.Name != "TypeError" || !strings.Contains(se.Message, "boom") || se.InPromise {
			t.Errorf("ScriptError %+v", se)
		}
		if !strings.Contains(se.Stack, "main.js:2:") {
			t.Errorf("stack %q", se.Stack)
		}
		if p := se.Position; filepath.Base(p.File) != "main.js" || p.Line != 2 || p.Column != 25 || !strings.HasSuffix(p.String(), "main.js:2:25") {
			t.Errorf("Position %+v (%s), want main.js:2:25", p, p)
		}
		if !strings.Contains(se.Error(), "Uncaught TypeError") || !strings.Contains(se.Error(), "null.boom") {
			t.Errorf("Error() %q", se.Error())
		}
		if amqpjs.ExitCode(err) != 1 {
			t.Errorf("exit %d", amqpjs.ExitCode(err))
		}
	})
	t.Run("rejection", func(t *testing.T) {
		err, _ := runSource(t, "Promise.reject(42)\n", amqpjs.Options{})
		var se *amqpjs.ScriptError
		if !errors.As(err, &se) || !se.InPromise || se.Value != int64(42) || se.Name != "" {
			t.Fatalf("got %T %+v", err, err)
		}
		if !strings.Contains(se.Error(), "Uncaught (in promise) 42") {
			t.Errorf("Error() %q", se.Error())
		}
	})
	t.Run("syntax", func(t *testing.T) {
		err, _ := runSource(t, "let a = 1\nlet b = ;\n", amqpjs.Options{})
		var se *amqpjs.SyntaxError
		if !errors.As(err, &se) || se.Line != 2 || se.Column != 8 || filepath.Base(se.File) != "main.js" {
			t.Fatalf("got %T %+v", err, err)
		}
		if amqpjs.ExitCode(err) != 2 {
			t.Errorf("exit %d", amqpjs.ExitCode(err))
		}
	})
	t.Run("syntax in a required module", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "bad.js"), []byte("module.exports = {\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		rt := newRuntime(t, nil, amqpjs.Options{})
		err := rt.RunSource(context.Background(), filepath.Join(dir, "main.js"), "require('./bad')")
		var se *amqpjs.SyntaxError
		if !errors.As(err, &se) || filepath.Base(se.File) != "bad.js" {
			t.Fatalf("got %T %v", err, err)
		}
	})
	t.Run("exit", func(t *testing.T) {
		for src, want := range map[string]int{
			"process.exit(3); console.log('not reached')": 3,
			"process.exitCode = 4":                        4,
			"process.exitCode = 4; process.exit(0)":       0,
			"setTimeout(() => process.exit(), 1)":         0,
		} {
			err, o := runSource(t, src, amqpjs.Options{})
			if got := amqpjs.ExitCode(err); got != want {
				t.Errorf("%s: exit %d (%v), want %d", src, got, err, want)
			}
			var ee *amqpjs.ExitError
			if (want != 0) != errors.As(err, &ee) {
				t.Errorf("%s: error %T %v", src, err, err)
			}
			if strings.Contains(o.stdout.String(), "not reached") {
				t.Errorf("%s: ran on after exit", src)
			}
		}
	})
}

func TestCancelInterrupts(t *testing.T) {
	for name, src := range map[string]string{
		"busy loop": "for (;;) {}",
		"interval":  "setInterval(() => {}, 5)",
		"promise":   "await new Promise(() => {})",
	} {
		t.Run(name, func(t *testing.T) {
			rt := newRuntime(t, nil, amqpjs.Options{})
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			err := rt.RunSource(ctx, "main.js", src)
			var ie *amqpjs.InterruptedError
			if !errors.As(err, &ie) || !errors.Is(err, context.Canceled) || ie.Timeout() {
				t.Fatalf("got %T %v", err, err)
			}
			if amqpjs.ExitCode(err) != amqpjs.ExitInterrupted {
				t.Errorf("exit %d", amqpjs.ExitCode(err))
			}
		})
	}
	t.Run("timeout", func(t *testing.T) {
		rt := newRuntime(t, nil, amqpjs.Options{})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		err := rt.RunSource(ctx, "main.js", "setInterval(() => {}, 5)")
		var ie *amqpjs.InterruptedError
		if !errors.As(err, &ie) || !ie.Timeout() || !errors.Is(err, context.DeadlineExceeded) || amqpjs.ExitCode(err) != 1 {
			t.Fatalf("got %T %v (exit %d)", err, err, amqpjs.ExitCode(err))
		}
	})
	t.Run("close", func(t *testing.T) {
		rt := newRuntime(t, nil, amqpjs.Options{})
		errc := make(chan error, 1)
		go func() { errc <- rt.RunSource(context.Background(), "main.js", "for (;;) {}") }()
		time.Sleep(50 * time.Millisecond)
		if err := rt.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		err := <-errc
		if !errors.Is(err, amqpjs.ErrClosed) || amqpjs.ExitCode(err) != amqpjs.ExitInterrupted {
			t.Fatalf("got %T %v", err, err)
		}
	})
}

func TestHostModule(t *testing.T) {
	var o out
	rt := newRuntime(t, &o, amqpjs.Options{})
	calls := 0
	err := rt.RegisterModule("inventory", func(m *amqpjs.Module) error {
		if err := m.Set("warehouse", "north"); err != nil {
			return err
		}
		if err := m.Set("raw", []byte("abc")); err != nil {
			return err
		}
		if err := m.Func("count", func(c *amqpjs.Call) (any, error) {
			calls++
			if c.NumArgs() != 1 {
				return nil, amqpjs.NewTypeError("count: expected 1 argument, got %d", c.NumArgs())
			}
			item, ok := c.Arg(0).(string)
			if !ok {
				return nil, amqpjs.NewTypeError("count: item must be a string")
			}
			return len(item), nil
		}); err != nil {
			return err
		}
		if err := m.Func("later", func(c *amqpjs.Call) (any, error) {
			p := c.NewPromise()
			v := c.Arg(0)
			go func() {
				time.Sleep(5 * time.Millisecond)
				if v == "fail" {
					p.Reject(errors.New("no stock"))
					return
				}
				p.Resolve(map[string]any{"item": v, "bytes": []byte("xy")})
			}()
			return p, nil
		}); err != nil {
			return err
		}
		return m.Async("fetch", func(ctx context.Context, args []any) (any, error) {
			if len(args) > 0 && args[0] == "bad" {
				return nil, amqpjs.NewTypeError("fetch: bad key")
			}
			return []any{"ok", args[0]}, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.RegisterModule("inventory", func(*amqpjs.Module) error { return nil }); err == nil {
		t.Error("registering a module twice should fail")
	}
	if err := rt.RegisterModule("aioamqp", func(*amqpjs.Module) error { return nil }); err == nil {
		t.Error("registering aioamqp should fail")
	}
	err = rt.RunSource(context.Background(), "main.mjs", `
import { count, later, fetch, warehouse, raw } from 'inventory'
import assert from 'assert'
const inv = require('inventory')
console.log(warehouse, count('bolts'), Buffer.isBuffer(raw), raw.toString(), inv.count === count)
const r = await later('nuts')
console.log(r.item, r.bytes.toString())
await assert.rejects(later('fail'), { name: 'Error', message: 'no stock' })
assert.throws(() => count(42), { name: 'TypeError', message: 'count: item must be a string' })
assert.deepStrictEqual(await fetch('k'), ['ok', 'k'])
await assert.rejects(fetch('bad'), TypeError)
console.log('done')
`)
	if err != nil {
		t.Fatal(err)
	}
	want := "north 5 true abc true\nnuts xy\ndone\n"
	if got := o.stdout.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if calls != 2 {
		t.Errorf("count called %d times", calls)
	}
	if err := rt.RegisterModule("late", func(*amqpjs.Module) error { return nil }); !errors.Is(err, amqpjs.ErrStarted) {
		t.Errorf("RegisterModule after the run: %v", err)
	}
}

func TestHostModuleError(t *testing.T) {
	rt := newRuntime(t, nil, amqpjs.Options{})
	if err := rt.RegisterModule("broken", func(*amqpjs.Module) error { return errors.New("no database") }); err != nil {
		t.Fatal(err)
	}
	err := rt.RunSource(context.Background(), "main.js", `
let msg
try { require('broken') } catch (e) { msg = e.message }
if (msg !== "module 'broken': no database") throw new Error('got ' + msg)
`)
	if err != nil {
		t.Fatal(err)
	}
}

// A promise a host never settles keeps the run alive, like any pending
// work, until the context ends; the goroutine sees the run's context end.
func TestHostPromiseKeepsRunAlive(t *testing.T) {
	rt := newRuntime(t, nil, amqpjs.Options{})
	stopped, called := make(chan struct{}), make(chan struct{})
	_ = rt.RegisterModule("slow", func(m *amqpjs.Module) error {
		return m.Async("wait", func(ctx context.Context, _ []any) (any, error) {
			close(called)
			<-ctx.Done()
			close(stopped)
			return nil, ctx.Err()
		})
	})
	// The deadline comes once wait was called (a fixed one could end the
	// run before the script ran, on a loaded machine).
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	go func() {
		<-called
		time.Sleep(50 * time.Millisecond)
		cancel(context.DeadlineExceeded)
	}()
	err := rt.RunSource(ctx, "main.js", "require('slow').wait()")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
	closedWithin(t, stopped, "the host goroutine did not see the run end")
}

func TestInvalidURL(t *testing.T) {
	if _, err := amqpjs.New(amqpjs.Options{URL: "http://x"}); err == nil {
		t.Error("want an error for an http URL")
	}
	err, o := runSource(t, `
const aioamqp = require('aioamqp')
console.log(typeof aioamqp.connect, aioamqp.OPEN)`, amqpjs.Options{URL: "amqp://u:p@h:1/v"})
	if err != nil || o.stdout.String() != "function 1\n" {
		t.Errorf("%v %q", err, o.stdout.String())
	}
}

// TestHostModulePanic: a Go panic in a host module's function, called on
// the loop (Func) or on its own goroutine (Async), ends the run with an
// *InternalError (exit code 70) that names the function and the file with
// the Go stack; the host's process goes on.
func TestHostModulePanic(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	for _, tc := range []struct{ name, src string }{
		{"func", `require('faulty').now(); console.log('not reached');`},
		{"async", `try { await require('faulty').later(); } catch (e) { console.log('caught', e); }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o out
			rt := newRuntime(t, &o, amqpjs.Options{})
			if err := rt.RegisterModule("faulty", func(m *amqpjs.Module) error {
				if err := m.Func("now", func(*amqpjs.Call) (any, error) { panic("host defect now") }); err != nil {
					return err
				}
				return m.Async("later", func(context.Context, []any) (any, error) { panic("host defect later") })
			}); err != nil {
				t.Fatal(err)
			}
			err := rt.RunSource(context.Background(), "panic.js", tc.src)
			var ie *amqpjs.InternalError
			if !errors.As(err, &ie) {
				t.Fatalf("RunSource: got %v (%T), want an *amqpjs.InternalError", err, err)
			}
			if code := amqpjs.ExitCode(err); code != amqpjs.ExitInternal {
				t.Errorf("ExitCode: %d, want %d", code, amqpjs.ExitInternal)
			}
			if ie.StackFile == "" || !strings.Contains(ie.Error(), ie.StackFile) || !strings.Contains(ie.Error(), "host defect") {
				t.Errorf("error: %q", ie.Error())
			}
			if strings.Contains(o.stdout.String(), "not reached") || strings.Contains(o.stdout.String(), "caught") {
				t.Errorf("the script went on after the panic: %q", o.stdout.String())
			}
		})
	}
}
