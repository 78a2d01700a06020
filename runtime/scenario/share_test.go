package scenario

import (
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario/segment"
)

// splits are the splits the partition tests use: thirds, an uneven split,
// sevenths-ish, and the whole.
var splits = [][]string{
	{"0:1/3", "1/3:2/3", "2/3:1"},
	{"0:0.1", "0.1:0.15", "0.15:1/2", "1/2:1"},
	{"0:1/7", "1/7:3/7", "3/7:0.9", "0.9:1"},
	{"0:1"},
}

func parseSplit(t *testing.T, split []string) []segment.Segment {
	t.Helper()
	var segs []segment.Segment
	for _, s := range split {
		seg, err := segment.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		segs = append(segs, seg)
	}
	return segs
}

// partitionPlan has every executor, with counts that do and do not divide
// by the number of instances, and counts smaller than it.
func partitionPlan(t *testing.T) *Plan {
	t.Helper()
	p, err := Resolve([]byte(`{"scenarios": {
	  "cvus":   {"executor": "constant-vus", "vus": 10, "duration": "1s"},
	  "one":    {"executor": "constant-vus", "vus": 1, "duration": "1s"},
	  "shared": {"executor": "shared-iterations", "vus": 5, "iterations": 37},
	  "few":    {"executor": "shared-iterations", "vus": 2, "iterations": 3},
	  "pervu":  {"executor": "per-vu-iterations", "vus": 7, "iterations": 4},
	  "ramp":   {"executor": "ramping-vus", "startVUs": 3, "stages": [{"duration": "10s", "target": 20}, {"duration": "5s", "target": 0}]},
	  "car":    {"executor": "constant-arrival-rate", "rate": 1000, "duration": "10s", "preAllocatedVUs": 2, "maxVUs": 11},
	  "rar":    {"executor": "ramping-arrival-rate", "startRate": 0, "preAllocatedVUs": 0, "maxVUs": 4,
	             "stages": [{"duration": "5s", "target": 2000}, {"duration": "5s", "target": 2000}, {"duration": "5s", "target": 0}]}
	}}`), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// arrivalsOwned counts the iterations of c's schedule that sh owns, and
// of the whole schedule.
func arrivalsOwned(sh *share) (owned, total int64) {
	due := sh.global.arrivals()
	for i := int64(0); ; i++ {
		if _, ok := due(i); !ok {
			return owned, total
		}
		total++
		if sh.owns.Owns(i) {
			owned++
		}
	}
}

// TestSharesAddUp: over every split, each executor's shares add up to the
// whole: VUs, iterations, ramping targets at every level, arrival-rate
// iterations (each owned by exactly one instance, each instance within 2%
// of its part); and every VU id is used once in the whole run.
func TestSharesAddUp(t *testing.T) {
	t.Parallel()
	plan := partitionPlan(t)
	for _, split := range splits {
		segs := parseSplit(t, split)
		all := make([][]*share, len(segs))
		bases := map[int]bool{}
		for i, seg := range segs {
			var base int
			all[i], base = plan.shares(seg)
			bases[base] = true
		}
		if len(bases) != 1 {
			t.Fatalf("%v: the instances disagree on the blocks' end: %v", split, bases)
		}
		for j, c := range plan.Scenarios {
			name := fmt.Sprintf("%v %s", split, c.Name)
			var vus, iterations, pervu, ownedSum int64
			for i := range segs {
				sh := all[i][j]
				l := sh.cfg
				switch c.Executor {
				case ConstantVUs:
					vus += int64(l.VUs)
					if sh.none != (l.VUs == 0) || sh.initial() != l.VUs {
						t.Errorf("%s %s: %d VUs, none %v, %d made", name, split[i], l.VUs, sh.none, sh.initial())
					}
				case SharedIterations:
					vus += int64(l.VUs)
					iterations += int64(l.Iterations)
					if (l.Iterations > 0) != (l.VUs > 0) || sh.none != (l.Iterations == 0) {
						t.Errorf("%s %s: %d iterations on %d VUs", name, split[i], l.Iterations, l.VUs)
					}
				case PerVUIterations:
					vus += int64(l.VUs)
					pervu += int64(l.VUs * l.Iterations)
					if l.Iterations != c.Iterations {
						t.Errorf("%s %s: %d iterations per VU, want %d", name, split[i], l.Iterations, c.Iterations)
					}
				case ConstantArrivalRate, RampingArrivalRate:
					owned, total := arrivalsOwned(sh)
					ownedSum += owned
					part := float64(total) * sh.seg.Fraction()
					if math.Abs(float64(owned)-part) > 0.02*part {
						t.Errorf("%s %s: owns %d of %d arrivals, want %.0f ±2%%", name, split[i], owned, total, part)
					}
					if sh.none != (owned == 0) {
						t.Errorf("%s %s: none %v with %d arrivals", name, split[i], sh.none, owned)
					}
					if !sh.none && (l.MaxVUs < 1 || l.PreAllocatedVUs > l.MaxVUs || (c.PreAllocatedVUs > 0 && l.PreAllocatedVUs < 1) || sh.initial() != l.PreAllocatedVUs) {
						t.Errorf("%s %s: pre-allocated %d, max %d, made %d", name, split[i], l.PreAllocatedVUs, l.MaxVUs, sh.initial())
					}
				}
			}
			switch c.Executor {
			case ConstantVUs, SharedIterations, PerVUIterations:
				if vus != int64(c.VUs) {
					t.Errorf("%s: VUs add up to %d, want %d", name, vus, c.VUs)
				}
			}
			if c.Executor == SharedIterations && iterations != int64(c.Iterations) {
				t.Errorf("%s: iterations add up to %d, want %d", name, iterations, c.Iterations)
			}
			if c.Executor == PerVUIterations && pervu != int64(c.VUs*c.Iterations) {
				t.Errorf("%s: iterations add up to %d, want %d", name, pervu, c.VUs*c.Iterations)
			}
			if c.Executor == ConstantArrivalRate || c.Executor == RampingArrivalRate {
				// The whole schedule: 1000/s for 10s; 2000/s on average over 10s.
				_, total := arrivalsOwned(all[0][j])
				if ownedSum != total || total != map[string]int64{"car": 10000, "rar": 20000}[c.Name] {
					t.Errorf("%s: arrivals add up to %d of a schedule of %d", name, ownedSum, total)
				}
			}
			if c.Executor == RampingVUs {
				for n := 0; n <= c.MaxActiveVUs(); n++ {
					sum := 0
					for i := range segs {
						sh := all[i][j]
						sum += sh.target(n)
						if sh.target(n) > sh.initial() {
							t.Errorf("%s %s: target %d of %d exceeds its %d VUs", name, split[i], sh.target(n), n, sh.initial())
						}
					}
					if sum != n {
						t.Errorf("%s: targets for %d add up to %d", name, n, sum)
					}
				}
			}
		}

		// VU ids: the blocks' ids once each, 1..base, and the ids beyond
		// them (first 200 of each instance's stream) once each, above base.
		var base int
		for b := range bases {
			base = b
		}
		seen := map[int]string{}
		for i, seg := range segs {
			st := &idStream{base: base, own: seg.Stream()}
			for _, sh := range all[i] {
				for _, id := range sh.ids {
					if id < 1 || id > base {
						t.Errorf("%v %s: id %d outside the blocks 1..%d", split, split[i], id, base)
					}
					if prev, dup := seen[id]; dup {
						t.Errorf("%v: __VU %d in %s and %s", split, id, prev, split[i])
					}
					seen[id] = split[i]
				}
			}
			for range 200 {
				id := st.next()
				if id <= base {
					t.Errorf("%v %s: stream id %d within the blocks", split, split[i], id)
				}
				if prev, dup := seen[id]; dup {
					t.Errorf("%v: __VU %d in %s and %s", split, id, prev, split[i])
				}
				seen[id] = split[i]
			}
		}
		for id := 1; id <= base; id++ {
			if _, ok := seen[id]; !ok {
				t.Errorf("%v: __VU %d of the blocks is nobody's", split, id)
			}
		}
	}
}

// TestWholeShareIsTheScenario: without a segment a share is the scenario
// itself, its VUs numbered 1..n in scenario order as a single process does.
func TestWholeShareIsTheScenario(t *testing.T) {
	t.Parallel()
	plan := partitionPlan(t)
	shares, base := plan.shares(segment.Whole())
	next := 1
	for j, sh := range shares {
		c := plan.Scenarios[j]
		if sh.none || sh.extra != 0 || sh.cfg.VUs != c.VUs || sh.cfg.Iterations != c.Iterations || sh.cfg.MaxVUs != c.MaxVUs || sh.cfg.PreAllocatedVUs != c.PreAllocatedVUs {
			t.Errorf("%s: share %+v of %+v", c.Name, sh.cfg, c)
		}
		for _, id := range sh.ids {
			if id != next {
				t.Errorf("%s: id %d, want %d", c.Name, id, next)
			}
			next++
		}
	}
	st := &idStream{base: base, own: segment.Whole().Stream()}
	if a, b := st.next(), st.next(); a != base+1 || b != base+2 {
		t.Errorf("stream ids %d, %d after %d", a, b, base)
	}
}

// runSplit runs src once per segment of split, at once, and returns the
// results in the split's order.
func runSplit(t *testing.T, src string, split []string, mutate func(*Options)) []result {
	t.Helper()
	segs := parseSplit(t, split)
	res := make([]result, len(segs))
	var wg sync.WaitGroup
	for i, seg := range segs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i] = run(t, src, func(o *Options) {
				o.Segment = seg
				if mutate != nil {
					mutate(o)
				}
			}, nil)
		}()
	}
	wg.Wait()
	return res
}

