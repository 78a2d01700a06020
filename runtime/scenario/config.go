package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// The executors, in k6's vocabulary.
const (
	ConstantVUs         = "constant-vus"          // VUs iterate for a duration
	SharedIterations    = "shared-iterations"     // VUs share a number of iterations
	RampingVUs          = "ramping-vus"           // the number of VUs follows stages
	ConstantArrivalRate = "constant-arrival-rate" // iterations start at a rate, on a pool of VUs
	PerVUIterations     = "per-vu-iterations"     // each VU runs a number of iterations
	RampingArrivalRate  = "ramping-arrival-rate"  // the arrival rate follows stages
)

// executors lists the executors in the order error messages name them.
var executors = []string{ConstantVUs, RampingVUs, SharedIterations, PerVUIterations, ConstantArrivalRate, RampingArrivalRate}

// DefaultName is the name of the one scenario that the shorthand options
// (vus, duration, stages, rate, ...) describe.
const DefaultName = "default"

// Stage is one step of a ramping scenario: go linearly to Target (VUs, or
// for ramping-arrival-rate iterations per TimeUnit) over Duration.
type Stage struct {
	Duration time.Duration
	Target   int
}

// Config is a resolved scenario: its name, the executor and its parameters.
type Config struct {
	Name            string            // "default" for the shorthand options
	Exec            string            // the exported function its VUs run ("default")
	StartTime       time.Duration     // from the run's start to the scenario's
	Env             map[string]string // added to process.env of its VUs
	Tags            metrics.Tags      // added to every sample of its VUs (besides scenario)
	Executor        string
	VUs             int           // constant-vus, shared-iterations, per-vu-iterations; ramping-vus: start VUs
	Duration        time.Duration // constant-vus, constant-arrival-rate; shared-iterations, per-vu-iterations: max duration
	Iterations      int           // shared-iterations (in all), per-vu-iterations (per VU)
	Stages          []Stage       // ramping-vus, ramping-arrival-rate
	Rate            float64       // constant-arrival-rate: iterations per TimeUnit
	StartRate       float64       // ramping-arrival-rate: the rate before the first stage
	TimeUnit        time.Duration // arrival rates (1s)
	PreAllocatedVUs int           // arrival rates: VUs made before the start
	MaxVUs          int           // arrival rates: the pool's limit
	GracefulStop    time.Duration // time in-flight iterations get at the end before they are interrupted
}

// SampleTags are the tags of every sample the scenario's VUs record: its
// tags and scenario:name.
func (c *Config) SampleTags() metrics.Tags {
	return c.Tags.Merge(metrics.Tags{{Key: "scenario", Value: c.Name}})
}

// Plan is what a script's options ask for: one or more scenarios, run at
// once, and the thresholds.
type Plan struct {
	Scenarios  []*Config // declaration order
	Named      bool      // options.scenarios (else the shorthand options: one scenario, "default")
	Thresholds []metrics.ThresholdSpec
	// SetupOnce and TeardownOnce (options.setupOnce, options.teardownOnce):
	// in a run split between instances, only the instance whose segment
	// starts at 0 runs setup() (teardown()); no effect on a whole run.
	SetupOnce, TeardownOnce bool
}

// Total is the plan's scheduled length: the latest end of a scenario
// (start time and length, without gracefulStop).
func (p *Plan) Total() time.Duration {
	var d time.Duration
	for _, c := range p.Scenarios {
		d = max(d, c.StartTime+c.Total())
	}
	return d
}

// Total is the scheduled length of the scenario (without GracefulStop): the
// duration, the sum of the stages, or the iterations' maximum duration.
func (c *Config) Total() time.Duration {
	if c.Executor == RampingVUs || c.Executor == RampingArrivalRate {
		var d time.Duration
		for _, s := range c.Stages {
			d += s.Duration
		}
		return d
	}
	return c.Duration
}

// MaxActiveVUs is the largest number of VUs the scenario runs at once.
func (c *Config) MaxActiveVUs() int {
	switch c.Executor {
	case RampingVUs:
		n := c.VUs
		for _, s := range c.Stages {
			n = max(n, s.Target)
		}
		return n
	case ConstantArrivalRate, RampingArrivalRate:
		return c.MaxVUs
	}
	return c.VUs
}

