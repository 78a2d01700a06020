package amqpjs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

func startLive(t *testing.T, o *out, opts amqpjs.Options) *amqpjs.Runtime {
	t.Helper()
	rt := newRuntime(t, o, opts)
	if err := rt.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rt
}

func eval(t *testing.T, rt *amqpjs.Runtime, src string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	defer cancel()
	v, err := rt.Eval(ctx, src)
	if err != nil {
		t.Fatalf("Eval(%q): %v", src, err)
	}
	return v
}

func TestEval(t *testing.T) {
	var o out
	rt := startLive(t, &o, amqpjs.Options{})
	if v := eval(t, rt, "const xs = [1, 2]; let n = 40; n + 2"); v != int64(42) {
		t.Errorf("got %#v", v)
	}
	if v := eval(t, rt, "xs.length"); v != int64(2) {
		t.Errorf("declarations persist: got %#v", v)
	}
	if v := eval(t, rt, "({ a: 'x', b: [true, null] })"); fmt.Sprint(v) != "map[a:x b:[true <nil>]]" {
		t.Errorf("object: %#v", v)
	}
	if v := eval(t, rt, "undefined"); v != nil {
		t.Errorf("undefined: %#v", v)
	}
	if v := eval(t, rt, "Buffer.from('hi')"); fmt.Sprint(v) != "[104 105]" {
		t.Errorf("buffer: %#v", v)
	}
	// A promise is awaited; so is top-level await.
	if v := eval(t, rt, "new Promise(r => setTimeout(r, 5, 'later'))"); v != "later" {
		t.Errorf("promise: %#v", v)
	}
	for src, want := range map[string]any{
		"const w = await require('timers/promises').setTimeout(1, 7); return w * 6": int64(42),
		"const w = await require('timers/promises').setTimeout(1, 7); w * 6":        int64(42),
		"(await Promise.resolve({ q: 'x' })).q":                                     "x",
		"await 1; // a comment\n /* another */ ; (await 2) + 1":                     int64(3),
		"let z = await 1":       nil,
		"if (await true) { 5 }": nil,
	} {
		if v := eval(t, rt, src); v != want {
			t.Errorf("top-level await %q: got %#v, want %#v", src, v, want)
		}
	}
	// Errors leave the runtime running.
	_, err := rt.Eval(context.Background(), "null.x")
	var se *amqpjs.ScriptError
	if !errors.As(err, &se) || se.Name != "TypeError" || !strings.Contains(se.Stack, "<eval>:1:") {
		t.Errorf("throw: %T %v", err, err)
	}
	_, err = rt.Eval(context.Background(), "Promise.reject(new RangeError('r'))")
	if !errors.As(err, &se) || se.Name != "RangeError" || se.Message != "r" {
		t.Errorf("rejection: %T %v", err, err)
	}
	_, err = rt.Eval(context.Background(), "let = = 1")
	var syn *amqpjs.SyntaxError
	if !errors.As(err, &syn) || syn.File != "<eval>" || syn.Line != 1 {
		t.Errorf("syntax: %T %v", err, err)
	}
	// A context ending interrupts a busy loop; the runtime goes on.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = rt.Eval(ctx, "for (;;) {}")
	cancel()
	var ie *amqpjs.InterruptedError
	if !errors.As(err, &ie) || !ie.Timeout() {
		t.Errorf("interrupted: %T %v", err, err)
	}
	if v := eval(t, rt, "console.log('still alive'); n"); v != int64(40) {
		t.Errorf("after interrupt: %#v", v)
	}
	if err := rt.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := rt.Eval(context.Background(), "1"); !errors.Is(err, amqpjs.ErrClosed) {
		t.Errorf("Eval after Close: %v", err)
	}
	if err := rt.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if !errors.Is(rt.Err(), amqpjs.ErrClosed) {
		t.Errorf("Err() = %v", rt.Err())
	}
	if got := o.stdout.String(); got != "still alive\n" {
		t.Errorf("stdout %q", got)
	}
}

func TestEvalNotRunning(t *testing.T) {
	rt := newRuntime(t, nil, amqpjs.Options{})
	if _, err := rt.Eval(context.Background(), "1"); !errors.Is(err, amqpjs.ErrNotRunning) {
		t.Errorf("got %v", err)
	}
}

