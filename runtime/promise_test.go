package runtime

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// TestPromisesSettledFromManyGoroutines makes 1 000 promises on the loop and
// settles all of them at once from 1 000 goroutines; JavaScript awaits them
// with Promise.allSettled and checks every value.
func TestPromisesSettledFromManyGoroutines(t *testing.T) {
	t.Parallel()
	const n = 1000
	l := newTestLoop()
	var checked string
	err := runLoop(t, l, func(vm *goja.Runtime) error {
		promises := make([]any, n)
		resolvers := make([]*Resolver, n)
		for i := range n {
			p, r := l.NewPromise()
			promises[i], resolvers[i] = p, r
		}
		must(vm.Set("promises", promises))
		must(vm.Set("report", func(s string) { checked = s }))
		_, err := vm.RunString(`
			Promise.allSettled(promises).then(results => {
				const bad = [];
				results.forEach((r, i) => {
					if (i % 3 === 2) {
						if (r.status !== 'rejected' || !(r.reason instanceof Error) || r.reason.message !== 'err ' + i) bad.push(i);
					} else if (r.status !== 'fulfilled' || r.value !== (i % 3 === 0 ? i : 'v' + i)) {
						bad.push(i);
					}
				});
				report(bad.length === 0 ? 'ok' : 'bad: ' + bad.slice(0, 10).join(','));
			});`)
		if err != nil {
			return err
		}
		start := make(chan struct{})
		for i, r := range resolvers {
			go func() {
				<-start
				switch i % 3 {
				case 0:
					r.Resolve(i)
				case 1:
					r.Settle(func(vm *goja.Runtime) (any, error) { return vm.ToValue(fmt.Sprintf("v%d", i)), nil })
				default:
					r.Settle(func(vm *goja.Runtime) (any, error) { return nil, fmt.Errorf("err %d", i) })
				}
			}()
		}
		close(start)
		return nil
	})
	if err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if checked != "ok" {
		t.Errorf("JavaScript check: got %q, want \"ok\"", checked)
	}
	if p := l.refs.Load(); p != 0 {
		t.Errorf("open refs: got %d, want 0 (every resolver releases its ref)", p)
	}
}

// TestPromisesAwaitedInScript awaits promises settled from goroutines in a
// script's top-level await with Promise.all.
func TestPromisesAwaitedInScript(t *testing.T) {
	t.Parallel()
	const n = 1000
	var out testutil.SyncBuffer
	rt := New(Options{Stdout: &out})
	rt.RegisterModule("native", func(vm *goja.Runtime, module *goja.Object) {
		exports := module.Get("exports").(*goja.Object)
		must(exports.Set("later", func(call goja.FunctionCall) goja.Value {
			v := call.Argument(0).ToInteger()
			p, r := rt.Loop().NewPromise()
			go r.Resolve(v * 2)
			return vm.ToValue(p)
		}))
	})
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"main.mjs": fmt.Sprintf(`
		import { later } from 'native';
		const vs = await Promise.all(Array.from({ length: %d }, (_, i) => later(i)));
		let sum = 0;
		vs.forEach((v, i) => { if (v !== i * 2) throw new Error('value ' + i + ' is ' + v); sum += v; });
		console.log(sum);
	`, n)})
	if _, err := rt.RunFile(t.Context(), filepath.Join(dir, "main.mjs")); err != nil {
		t.Fatalf("RunFile: %s", rt.FormatError(err))
	}
	if got, want := out.String(), fmt.Sprintf("%d\n", n*(n-1)); got != want {
		t.Errorf("output: got %q, want %q", got, want)
	}
}

// TestResolverSettlesOnce races Resolve, Reject and Settle on one promise:
// exactly one wins and the promise settles once.
func TestResolverSettlesOnce(t *testing.T) {
	t.Parallel()
	for round := range 50 {
		l := newTestLoop()
		var state string
		var calls int
		err := runLoop(t, l, func(vm *goja.Runtime) error {
			p, r := l.NewPromise()
			must(vm.Set("p", p))
			must(vm.Set("seen", func(s string) { calls++; state = s }))
			if _, err := vm.RunString(`p.then(v => seen('resolved ' + v), e => seen('rejected ' + e))`); err != nil {
				return err
			}
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					switch i % 3 {
					case 0:
						r.Resolve(i)
					case 1:
						r.Reject(i)
					default:
						r.Settle(func(*goja.Runtime) (any, error) { return i, nil })
					}
				}()
			}
			wg.Wait()
			if !r.Done() {
				t.Error("Done after settling: got false, want true")
			}
			r.Resolve("late") // after the race: still ignored
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: Run: %v", round, err)
		}
		if calls != 1 {
			t.Fatalf("round %d: handlers called %d times, want 1", round, calls)
		}
		if strings.Contains(state, "late") {
			t.Fatalf("round %d: a second settle won: %s", round, state)
		}
		if p := l.refs.Load(); p != 0 {
			t.Fatalf("round %d: open refs: got %d, want 0", round, p)
		}
	}
}

