// Package report makes amqpjs's HTML report: one self-contained file with
// charts over time (drawn by the vendored uPlot library), the summary table,
// the thresholds and how the run was made. It is written by the html=FILE
// output of a scenario run ([Open]) and by `amqpjs report` from saved JSON
// lines results ([ReadJSON]).
package report

import (
	"math"
	"sort"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// sample is one point of one series: the activity over the interval that
// ends at T (Unix seconds).
type sample struct {
	T                  float64
	Count              int64
	Value              float64 // counter: sum; gauge: value; rate: share; trend: avg
	Max                float64 // gauge, trend
	P50, P90, P95, P99 float64 // trend, when Pct
	Pct                bool
}

// series is the samples of one metric and tag set.
type series struct {
	Metric string
	Kind   string // counter, gauge, rate, trend
	Tags   map[string]string
	pts    []sample
}

// Data is what a report is made of: the time series, and the run's
// description and summary when known. Add points, then call [Data.Page].
// One goroutine.
type Data struct {
	series map[string]*series // by metric + canonical tags
	times  map[float64]struct{}
	first  float64 // the earliest run start (Unix seconds); 0 before any point
	last   float64 // the latest point

	// Run and Summary come from the run's end (nil when the run did not
	// report them: an older JSON file, a run that did not start).
	Run     *metrics.RunInfo
	Summary *metrics.JSONSummary
	// Sources are the files read, for the page's header.
	Sources []string
	// Notes are shown above the charts (such as how the data was merged).
	Notes []string
	extra int // run lines of further files (their summary is not shown)

	events []PageEvent // faults injected by the script (amqpjs/faults)
}

// NewData makes an empty report.
func NewData() *Data {
	return &Data{series: map[string]*series{}, times: map[float64]struct{}{}}
}

func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// AddPoint adds a point of the time series.
func (d *Data) AddPoint(p metrics.JSONPoint) {
	t := unix(p.Time)
	start := t - p.Elapsed
	if p.Elapsed < 0 || p.Elapsed > 1e8 { // not from a started run
		start = t
	}
	if d.first == 0 || start < d.first {
		d.first = start
	}
	d.last = math.Max(d.last, t)
	d.times[t] = struct{}{}
	tags := metrics.NewTags(p.Tags)
	key := p.Metric + tags.String()
	se := d.series[key]
	if se == nil {
		se = &series{Metric: p.Metric, Kind: p.Type, Tags: tags.Map()}
		d.series[key] = se
	}
	s := sample{T: t, Count: p.Count, Value: p.Value}
	get := func(f *float64) float64 {
		if f == nil {
			return 0
		}
		return *f
	}
	s.Max = get(p.Max)
	if p.P99 != nil {
		s.Pct = true
		s.P50, s.P90, s.P95, s.P99 = get(p.P50), get(p.P90), get(p.P95), get(p.P99)
	}
	se.pts = append(se.pts, s)
}

// AddPoints adds the points of one interval of a live run.
func (d *Data) AddPoints(pts []metrics.Point) {
	for _, p := range pts {
		jp := metrics.JSONPoint{Time: p.Time, Elapsed: p.Elapsed, Metric: p.Metric, Type: p.Kind.String(), Tags: p.Tags.Map(), Count: p.Count, Value: p.Value}
		max, p50, p90, p95, p99 := p.Max, p.P50, p.P90, p.P95, p.P99
		switch p.Kind {
		case metrics.Gauge:
			jp.Max = &max
		case metrics.Trend:
			if p.Percentiles {
				jp.Max, jp.P50, jp.P90, jp.P95, jp.P99 = &max, &p50, &p90, &p95, &p99
			}
		}
		d.AddPoint(jp)
	}
}

// timeline is the x axis of the charts: the run's intervals grouped into
// buckets of Factor intervals when there are more than maxPoints.
type timeline struct {
	Start, End float64 // Unix seconds
	Tick       float64 // seconds between two points of the series
	Factor     int     // intervals per bucket
	N          int     // buckets
}

func (tl timeline) width() float64 { return tl.Tick * float64(tl.Factor) }

// bucket returns the bucket of a point at t.
func (tl timeline) bucket(t float64) int {
	i := int(math.Round((t-tl.Start)/tl.Tick)) - 1
	b := max(i, 0) / tl.Factor
	return min(b, tl.N-1)
}

// duration is bucket b's length in seconds (the last may be shorter or
// longer than the others: the run's last interval ends when it ended).
func (tl timeline) duration(b int) float64 {
	if b == tl.N-1 {
		return math.Max(tl.End-tl.Start-float64(b)*tl.width(), 1e-3)
	}
	return tl.width()
}

// x returns the time at the end of bucket b.
func (tl timeline) x(b int) float64 {
	return math.Min(tl.Start+float64(b+1)*tl.width(), tl.End)
}

func (d *Data) timeline(maxPoints int) timeline {
	tl := timeline{Start: d.first, End: d.last, Tick: 1, Factor: 1}
	if d.Run != nil && !d.Run.Start.IsZero() {
		// The run's start, unless another file's run started earlier (the
		// points' own starts are only good to the millisecond of elapsed).
		if st := unix(d.Run.Start); tl.Start == 0 || tl.Start > st-1 {
			tl.Start = st
		}
		if e := unix(d.Run.End); e > tl.End {
			tl.End = e
		}
	}
	ts := make([]float64, 0, len(d.times))
	for t := range d.times {
		ts = append(ts, t)
	}
	sort.Float64s(ts)
	if len(ts) > 1 {
		gaps := make([]float64, 0, len(ts)-1)
		for i := 1; i < len(ts); i++ {
			gaps = append(gaps, ts[i]-ts[i-1])
		}
		sort.Float64s(gaps)
		if g := gaps[len(gaps)/2]; g > 0.05 {
			tl.Tick = math.Round(g*100) / 100
		}
	} else if len(ts) == 1 && ts[0]-tl.Start > 0.05 {
		tl.Tick = math.Min(ts[0]-tl.Start, 1)
	}
	intervals := max(int(math.Round((tl.End-tl.Start)/tl.Tick)), 1)
	tl.Factor = (intervals + maxPoints - 1) / maxPoints
	tl.N = (intervals + tl.Factor - 1) / tl.Factor
	return tl
}

// agg is the aggregate of the samples of one or more series in one bucket.
type agg struct {
	n                  int // samples
	count              int64
	sum                float64 // counter: values; trend, rate: value × count
	lastT, last        float64 // gauge
	max                float64
	p50, p90, p95, p99 float64
	pct                bool
}

func (a *agg) add(kind string, s sample) {
	if a.n == 0 {
		a.max = math.Inf(-1)
	}
	a.n++
	a.count += s.Count
	switch kind {
	case "counter":
		a.sum += s.Value
	case "gauge":
		if s.T >= a.lastT {
			a.lastT, a.last = s.T, s.Value
		}
		a.max = math.Max(a.max, s.Max)
	case "rate":
		a.sum += s.Value * float64(s.Count)
	case "trend":
		a.sum += s.Value * float64(s.Count)
		if s.Pct {
			// Percentiles of several intervals cannot be merged: a bucket
			// shows the highest, so that downsampling hides no spike.
			a.pct = true
			a.max = math.Max(a.max, s.Max)
			a.p50, a.p90 = math.Max(a.p50, s.P50), math.Max(a.p90, s.P90)
			a.p95, a.p99 = math.Max(a.p95, s.P95), math.Max(a.p99, s.P99)
		}
	}
}

// bucketed aggregates the samples of ss (all of one kind) per bucket.
func bucketed(tl timeline, kind string, ss []*series) []agg {
	out := make([]agg, tl.N)
	for _, se := range ss {
		for _, s := range se.pts {
			out[tl.bucket(s.T)].add(kind, s)
		}
	}
	return out
}

// AddEvent adds an event of the run (a fault injected by the script): a
// marker on every chart.
func (d *Data) AddEvent(e metrics.JSONEvent) {
	label := e.Event
	if ts := e.Tags["target_scenario"]; ts != "" {
		label += " " + ts
		if vu := e.Tags["target_vu"]; vu != "" {
			label += " VU " + vu
		}
	}
	for _, k := range []string{"duration", "bytes_per_second"} {
		if v := e.Tags[k]; v != "" {
			if k == "bytes_per_second" {
				v += " B/s"
			}
			label += " " + v
		}
	}
	d.events = append(d.events, PageEvent{T: math.Round(unix(e.Time)*1000) / 1000, Elapsed: e.Elapsed, Label: label})
}