// runSplitOK is runSplit (no options changed) where every segment must exit 0.
func runSplitOK(t *testing.T, src string, split []string) []result {
	t.Helper()
	res := runSplit(t, src, split, nil)
	for i, r := range res {
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", split[i], r.code, r.stderr)
		}
	}
	return res
}

// vusOwnedOnce checks that no __VU value is used by two segments.
func vusOwnedOnce(t *testing.T, split []string, res []result) {
	t.Helper()
	owner := map[string]string{}
	for i, r := range res {
		for id := range vuIDs(r) {
			if prev, dup := owner[id]; dup {
				t.Errorf("%v: __VU %s in %s and %s", split, id, prev, split[i])
			}
			owner[id] = split[i]
		}
	}
}

// arrivedOrDropped counts an arrival-rate scenario's arrivals: the
// iterations run and the ones dropped.
func arrivedOrDropped(r result, scenario string) float64 {
	sc := map[string]string{"scenario": scenario}
	return r.series("iterations", sc).Sum + r.series("dropped_iterations", sc).Sum
}

// vuIDs are the __VU values the per_vu counter saw (tag vu).
func vuIDs(r result) map[string]float64 {
	ids := map[string]float64{}
	for _, se := range r.reg.Get("per_vu").Sub() {
		if v, ok := se.Tags.Get("vu"); ok {
			ids[v] += se.Stats().Sum
		}
	}
	return ids
}

