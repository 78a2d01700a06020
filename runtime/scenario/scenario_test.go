package scenario

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type result struct {
	code           int
	stdout, stderr string
	reg            *metrics.Registry
	sc             *Scenario
	took           time.Duration // the executor's run
}

func (r result) sum(name string) float64 {
	m := r.reg.Get(name)
	if m == nil {
		return -1
	}
	return m.Root().Stats().Sum
}

// series is a series of name by its tags; scenario is "default" unless
// tags say otherwise (every sample of a VU has its scenario's tag).
func (r result) series(name string, tags map[string]string) metrics.Stats {
	all := map[string]string{"scenario": DefaultName}
	for k, v := range tags {
		all[k] = v
	}
	return r.reg.Get(name).Series(metrics.NewTags(all)).Stats()
}

// run runs src as a scenario through the same path as main: a main
// runtime with the hook, Bind, Finish. during (optional) runs concurrently.
func run(t *testing.T, src string, mutate func(*Options), during func(*Scenario)) result {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.js")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	out, errb := &lockedBuf{}, &lockedBuf{}
	newRT := func(int) (*runtime.Runtime, error) {
		rt := runtime.New(runtime.Options{Stdout: out, Stderr: errb})
		RegisterModule(rt, reg)
		return rt, nil
	}
	opts := Options{Script: path, NewRuntime: newRT, Registry: reg, Stderr: errb, Progress: ProgressNone, Tick: 100 * time.Millisecond, E2EHeader: true}
	if mutate != nil {
		mutate(&opts)
	}
	sc := New(opts)
	rt, _ := newRT(0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if during != nil {
		go during(sc)
	}
	_, err := rt.RunFileThen(sc.Bind(ctx), path, sc.Hook(rt))
	res := result{code: -1, reg: reg, sc: sc}
	if sc.Active() {
		res.code = sc.Finish(rt, err)
		res.took = sc.ended.Sub(sc.started)
	} else if err != nil {
		t.Fatalf("plain script failed: %v", err)
	}
	res.stdout, res.stderr = out.String(), errb.String()
	return res
}

const prelude = `
import { Counter, check } from 'amqpjs/metrics';
import { setTimeout as sleep } from 'timers/promises';
const perVU = new Counter('per_vu');
`

func within(t *testing.T, what string, got, lo, hi float64) {
	t.Helper()
	if got < lo || got > hi {
		t.Errorf("%s = %v, want %v..%v", what, got, lo, hi)
	}
}

func TestConstantVUs(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 3, duration: '1s', thresholds: { checks: ['rate==1'] } };
let expected = 0;
export default async function () {
  check(__ITER, { 'ITER counts this VU\'s iterations': (i) => i === expected++ });
  perVU.add(1, { vu: String(__VU) });
  await sleep(50);
}`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// 3 VUs × 1 s / 50 ms = 60 at best; a loaded machine does fewer.
	within(t, "iterations", r.sum("iterations"), 15, 66)
	within(t, "run seconds", r.took.Seconds(), 0.95, 5)
	for _, vu := range []string{"1", "2", "3"} {
		if n := r.series("per_vu", map[string]string{"vu": vu}).Sum; n < 3 {
			t.Errorf("VU %s ran %v iterations", vu, n)
		}
	}
	if st := r.reg.Get("vus").Root().Stats(); st.Max != 3 {
		t.Errorf("vus max %v", st.Max)
	}
}

func TestSharedIterations(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 4, iterations: 37 };
export default async function () {
  perVU.add(1, { vu: String(__VU) });
  await sleep(1);
}`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if n := r.sum("iterations"); n != 37 {
		t.Errorf("iterations %v, want 37", n)
	}
	var total float64
	for _, se := range r.reg.Get("per_vu").Sub() {
		total += se.Stats().Sum
	}
	if total != 37 || len(r.reg.Get("per_vu").Sub()) == 0 {
		t.Errorf("per-VU sum %v over %d VUs", total, len(r.reg.Get("per_vu").Sub()))
	}
}

