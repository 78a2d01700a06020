package scenario

import (
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/runtime"
)

// TestNamedScenarios: two scenarios at once, each with its executor, exec,
// env and tags; samples carry scenario:NAME; a tagged threshold sees one
// scenario; the summary has a line per scenario.
func TestNamedScenarios(t *testing.T) {
	t.Parallel()
	r := runOK(t, prelude+`
import { Rate } from 'amqpjs/metrics';
const sawEnv = new Rate('saw_env');
export const options = {
  scenarios: {
    fast: { executor: 'per-vu-iterations', vus: 2, iterations: 5, exec: 'fast', env: { ROLE: 'fast' }, tags: { team: 'a' } },
    slow: { executor: 'constant-vus', vus: 1, duration: '400ms', env: { ROLE: 'slow' } },
  },
  thresholds: {
    'iterations{scenario:fast}': ['count==10'],
    'per_vu{team:a}': ['count==10'],
    saw_env: ['rate==1'],
  },
};
export function fast() {
  perVU.add(1);
  sawEnv.add(process.env.ROLE === 'fast');
  check(__VU, { 'fast VUs are 1 and 2': (v) => v === 1 || v === 2 });
}
export default async function () {
  sawEnv.add(process.env.ROLE === 'slow');
  check(__VU, { 'the slow VU is 3': (v) => v === 3 });
  await sleep(50);
}`, nil, nil)
	if n := r.series("iterations", map[string]string{"scenario": "fast", "team": "a"}).Sum; n != 10 {
		t.Errorf("fast iterations %v, want 10 (2 VUs × 5)", n)
	}
	slow := r.series("iterations", map[string]string{"scenario": "slow"}).Sum
	if slow < 1 || slow+10 != r.sum("iterations") {
		t.Errorf("slow iterations %v, all %v", slow, r.sum("iterations"))
	}
	// The scenario's tags and the scenario tag are on custom metrics too.
	if n := r.series("per_vu", map[string]string{"scenario": "fast", "team": "a"}).Sum; n != 10 {
		t.Errorf("per_vu{scenario:fast,team:a} %v", n)
	}
	if st := r.series("checks", map[string]string{"scenario": "slow", "check": "the slow VU is 3"}); st.Count == 0 || st.NonZero != st.Count {
		t.Errorf("checks of slow %+v", st)
	}
	if st := r.reg.Get("checks").Root().Stats(); st.NonZero != st.Count {
		t.Errorf("checks %+v\n%s", st, r.stderr)
	}
	if st := r.reg.Get("vus_max").Root().Stats(); st.Value != 3 {
		t.Errorf("vus_max %v", st.Value)
	}
	for _, want := range []string{
		"scenarios: 2, ran ",
		"fast  per-vu-iterations, 5 iterations for each of 2 VUs (max 10m0s), exec fast; done in ",
		": 10 iterations, 2 VUs",
		"slow  constant-vus, 1 VUs for 400ms; done in ",
		"{scenario:fast}", "{scenario:slow}",
		"✓ iterations{scenario:fast}",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("no %q in\n%s", want, r.stderr)
		}
	}
}