// MaxRate is an arrival-rate scenario's highest rate (iterations per
// TimeUnit).
func (c *Config) MaxRate() float64 {
	if c.Executor != RampingArrivalRate {
		return c.Rate
	}
	r := c.StartRate
	for _, s := range c.Stages {
		r = max(r, float64(s.Target))
	}
	return r
}

// Flags names the flags that are set, as the command line spells them.
func (ov Overrides) Flags() []string {
	var f []string
	for _, o := range []struct {
		set  bool
		flag string
	}{
		{ov.VUs != nil, "--vus"},
		{ov.Duration != nil, "--duration"},
		{ov.Iterations != nil, "--iterations"},
		{ov.Stages != nil, "--stage"},
		{ov.Rate != nil, "--rate"},
		{ov.MaxVUs != nil, "--max-vus"},
	} {
		if o.set {
			f = append(f, o.flag)
		}
	}
	return f
}

// Overrides are the command line's flags; nil fields are not set.
type Overrides struct {
	VUs        *int
	Duration   *time.Duration
	Iterations *int
	Stages     []Stage
	Rate       *float64
	MaxVUs     *int
}

// options is the JSON shape of a script's `export const options`.
type options struct {
	Executor         string          `json:"executor"`
	VUs              *int            `json:"vus"`
	Duration         json.RawMessage `json:"duration"`
	Iterations       *int            `json:"iterations"`
	Stages           []stageJSON     `json:"stages"`
	StartVUs         *int            `json:"startVUs"`
	Rate             *float64        `json:"rate"`
	TimeUnit         json.RawMessage `json:"timeUnit"`
	PreAllocatedVUs  *int            `json:"preAllocatedVUs"`
	MaxVUs           *int            `json:"maxVUs"`
	MaxDuration      json.RawMessage `json:"maxDuration"`
	GracefulStop     json.RawMessage `json:"gracefulStop"`
	Thresholds       json.RawMessage `json:"thresholds"`
	SummaryTrendStat json.RawMessage `json:"summaryTrendStats"` // accepted, ignored
	Scenarios        json.RawMessage `json:"scenarios"`
	SetupOnce        *bool           `json:"setupOnce"`
	TeardownOnce     *bool           `json:"teardownOnce"`
}

type stageJSON struct {
	Duration json.RawMessage `json:"duration"`
	Target   *int            `json:"target"`
}

type thresholdObj struct {
	Threshold      string          `json:"threshold"`
	AbortOnFail    bool            `json:"abortOnFail"`
	DelayAbortEval json.RawMessage `json:"delayAbortEval"`
}

// ParseDuration reads k6's durations: a Go duration string ("30s",
// "1m30s", "500ms") or a number of milliseconds.
func ParseDuration(raw json.RawMessage) (time.Duration, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return msDuration(n)
		}
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 {
			return 0, fmt.Errorf("invalid duration %q (e.g. \"30s\", \"1m30s\", \"500ms\")", s)
		}
		return d, nil
	}
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, fmt.Errorf("invalid duration %s: want a string like \"30s\" or a number of milliseconds", raw)
	}
	return msDuration(n)
}

func msDuration(n float64) (time.Duration, error) {
	if n < 0 || math.IsNaN(n) || n > float64(math.MaxInt64/int64(time.Millisecond)) {
		return 0, fmt.Errorf("invalid duration %v ms", n)
	}
	return time.Duration(n * float64(time.Millisecond)), nil
}

// ParseStage reads the --stage flag's "DURATION:TARGET" (e.g. "10s:50").
func ParseStage(s string) (Stage, error) {
	d, t, ok := strings.Cut(s, ":")
	if !ok {
		return Stage{}, fmt.Errorf("invalid stage %q: want DURATION:TARGET, e.g. 10s:50", s)
	}
	dur, err := time.ParseDuration(strings.TrimSpace(d))
	if err != nil || dur < 0 {
		return Stage{}, fmt.Errorf("invalid stage %q: bad duration %q", s, d)
	}
	n, err := strconv.Atoi(strings.TrimSpace(t))
	if err != nil || n < 0 {
		return Stage{}, fmt.Errorf("invalid stage %q: bad target %q", s, t)
	}
	return Stage{Duration: dur, Target: n}, nil
}