// settlePromise runs a loop whose first task makes a promise p, runs then
// (JS that reports through seen(s)) and calls settle with p's resolver; it
// returns what seen was last called with.
func settlePromise(t *testing.T, then string, settle func(vm *goja.Runtime, r *Resolver) error) string {
	t.Helper()
	l := newTestLoop()
	var got string
	err := runLoop(t, l, func(vm *goja.Runtime) error {
		p, r := l.NewPromise()
		must(vm.Set("p", p))
		must(vm.Set("seen", func(s string) { got = s }))
		if _, err := vm.RunString(then); err != nil {
			return err
		}
		return settle(vm, r)
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return got
}

func TestResolverSettleOnLoop(t *testing.T) {
	t.Parallel()
	got := settlePromise(t, `p.then(v => seen('resolved ' + v))`, func(vm *goja.Runtime, r *Resolver) error {
		if err := r.SettleOnLoop(vm, 7, nil); err != nil {
			return err
		}
		return r.SettleOnLoop(vm, 8, nil) // ignored
	})
	if got != "resolved 7" {
		t.Errorf("got %q, want %q", got, "resolved 7")
	}
}

func TestResolverSettleErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		build func(vm *goja.Runtime) (any, error)
		want  string
	}{
		{
			name:  "go error",
			build: func(*goja.Runtime) (any, error) { return nil, errors.New("broker said no") },
			want:  "rejected Error: broker said no",
		},
		{
			name: "thrown value",
			build: func(vm *goja.Runtime) (any, error) {
				_, err := vm.RunString(`throw new RangeError('out of range')`)
				return nil, err
			},
			want: "rejected RangeError: out of range",
		},
		{
			name: "built value",
			build: func(vm *goja.Runtime) (any, error) {
				return vm.RunString(`({ a: 1 })`)
			},
			want: "resolved 1",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := settlePromise(t, `p.then(v => seen('resolved ' + v.a), e => seen('rejected ' + (e instanceof RangeError ? 'RangeError' : e instanceof Error ? 'Error' : typeof e) + ': ' + e.message))`, func(_ *goja.Runtime, r *Resolver) error {
				go r.Settle(tc.build)
				return nil
			})
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestUnhandledRejection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		src    string
		wantIn string // "" means no error
	}{
		{name: "fatal", src: `Promise.reject(new Error('nobody catches me'))`, wantIn: "nobody catches me"},
		{name: "async function", src: `(async () => { throw new TypeError('bad') })()`, wantIn: "TypeError: bad"},
		{name: "non-error value", src: `Promise.reject(42)`, wantIn: "42"},
		{name: "in a timer", src: `setTimeout(() => Promise.reject(new Error('from timer')), 1)`, wantIn: "from timer"},
		{name: "handled in a later task", src: `
			const p = Promise.reject(new Error('too late'));
			setTimeout(() => p.catch(() => {}), 1);`, wantIn: "too late"},
		{name: "handled in the same task", src: `
			const p = Promise.reject(new Error('x'));
			console.log('between');
			p.catch(() => console.log('caught'));`},
		{name: "handled in a microtask of the same task", src: `
			const p = Promise.reject(new Error('x'));
			Promise.resolve().then(() => Promise.resolve()).then(() => p.catch(() => console.log('caught')));`},
		{name: "handled by await", src: `
			(async () => {
				const p = Promise.reject(new Error('x'));
				try { await p } catch (e) { console.log('caught') }
			})();`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tc.src)
			if tc.wantIn == "" {
				if res.err != nil {
					t.Fatalf("Run: got %v, want nil", res.err)
				}
				return
			}
			errorAs[*UnhandledRejectionError](t, res.err)
			if msg := res.rt.FormatError(res.err); !strings.Contains(msg, "Uncaught (in promise)") || !strings.Contains(msg, tc.wantIn) {
				t.Errorf("FormatError: got %q, want it to contain %q and %q", msg, "Uncaught (in promise)", tc.wantIn)
			}
			if code := res.rt.ExitCodeOf(res.err); code != ExitFailure {
				t.Errorf("ExitCodeOf: got %d, want %d", code, ExitFailure)
			}
		})
	}
}

// BenchmarkPromiseRoundTrip measures one promise made on the loop, resolved
// from another goroutine and awaited in JavaScript.
func BenchmarkPromiseRoundTrip(b *testing.B) {
	l := newTestLoop()
	requests := make(chan *Resolver, 1)
	var done bool
	err := l.Run(b.Context(), func(vm *goja.Runtime) error {
		ref := l.Ref()
		go func() { // the "broker": settles each promise from its own goroutine
			for r := range requests {
				r.Resolve(1)
			}
		}()
		must(vm.Set("call", func(goja.FunctionCall) goja.Value {
			p, r := l.NewPromise()
			requests <- r
			return vm.ToValue(p)
		}))
		must(vm.Set("finish", func() { done = true; close(requests); ref.Close() }))
		must(vm.Set("N", b.N))
		b.ResetTimer()
		_, err := vm.RunString(`(async () => {
			let sum = 0;
			for (let i = 0; i < N; i++) sum += await call();
			if (sum !== N) throw new Error('sum ' + sum);
			finish();
		})()`)
		return err
	})
	b.StopTimer()
	if err != nil || !done {
		b.Fatalf("Run: %v (done %v)", err, done)
	}
}
