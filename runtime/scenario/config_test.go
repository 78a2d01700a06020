package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

func TestResolve(t *testing.T) {
	cases := []struct {
		name string
		opts string
		ov   Overrides
		want Config
		err  string
	}{
		{name: "nothing: one VU, one iteration", want: Config{Executor: SharedIterations, VUs: 1, Iterations: 1, Duration: 10 * time.Minute}},
		{name: "vus and duration", opts: `{"vus": 10, "duration": "30s"}`, want: Config{Executor: ConstantVUs, VUs: 10, Duration: 30 * time.Second}},
		{name: "duration in ms", opts: `{"duration": 1500}`, want: Config{Executor: ConstantVUs, VUs: 1, Duration: 1500 * time.Millisecond}},
		{name: "iterations", opts: `{"vus": 4, "iterations": 100}`, want: Config{Executor: SharedIterations, VUs: 4, Iterations: 100, Duration: 10 * time.Minute}},
		{name: "iterations fewer than vus", opts: `{"vus": 10, "iterations": 3, "duration": "5s"}`, want: Config{Executor: SharedIterations, VUs: 3, Iterations: 3, Duration: 5 * time.Second}},
		{name: "stages", opts: `{"stages": [{"duration": "10s", "target": 50}, {"duration": "5s", "target": 0}]}`,
			want: Config{Executor: RampingVUs, VUs: 1, Stages: []Stage{{10 * time.Second, 50}, {5 * time.Second, 0}}}},
		{name: "stages with startVUs", opts: `{"startVUs": 0, "stages": [{"duration": "1s", "target": 5}]}`,
			want: Config{Executor: RampingVUs, VUs: 0, Stages: []Stage{{time.Second, 5}}}},
		{name: "rate", opts: `{"rate": 100, "duration": "1m", "preAllocatedVUs": 5, "maxVUs": 20}`,
			want: Config{Executor: ConstantArrivalRate, Rate: 100, Duration: time.Minute, PreAllocatedVUs: 5, MaxVUs: 20, VUs: 5}},
		{name: "rate defaults", opts: `{"rate": 10, "duration": "1s"}`,
			want: Config{Executor: ConstantArrivalRate, Rate: 10, Duration: time.Second, PreAllocatedVUs: 1, MaxVUs: 100, VUs: 1}},
		{name: "flags override", opts: `{"vus": 10, "duration": "30s"}`, ov: Overrides{VUs: ptr(2), Iterations: ptr(7)},
			want: Config{Executor: SharedIterations, VUs: 2, Iterations: 7, Duration: 10 * time.Minute}},
		{name: "a duration flag replaces iterations", opts: `{"vus": 2, "iterations": 10}`, ov: Overrides{Duration: ptr(time.Second)},
			want: Config{Executor: ConstantVUs, VUs: 2, Duration: time.Second}},
		{name: "flag stages replace the executor", opts: `{"executor": "constant-vus", "vus": 3, "duration": "1s"}`, ov: Overrides{Stages: []Stage{{time.Second, 4}}},
			want: Config{Executor: RampingVUs, VUs: 3, Stages: []Stage{{time.Second, 4}}}},
		{name: "flag rate", ov: Overrides{Rate: ptr(50.0), Duration: ptr(2 * time.Second), MaxVUs: ptr(3)},
			want: Config{Executor: ConstantArrivalRate, Rate: 50, Duration: 2 * time.Second, PreAllocatedVUs: 1, MaxVUs: 3, VUs: 1}},
		{name: "explicit executor", opts: `{"executor": "constant-vus", "vus": 2, "duration": "1s", "gracefulStop": "2s"}`,
			want: Config{Executor: ConstantVUs, VUs: 2, Duration: time.Second, GracefulStop: 2 * time.Second}},
		{name: "unknown option", opts: `{"vuz": 1}`, err: `unknown option "vuz"`},
		{name: "bad duration", opts: `{"duration": "soon"}`, err: "invalid duration"},
		{name: "zero vus", opts: `{"vus": 0, "duration": "1s"}`, err: "vus: must be at least 1"},
		{name: "constant-vus without duration", opts: `{"executor": "constant-vus"}`, err: "needs a duration"},
		{name: "rate without duration", opts: `{"rate": 5}`, err: "needs a duration"},
		{name: "unknown executor", opts: `{"executor": "per-vu-iteration"}`, err: "unknown executor"},
		{name: "ramping-arrival-rate needs scenarios", opts: `{"executor": "ramping-arrival-rate"}`, err: "needs options.scenarios"},
		{name: "per-vu-iterations", opts: `{"executor": "per-vu-iterations", "vus": 3, "iterations": 4}`,
			want: Config{Executor: PerVUIterations, VUs: 3, Iterations: 4, Duration: 10 * time.Minute}},
		{name: "stages all zero", opts: `{"startVUs": 0, "stages": [{"duration": "1s", "target": 0}]}`, err: "every stage targets 0"},
		{name: "bad threshold", opts: `{"thresholds": {"x": ["p95<1"]}}`, err: "invalid threshold"},
		{name: "bad threshold object", opts: `{"thresholds": {"x": [{"treshold": "avg<1"}]}}`, err: "each threshold is a string"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plan, err := Resolve([]byte(c.opts), c.ov)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if plan.Named || len(plan.Scenarios) != 1 || plan.Scenarios[0].Name != "default" || plan.Scenarios[0].Exec != "default" {
				t.Fatalf("plan %+v", plan)
			}
			got := plan.Scenarios[0]
			if c.want.TimeUnit == 0 {
				c.want.TimeUnit = time.Second
			}
			if c.want.GracefulStop == 0 {
				c.want.GracefulStop = 30 * time.Second
			}
			if got.Executor != c.want.Executor || got.VUs != c.want.VUs || got.Duration != c.want.Duration || got.Iterations != c.want.Iterations ||
				got.Rate != c.want.Rate || got.PreAllocatedVUs != c.want.PreAllocatedVUs || got.MaxVUs != c.want.MaxVUs ||
				got.TimeUnit != c.want.TimeUnit || got.GracefulStop != c.want.GracefulStop || len(got.Stages) != len(c.want.Stages) {
				t.Fatalf("got %+v\nwant %+v", *got, c.want)
			}
			for i := range got.Stages {
				if got.Stages[i] != c.want.Stages[i] {
					t.Fatalf("stage %d: got %+v, want %+v", i, got.Stages[i], c.want.Stages[i])
				}
			}
		})
	}
}