// ConfigError is an invalid `options` export or flag: the run does not
// start (exit code 2).
type ConfigError struct{ Msg string }

// Error returns "options: " and the message.
func (e *ConfigError) Error() string { return "options: " + e.Msg }

func configErr(format string, args ...any) error {
	return &ConfigError{Msg: fmt.Sprintf(format, args...)}
}

// Resolve builds the Plan from the script's options (JSON, may be empty)
// and the flags. With options.scenarios, each entry is a scenario (see
// parseScenarios) and the flags, which are for the shorthand options, are
// an error. Otherwise the shorthand options make one scenario, "default",
// and the flags win; a flag among duration, iterations, stages and rate
// replaces all four of the options. The executor follows k6's shortcuts
// when options do not name one: stages → ramping-vus; rate → constant-
// arrival-rate; iterations → shared-iterations (duration is then its
// maximum); duration → constant-vus; nothing → one VU, one iteration.
func Resolve(optionsJSON []byte, ov Overrides) (*Plan, error) {
	var o options
	if len(bytes.TrimSpace(optionsJSON)) > 0 && string(bytes.TrimSpace(optionsJSON)) != "null" {
		dec := json.NewDecoder(bytes.NewReader(optionsJSON))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
				return nil, configErr("unknown option %s (expected one of: scenarios, executor, vus, duration, iterations, stages, startVUs, rate, timeUnit, preAllocatedVUs, maxVUs, maxDuration, gracefulStop, thresholds, setupOnce, teardownOnce)", name)
			}
			return nil, configErr("%s", strings.TrimPrefix(msg, "json: "))
		}
	}
	thresholds, err := resolveThresholds(o.Thresholds)
	if err != nil {
		return nil, err
	}
	if raw := bytes.TrimSpace(o.Scenarios); len(raw) > 0 && string(raw) != "null" {
		if shorthand := o.shorthandSet(); len(shorthand) > 0 {
			return nil, configErr("scenarios: cannot be combined with the shorthand option%s %s (move %s into a scenario)", plural(len(shorthand)), strings.Join(shorthand, ", "), map[bool]string{true: "them", false: "it"}[len(shorthand) > 1])
		}
		if flags := ov.Flags(); len(flags) > 0 {
			return nil, configErr("%s set%s the shorthand options (one scenario) only; this script has options.scenarios: change the scenarios in the script instead", strings.Join(flags, ", "), map[bool]string{true: "", false: "s"}[len(flags) > 1])
		}
		scs, err := parseScenarios(raw)
		if err != nil {
			return nil, err
		}
		return &Plan{Scenarios: scs, Named: true, Thresholds: thresholds, SetupOnce: isTrue(o.SetupOnce), TeardownOnce: isTrue(o.TeardownOnce)}, nil
	}
	c, err := resolveShorthand(&o, ov)
	if err != nil {
		return nil, err
	}
	return &Plan{Scenarios: []*Config{c}, Thresholds: thresholds, SetupOnce: isTrue(o.SetupOnce), TeardownOnce: isTrue(o.TeardownOnce)}, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// shorthandSet names the shorthand options that o sets.