func TestRampingVUs(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { startVUs: 0, stages: [{ duration: '600ms', target: 4 }, { duration: '600ms', target: 0 }] };
export default async function () {
  perVU.add(1, { vu: String(__VU) });
  await sleep(20);
}`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	within(t, "run seconds", r.took.Seconds(), 1.15, 5)
	if st := r.reg.Get("vus").Root().Stats(); st.Max != 4 {
		t.Errorf("vus max %v, want 4", st.Max)
	}
	if st := r.reg.Get("vus_max").Root().Stats(); st.Value != 4 {
		t.Errorf("vus_max %v, want 4", st.Value)
	}
	first := r.series("per_vu", map[string]string{"vu": "1"}).Sum
	last := r.series("per_vu", map[string]string{"vu": "4"}).Sum
	if first <= 0 || first < last {
		t.Errorf("VU 1 ran %v iterations, VU 4 %v: the first VU is up longest", first, last)
	}
}

func TestConstantArrivalRate(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { rate: 40, duration: '1s', preAllocatedVUs: 2, maxVUs: 10 };
export default async function () { await sleep(10); }`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	// 40 iterations are due in 1 s; each is run or, when both VUs are still
	// busy (a slow machine, -race), dropped while a third VU starts.
	within(t, "iterations+dropped", r.sum("iterations")+r.sum("dropped_iterations"), 36, 41)
	within(t, "iterations", r.sum("iterations"), 25, 41)
	within(t, "run seconds", r.took.Seconds(), 0.95, 5)
}

func TestArrivalRateDropsWithoutVUs(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { rate: 50, duration: '1s', preAllocatedVUs: 1, maxVUs: 2 };
export default async function () { await sleep(200); }`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if d := r.sum("dropped_iterations"); d < 20 {
		t.Errorf("dropped %v, want most of 50", d)
	}
	within(t, "iterations", r.sum("iterations"), 1, 12)
	if st := r.reg.Get("vus_max").Root().Stats(); st.Max > 2 {
		t.Errorf("vus_max %v > maxVUs 2", st.Max)
	}
}

func TestSetupDataIsACopy(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 2, iterations: 6, thresholds: { checks: ['rate==1'] } };
export function setup() { return { list: [1], at: 'setup' }; }
export default function (data) {
  data.list.push(__VU);                      // this VU's copy
  check(data, { 'own copy': (d) => d.list.length === __ITER + 2 && d.list[0] === 1 });
}
export function teardown(data) { console.log('teardown', JSON.stringify(data), __VU); }`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `teardown {"list":[1],"at":"setup"} 0`) {
		t.Errorf("stdout %q", r.stdout)
	}
	if st := r.reg.Get("checks").Root().Stats(); st.Count != 6 || st.RateValue() != 1 {
		t.Errorf("checks %+v", st)
	}
}

func TestAsyncSetupAndTeardown(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export async function setup() { await sleep(10); return 7; }
export default function (n) { if (n !== 7) throw new Error('data ' + n); }
export async function teardown(n) { await sleep(10); console.log('teardown got', n); }`, nil, nil)
	if r.code != 0 || !strings.Contains(r.stdout, "teardown got 7") || r.sum("iterations") != 1 || r.sum("errors") != 0 {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestIterationErrorsDoNotStopTheRun(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 2, duration: '600ms' };
export default async function () {
  await sleep(5);
  if (__ITER % 2 === 0) throw new Error('boom ' + __VU);
}`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d (no threshold: errors do not fail the run)\n%s", r.code, r.stderr)
	}
	iters, errs := r.sum("iterations"), r.sum("errors")
	if iters < 20 || errs < iters/2-2 || errs > iters/2+2 {
		t.Errorf("iterations %v, errors %v: want about half", iters, errs)
	}
	// The VU, the iteration and the position of the throw on the first line.
	if !regexp.MustCompile(`VU \d+, iteration \d+ at \S*scenario\.js:9:31: Uncaught Error: boom`).MatchString(r.stderr) {
		t.Errorf("no error line with the VU, the iteration and the position:\n%s", r.stderr)
	}
	lines := strings.Count(r.stderr, "Uncaught Error: boom")
	if lines < 1 || lines > errBurst+3 {
		t.Errorf("%d error lines printed for %v errors (rate-limited)\n%s", lines, errs, r.stderr)
	}
	if !strings.Contains(r.stderr, "more iteration errors not shown") {
		t.Errorf("no note of the errors not shown:\n%s", r.stderr)
	}
}

