// Package metrics is the measurement side of amqpjs's load and test
// scenarios: a [Registry] of named metrics shared by every virtual user of a
// run, k6-style thresholds over them, a per-second time series and the end
// summary. It knows nothing of JavaScript or AMQP.
//
// # Kinds
//
// A [Counter] sums its values (count = the sum, rate = the sum per second);
// a [Gauge] keeps its last value (and min, max); a [Rate] counts the share of
// non-zero values; a [Trend] keeps count, sum, min, max and a bounded-memory
// HdrHistogram for percentiles.
//
// A metric with a set of tags is a sub-series: its samples also count in the
// metric's untagged root series, and in every tag filter (a threshold on
// `metric{tag:value}`) whose tags they contain. The root of a counter or a
// rate adds its sub-series up when it is read, so that a tagged sample
// costs what an untagged one does (a scenario run tags every sample);
// trends and gauges record into the root as they go.
//
// # Concurrency
//
// Everything here is safe for concurrent use. The hot path, [Series.Add], is
// lock-free for counters, gauges and rates (atomics) and takes one short
// per-series lock for trends. Callers resolve a [Series] once (a handle) and
// keep it; [Metric.Series] with tags takes the metric's read lock and a map
// lookup.
package metrics

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is the kind of a metric.
type Kind uint8

// The kinds of metric.
const (
	Counter Kind = iota + 1
	Gauge
	Rate
	Trend
)