func (o *options) shorthandSet() []string {
	var names []string
	add := func(name string, set bool) {
		if set {
			names = append(names, name)
		}
	}
	add("executor", o.Executor != "")
	add("vus", o.VUs != nil)
	add("duration", o.Duration != nil)
	add("iterations", o.Iterations != nil)
	add("stages", o.Stages != nil)
	add("startVUs", o.StartVUs != nil)
	add("rate", o.Rate != nil)
	add("timeUnit", o.TimeUnit != nil)
	add("preAllocatedVUs", o.PreAllocatedVUs != nil)
	add("maxVUs", o.MaxVUs != nil)
	add("maxDuration", o.MaxDuration != nil)
	add("gracefulStop", o.GracefulStop != nil)
	return names
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func resolveThresholds(raw json.RawMessage) ([]metrics.ThresholdSpec, error) {
	keys, values, err := orderedObject(raw)
	if err != nil {
		return nil, configErr("thresholds: must be an object of metric → thresholds")
	}
	var out []metrics.ThresholdSpec
	for i, key := range keys {
		specs, err := parseThresholds(key, values[i])
		if err != nil {
			return nil, err
		}
		out = append(out, specs...)
	}
	return out, nil
}

// resolveShorthand is the one scenario of the shorthand options and flags.
func resolveShorthand(o *options, ov Overrides) (*Config, error) {
	c := &Config{Name: DefaultName, Exec: "default", TimeUnit: time.Second, GracefulStop: 30 * time.Second}
	var err error
	if c.Duration, err = ParseDuration(o.Duration); err != nil {
		return nil, configErr("duration: %v", err)
	}
	if o.MaxDuration != nil {
		if c.Duration, err = ParseDuration(o.MaxDuration); err != nil {
			return nil, configErr("maxDuration: %v", err)
		}
	}
	if o.TimeUnit != nil {
		if c.TimeUnit, err = ParseDuration(o.TimeUnit); err != nil || c.TimeUnit <= 0 {
			return nil, configErr("timeUnit: must be a positive duration")
		}
	}
	if o.GracefulStop != nil {
		if c.GracefulStop, err = ParseDuration(o.GracefulStop); err != nil {
			return nil, configErr("gracefulStop: %v", err)
		}
	}
	for i, s := range o.Stages {
		d, err := ParseDuration(s.Duration)
		if err != nil {
			return nil, configErr("stages[%d].duration: %v", i, err)
		}
		if s.Target == nil || *s.Target < 0 {
			return nil, configErr("stages[%d].target: must be a number of VUs ≥ 0", i)
		}
		c.Stages = append(c.Stages, Stage{Duration: d, Target: *s.Target})
	}
	vus, vusSet := 1, false
	if o.VUs != nil {
		vus, vusSet = *o.VUs, true
	}
	iterations := 0
	if o.Iterations != nil {
		iterations = *o.Iterations
	}
	var rate float64
	if o.Rate != nil {
		rate = *o.Rate
	}
	maxVUs, maxSet := 0, false
	if o.MaxVUs != nil {
		maxVUs, maxSet = *o.MaxVUs, true
	}
	// Flags override. Like k6, a flag that sets how long the run is
	// (duration, iterations, stages, rate) replaces all of those from the
	// options, so that --duration 1m runs a minute whatever the script says.
	flagExecutor := ov.Stages != nil || ov.Rate != nil || ov.Iterations != nil || ov.Duration != nil
	if flagExecutor {
		c.Duration, iterations, c.Stages, rate = 0, 0, nil, 0
	}
	if ov.VUs != nil {
		vus, vusSet = *ov.VUs, true
	}
	if ov.Duration != nil {
		c.Duration = *ov.Duration
	}
	if ov.Iterations != nil {
		iterations = *ov.Iterations
	}
	if ov.Stages != nil {
		c.Stages = ov.Stages
	}
	if ov.Rate != nil {
		rate = *ov.Rate
	}
	if ov.MaxVUs != nil {
		maxVUs, maxSet = *ov.MaxVUs, true
	}
	if vus < 0 || (vusSet && vus == 0 && len(c.Stages) == 0) {
		return nil, configErr("vus: must be at least 1")
	}
	if iterations < 0 {
		return nil, configErr("iterations: must be at least 1")
	}
	if rate < 0 || math.IsNaN(rate) {
		return nil, configErr("rate: must be positive")
	}

	c.Executor = o.Executor
	if c.Executor == "" || flagExecutor {
		switch {
		case len(c.Stages) > 0:
			c.Executor = RampingVUs
		case rate > 0:
			c.Executor = ConstantArrivalRate
		case iterations > 0:
			c.Executor = SharedIterations
		case c.Duration > 0:
			c.Executor = ConstantVUs
		default:
			c.Executor, iterations = SharedIterations, 1
		}
	}
	switch c.Executor {
	case ConstantVUs:
		if c.Duration <= 0 {
			return nil, configErr("%s needs a duration", ConstantVUs)
		}
		c.VUs = vus
	case SharedIterations:
		if iterations <= 0 {
			iterations = 1
		}
		c.Iterations = iterations
		c.VUs = min(vus, iterations)
		if c.Duration <= 0 {
			c.Duration = 10 * time.Minute
		}
	case PerVUIterations:
		if iterations <= 0 {
			iterations = 1
		}
		c.Iterations, c.VUs = iterations, vus
		if c.Duration <= 0 {
			c.Duration = 10 * time.Minute
		}
	case RampingVUs:
		if len(c.Stages) == 0 {
			return nil, configErr("%s needs stages", RampingVUs)
		}
		c.VUs = 1
		if o.StartVUs != nil {
			c.VUs = *o.StartVUs
		} else if vusSet {
			c.VUs = vus
		}
		if c.VUs < 0 {
			return nil, configErr("startVUs: must be ≥ 0")
		}
		if c.MaxActiveVUs() == 0 {
			return nil, configErr("%s: every stage targets 0 VUs", RampingVUs)
		}
	case ConstantArrivalRate:
		if rate <= 0 {
			return nil, configErr("%s needs a rate (iterations per timeUnit)", ConstantArrivalRate)
		}
		if c.Duration <= 0 {
			return nil, configErr("%s needs a duration", ConstantArrivalRate)
		}
		c.Rate = rate
		c.PreAllocatedVUs = 1
		if o.PreAllocatedVUs != nil {
			c.PreAllocatedVUs = *o.PreAllocatedVUs
		} else if vusSet {
			c.PreAllocatedVUs = vus
		}
		c.MaxVUs = max(c.PreAllocatedVUs, 100)
		if maxSet {
			c.MaxVUs = maxVUs
		}
		if c.MaxVUs < 1 || c.PreAllocatedVUs < 0 {
			return nil, configErr("maxVUs: must be at least 1 (and preAllocatedVUs ≥ 0)")
		}
		c.PreAllocatedVUs = min(c.PreAllocatedVUs, c.MaxVUs)
		c.VUs = c.PreAllocatedVUs
	default:
		return nil, configErr("unknown executor %q (the shorthand options take one of: %s, %s, %s, %s, %s; %s needs options.scenarios)", c.Executor, ConstantVUs, SharedIterations, PerVUIterations, RampingVUs, ConstantArrivalRate, RampingArrivalRate)
	}
	return c, nil
}

// orderedObject splits a JSON object into its keys and values in
// declaration order (the order the summary reports thresholds in).
func orderedObject(raw json.RawMessage) ([]string, []json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil, fmt.Errorf("not an object")
	}
	var keys []string
	var values []json.RawMessage
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil, err
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil, err
		}
		keys = append(keys, t.(string))
		values = append(values, v)
	}
	return keys, values, nil
}

