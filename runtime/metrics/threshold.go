package metrics

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Aggregation is what a threshold compares: avg, min, max, med, p(N),
// count, rate or value.
type Aggregation struct {
	Method string  // "avg", "min", "max", "med", "p", "count", "rate", "value"
	P      float64 // for "p"
}

// String returns the aggregation as a threshold spells it ("avg", "p(95)").
func (a Aggregation) String() string {
	if a.Method == "p" {
		return "p(" + strconv.FormatFloat(a.P, 'f', -1, 64) + ")"
	}
	return a.Method
}

// methodsByKind lists the aggregations each kind of metric supports.
var methodsByKind = map[Kind][]string{
	Counter: {"count", "rate"},
	Gauge:   {"value", "min", "max"},
	Rate:    {"rate"},
	Trend:   {"avg", "min", "max", "med", "p(N)", "count"},
}

func (a Aggregation) validFor(k Kind) bool {
	name := a.Method
	if name == "p" {
		name = "p(N)"
	}
	for _, m := range methodsByKind[k] {
		if m == name {
			return true
		}
	}
	return false
}

// Value computes the aggregation over st. elapsed is the run's duration so
// far (a counter's rate is per second).
func (a Aggregation) Value(st Stats, elapsed time.Duration) float64 {
	switch st.Kind {
	case Counter:
		if a.Method == "rate" {
			return st.PerSecond(elapsed)
		}
		return st.Sum
	case Gauge:
		switch a.Method {
		case "min":
			return st.Min
		case "max":
			return st.Max
		}
		return st.Value
	case Rate:
		return st.RateValue()
	case Trend:
		switch a.Method {
		case "avg":
			return st.Avg()
		case "min":
			return st.Min
		case "max":
			return st.Max
		case "med":
			return st.Percentile(50)
		case "p":
			return st.Percentile(a.P)
		case "count":
			return float64(st.Count)
		}
	}
	return math.NaN()
}

// Condition is one parsed threshold expression such as "p(95)<200".
type Condition struct {
	Agg    Aggregation
	Op     string // < <= > >= == !=
	Target float64
}

var condRE = regexp.MustCompile(`^\s*(avg|min|max|med|count|rate|value|p\(\s*([0-9]+(?:\.[0-9]+)?)\s*\))\s*(<=|>=|==|!=|<|>)\s*(-?[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?)\s*$`)

// ParseCondition parses k6's threshold syntax: an aggregation method (avg
// min max med p(N) count rate value), an operator (< <= > >= == !=) and a
// number.
func ParseCondition(src string) (Condition, error) {
	m := condRE.FindStringSubmatch(src)
	if m == nil {
		return Condition{}, fmt.Errorf("invalid threshold %q: want <method> <op> <number>, where method is avg, min, max, med, p(N), count, rate or value and op is <, <=, >, >=, == or !=", src)
	}
	var c Condition
	if m[2] != "" {
		p, _ := strconv.ParseFloat(m[2], 64)
		if p < 0 || p > 100 {
			return Condition{}, fmt.Errorf("invalid threshold %q: the percentile must be between 0 and 100", src)
		}
		c.Agg = Aggregation{Method: "p", P: p}
	} else {
		c.Agg = Aggregation{Method: m[1]}
	}
	c.Op = m[3]
	c.Target, _ = strconv.ParseFloat(m[4], 64)
	return c, nil
}

// Holds reports whether value satisfies the condition.
func (c Condition) Holds(value float64) bool {
	switch c.Op {
	case "<":
		return value < c.Target
	case "<=":
		return value <= c.Target
	case ">":
		return value > c.Target
	case ">=":
		return value >= c.Target
	case "==":
		return value == c.Target
	case "!=":
		return value != c.Target
	}
	return false
}

// ParseSelector splits a threshold key "metric{tag:value,tag2:value2}" into
// the metric name and its tag filter.
func ParseSelector(key string) (string, Tags, error) {
	key = strings.TrimSpace(key)
	name, rest, hasTags := strings.Cut(key, "{")
	name = strings.TrimSpace(name)
	if !ValidName(name) {
		return "", nil, fmt.Errorf("invalid threshold metric %q", key)
	}
	if !hasTags {
		return name, nil, nil
	}
	if !strings.HasSuffix(rest, "}") {
		return "", nil, fmt.Errorf("invalid threshold metric %q: missing '}'", key)
	}
	rest = strings.TrimSuffix(rest, "}")
	m := map[string]string{}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(part, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return "", nil, fmt.Errorf("invalid threshold metric %q: tags are written {tag:value,...}", key)
		}
		m[k] = strings.TrimSpace(v)
	}
	return name, NewTags(m), nil
}

// ThresholdSpec is one threshold as a script declares it.
type ThresholdSpec struct {
	Selector       string        // "metric" or "metric{tag:value}"
	Source         string        // "p(95)<200"
	AbortOnFail    bool          // stop the run as soon as it fails
	DelayAbortEval time.Duration // don't abort before this much of the run
}

// Threshold is a parsed, registered threshold.
type Threshold struct {
	ThresholdSpec
	Metric string
	Tags   Tags
	Cond   Condition

	series *Series
	// results of the last evaluation
	Evaluated bool
	OK        bool
	Value     float64
}

// AddThresholds parses and registers specs. Every metric named must exist
// already (register built-ins and let the script create its own first) and
// support the aggregation. The first error is returned and nothing is
// registered.
func (r *Registry) AddThresholds(specs []ThresholdSpec) error {
	var out []*Threshold
	for _, sp := range specs {
		name, tags, err := ParseSelector(sp.Selector)
		if err != nil {
			return err
		}
		cond, err := ParseCondition(sp.Source)
		if err != nil {
			return fmt.Errorf("%s: %w", sp.Selector, err)
		}
		m := r.Get(name)
		if m == nil {
			return fmt.Errorf("threshold on %q: no metric named %q", sp.Selector, name)
		}
		if !cond.Agg.validFor(m.Kind) {
			return fmt.Errorf("threshold %q on %q: %s is a %s, whose thresholds use %s", sp.Source, sp.Selector, name, m.Kind, strings.Join(methodsByKind[m.Kind], ", "))
		}
		out = append(out, &Threshold{ThresholdSpec: sp, Metric: name, Tags: tags, Cond: cond})
	}
	for _, t := range out {
		t.series = r.Get(t.Metric).Filter(t.Tags)
	}
	r.mu.Lock()
	r.thresh = append(r.thresh, out...)
	r.mu.Unlock()
	return nil
}

// Thresholds returns the registered thresholds in declaration order.
func (r *Registry) Thresholds() []*Threshold {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return append([]*Threshold(nil), r.thresh...)
}

// EvalThresholds evaluates every threshold over the run so far. failed is
// true when any fails; abort when one that fails has abortOnFail and elapsed
// is past its delayAbortEval. A threshold whose series has no sample yet is
// evaluated on zero values, as k6 does. Not concurrently with itself.
func (r *Registry) EvalThresholds(elapsed time.Duration) (failed, abort bool) {
	for _, t := range r.Thresholds() {
		t.Value = t.Cond.Agg.Value(t.series.Stats(), elapsed)
		t.OK = t.Cond.Holds(t.Value)
		t.Evaluated = true
		if !t.OK {
			failed = true
			if t.AbortOnFail && elapsed >= t.DelayAbortEval {
				abort = true
			}
		}
	}
	return failed, abort
}
