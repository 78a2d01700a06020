package scenario

import (
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
