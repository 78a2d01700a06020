package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// Named scenarios: options.scenarios = { name: { executor, ... } }.

// commonKeys are the keys every scenario takes.
var commonKeys = []string{"executor", "exec", "startTime", "gracefulStop", "env", "tags"}

// executorKeys are the keys of each executor's options.
var executorKeys = map[string][]string{
	ConstantVUs:         {"vus", "duration"},
	RampingVUs:          {"startVUs", "stages"},
	SharedIterations:    {"vus", "iterations", "maxDuration"},
	PerVUIterations:     {"vus", "iterations", "maxDuration"},
	ConstantArrivalRate: {"rate", "timeUnit", "duration", "preAllocatedVUs", "maxVUs"},
	RampingArrivalRate:  {"startRate", "timeUnit", "stages", "preAllocatedVUs", "maxVUs"},
}

// ScenarioKeys lists every key a scenario of options.scenarios may have
// (which of them an executor takes is in its documentation), sorted.
func ScenarioKeys() []string {
	seen := map[string]bool{}
	var keys []string
	for _, list := range append([][]string{commonKeys}, executorKeys[ConstantVUs], executorKeys[RampingVUs], executorKeys[SharedIterations],
		executorKeys[PerVUIterations], executorKeys[ConstantArrivalRate], executorKeys[RampingArrivalRate]) {
		for _, k := range list {
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

// scenarioNameRE is what a scenario's name may be: it is the value of
// the scenario tag, and thresholds spell it in `metric{scenario:name}`.
var scenarioNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// identRE is a JavaScript identifier (ASCII), what exec names.
var identRE = regexp.MustCompile(`^[A-Za-z_$][A-Za-z0-9_$]*$`)

// parseScenarios reads options.scenarios: an object of name → scenario,
// at least one. Every error names the scenario and the key.
func parseScenarios(raw json.RawMessage) ([]*Config, error) {
	names, values, err := orderedObject(raw)
	if err != nil {
		return nil, configErr("scenarios: must be an object of name → { executor, ... }")
	}
	if len(names) == 0 {
		return nil, configErr("scenarios: no scenario (give at least one, e.g. { default: { executor: 'constant-vus', vus: 1, duration: '10s' } })")
	}
	seen := map[string]string{} // lower-cased name → name
	var out []*Config
	for i, name := range names {
		if !scenarioNameRE.MatchString(name) {
			return nil, configErr("scenarios: invalid name %q: use letters, digits, '_' and '-' (at most 64)", name)
		}
		if prev, dup := seen[strings.ToLower(name)]; dup {
			if prev == name {
				return nil, configErr("scenarios.%s: the name is used twice", name)
			}
			return nil, configErr("scenarios.%s: the name overlaps scenario %q (names differ only in case; they tag samples as scenario:NAME)", name, prev)
		}
		seen[strings.ToLower(name)] = name
		c, err := parseScenario(name, values[i])
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// parseScenario reads one scenario. Defaults: exec "default", startTime 0,
// gracefulStop 30s, vus 1, iterations 1, maxDuration 10m, startVUs 1,
// startRate 0, timeUnit 1s, preAllocatedVUs 1, maxVUs max(preAllocatedVUs,
// 100) (as the shorthand options). duration (constant-vus, constant-
// arrival-rate), stages (ramping) and rate (constant-arrival-rate) are
// required.
func parseScenario(name string, raw json.RawMessage) (*Config, error) {
	keys, values, err := orderedObject(raw)
	if err != nil {
		return nil, configErr("scenarios.%s: must be an object { executor, ... }", name)
	}
	fail := func(key, format string, args ...any) error {
		return configErr("scenarios.%s.%s: %s", name, key, fmt.Sprintf(format, args...))
	}
	v := map[string]json.RawMessage{}
	for i, k := range keys {
		if _, dup := v[k]; dup {
			return nil, fail(k, "given twice")
		}
		v[k] = values[i]
	}
	var executor string
	if r, ok := v["executor"]; !ok {
		return nil, fail("executor", "missing (one of: %s)", strings.Join(executors, ", "))
	} else if json.Unmarshal(r, &executor) != nil {
		return nil, fail("executor", "must be a string (one of: %s)", strings.Join(executors, ", "))
	}
	own, known := executorKeys[executor]
	if !known {
		return nil, fail("executor", "unknown executor %q (expected one of: %s)", executor, strings.Join(executors, ", "))
	}
	for _, k := range keys {
		if !contains(commonKeys, k) && !contains(own, k) {
			return nil, configErr("scenarios.%s: unknown key %q for %s (it takes: %s)", name, k, executor, strings.Join(append(append([]string(nil), commonKeys...), own...), ", "))
		}
	}

	c := &Config{Name: name, Executor: executor, Exec: "default", TimeUnit: time.Second, GracefulStop: 30 * time.Second}
	str := func(key string) (string, bool, error) {
		r, ok := v[key]
		if !ok || isNull(r) {
			return "", false, nil
		}
		var s string
		if json.Unmarshal(r, &s) != nil {
			return "", false, fail(key, "must be a string, got %s", r)
		}
		return s, true, nil
	}
	dur := func(key string, dst *time.Duration) (bool, error) {
		r, ok := v[key]
		if !ok || isNull(r) {
			return false, nil
		}
		d, err := ParseDuration(r)
		if err != nil {
			return false, fail(key, "%v", err)
		}
		*dst = d
		return true, nil
	}
	// num reads a number that valid accepts; want says what that is.
	num := func(key string, valid func(float64) bool, want string) (float64, bool, error) {
		r, ok := v[key]
		if !ok || isNull(r) {
			return 0, false, nil
		}
		var f float64
		if json.Unmarshal(r, &f) != nil || !valid(f) {
			return 0, false, fail(key, "must be %s, got %s", want, r)
		}
		return f, true, nil
	}
	integer := func(key string, dst *int, least int) (bool, error) {
		f, ok, err := num(key, func(f float64) bool {
			return f == math.Trunc(f) && f >= float64(least) && f <= math.MaxInt32
		}, fmt.Sprintf("a whole number ≥ %d", least))
		if ok {
			*dst = int(f)
		}
		return ok, err
	}
	number := func(key string, dst *float64, positive bool) (bool, error) {
		want := "a number ≥ 0"
		if positive {
			want = "a positive number"
		}
		f, ok, err := num(key, func(f float64) bool {
			return !math.IsNaN(f) && !math.IsInf(f, 0) && f >= 0 && !(positive && f == 0)
		}, want)
		if ok {
			*dst = f
		}
		return ok, err
	}
	strMap := func(key string) (map[string]string, error) {
		r, ok := v[key]
		if !ok || isNull(r) {
			return nil, nil
		}
		ks, vs, err := orderedObject(r)
		if err != nil {
			return nil, fail(key, "must be an object of strings")
		}
		m := make(map[string]string, len(ks))
		for i, k := range ks {
			var s string
			if json.Unmarshal(vs[i], &s) != nil {
				return nil, fail(key, "%q must be a string, got %s", k, vs[i])
			}
			m[k] = s
		}
		return m, nil
	}

	if s, ok, err := str("exec"); err != nil {
		return nil, err
	} else if ok {
		if !identRE.MatchString(s) {
			return nil, fail("exec", "must name an exported function, got %q", s)
		}
		c.Exec = s
	}
	if _, err := dur("startTime", &c.StartTime); err != nil {
		return nil, err
	}
	if _, err := dur("gracefulStop", &c.GracefulStop); err != nil {
		return nil, err
	}
	if c.Env, err = strMap("env"); err != nil {
		return nil, err
	}
	tags, err := strMap("tags")
	if err != nil {
		return nil, err
	}
	if _, has := tags["scenario"]; has {
		return nil, fail("tags", "the scenario tag is the scenario's name; it cannot be set")
	}
	for k := range tags {
		if !metrics.ValidName(k) {
			return nil, fail("tags", "invalid tag name %q (letters, digits and underscores)", k)
		}
	}
	c.Tags = metrics.NewTags(tags)

	stages := func(what string) error {
		r, ok := v["stages"]
		if !ok || isNull(r) {
			return fail("stages", "missing: %s needs stages [{ duration, target }]", executor)
		}
		var list []stageJSON
		if json.Unmarshal(r, &list) != nil {
			return fail("stages", "must be an array of { duration, target }")
		}
		if len(list) == 0 {
			return fail("stages", "empty: %s needs at least one stage", executor)
		}
		for i, st := range list {
			d, err := ParseDuration(st.Duration)
			if err != nil {
				return fail(fmt.Sprintf("stages[%d].duration", i), "%v", err)
			}
			if st.Target == nil || *st.Target < 0 {
				return fail(fmt.Sprintf("stages[%d].target", i), "must be a number of %s ≥ 0", what)
			}
			c.Stages = append(c.Stages, Stage{Duration: d, Target: *st.Target})
		}
		return nil
	}
	required := func(key string, set bool) error {
		if !set {
			return fail(key, "missing: %s needs %s", executor, key)
		}
		return nil
	}
	c.VUs, c.Iterations = 1, 1
	switch executor {
	case ConstantVUs:
		if _, err := integer("vus", &c.VUs, 1); err != nil {
			return nil, err
		}
		set, err := dur("duration", &c.Duration)
		if err != nil {
			return nil, err
		}
		if err := required("duration", set && c.Duration > 0); err != nil {
			return nil, err
		}
	case SharedIterations, PerVUIterations:
		c.Duration = 10 * time.Minute
		if _, err := integer("vus", &c.VUs, 1); err != nil {
			return nil, err
		}
		if _, err := integer("iterations", &c.Iterations, 1); err != nil {
			return nil, err
		}
		if _, err := dur("maxDuration", &c.Duration); err != nil {
			return nil, err
		}
		if c.Duration <= 0 {
			return nil, fail("maxDuration", "must be positive")
		}
		if executor == SharedIterations {
			c.VUs = min(c.VUs, c.Iterations)
		}
	case RampingVUs:
		if _, err := integer("startVUs", &c.VUs, 0); err != nil {
			return nil, err
		}
		if err := stages("VUs"); err != nil {
			return nil, err
		}
		if c.MaxActiveVUs() == 0 {
			return nil, fail("stages", "every stage targets 0 VUs")
		}
	case ConstantArrivalRate, RampingArrivalRate:
		if executor == ConstantArrivalRate {
			set, err := number("rate", &c.Rate, true)
			if err != nil {
				return nil, err
			}
			if err := required("rate", set); err != nil {
				return nil, err
			}
			set, err = dur("duration", &c.Duration)
			if err != nil {
				return nil, err
			}
			if err := required("duration", set && c.Duration > 0); err != nil {
				return nil, err
			}
		} else {
			if _, err := number("startRate", &c.StartRate, false); err != nil {
				return nil, err
			}
			if err := stages("iterations per timeUnit"); err != nil {
				return nil, err
			}
			if c.MaxRate() == 0 {
				return nil, fail("stages", "every stage targets a rate of 0 (and startRate is 0)")
			}
		}
		if set, err := dur("timeUnit", &c.TimeUnit); err != nil {
			return nil, err
		} else if set && c.TimeUnit <= 0 {
			return nil, fail("timeUnit", "must be a positive duration")
		}
		c.PreAllocatedVUs = 1
		if _, err := integer("preAllocatedVUs", &c.PreAllocatedVUs, 0); err != nil {
			return nil, err
		}
		c.MaxVUs = max(c.PreAllocatedVUs, 100)
		if _, err := integer("maxVUs", &c.MaxVUs, 1); err != nil {
			return nil, err
		}
		if c.MaxVUs < c.PreAllocatedVUs {
			return nil, fail("maxVUs", "%d is fewer than preAllocatedVUs (%d)", c.MaxVUs, c.PreAllocatedVUs)
		}
		c.VUs = c.PreAllocatedVUs
	}
	return c, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func isNull(r json.RawMessage) bool {
	r = bytes.TrimSpace(r)
	return len(r) == 0 || string(r) == "null"
}

// checkExec verifies that every scenario's exec names one of funcs, the
// functions the script exports.
func (p *Plan) checkExec(funcs []string) error {
	for _, c := range p.Scenarios {
		if contains(funcs, c.Exec) {
			continue
		}
		exports := "none"
		if len(funcs) > 0 {
			exports = strings.Join(funcs, ", ")
		}
		return configErr("scenarios.%s.exec: the script exports no function %q (its exported functions: %s)", c.Name, c.Exec, exports)
	}
	return nil
}

// checkThresholdScenarios verifies that a threshold's scenario tag names a
// scenario of the plan (a misspelt one would see no samples and pass or
// fail on nothing).
func (p *Plan) checkThresholdScenarios() error {
	var names []string
	for _, c := range p.Scenarios {
		names = append(names, c.Name)
	}
	for _, th := range p.Thresholds {
		_, tags, err := metrics.ParseSelector(th.Selector)
		if err != nil {
			continue // reported by AddThresholds
		}
		if v, ok := tags.Get("scenario"); ok && !contains(names, v) {
			return configErr("thresholds[%q]: there is no scenario %q (scenarios: %s)", th.Selector, v, strings.Join(names, ", "))
		}
	}
	return nil
}
