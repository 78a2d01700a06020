package metrics

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Point is one series over one interval of the time series.
type Point struct {
	Time    time.Time // end of the interval
	Elapsed float64   // seconds since the run's start, at Time
	Metric  string
	Kind    Kind
	Type    ValueType
	Tags    Tags
	// Count is the number of samples in the interval.
	Count int64
	// Value: a counter's sum over the interval, a gauge's value, a rate's
	// share of non-zero samples, a trend's average.
	Value float64
	// Rate: a counter's Value per second.
	Rate float64
	// A trend's min, max and percentiles over the interval (percentiles
	// only when [Registry.EnableWindows] was called).
	Min, Max           float64
	P50, P90, P95, P99 float64
	Percentiles        bool // P50…P99 are set
}

// Sampler turns the registry into a per-second time series: each call to
// Sample returns the activity since the previous call. One goroutine only.
type Sampler struct {
	reg  *Registry
	last time.Time
	prev map[*Series]Stats
}

// NewSampler makes a sampler whose first interval starts at start.
func NewSampler(reg *Registry, start time.Time) *Sampler {
	return &Sampler{reg: reg, last: start, prev: map[*Series]Stats{}}
}

// Sample returns one point per series with samples in the interval that
// ends at now (gauges: every gauge that has a value).
func (s *Sampler) Sample(now time.Time) []Point {
	dt := now.Sub(s.last).Seconds()
	s.last = now
	start := s.reg.StartTime()
	var pts []Point
	for _, m := range s.reg.Metrics() {
		for _, se := range append([]*Series{m.root}, m.Sub()...) {
			st := se.Stats()
			pv := s.prev[se]
			s.prev[se] = st
			p := Point{Time: now, Elapsed: now.Sub(start).Seconds(), Metric: m.Name, Kind: m.Kind, Type: m.Type, Tags: se.Tags}
			p.Count = st.Count - pv.Count
			switch m.Kind {
			case Counter:
				if p.Count == 0 {
					continue
				}
				p.Value = st.Sum - pv.Sum
				if dt > 0 {
					p.Rate = p.Value / dt
				}
			case Gauge:
				if st.Count == 0 {
					continue
				}
				p.Value, p.Min, p.Max = st.Value, st.Min, st.Max
			case Rate:
				if p.Count == 0 {
					continue
				}
				p.Value = float64(st.NonZero-pv.NonZero) / float64(p.Count)
			case Trend:
				if se.trend.winOn {
					w := se.trend.view(true)
					if w.count == 0 {
						continue
					}
					p.Count, p.Value, p.Min, p.Max = w.count, w.sum/float64(w.count), w.min, w.max
					p.P50, p.P90, p.P95, p.P99 = w.percentile(50), w.percentile(90), w.percentile(95), w.percentile(99)
					p.Percentiles = true
				} else {
					if p.Count == 0 {
						continue
					}
					p.Value = (st.Sum - pv.Sum) / float64(p.Count)
				}
			}
			pts = append(pts, p)
		}
	}
	return pts
}

// Output receives the time series, one batch of points per interval.
type Output interface {
	Write(points []Point) error
	Close() error
}

// outputKinds are the outputs that other packages add (RegisterOutput).
var outputKinds sync.Map // kind → func(arg string) (Output, error)

// RegisterOutput adds an output kind to OpenOutput: "kind=ARG" is opened
// by open(ARG). Packages with heavy dependencies (the Prometheus output)
// register from their init, so that only the binaries that import them
// carry them.
func RegisterOutput(kind string, open func(arg string) (Output, error)) {
	outputKinds.Store(kind, open)
}

// OpenOutput opens "json=FILE" (JSON lines), "csv=FILE", or a kind another
// package registered with [RegisterOutput]: html=FILE (internal/report),
// prometheus=URL (runtime/metrics/promwrite).
func OpenOutput(spec string) (Output, error) {
	kind, path, ok := strings.Cut(spec, "=")
	if open, reg := outputKinds.Load(kind); reg && ok && path != "" {
		return open.(func(string) (Output, error))(path)
	}
	if !ok || path == "" {
		return nil, fmt.Errorf("invalid --out %q: want json=FILE, csv=FILE, html=FILE or prometheus=URL", spec)
	}
	switch kind {
	case "json", "csv":
	case "html": // registered by internal/report when it is linked
		return nil, fmt.Errorf("invalid --out %q: the HTML report is not built into this program", spec)
	default:
		return nil, fmt.Errorf("invalid --out %q: unknown output %q (want json, csv, html or prometheus)", spec, kind)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--out %s: %w", spec, err)
	}
	if kind == "json" {
		return NewJSONOutput(f), nil
	}
	return NewCSVOutput(f), nil
}