// An uncaught error in a callback ends a live runtime, as it ends a run.
func TestLiveRuntimeEndsOnUncaught(t *testing.T) {
	rt := startLive(t, nil, amqpjs.Options{})
	eval(t, rt, "setTimeout(() => { throw new Error('late failure') }, 1); 0")
	closedWithin(t, rt.Done(), "runtime did not end")
	var se *amqpjs.ScriptError
	if !errors.As(rt.Err(), &se) || se.Message != "late failure" {
		t.Fatalf("Err() = %v", rt.Err())
	}
	if err := rt.Close(); !errors.As(err, &se) {
		t.Errorf("Close returns the error that ended the runtime: %v", err)
	}
	_, err := rt.Eval(context.Background(), "1")
	if !errors.Is(err, amqpjs.ErrClosed) || !strings.Contains(err.Error(), "late failure") {
		t.Errorf("Eval after the end: %v", err)
	}
}

func TestLiveProcessExit(t *testing.T) {
	rt := startLive(t, nil, amqpjs.Options{})
	_, err := rt.Eval(context.Background(), "process.exit(5)")
	var ee *amqpjs.ExitError
	if !errors.Is(err, amqpjs.ErrClosed) || !errors.As(err, &ee) || ee.Code != 5 {
		t.Errorf("got %T %v", err, err)
	}
	if amqpjs.ExitCode(rt.Err()) != 5 {
		t.Errorf("Err() = %v", rt.Err())
	}
}

// Eval also works while RunSource runs, e.g. to look into a scenario.
func TestEvalDuringRun(t *testing.T) {
	rt := newRuntime(t, nil, amqpjs.Options{})
	errc := make(chan error, 1)
	go func() {
		errc <- rt.RunSource(context.Background(), "main.js", "globalThis.ticks = 0; const t = setInterval(() => { if (++ticks === 1000) clearInterval(t) }, 1)")
	}()
	deadline := time.Now().Add(safety)
	for {
		v, err := rt.Eval(context.Background(), "ticks")
		if errors.Is(err, amqpjs.ErrNotRunning) || (err != nil && strings.Contains(err.Error(), "ticks is not defined")) {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if v.(int64) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no tick")
		}
		time.Sleep(time.Millisecond)
	}
	_ = rt.Close()
	<-errc
}

// Runtimes side by side share no state: each has its own globals, module
// instances, host modules, timers and output, and they run concurrently
// (run with -race).
func TestRuntimesShareNoState(t *testing.T) {
	runEach(t, 8, func(i int, o *out) func() error {
		rt, err := amqpjs.New(amqpjs.Options{Stdout: &o.stdout, Stderr: &o.stderr,
			Env: map[string]string{"ID": fmt.Sprint(i)}, URL: fmt.Sprintf("amqp://u%d:p@h%d/", i, i)})
		if err != nil {
			t.Fatal(err)
		}
		hits := 0 // this runtime's own host state
		if err := rt.RegisterModule("host", func(m *amqpjs.Module) error {
			_ = m.Func("hit", func(*amqpjs.Call) (any, error) { hits++; return hits, nil })
			return m.Async("echo", func(ctx context.Context, args []any) (any, error) {
				time.Sleep(time.Millisecond)
				return args[0], nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return func() error {
			return rt.RunSource(context.Background(), fmt.Sprintf("rt%d.js", i), `
const id = process.env.ID
const util = require('util'), aioamqp = require('aioamqp'), host = require('host')
if (globalThis.mark !== undefined || util.mark !== undefined || aioamqp.mark !== undefined) throw new Error('shared state')
globalThis.mark = id; util.mark = id; aioamqp.mark = id
Object.prototype.polluted = id
let ticks = 0
await new Promise(resolve => { const t = setInterval(() => { if (++ticks === 20) { clearInterval(t); resolve() } }, 1) })
for (let i = 0; i < 50; i++) host.hit()
const echoed = await Promise.all(Array.from({ length: 20 }, (_, k) => host.echo(id + ':' + k)))
if (echoed[19] !== id + ':19') throw new Error('echo ' + echoed[19])
if (({}).polluted !== id || globalThis.mark !== id || util.mark !== id) throw new Error('state changed under us')
console.log(id, host.hit(), ticks)
`)
		}
	}, func(i int) string { return fmt.Sprintf("%d 51 20\n", i) })
}