// parseThresholds reads one `thresholds` entry: a string, or an array of
// strings and {threshold, abortOnFail, delayAbortEval} objects.
func parseThresholds(key string, raw json.RawMessage) ([]metrics.ThresholdSpec, error) {
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		list = []json.RawMessage{raw}
	}
	var out []metrics.ThresholdSpec
	for _, item := range list {
		sp := metrics.ThresholdSpec{Selector: key}
		var s string
		if err := json.Unmarshal(item, &s); err == nil {
			sp.Source = s
		} else {
			var obj thresholdObj
			dec := json.NewDecoder(bytes.NewReader(item))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&obj); err != nil || obj.Threshold == "" {
				return nil, configErr("thresholds[%q]: each threshold is a string like \"p(95)<200\" or {threshold, abortOnFail, delayAbortEval}", key)
			}
			sp.Source, sp.AbortOnFail = obj.Threshold, obj.AbortOnFail
			if sp.DelayAbortEval, err = ParseDuration(obj.DelayAbortEval); err != nil {
				return nil, configErr("thresholds[%q].delayAbortEval: %v", key, err)
			}
		}
		if _, err := metrics.ParseCondition(sp.Source); err != nil {
			return nil, configErr("thresholds[%q]: %v", key, err)
		}
		if _, _, err := metrics.ParseSelector(key); err != nil {
			return nil, configErr("thresholds: %v", err)
		}
		out = append(out, sp)
	}
	return out, nil
}