// String returns the kind's name as scripts and summaries spell it.
func (k Kind) String() string {
	switch k {
	case Counter:
		return "counter"
	case Gauge:
		return "gauge"
	case Rate:
		return "rate"
	case Trend:
		return "trend"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ValueType says what a metric's values are, for display.
type ValueType uint8

// The value types.
const (
	Default ValueType = iota
	Time              // milliseconds
	Data              // bytes
)

// String returns the value type's name.
func (t ValueType) String() string {
	switch t {
	case Time:
		return "time"
	case Data:
		return "data"
	}
	return "default"
}

// Tag is one key:value pair of a series.
type Tag struct{ Key, Value string }

// Tags is a canonical tag set: sorted by key, keys unique.
type Tags []Tag

// NewTags makes a canonical tag set from a map.
func NewTags(m map[string]string) Tags {
	if len(m) == 0 {
		return nil
	}
	t := make(Tags, 0, len(m))
	for k, v := range m {
		t = append(t, Tag{k, v})
	}
	sort.Slice(t, func(i, j int) bool { return t[i].Key < t[j].Key })
	return t
}

// String renders the set as k6 writes it: "{k:v,k2:v2}"; "" when empty.
func (t Tags) String() string {
	if len(t) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteByte('{')
	for i, tg := range t {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(tg.Key)
		b.WriteByte(':')
		b.WriteString(tg.Value)
	}
	b.WriteByte('}')
	return b.String()
}

// Map returns the tags as a map (empty, never nil).
func (t Tags) Map() map[string]string {
	m := make(map[string]string, len(t))
	for _, tg := range t {
		m[tg.Key] = tg.Value
	}
	return m
}

// Merge returns t with the tags of o added; o's value wins for a key in
// both. t and o are not changed.
func (t Tags) Merge(o Tags) Tags {
	if len(o) == 0 {
		return t
	}
	if len(t) == 0 {
		return o
	}
	out := make(Tags, 0, len(t)+len(o))
	i, j := 0, 0
	for i < len(t) || j < len(o) {
		switch {
		case j == len(o) || (i < len(t) && t[i].Key < o[j].Key):
			out = append(out, t[i])
			i++
		case i == len(t) || o[j].Key < t[i].Key:
			out = append(out, o[j])
			j++
		default: // same key
			out = append(out, o[j])
			i++
			j++
		}
	}
	return out
}

// Without returns t without the tag key (t itself when it has none).
func (t Tags) Without(key string) Tags {
	for i, tg := range t {
		if tg.Key == key {
			out := make(Tags, 0, len(t)-1)
			out = append(out, t[:i]...)
			return append(out, t[i+1:]...)
		}
	}
	return t
}

// Get returns the value of key and whether t has it.
func (t Tags) Get(key string) (string, bool) {
	for _, tg := range t {
		if tg.Key == key {
			return tg.Value, true
		}
	}
	return "", false
}

// contains reports whether every tag of sub is in t.
func (t Tags) contains(sub Tags) bool {
	for _, s := range sub {
		found := false
		for _, tg := range t {
			if tg == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Registry holds the metrics of one run. Safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	byName  map[string]*Metric
	list    []*Metric
	window  atomic.Bool // trends keep a per-interval histogram (time-series outputs)
	thresh  []*Threshold
	started atomic.Int64 // unix nanoseconds of Start; 0 before
	info    sync.Map     // string → string: facts about the run (see SetInfo)
	events  eventLog     // event.go
}

// NewRegistry makes an empty registry.
func NewRegistry() *Registry {
	return &Registry{byName: map[string]*Metric{}}
}

// Start records the start of the measured run; rates are per second since.
func (r *Registry) Start(t time.Time) { r.started.Store(t.UnixNano()) }

// StartTime returns the time given to Start (zero before).
func (r *Registry) StartTime() time.Time {
	n := r.started.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// EnableWindows makes trends keep a second histogram that [Sampler] reads
// and resets every interval, for per-interval percentiles: the trends made
// so far and those made afterwards. Call it before the run records.
func (r *Registry) EnableWindows() {
	r.window.Store(true)
	for _, m := range r.Metrics() {
		if m.Kind != Trend {
			continue
		}
		m.root.trend.enableWindow()
		for _, s := range append(m.Sub(), m.Filters()...) {
			s.trend.enableWindow()
		}
	}
}

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// ValidName reports whether name may name a metric: letters, digits and
// underscores, not starting with a digit, at most 128 characters.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// New returns the metric name, creating it with kind and vt if it does not
// exist. It fails when the name is invalid or the metric exists with another
// kind. Any goroutine.
func (r *Registry) New(name string, kind Kind, vt ValueType) (*Metric, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("invalid metric name %q: use letters, digits and underscores (not starting with a digit), at most 128 characters", name)
	}
	if kind < Counter || kind > Trend {
		return nil, fmt.Errorf("metric %q: invalid kind %d", name, kind)
	}
	r.mu.RLock()
	m := r.byName[name]
	r.mu.RUnlock()
	if m == nil {
		r.mu.Lock()
		if m = r.byName[name]; m == nil {
			m = &Metric{Name: name, Kind: kind, Type: vt, reg: r, subs: map[string]*Series{}}
			m.root = m.newSeries(nil)
			r.byName[name] = m
			r.list = append(r.list, m)
		}
		r.mu.Unlock()
	}
	if m.Kind != kind {
		return nil, fmt.Errorf("metric %q is a %s; it cannot be redefined as a %s", name, m.Kind, kind)
	}
	return m, nil
}

// MustNew is New for built-in metrics whose names are known to be valid: it
// panics on error.
func (r *Registry) MustNew(name string, kind Kind, vt ValueType) *Metric {
	m, err := r.New(name, kind, vt)
	if err != nil {
		panic(err)
	}
	return m
}

// Get returns the metric name, or nil.
func (r *Registry) Get(name string) *Metric {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.byName[name]
}

// Metrics returns every metric, sorted by name.
func (r *Registry) Metrics() []*Metric {
	r.mu.RLock()
	l := append([]*Metric(nil), r.list...)
	r.mu.RUnlock()
	sort.Slice(l, func(i, j int) bool { return l[i].Name < l[j].Name })
	return l
}

// Metric is a named metric: its root series and its tagged sub-series.
type Metric struct {
	Name string
	Kind Kind
	Type ValueType
	reg  *Registry
	root *Series

	mu      sync.RWMutex
	subs    map[string]*Series // by Tags.String(), exact tag sets
	order   []*Series
	filters []*Series // threshold sub-metrics (tag subsets); never in subs
}

// Root returns the untagged series, which aggregates every sample.
func (m *Metric) Root() *Series { return m.root }

// Add records v in the root series.
func (m *Metric) Add(v float64) { m.root.Add(v) }

// Series returns the series of tags (the root when tags is empty), creating
// it on first use. Keep the result as a handle on hot paths.
func (m *Metric) Series(tags Tags) *Series {
	if len(tags) == 0 {
		return m.root
	}
	key := tags.String()
	m.mu.RLock()
	s := m.subs[key]
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s = m.subs[key]; s != nil {
		return s
	}
	s = m.newSeries(tags)
	var also []*Series
	if !m.Kind.lazyRoot() {
		also = append(also, m.root)
	}
	for _, f := range m.filters {
		if tags.contains(f.Tags) {
			also = append(also, f)
		}
	}
	s.also.Store(&also)
	m.subs[key] = s
	m.order = append(m.order, s)
	return s
}

// Filter returns the sub-metric of the samples whose tags contain tags (a
// threshold's `metric{tag:value}`), creating it. Samples recorded before it
// existed are not in it.
func (m *Metric) Filter(tags Tags) *Series {
	if len(tags) == 0 {
		return m.root
	}
	key := tags.String()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.filters {
		if f.key == key {
			return f
		}
	}
	f := m.newSeries(tags)
	m.filters = append(m.filters, f)
	for _, s := range m.order {
		if s.Tags.contains(tags) {
			also := append(append([]*Series(nil), *s.also.Load()...), f)
			s.also.Store(&also)
		}
	}
	return f
}

// Sub returns the tagged sub-series made so far, in creation order.
func (m *Metric) Sub() []*Series {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Series(nil), m.order...)
}

// Filters returns the threshold sub-metrics.
func (m *Metric) Filters() []*Series {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return append([]*Series(nil), m.filters...)
}

func (m *Metric) newSeries(tags Tags) *Series {
	s := &Series{Metric: m, Tags: tags, key: tags.String()}
	s.min.Store(math.Float64bits(math.Inf(1)))
	s.max.Store(math.Float64bits(math.Inf(-1)))
	if m.Kind == Trend {
		s.trend = newTrend(m.reg.window.Load())
	}
	return s
}

// lazyRoot reports whether the root series of the kind sums its
// sub-series when read (see [Series.Stats]) instead of on each sample.
func (k Kind) lazyRoot() bool { return k == Counter || k == Rate }

// Series is one tag set of a metric. Safe for concurrent use.
type Series struct {
	Metric *Metric
	Tags   Tags
	key    string
	also   atomic.Pointer[[]*Series] // root and matching filters (copy-on-write under Metric.mu); nil for the root and filters

	count   atomic.Int64  // samples
	sum     atomic.Uint64 // float64 bits: counter sum
	nonzero atomic.Int64  // rate
	last    atomic.Uint64 // float64 bits: gauge value
	min     atomic.Uint64 // float64 bits: gauge min
	max     atomic.Uint64 // float64 bits: gauge max
	trend   *trend
	loaded  atomic.Bool // set by Load: a lazy root reads its own state only
}

// Name returns "metric{tags}".
func (s *Series) Name() string { return s.Metric.Name + s.key }

// Add records one sample. NaN is ignored. Any goroutine.
func (s *Series) Add(v float64) {
	if math.IsNaN(v) {
		return
	}
	s.add(v)
	if also := s.also.Load(); also != nil {
		for _, o := range *also {
			o.add(v)
		}
	}
}

func (s *Series) add(v float64) {
	switch s.Metric.Kind {
	case Counter:
		s.count.Add(1)
		addFloat(&s.sum, v)
	case Gauge:
		s.count.Add(1)
		s.last.Store(math.Float64bits(v))
		storeMin(&s.min, v)
		storeMax(&s.max, v)
	case Rate:
		if v != 0 {
			s.nonzero.Add(1)
		}
		s.count.Add(1)
	case Trend:
		s.trend.add(v)
	}
}

func addFloat(a *atomic.Uint64, v float64) {
	for {
		old := a.Load()
		if a.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

func storeMin(a *atomic.Uint64, v float64) {
	for {
		old := a.Load()
		if v >= math.Float64frombits(old) || a.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

func storeMax(a *atomic.Uint64, v float64) {
	for {
		old := a.Load()
		if v <= math.Float64frombits(old) || a.CompareAndSwap(old, math.Float64bits(v)) {
			return
		}
	}
}

// Stats is a point-in-time view of a series over the whole run.
type Stats struct {
	Kind    Kind
	Count   int64   // samples (trend, rate, gauge) or number of adds (counter)
	Sum     float64 // counter: the sum of values; trend: the sum
	NonZero int64   // rate: non-zero samples
	Value   float64 // gauge: the last value
	Min     float64 // gauge, trend
	Max     float64 // gauge, trend
	trend   *trendView
}

// Stats returns the series' aggregate so far. Any goroutine.
func (s *Series) Stats() Stats {
	st := Stats{Kind: s.Metric.Kind}
	if st.Kind.lazyRoot() && s == s.Metric.root && !s.loaded.Load() {
		// The root's own samples and its sub-series'.
		for _, sub := range append([]*Series{s}, s.Metric.Sub()...) {
			st.Count += sub.count.Load()
			st.Sum += math.Float64frombits(sub.sum.Load())
			st.NonZero += sub.nonzero.Load()
		}
		return st
	}
	switch st.Kind {
	case Counter:
		st.Count = s.count.Load()
		st.Sum = math.Float64frombits(s.sum.Load())
	case Gauge:
		st.Count = s.count.Load()
		st.Value = math.Float64frombits(s.last.Load())
		st.Min = math.Float64frombits(s.min.Load())
		st.Max = math.Float64frombits(s.max.Load())
		if st.Count == 0 {
			st.Min, st.Max = 0, 0
		}
	case Rate:
		st.Count = s.count.Load()
		st.NonZero = s.nonzero.Load()
	case Trend:
		st.trend = s.trend.view(false)
		st.Count, st.Sum, st.Min, st.Max = st.trend.count, st.trend.sum, st.trend.min, st.trend.max
	}
	return st
}

// Avg is a trend's mean (0 without samples).
func (st Stats) Avg() float64 {
	if st.Count == 0 {
		return 0
	}
	return st.Sum / float64(st.Count)
}

// Percentile is a trend's p-th percentile (0 ≤ p ≤ 100), from its histogram
// (3 significant digits), clamped to the exact min and max.
func (st Stats) Percentile(p float64) float64 {
	if st.trend == nil {
		return 0
	}
	return st.trend.percentile(p)
}

// RateValue is the share of non-zero samples of a rate (0 without samples).
func (st Stats) RateValue() float64 {
	if st.Count == 0 {
		return 0
	}
	return float64(st.NonZero) / float64(st.Count)
}

// PerSecond is a counter's sum per second of elapsed time.
func (st Stats) PerSecond(elapsed time.Duration) float64 {
	if elapsed <= 0 {
		return 0
	}
	return st.Sum / elapsed.Seconds()
}