// TestSegmentRuns runs a shared-iterations and a constant-arrival-rate
// scenario as three instances: the iterations add up to the whole exactly,
// every due arrival is run or dropped in exactly one instance, and no
// __VU is used by two instances.
func TestSegmentRuns(t *testing.T) {
	t.Parallel()
	src := prelude + `
export const options = { scenarios: {
  shared: { executor: 'shared-iterations', vus: 4, iterations: 29 },
  car: { executor: 'constant-arrival-rate', rate: 60, duration: '1s', preAllocatedVUs: 3, maxVUs: 6 },
} };
export default async function () { perVU.add(1, { vu: String(__VU) }); await sleep(2); }`
	for _, split := range [][]string{{"0:1/3", "1/3:2/3", "2/3:1"}, {"0:0.1", "0.1:1"}} {
		res := runSplitOK(t, src, split)
		vusOwnedOnce(t, split, res)
		var shared, arrivals float64
		for i, r := range res {
			shared += r.series("iterations", map[string]string{"scenario": "shared"}).Sum
			arrivals += arrivedOrDropped(r, "car")
			if seg, _ := segment.Parse(split[i]); !strings.Contains(r.stderr, "segment "+seg.String()+":") {
				t.Errorf("%s: the summary does not name the segment\n%s", split[i], r.stderr)
			}
		}
		if shared != 29 || arrivals != 60 {
			t.Errorf("%v: %v shared iterations (want 29), %v arrivals run or dropped (want 60)", split, shared, arrivals)
		}
	}
}