func TestResolveThresholds(t *testing.T) {
	c, err := Resolve([]byte(`{"duration": "1s", "thresholds": {
		"z_first": "count>0",
		"amqp_e2e_latency{queue:jobs}": ["p(99)<5", {"threshold": "avg<2", "abortOnFail": true, "delayAbortEval": "10s"}]
	}}`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Thresholds) != 3 {
		t.Fatalf("%+v", c.Thresholds)
	}
	// Declaration order is kept.
	if c.Thresholds[0].Selector != "z_first" || c.Thresholds[0].Source != "count>0" {
		t.Errorf("0: %+v", c.Thresholds[0])
	}
	if th := c.Thresholds[2]; th.Selector != "amqp_e2e_latency{queue:jobs}" || th.Source != "avg<2" || !th.AbortOnFail || th.DelayAbortEval != 10*time.Second {
		t.Errorf("2: %+v", th)
	}
}

func TestParseStage(t *testing.T) {
	st, err := ParseStage("10s:50")
	if err != nil || st != (Stage{10 * time.Second, 50}) {
		t.Fatalf("%+v %v", st, err)
	}
	for _, bad := range []string{"10s", "x:1", "1s:-1", "1s:many"} {
		if _, err := ParseStage(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestRampTarget(t *testing.T) {
	stages := []Stage{{10 * time.Second, 10}, {10 * time.Second, 10}, {5 * time.Second, 0}}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{
		{0, 0}, {5 * time.Second, 5}, {10 * time.Second, 10}, {15 * time.Second, 10},
		{22500 * time.Millisecond, 5}, {25 * time.Second, 0}, {time.Hour, 0},
	} {
		if got := rampTarget(0, stages, c.at); got != c.want {
			t.Errorf("at %v: %d, want %d", c.at, got, c.want)
		}
	}
	if got := rampTarget(4, []Stage{{2 * time.Second, 0}}, time.Second); got != 2 {
		t.Errorf("ramp down from 4: %d", got)
	}
}

func TestResolveScenarios(t *testing.T) {
	plan, err := Resolve([]byte(`{"scenarios": {
		"producers": {"executor": "constant-arrival-rate", "rate": 50, "timeUnit": "500ms", "duration": "2s", "preAllocatedVUs": 2, "maxVUs": 5,
			"exec": "produce", "startTime": "1s", "gracefulStop": "3s", "env": {"ROLE": "producer"}, "tags": {"role": "p"}},
		"consumers": {"executor": "constant-vus", "vus": 3, "duration": "4s"},
		"burst": {"executor": "ramping-arrival-rate", "startRate": 5, "stages": [{"duration": "1s", "target": 100}, {"duration": 500, "target": 0}], "preAllocatedVUs": 4},
		"once": {"executor": "per-vu-iterations", "vus": 2, "iterations": 3, "maxDuration": "5s"},
		"shared": {"executor": "shared-iterations", "vus": 8, "iterations": 4},
		"ramp": {"executor": "ramping-vus", "startVUs": 0, "stages": [{"duration": "1s", "target": 2}]}
	}, "thresholds": {"amqp_published{scenario:producers}": ["rate>900"]}}`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !plan.Named || len(plan.Scenarios) != 6 || len(plan.Thresholds) != 1 {
		t.Fatalf("%+v", plan)
	}
	p, c, b, o, sh, r := plan.Scenarios[0], plan.Scenarios[1], plan.Scenarios[2], plan.Scenarios[3], plan.Scenarios[4], plan.Scenarios[5]
	if p.Name != "producers" || p.Executor != ConstantArrivalRate || p.Rate != 50 || p.TimeUnit != 500*time.Millisecond || p.Duration != 2*time.Second ||
		p.PreAllocatedVUs != 2 || p.MaxVUs != 5 || p.Exec != "produce" || p.StartTime != time.Second || p.GracefulStop != 3*time.Second ||
		p.Env["ROLE"] != "producer" || p.SampleTags().String() != "{role:p,scenario:producers}" {
		t.Errorf("producers %+v", *p)
	}
	if c.Name != "consumers" || c.Executor != ConstantVUs || c.VUs != 3 || c.Duration != 4*time.Second || c.Exec != "default" || c.GracefulStop != 30*time.Second {
		t.Errorf("consumers %+v", *c)
	}
	if b.Executor != RampingArrivalRate || b.StartRate != 5 || len(b.Stages) != 2 || b.Stages[1] != (Stage{500 * time.Millisecond, 0}) ||
		b.PreAllocatedVUs != 4 || b.MaxVUs != 100 || b.MaxRate() != 100 || b.Total() != 1500*time.Millisecond {
		t.Errorf("burst %+v", *b)
	}
	if o.Executor != PerVUIterations || o.VUs != 2 || o.Iterations != 3 || o.Duration != 5*time.Second {
		t.Errorf("once %+v", *o)
	}
	if sh.VUs != 4 || sh.Iterations != 4 || sh.Duration != 10*time.Minute {
		t.Errorf("shared: %+v", *sh)
	}
	if r.VUs != 0 || r.MaxActiveVUs() != 2 {
		t.Errorf("ramp: %+v", *r)
	}
	if got := plan.Total(); got != 10*time.Minute { // shared-iterations: its maxDuration
		t.Errorf("plan total %v", got)
	}
	if err := plan.checkExec([]string{"default", "produce"}); err != nil {
		t.Error(err)
	}
	if err := plan.checkExec([]string{"default"}); err == nil || err.Error() != `options: scenarios.producers.exec: the script exports no function "produce" (its exported functions: default)` {
		t.Errorf("checkExec: %v", err)
	}
}

// TestResolveScenarioErrors: each bad configuration names the scenario
// and the key (the run exits 2 with it).
func TestResolveScenarioErrors(t *testing.T) {
	cases := []struct {
		opts string
		ov   Overrides
		err  string
	}{
		{`{"scenarios": {"a": {"executor": "constant-vu", "duration": "1s"}}}`, Overrides{}, `scenarios.a.executor: unknown executor "constant-vu" (expected one of: constant-vus, ramping-vus, shared-iterations, per-vu-iterations, constant-arrival-rate, ramping-arrival-rate)`},
		{`{"scenarios": {"a": {"vus": 1}}}`, Overrides{}, `scenarios.a.executor: missing`},
		{`{"scenarios": {"a": {"executor": "constant-vus", "duration": "1s", "rate": 5}}}`, Overrides{}, `scenarios.a: unknown key "rate" for constant-vus (it takes: executor, exec, startTime, gracefulStop, env, tags, vus, duration)`},
		{`{"scenarios": {"p": {"executor": "constant-arrival-rate", "rate": -5, "duration": "1s"}}}`, Overrides{}, `scenarios.p.rate: must be a positive number, got -5`},
		{`{"scenarios": {"p": {"executor": "constant-arrival-rate", "duration": "1s"}}}`, Overrides{}, `scenarios.p.rate: missing: constant-arrival-rate needs rate`},
		{`{"scenarios": {"p": {"executor": "ramping-arrival-rate", "startRate": -1, "stages": [{"duration": "1s", "target": 5}]}}}`, Overrides{}, `scenarios.p.startRate: must be a number ≥ 0`},
		{`{"scenarios": {"p": {"executor": "ramping-arrival-rate", "stages": [{"duration": "1s", "target": -5}]}}}`, Overrides{}, `scenarios.p.stages[0].target: must be a number of iterations per timeUnit ≥ 0`},
		{`{"scenarios": {"p": {"executor": "ramping-arrival-rate", "stages": [{"duration": "1s", "target": 0}]}}}`, Overrides{}, `scenarios.p.stages: every stage targets a rate of 0`},
		{`{"scenarios": {"p": {"executor": "ramping-arrival-rate"}}}`, Overrides{}, `scenarios.p.stages: missing`},
		{`{"scenarios": {"p": {"executor": "constant-arrival-rate", "rate": 1, "duration": "1s", "preAllocatedVUs": 5, "maxVUs": 2}}}`, Overrides{}, `scenarios.p.maxVUs: 2 is fewer than preAllocatedVUs (5)`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "vus": 0, "duration": "1s"}}}`, Overrides{}, `scenarios.c.vus: must be a whole number ≥ 1, got 0`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "vus": 2.5, "duration": "1s"}}}`, Overrides{}, `scenarios.c.vus: must be a whole number ≥ 1, got 2.5`},
		{`{"scenarios": {"c": {"executor": "constant-vus"}}}`, Overrides{}, `scenarios.c.duration: missing`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s", "startTime": "later"}}}`, Overrides{}, `scenarios.c.startTime: invalid duration "later"`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s", "exec": "not a name"}}}`, Overrides{}, `scenarios.c.exec: must name an exported function`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s", "env": {"N": 1}}}}`, Overrides{}, `scenarios.c.env: "N" must be a string`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s", "tags": {"scenario": "x"}}}}`, Overrides{}, `scenarios.c.tags: the scenario tag is the scenario's name`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s"}, "c": {"executor": "constant-vus", "duration": "2s"}}}`, Overrides{}, `scenarios.c: the name is used twice`},
		{`{"scenarios": {"jobs": {"executor": "constant-vus", "duration": "1s"}, "Jobs": {"executor": "constant-vus", "duration": "2s"}}}`, Overrides{}, `scenarios.Jobs: the name overlaps scenario "jobs"`},
		{`{"scenarios": {"a b": {"executor": "constant-vus", "duration": "1s"}}}`, Overrides{}, `scenarios: invalid name "a b"`},
		{`{"scenarios": {}}`, Overrides{}, `scenarios: no scenario`},
		{`{"scenarios": []}`, Overrides{}, `scenarios: must be an object`},
		{`{"vus": 2, "scenarios": {"c": {"executor": "constant-vus", "duration": "1s"}}}`, Overrides{}, `scenarios: cannot be combined with the shorthand option vus`},
		{`{"scenarios": {"c": {"executor": "constant-vus", "duration": "1s"}}}`, Overrides{VUs: ptr(3), Duration: ptr(time.Second)}, `--vus, --duration set the shorthand options (one scenario) only; this script has options.scenarios`},
	}
	for _, c := range cases {
		_, err := Resolve([]byte(c.opts), c.ov)
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s\nerr %v\nwant %q", c.opts, err, c.err)
		}
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%s: %T is not a ConfigError", c.opts, err)
		}
	}
}

// TestRampingArrivals: the schedule's count follows the integral of the
// rate, in order, and ends with the stages.
func TestRampingArrivals(t *testing.T) {
	// 0 → 10/s over 1s (5 iterations), 10/s for 1s (10), 10 → 0 over 2s
	// (10), a pause of 1s at 0 (none).
	due := rampingArrivals(0, []Stage{{time.Second, 10}, {time.Second, 10}, {2 * time.Second, 0}, {time.Second, 0}}, time.Second)
	var times []time.Duration
	for i := int64(0); ; i++ {
		at, ok := due(i)
		if !ok {
			break
		}
		times = append(times, at)
		if len(times) > 100 {
			t.Fatal("no end")
		}
	}
	if len(times) != 25 {
		t.Fatalf("%d iterations, want 25: %v", len(times), times)
	}
	count := func(lo, hi time.Duration) int {
		n := 0
		for _, at := range times {
			if at >= lo && at < hi {
				n++
			}
		}
		return n
	}
	if a, b, c := count(0, time.Second), count(time.Second, 2*time.Second), count(2*time.Second, 4*time.Second); a != 5 || b != 10 || c != 10 {
		t.Errorf("per stage %d, %d, %d; want 5, 10, 10: %v", a, b, c, times)
	}
	for i := 1; i < len(times); i++ {
		if times[i] < times[i-1] {
			t.Fatalf("out of order at %d: %v", i, times)
		}
	}
	// The first ramp: N(t) = 5t², so iteration 0 (N = ½) is at √0.1 s.
	if d := times[0] - 316227766*time.Nanosecond; d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("first at %v", times[0])
	}
	// A constant stage is evenly spaced: 100ms apart, at the middle of each 100ms.
	if times[5] != 1050*time.Millisecond || times[6] != 1150*time.Millisecond {
		t.Errorf("constant stage at %v, %v", times[5], times[6])
	}
	// timeUnit: 30 per minute for 2s is 1 iteration.
	due = rampingArrivals(30, []Stage{{2 * time.Second, 30}}, time.Minute)
	if at, ok := due(0); !ok || at != time.Second {
		t.Errorf("per minute: %v %v", at, ok)
	}
	if _, ok := due(1); ok {
		t.Error("per minute: a second iteration")
	}
}