func TestThresholdsExitCode(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		threshold string
		code      int
	}{{"count==5", 0}, {"count<5", ExitThresholds}} {
		r := run(t, prelude+`
export const options = { iterations: 5, thresholds: { iterations: ['`+c.threshold+`'] } };
export default function () {}`, nil, nil)
		if r.code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.threshold, r.code, c.code, r.stderr)
		}
		mark := map[int]string{0: "✓ iterations", ExitThresholds: "✗ iterations"}[c.code]
		if !strings.Contains(r.stderr, mark) {
			t.Errorf("%s: summary lacks %q:\n%s", c.threshold, mark, r.stderr)
		}
	}
}

func TestAbortOnFail(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 2, duration: '20s', thresholds: {
  errors: [{ threshold: 'count<1', abortOnFail: true, delayAbortEval: '200ms' }] } };
export default async function () { await sleep(20); throw new Error('fails'); }
export function teardown() { console.log('teardown ran'); }`, nil, nil)
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want 99\n%s", r.code, r.stderr)
	}
	within(t, "run seconds", r.took.Seconds(), 0.2, 5)
	if !strings.Contains(r.stderr, "aborting the run") || !strings.Contains(r.stderr, "aborted by a threshold") || !strings.Contains(r.stdout, "teardown ran") {
		t.Errorf("stdout %q\nstderr %s", r.stdout, r.stderr)
	}
}

func TestDeadVUIsReplaced(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 2, duration: '700ms' };
export default async function () {
  perVU.add(1, { vu: String(__VU) });
  if (__VU === 1 && __ITER === 2) setTimeout(() => { throw new Error('outside the iteration'); }, 0);
  await sleep(20);
}`, nil, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if r.sum("errors") < 1 || !strings.Contains(r.stderr, "outside the iteration") || !strings.Contains(r.stderr, "restarted") {
		t.Errorf("errors %v\n%s", r.sum("errors"), r.stderr)
	}
	// VU 1 went on after its restart (its new runtime counts from __ITER 0).
	if n := r.series("per_vu", map[string]string{"vu": "1"}).Sum; n < 6 {
		t.Errorf("VU 1 ran %v iterations", n)
	}
}