// TestSegmentWithNoShare: a segment with no part of a scenario runs
// nothing for it, says so, and the run succeeds.
func TestSegmentWithNoShare(t *testing.T) {
	t.Parallel()
	seg, _ := segment.Parse("1/3:2/3")
	r := run(t, prelude+`
export const options = { vus: 1, iterations: 5 };
export default function () { perVU.add(1); }`, func(o *Options) { o.Segment = seg }, nil)
	if r.code != 0 || r.sum("iterations") != 0 {
		t.Fatalf("exit %d, %v iterations\n%s", r.code, r.sum("iterations"), r.stderr)
	}
	if !strings.Contains(r.stderr, "segment 1/3:2/3: no share in this segment (nothing to run)") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
}

// TestSetupOnce: with options.setupOnce and teardownOnce only the instance
// whose segment starts at 0 runs setup and teardown; the others' VUs get
// undefined. A whole run is not affected.
func TestSetupOnce(t *testing.T) {
	t.Parallel()
	src := prelude + `
export const options = { vus: 3, iterations: 3, setupOnce: true, teardownOnce: true };
export function setup() { console.log('setup ran'); return { queue: 'q' }; }
export default function (data) { console.log('data', JSON.stringify(data)); }
export function teardown(data) { console.log('teardown ran', JSON.stringify(data)); }`
	res := runSplit(t, src, []string{"0:1/3", "1/3:1"}, nil)
	first, rest := res[0], res[1]
	if first.code != 0 || rest.code != 0 {
		t.Fatalf("exit %d, %d\n%s\n%s", first.code, rest.code, first.stderr, rest.stderr)
	}
	if !strings.Contains(first.stdout, "setup ran") || !strings.Contains(first.stdout, `data {"queue":"q"}`) || !strings.Contains(first.stdout, `teardown ran {"queue":"q"}`) {
		t.Errorf("segment 0:1/3 stdout:\n%s", first.stdout)
	}
	if strings.Contains(rest.stdout, "setup ran") || strings.Contains(rest.stdout, "teardown ran") || strings.Count(rest.stdout, "data undefined") != 2 {
		t.Errorf("segment 1/3:1 stdout:\n%s", rest.stdout)
	}
	if !strings.Contains(rest.stderr, "setup() not run: options.setupOnce") || !strings.Contains(rest.stderr, "teardown() not run: options.teardownOnce") {
		t.Errorf("segment 1/3:1 stderr:\n%s", rest.stderr)
	}
	whole := run(t, src, nil, nil)
	if !strings.Contains(whole.stdout, "setup ran") || !strings.Contains(whole.stdout, "teardown ran") {
		t.Errorf("whole run stdout:\n%s", whole.stdout)
	}
}

