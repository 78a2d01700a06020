package runtime

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dop251/goja"
)

// The timer tests assert the order of events, never how long they took.

func TestTimers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		want string
	}{
		{
			name: "setTimeout ordered by delay",
			src: `
				setTimeout(() => console.log('30'), 30);
				setTimeout(() => console.log('1'), 1);
				setTimeout(() => console.log('15'), 15);
				setTimeout(() => console.log('5'), 5);
				setTimeout(() => console.log('0 is 1'), 0);`,
			want: "1\n0 is 1\n5\n15\n30\n",
		},
		{
			name: "equal delays keep creation order",
			src: `
				const got = [];
				for (let i = 0; i < 300; i++) setTimeout(() => got.push(i), 2);
				setTimeout(() => {
					const bad = got.filter((v, i) => v !== i);
					console.log(got.length, bad.length);
				}, 20);`,
			want: "300 0\n",
		},
		{
			name: "arguments passed",
			src: `
				setImmediate((a, b) => console.log('immediate', a, b), 'p', 'q');
				setTimeout((a, b, c) => console.log('timeout', a, b, c), 1, 'x', 2, { y: 3 });
				const h = setInterval((a) => { console.log('interval', a); clearInterval(h); }, 1, 'z');`,
			want: "immediate p q\ntimeout x 2 { y: 3 }\ninterval z\n",
		},
		{
			name: "setInterval and clearInterval",
			src: `
				let n = 0;
				const h = setInterval(() => {
					n++;
					console.log('tick', n);
					if (n === 3) clearInterval(h);
				}, 1);`,
			want: "tick 1\ntick 2\ntick 3\n",
		},
		{
			name: "clearInterval from another timer",
			src: `
				let n = 0;
				const h = setInterval(() => n++, 1);
				setTimeout(() => { clearInterval(h); console.log(n > 0 ? 'ticked' : 'never ticked'); }, 20);`,
			want: "ticked\n",
		},
		{
			name: "clearTimeout before firing",
			src: `
				const h = setTimeout(() => console.log('should not run'), 5);
				clearTimeout(h);
				const h2 = setTimeout(() => console.log('should not run either'), 5);
				setTimeout(() => clearTimeout(h2), 1);
				clearTimeout(undefined); clearTimeout(null); clearTimeout(12345); clearTimeout({});
				setTimeout(() => console.log('done'), 10);`,
			want: "done\n",
		},
		{
			name: "clearTimeout with the numeric id",
			src: `
				const h = setTimeout(() => console.log('should not run'), 1);
				clearTimeout(+h);
				console.log(typeof +h);`,
			want: "number\n",
		},
		{
			name: "setImmediate before later timers, in order",
			src: `
				setImmediate(() => console.log('immediate 1'));
				setImmediate(() => console.log('immediate 2'));
				const h = setImmediate(() => console.log('cleared immediate'));
				clearImmediate(h);
				setTimeout(() => console.log('timeout'), 0);
				console.log('sync');`,
			want: "sync\nimmediate 1\nimmediate 2\ntimeout\n",
		},
		{
			name: "queueMicrotask runs before timers",
			src: `
				setImmediate(() => console.log('immediate'));
				setTimeout(() => console.log('timeout'), 0);
				queueMicrotask(() => console.log('microtask 1'));
				Promise.resolve().then(() => console.log('promise'));
				queueMicrotask(() => console.log('microtask 2'));
				process.nextTick(() => console.log('nextTick'));
				console.log('sync');`,
			want: "sync\nmicrotask 1\npromise\nmicrotask 2\nnextTick\nimmediate\ntimeout\n",
		},
		{
			name: "microtasks run between timer callbacks",
			src: `
				setTimeout(() => { console.log('t1'); queueMicrotask(() => console.log('m1')); }, 2);
				setTimeout(() => { console.log('t2'); Promise.resolve().then(() => console.log('m2')); }, 2);`,
			want: "t1\nm1\nt2\nm2\n",
		},
		{
			name: "timer created in a timer runs after those already due",
			src: `
				setTimeout(() => {
					console.log('a');
					setTimeout(() => console.log('c'), 0);
				}, 2);
				setTimeout(() => console.log('b'), 2);`,
			want: "a\nb\nc\n",
		},
		{
			name: "unref lets the loop end",
			src: `
				setTimeout(() => console.log('never'), 60000).unref();
				const i = setInterval(() => {}, 1);
				console.log(i.hasRef());
				i.unref();
				console.log(i.hasRef());
				setTimeout(() => console.log('done'), 1);`,
			want: "true\nfalse\ndone\n",
		},
		{
			name: "ref after unref keeps the loop alive",
			src: `
				const h = setTimeout(() => console.log('fired'), 5);
				h.unref();
				h.ref();`,
			want: "fired\n",
		},
		{
			name: "timers/promises",
			src: `
				const { setTimeout: sleep, setImmediate: immediate } = require('timers/promises');
				(async () => {
					console.log(await sleep(1, 'slept'));
					console.log(await immediate('immediate'));
				})();`,
			want: "slept\nimmediate\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			wantOut(t, mustRun(t, tc.src), tc.want)
		})
	}
}

func TestTimerErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src, wantIn string
	}{
		{name: "callback throws", src: `setTimeout(() => { throw new Error('in timer') }, 1)`, wantIn: "Uncaught Error: in timer"},
		{name: "not a function", src: `setTimeout('code', 1)`, wantIn: "TypeError: setTimeout: parameter 'callback' must be a function"},
		{name: "setImmediate not a function", src: `setImmediate(42)`, wantIn: "TypeError: setImmediate"},
		{name: "queueMicrotask not a function", src: `queueMicrotask(null)`, wantIn: "TypeError: queueMicrotask"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tc.src)
			if res.err == nil {
				t.Fatal("Run: got nil, want an error")
			}
			if msg := res.rt.FormatError(res.err); !strings.Contains(msg, tc.wantIn) {
				t.Errorf("FormatError: got %q, want it to contain %q", msg, tc.wantIn)
			}
		})
	}
}

// TestTimerThrowStopsOtherTimers: after an uncaught exception in one timer,
// no other callback runs.
func TestTimerThrowStopsOtherTimers(t *testing.T) {
	t.Parallel()
	res := runScript(t, `
		setTimeout(() => { throw new Error('first') }, 2);
		setTimeout(() => console.log('second ran'), 2);`)
	if res.err == nil {
		t.Fatal("Run: got nil, want an error")
	}
	if res.stdout != "" {
		t.Errorf("stdout: got %q, want nothing", res.stdout)
	}
}

// TestTimersFakeClock runs long timers in a synctest bubble: the fake clock
// makes hours pass at once, and the order is still by deadline.
func TestTimersFakeClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rt := New(Options{})
		var got []string
		start := time.Now()
		err := rt.Loop().Run(context.Background(), func(vm *goja.Runtime) error {
			must(vm.Set("record", func(s string) { got = append(got, s+"@"+time.Since(start).String()) }))
			_, err := vm.RunString(`
				setTimeout(() => record('2h'), 2 * 3600 * 1000);
				setTimeout(() => record('1h'), 3600 * 1000);
				setTimeout(() => record('1h again'), 3600 * 1000);
				let n = 0;
				const h = setInterval(() => { record('every 30m'); if (++n === 2) clearInterval(h); }, 1800 * 1000);
				setTimeout(() => record('never'), 10 * 3600 * 1000).unref();`)
			return err
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		want := "every 30m@30m0s|1h@1h0m0s|1h again@1h0m0s|every 30m@1h0m0s|2h@2h0m0s"
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("got  %s\nwant %s", g, want)
		}
	})
}