func TestInterrupt(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = { vus: 2, duration: '30s' };
export default async function () { await sleep(10000); }
export function teardown() { console.log('teardown ran'); }`, nil, func(sc *Scenario) {
		time.Sleep(300 * time.Millisecond)
		sc.Interrupt()
	})
	if r.code != runtime.ExitInterrupted {
		t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
	}
	// The interrupt ends the run, not the 30s duration (how soon it came
	// after the start depends on the machine: no lower bound).
	if r.took >= 20*time.Second {
		t.Errorf("the run took %v: the interrupt did not end it", r.took)
	}
	if !strings.Contains(r.stdout, "teardown ran") || !strings.Contains(r.stderr, "(interrupted)") {
		t.Errorf("stdout %q\nstderr %s", r.stdout, r.stderr)
	}
	if r.sum("iterations") != 0 {
		t.Errorf("interrupted iterations were counted: %v", r.sum("iterations"))
	}
}

func TestPlainScriptIsNotAScenario(t *testing.T) {
	t.Parallel()
	r := run(t, `console.log('plain'); export const x = 1;`, nil, nil)
	if r.sc.Active() || r.stdout != "plain\n" {
		t.Fatalf("active %v, stdout %q", r.sc.Active(), r.stdout)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, src := range []string{
		`export const options = { vuz: 2 }; export default function () {}`,
		`export const options = { thresholds: { nope: ['count>0'] } }; export default function () {}`,
		`export const options = { thresholds: { checks: ['avg<1'] } }; export default function () {}`,
	} {
		r := run(t, src, nil, nil)
		if r.code != runtime.ExitUsage || !strings.Contains(r.stderr, "options:") {
			t.Errorf("%s\nexit %d, stderr %q", src, r.code, r.stderr)
		}
	}
}

func TestSetupError(t *testing.T) {
	t.Parallel()
	r := run(t, `export async function setup() { throw new Error('no broker'); }
export default function () {}`, nil, nil)
	if r.code != runtime.ExitFailure || !strings.Contains(r.stderr, "no broker") || strings.Contains(r.stderr, "METRIC") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestVUInitError(t *testing.T) {
	t.Parallel()
	r := run(t, `if (__VU === 2) throw new Error('init of VU 2');
export const options = { vus: 2, duration: '1s' };
export default function () {}`, nil, nil)
	if r.code != runtime.ExitFailure || !strings.Contains(r.stderr, "init of VU 2") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTeardownError(t *testing.T) {
	t.Parallel()
	r := run(t, `export default function () {}
export async function teardown() { throw new Error('cleanup failed'); }`, nil, nil)
	if r.code != runtime.ExitFailure || !strings.Contains(r.stderr, "teardown: Uncaught Error: cleanup failed") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

type closingBuf struct {
	bytes.Buffer
	closed bool
}

func (c *closingBuf) Close() error { c.closed = true; return nil }

func TestOutputsAndSummaryExport(t *testing.T) {
	t.Parallel()
	jb, cb := &closingBuf{}, &closingBuf{}
	export := filepath.Join(t.TempDir(), "summary.json")
	r := run(t, prelude+`
import { Trend } from 'amqpjs/metrics';
const lat = new Trend('lat', true);
export const options = { vus: 2, duration: '1100ms', thresholds: { 'lat{kind:a}': ['p(99)<1000'] } };
export default async function () { lat.add(5, { kind: 'a' }); lat.add(500, { kind: 'b' }); await sleep(20); }`,
		func(o *Options) {
			o.Outputs = []metrics.Output{metrics.NewJSONOutput(jb), metrics.NewCSVOutput(cb)}
			o.SummaryExport = export
			o.Tick = 250 * time.Millisecond
			o.Progress = ProgressPlain
		}, nil)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if !jb.closed || !cb.closed {
		t.Error("outputs not closed")
	}
	// JSON lines: iterations every interval, adding up to the total.
	var iters float64
	var intervals int
	for _, line := range strings.Split(strings.TrimSpace(jb.String()), "\n") {
		var p metrics.JSONPoint
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if p.Metric == "iterations" && len(p.Tags) == 0 {
			iters += p.Value
			intervals++
		}
		if p.Metric == "lat" && p.Tags["kind"] == "b" && (p.P99 == nil || *p.P99 != 500) {
			t.Errorf("lat{kind:b} point %+v", p)
		}
	}
	if iters != r.sum("iterations") || intervals < 3 {
		t.Errorf("time series iterations %v over %d intervals, total %v", iters, intervals, r.sum("iterations"))
	}
	rows, err := csv.NewReader(strings.NewReader(cb.String())).ReadAll()
	if err != nil || len(rows) < 5 || rows[0][0] != "time" {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	// The JSON summary.
	b, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	var js metrics.JSONSummary
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatal(err)
	}
	if js.ThresholdsFailed || js.Metrics["iterations"].Values["count"] != r.sum("iterations") || js.Metrics["lat{kind:a}"].Values["p(99)"] != 5 {
		t.Errorf("summary %s", b)
	}
	if !strings.Contains(r.stderr, "running [") || !strings.Contains(r.stderr, "done [") {
		t.Errorf("no progress lines:\n%s", r.stderr)
	}
}