// TestScenarioStartTime: a scenario starts after its startTime; one with
// only named functions (no default) is a scenario too.
func TestScenarioStartTime(t *testing.T) {
	t.Parallel()
	r := runOK(t, prelude+`
import { Trend } from 'amqpjs/metrics';
const at = new Trend('started_at', true);
export const options = {
  scenarios: {
    first: { executor: 'shared-iterations', iterations: 1, exec: 'mark' },
    later: { executor: 'shared-iterations', iterations: 1, exec: 'mark', startTime: '400ms' },
  },
};
export function setup() { return { t0: Date.now() }; }
export function mark({ t0 }) { at.add(Date.now() - t0); }`, nil, nil)
	first := r.series("started_at", map[string]string{"scenario": "first"})
	later := r.series("started_at", map[string]string{"scenario": "later"})
	if first.Count != 1 || later.Count != 1 || later.Max < 400 || later.Max < first.Max {
		t.Errorf("first at %v ms, later at %v ms (startTime 400ms)", first.Max, later.Max)
	}
	if !strings.Contains(r.stderr, "startTime 400ms") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// TestRampingArrivalRate runs the schedule: every due iteration is run or
// dropped, and the arrival rate's VUs are in the pool's bounds.
func TestRampingArrivalRate(t *testing.T) {
	t.Parallel()
	r := runOK(t, prelude+`
export const options = {
  scenarios: {
    burst: { executor: 'ramping-arrival-rate', startRate: 0, timeUnit: '1s', preAllocatedVUs: 2, maxVUs: 6,
      stages: [{ duration: '500ms', target: 40 }, { duration: '500ms', target: 40 }, { duration: '500ms', target: 0 }] },
  },
};
export default async function () { await sleep(5); }`, nil, nil)
	// 10 + 20 + 10 iterations are due.
	its, dropped := r.sum("iterations"), r.sum("dropped_iterations")
	if its+dropped != 40 || its < 20 {
		t.Errorf("%v iterations, %v dropped; want 40 in all", its, dropped)
	}
	if n := r.series("iterations", map[string]string{"scenario": "burst"}).Sum; n != its {
		t.Errorf("iterations{scenario:burst} %v of %v", n, its)
	}
	if vm := r.reg.Get("vus_max").Root().Stats().Value; vm < 2 || vm > 6 {
		t.Errorf("vus_max %v", vm)
	}
}

// TestScenarioTagThresholdFails: a threshold on one scenario's samples
// fails the run (99) though the untagged metric would pass.
func TestScenarioTagThresholdFails(t *testing.T) {
	t.Parallel()
	r := run(t, prelude+`
export const options = {
  scenarios: {
    a: { executor: 'shared-iterations', iterations: 3, exec: 'a' },
    b: { executor: 'shared-iterations', iterations: 1, exec: 'b' },
  },
  thresholds: { 'per_vu': ['count>=4'], 'per_vu{scenario:b}': ['count>=2'] },
};
export function a() { perVU.add(1); }
export function b() { perVU.add(1); }`, nil, nil)
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want 99\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "✓ per_vu ") || !strings.Contains(r.stderr, "✗ per_vu{scenario:b}") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// TestScenarioConfigErrors: bad scenarios exit 2 naming the scenario and
// the key, before any VU starts.
func TestScenarioConfigErrors(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s', exec: 'produce' } } };
export function consume() {}`: `options: scenarios.p.exec: the script exports no function "produce" (its exported functions: consume)`,
		`export const options = { scenarios: { p: { executor: 'fast', duration: '1s' } } }; export default function () {}`:                                                                `options: scenarios.p.executor: unknown executor "fast"`,
		`export const options = { scenarios: { p: { executor: 'constant-arrival-rate', rate: -1, duration: '1s' } } }; export default function () {}`:                                     `options: scenarios.p.rate: must be a positive number, got -1`,
		`export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s', vu: 2 } } }; export default function () {}`:                                                 `options: scenarios.p: unknown key "vu" for constant-vus`,
		`export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s' } }, thresholds: { 'iterations{scenario:q}': ['count>0'] } }; export default function () {}`: `options: thresholds["iterations{scenario:q}"]: there is no scenario "q" (scenarios: p)`,
		`export const options = { duration: '1s', thresholds: { 'iterations{scenario:p}': ['count>0'] } }; export default function () {}`:                                                 `options: thresholds["iterations{scenario:p}"]: there is no scenario "p" (scenarios: default)`,
	} {
		r := run(t, `console.log('init');`+src, nil, nil)
		if r.code != runtime.ExitUsage || !strings.Contains(r.stderr, want) || strings.Count(r.stdout, "init") != 1 {
			t.Errorf("%s\nexit %d, stdout %q, stderr %q\nwant %q", src, r.code, r.stdout, r.stderr, want)
		}
	}
}

// TestScenarioFlagsNeedShorthand: the flags are for the shorthand options;
// with options.scenarios they are an error that says so.
func TestScenarioFlagsNeedShorthand(t *testing.T) {
	t.Parallel()
	r := run(t, `export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s' } } };
export default function () {}`, func(o *Options) { o.Overrides.VUs = ptr(5) }, nil)
	if r.code != runtime.ExitUsage || !strings.Contains(r.stderr, "--vus sets the shorthand options (one scenario) only; this script has options.scenarios") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestShorthandHidesTheScenarioTag: with the shorthand options the samples
// have scenario:default, which the summary does not show.
func TestShorthandHidesTheScenarioTag(t *testing.T) {
	t.Parallel()
	r := runOK(t, prelude+`
export const options = { iterations: 2, thresholds: { 'per_vu{scenario:default}': ['count==2'] } };
export default function () { perVU.add(1, { kind: 'x' }); }`, nil, nil)
	if n := r.series("per_vu", map[string]string{"kind": "x"}).Sum; n != 2 {
		t.Errorf("per_vu{kind:x,scenario:default} %v", n)
	}
	if !strings.Contains(r.stderr, "  {kind:x}") || strings.Contains(r.stderr, "  {scenario:default}") || strings.Contains(r.stderr, "{kind:x,scenario") {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

// TestScenarioGracefulStopPerScenario: a scenario whose iterations outlast
// its gracefulStop is interrupted while the other one ends on its own.
func TestScenarioGracefulStopPerScenario(t *testing.T) {
	t.Parallel()
	r := runOK(t, prelude+`
export const options = {
  scenarios: {
    stuck: { executor: 'constant-vus', vus: 1, duration: '200ms', gracefulStop: '100ms', exec: 'stuck' },
    quick: { executor: 'per-vu-iterations', vus: 1, iterations: 2 },
  },
};
export async function stuck() { await sleep(30000); }
export default function () { perVU.add(1); }`, nil, nil)
	within(t, "run seconds", r.took.Seconds(), 0.2, 10)
	if !strings.Contains(r.stderr, "exec stuck; interrupted after ") || !strings.Contains(r.stderr, "quick  per-vu-iterations, 2 iterations for each of 1 VUs (max 10m0s); done in ") {
		t.Errorf("summary:\n%s", r.stderr)
	}
	if n := r.series("iterations", map[string]string{"scenario": "stuck"}).Sum; n != 0 {
		t.Errorf("interrupted iterations counted: %v", n)
	}
}