// TestStartAt: the executor starts no earlier than --start-at; a late
// instance starts at once and says how late; Ctrl-C during the wait ends
// the run with 130 and no iteration.
func TestStartAt(t *testing.T) {
	t.Parallel()
	src := prelude + `
export const options = { vus: 2, iterations: 4 };
export default function () { perVU.add(1); }`
	t.Run("holds", func(t *testing.T) {
		t.Parallel()
		at := time.Now().Add(400 * time.Millisecond)
		r := run(t, src, func(o *Options) { o.StartAt = at; o.Progress = ProgressPlain }, nil)
		if r.code != 0 || r.sum("iterations") != 4 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if r.sc.started.Before(at) {
			t.Errorf("started %v before --start-at %v", r.sc.started, at)
		}
		if !strings.Contains(r.stderr, "waiting for the start at "+at.UTC().Format("2006-01-02T15:04:05.000Z")) || !strings.Contains(r.stderr, "2 VUs ready") {
			t.Errorf("no waiting line:\n%s", r.stderr)
		}
	})
	t.Run("late", func(t *testing.T) {
		t.Parallel()
		r := run(t, src, func(o *Options) { o.StartAt = time.Now().Add(-90 * time.Second) }, nil)
		if r.code != 0 || r.sum("iterations") != 4 || !strings.Contains(r.stderr, "this instance is 1m30") || !strings.Contains(r.stderr, "late; it starts now") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		t.Parallel()
		r := run(t, src, func(o *Options) { o.StartAt = time.Now().Add(time.Minute) }, func(sc *Scenario) {
			for sc.made.Load() < 2 { // the VUs are made: the wait has begun or is about to
				time.Sleep(10 * time.Millisecond)
			}
			sc.Interrupt()
		})
		if r.code != runtime.ExitInterrupted || r.sum("iterations") != 0 {
			t.Fatalf("exit %d, %v iterations\n%s", r.code, r.sum("iterations"), r.stderr)
		}
	})
}

// TestSegmentInRunLineAndProgress: the run line of the outputs and the
// progress name the segment; a whole run's run line has none.
func TestSegmentInRunLineAndProgress(t *testing.T) {
	t.Parallel()
	src := prelude + `
export const options = { vus: 2, iterations: 4 };
export default function () { perVU.add(1); }`
	seg, _ := segment.Parse("50%:100%")
	rec := &recorder{}
	r := run(t, src, func(o *Options) {
		o.Segment, o.Progress, o.Outputs = seg, ProgressPlain, []metrics.Output{rec}
	}, nil)
	if r.code != 0 || rec.info.Segment != "1/2:1" {
		t.Fatalf("exit %d, run line segment %q\n%s", r.code, rec.info.Segment, r.stderr)
	}
	if !strings.Contains(r.stderr, "0 errors, segment 1/2:1") || !strings.Contains(r.stderr, "segment 1/2:1: 2 of 4 iterations, 1 of 2 VUs") {
		t.Errorf("progress and summary:\n%s", r.stderr)
	}
	whole := &recorder{}
	if r := run(t, src, func(o *Options) { o.Outputs = []metrics.Output{whole} }, nil); r.code != 0 || whole.info.Segment != "" {
		t.Errorf("whole run: exit %d, segment %q", r.code, whole.info.Segment)
	}
}

// TestSegmentRunsOtherExecutors: per-vu-iterations, ramping-vus and
// ramping-arrival-rate split in three: per-VU iterations add up exactly,
// the ramping arrivals are the whole schedule (run or dropped) once, no
// instance runs more ramping VUs than its share, and no __VU is used twice.
func TestSegmentRunsOtherExecutors(t *testing.T) {
	t.Parallel()
	src := prelude + `
export const options = { scenarios: {
  pervu: { executor: 'per-vu-iterations', vus: 5, iterations: 3 },
  ramp: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '400ms', target: 7 }, { duration: '200ms', target: 0 }] },
  rar: { executor: 'ramping-arrival-rate', startRate: 0, preAllocatedVUs: 2, maxVUs: 6,
         stages: [{ duration: '500ms', target: 60 }, { duration: '500ms', target: 0 }] },
} };
export default async function () { perVU.add(1, { vu: String(__VU) }); await sleep(5); }`
	split := []string{"0:1/3", "1/3:2/3", "2/3:1"}
	res := runSplitOK(t, src, split)
	vusOwnedOnce(t, split, res)
	var pervu, rar, rampVUs float64
	for _, r := range res {
		pervu += r.series("iterations", map[string]string{"scenario": "pervu"}).Sum
		rar += arrivedOrDropped(r, "rar")
		for _, e := range r.sc.engines {
			if e.cfg.Name == "ramp" {
				rampVUs += float64(e.made.Load())
			}
		}
	}
	// 60/s at the peak, a triangle of 1 s: 30 arrivals.
	if pervu != 15 || rar != 30 || rampVUs != 7 {
		t.Errorf("per-VU iterations %v (want 15), ramping arrivals %v (want 30), ramping VUs made %v (want 7)", pervu, rar, rampVUs)
	}
}
