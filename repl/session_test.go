package repl

import (
	"context"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"
	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime"
)

// Sessions run in the test process, reading a string or a pipe (not a
// terminal: the plain editor); the pseudo-terminal tests are in
// ../tests/repl_test.go.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// os/signal's watcher starts with the first signal.Notify and
		// never ends.
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		goleak.IgnoreTopFunction("os/signal.loop"),
	)
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// testOptions registers a native module "greeter", preloaded as a global.
func testOptions(in io.Reader, out, errw io.Writer) Options {
	return Options{
		Setup: func(rt *runtime.Runtime) {
			rt.RegisterModule("greeter", func(vm *goja.Runtime, m *goja.Object) {
				exp := vm.NewObject()
				_ = exp.Set("hello", func(call goja.FunctionCall) goja.Value { return vm.ToValue("hi " + call.Argument(0).String()) })
				_ = m.Set("exports", exp)
			})
		},
		Globals: map[string]string{"greeter": "greeter"},
		Stdin:   in, Stdout: out, Stderr: errw,
	}
}

func TestSessionPiped(t *testing.T) {
	in := strings.Join([]string{
		"greeter.hello('you')",
		"const n = await Promise.resolve(20)",
		"n + 1",
		"_ * 2",
		"function f(x) {",
		"  return x + 1",
		"}",
		"f(n)",
		"console.log('log', [1, 2])",
		"undefined",
		"null.x",
		"throw Object.assign(new Error('with code'), { code: 404 })",
		"_error.code",
		"setTimeout(() => { throw new TypeError('from timer') }, 1); await new Promise(r => setTimeout(r, 20))",
		"Promise.reject(new Error('unhandled')); 'after'",
		"require('greeter') === greeter",
		".help",
		"'last'",
	}, "\n") + "\n"
	var out, errw testutil.SyncBuffer
	code := Run(context.Background(), testOptions(strings.NewReader(in), &out, &errw))
	if code != 0 {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errw.String())
	}
	wantOut := strings.Join([]string{"'hi you'", "21", "42", "21", "log [ 1, 2 ]", "404", "'after'", "true"}, "\n") + "\n"
	if got := out.String(); !strings.HasPrefix(got, wantOut) || !strings.HasSuffix(got, "'last'\n") || !strings.Contains(got, ".editor") {
		t.Errorf("stdout:\n%s\nwant it to start with:\n%s", got, wantOut)
	}
	wantErr := []string{
		"Uncaught TypeError: Cannot read property 'x' of ",
		"Uncaught Error: with code { code: 404 }",
		"Uncaught TypeError: from timer",
		"Uncaught (in promise) Error: unhandled",
	}
	got := errw.String()
	for _, w := range wantErr {
		if !strings.Contains(got, w) {
			t.Errorf("stderr lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "REPL") {
		t.Errorf("stderr shows REPL frames:\n%s", got)
	}
}

func TestSessionProcessExit(t *testing.T) {
	var out, errw testutil.SyncBuffer
	code := Run(context.Background(), testOptions(strings.NewReader("1\nprocess.exit(4)\n2\n"), &out, &errw))
	if code != 4 || out.String() != "1\n" {
		t.Fatalf("exit code %d, stdout %q, stderr %q", code, out.String(), errw.String())
	}
	out = testutil.SyncBuffer{}
	code = Run(context.Background(), testOptions(strings.NewReader("process.exitCode = 3\n'set'\n"), &out, &errw))
	if code != 3 || out.String() != "3\n'set'\n" {
		t.Fatalf("process.exitCode: exit code %d, stdout %q", code, out.String())
	}
	// From a timer, while the session waits for input that never comes.
	r, w := io.Pipe()
	defer w.Close()
	out = testutil.SyncBuffer{}
	done := make(chan int)
	go func() { done <- Run(context.Background(), testOptions(r, &out, &errw)) }()
	_, _ = io.WriteString(w, "setTimeout(() => process.exit(6), 10), 'armed'\n")
	select {
	case code := <-done:
		if code != 6 {
			t.Fatalf("exit code %d, want 6", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("process.exit in a timer did not end the session")
	}
}

// A running session, fed through a pipe.
type liveSession struct {
	t         *testing.T
	s         *session
	w         *io.PipeWriter
	out, errw *testutil.SyncBuffer
	done      chan int
}

func startSession(t *testing.T) *liveSession {
	t.Helper()
	r, w := io.Pipe()
	ls := &liveSession{t: t, w: w, out: &testutil.SyncBuffer{}, errw: &testutil.SyncBuffer{}, done: make(chan int, 1)}
	ls.s = newSession(testOptions(r, ls.out, ls.errw))
	go func() { ls.done <- ls.s.run(context.Background()) }()
	t.Cleanup(func() {
		w.Close()
		select {
		case <-ls.done:
		case <-time.After(10 * time.Second):
			t.Error("session did not end at the end of input")
		}
	})
	return ls
}

// eval sends a line and waits until stdout or stderr contains want.
func (ls *liveSession) eval(line, want string) {
	ls.t.Helper()
	if _, err := io.WriteString(ls.w, line+"\n"); err != nil {
		ls.t.Fatal(err)
	}
	waitFor(ls.t, want, func() bool {
		return strings.Contains(ls.out.String(), want) || strings.Contains(ls.errw.String(), want)
	})
}

func TestSessionCompletions(t *testing.T) {
	ls := startSession(t)
	ls.eval("const obj = { alpha: 1, alphabet: 2, beta: 3 }; let lex = { zeta: 1 }; class Klass {}; 'ready'", "'ready'")
	for _, tc := range []struct {
		line  string
		names []string
		word  string
	}{
		{"obj.al", []string{"alpha", "alphabet"}, "al"},
		{"x = obj.b", []string{"beta"}, "b"},
		{"le", []string{"let", "lex"}, "le"}, // `let`? no: not a global — see below
		{"lex.ze", []string{"zeta"}, "ze"},
		{"Kla", []string{"Klass"}, "Kla"},
		{"greeter.he", []string{"hello"}, "he"},
		{"Math.PI.toFi", []string{"toFixed"}, "toFi"},
		{"obj.alpha.toStr", []string{"toString"}, "toStr"},
		{".ed", []string{".editor"}, ".ed"},
		{".", []string{".break", ".clear", ".editor", ".exit", ".help", ".load", ".save"}, "."},
		{"nope.x", nil, "x"},
		{"obj.missing.x", nil, "x"},
		{"f().x", nil, ""},
		{"__amqpjs", nil, "__amqpjs"},
	} {
		names, word := ls.s.completions(tc.line)
		if tc.line == "le" { // globals starting with "le": only the let binding
			if !reflect.DeepEqual(names, []string{"lex"}) || word != "le" {
				t.Errorf("completions(%q) = %v, %q", tc.line, names, word)
			}
			continue
		}
		if !reflect.DeepEqual(names, tc.names) || (tc.names != nil && word != tc.word) {
			t.Errorf("completions(%q) = %v, %q; want %v, %q", tc.line, names, word, tc.names, tc.word)
		}
	}
	// Members include inherited ones; no property read runs a call.
	names, _ := ls.s.completions("obj.")
	for _, want := range []string{"alpha", "hasOwnProperty", "toString"} {
		if !contains(names, want) {
			t.Errorf("completions(\"obj.\") lacks %q: %v", want, names)
		}
	}
	if contains(names, "__proto__") {
		t.Errorf("completions(\"obj.\") offers __proto__: %v", names)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSessionInterrupt(t *testing.T) {
	ls := startSession(t)
	// A runaway loop: the interrupt stops it, the session goes on.
	ls.eval("console.log('spin-' + 1); for (;;) {}", "spin-1")
	ls.s.sigint <- struct{}{}
	waitFor(t, "interrupted", func() bool { return strings.Contains(ls.errw.String(), "interrupted") })
	ls.eval("'alive-' + 1", "'alive-1'")

	// A promise that never settles: the wait is abandoned.
	ls.eval("console.log('wait-' + 1); await new Promise(() => {})", "wait-1")
	ls.s.sigint <- struct{}{}
	waitFor(t, "a second interrupted", func() bool { return strings.Count(ls.errw.String(), "interrupted") == 2 })
	ls.eval("'alive-' + 2", "'alive-2'")

	// A runaway timer holds the loop: the next entry's interrupt stops it.
	ls.eval("setTimeout(() => { console.log('timer-spin'); for (;;) {} }, 1), 'armed'", "'armed'")
	waitFor(t, "timer-spin", func() bool { return strings.Contains(ls.out.String(), "timer-spin") })
	if _, err := io.WriteString(ls.w, "'queued'\n"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the entry queued behind the timer", func() bool {
		ev := ls.s.current.Load()
		return ev != nil && ev.state.Load() == stQueued
	})
	ls.s.sigint <- struct{}{}
	waitFor(t, "a third interrupted", func() bool { return strings.Count(ls.errw.String(), "interrupted") == 3 })
	ls.eval("'alive-' + 3", "'alive-3'")
}

func TestSessionEditorAndLoad(t *testing.T) {
	var out, errw testutil.SyncBuffer
	in := ".load testdata/lib.js\ntwice(21)\n.nosuch\n.editor\nconst e = 2\ne * 50\n"
	code := Run(context.Background(), testOptions(strings.NewReader(in), &out, &errw))
	if code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if want := "'loaded'\n42\n100\n"; out.String() != want {
		t.Errorf("stdout %q, want %q (stderr %q)", out.String(), want, errw.String())
	}
	if !strings.Contains(errw.String(), "Invalid REPL keyword") {
		t.Errorf("stderr %q", errw.String())
	}
}