type jsonOutput struct {
	w *bufio.Writer
	c io.Closer
}

// NewJSONOutput writes one JSON object per point and line:
//
//	{"time":"…","elapsed":1.0,"metric":"amqp_published","type":"counter","tags":{},"count":10,"value":10,"rate":10}
//
// Trends add "min", "max", "p50", "p90", "p95", "p99" (percentiles when
// windows are on). w is closed by Close when it is an io.Closer.
func NewJSONOutput(w io.Writer) Output {
	o := &jsonOutput{w: bufio.NewWriter(w)}
	o.c, _ = w.(io.Closer)
	return o
}

// JSONPoint is the JSON form of a [Point].
type JSONPoint struct {
	Time    time.Time         `json:"time"`
	Elapsed float64           `json:"elapsed"`
	Metric  string            `json:"metric"`
	Type    string            `json:"type"`
	Tags    map[string]string `json:"tags"`
	Count   int64             `json:"count"`
	Value   float64           `json:"value"`
	Rate    *float64          `json:"rate,omitempty"`
	Min     *float64          `json:"min,omitempty"`
	Max     *float64          `json:"max,omitempty"`
	P50     *float64          `json:"p50,omitempty"`
	P90     *float64          `json:"p90,omitempty"`
	P95     *float64          `json:"p95,omitempty"`
	P99     *float64          `json:"p99,omitempty"`
}

func (o *jsonOutput) Write(pts []Point) error {
	enc := json.NewEncoder(o.w)
	for _, p := range pts {
		jp := JSONPoint{Time: p.Time.UTC(), Elapsed: round3(p.Elapsed), Metric: p.Metric, Type: p.Kind.String(), Tags: p.Tags.Map(), Count: p.Count, Value: p.Value}
		f := func(v float64) *float64 { return &v }
		switch p.Kind {
		case Counter:
			jp.Rate = f(p.Rate)
		case Gauge:
			jp.Min, jp.Max = f(p.Min), f(p.Max)
		case Trend:
			if p.Percentiles {
				jp.Min, jp.Max = f(p.Min), f(p.Max)
				jp.P50, jp.P90, jp.P95, jp.P99 = f(p.P50), f(p.P90), f(p.P95), f(p.P99)
			}
		}
		if err := enc.Encode(jp); err != nil {
			return err
		}
	}
	return o.w.Flush()
}

func (o *jsonOutput) Close() error {
	err := o.w.Flush()
	if o.c != nil {
		if cerr := o.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// CSVHeader is the first row that the CSV output writes.
var CSVHeader = []string{"time", "elapsed", "metric", "type", "tags", "count", "value", "rate", "min", "max", "p50", "p90", "p95", "p99"}

type csvOutput struct {
	w      *csv.Writer
	c      io.Closer
	header bool
}

// NewCSVOutput writes a header row ([CSVHeader]) and then one row per
// point; tags are "k=v;k2=v2", empty cells mean "not applicable".
func NewCSVOutput(w io.Writer) Output {
	o := &csvOutput{w: csv.NewWriter(w)}
	o.c, _ = w.(io.Closer)
	return o
}

func (o *csvOutput) Write(pts []Point) error {
	if !o.header {
		o.header = true
		if err := o.w.Write(CSVHeader); err != nil {
			return err
		}
	}
	num := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	for _, p := range pts {
		tags := make([]string, len(p.Tags))
		for i, t := range p.Tags {
			tags[i] = t.Key + "=" + t.Value
		}
		row := []string{p.Time.UTC().Format(time.RFC3339Nano), num(round3(p.Elapsed)), p.Metric, p.Kind.String(), strings.Join(tags, ";"),
			strconv.FormatInt(p.Count, 10), num(p.Value), "", "", "", "", "", "", ""}
		switch p.Kind {
		case Counter:
			row[7] = num(p.Rate)
		case Gauge:
			row[8], row[9] = num(p.Min), num(p.Max)
		case Trend:
			if p.Percentiles {
				row[8], row[9] = num(p.Min), num(p.Max)
				row[10], row[11], row[12], row[13] = num(p.P50), num(p.P90), num(p.P95), num(p.P99)
			}
		}
		if err := o.w.Write(row); err != nil {
			return err
		}
	}
	o.w.Flush()
	return o.w.Error()
}

func (o *csvOutput) Close() error {
	o.w.Flush()
	err := o.w.Error()
	if o.c != nil {
		if cerr := o.c.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

func round3(v float64) float64 {
	return float64(int64(v*1000+0.5)) / 1000
}
