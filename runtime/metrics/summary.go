package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Row is one line of the summary: a series' aggregate over the whole run.
type Row struct {
	Name   string // "metric" or "  {tag:value}" for a sub-series
	Series *Series
	Stats  Stats
	Tags   Tags // the tags shown: the series' tags less those hidden by [Summary.HideTag]
}

// Summary is the end-of-run report.
type Summary struct {
	Duration   time.Duration
	Rows       []Row
	Thresholds []*Threshold
}

// Summarize collects the summary of the run so far: every metric with a
// sample or a threshold, and its sub-series. Thresholds are reported as the
// last [Registry.EvalThresholds] left them; call it first.
func (r *Registry) Summarize(elapsed time.Duration) *Summary {
	s := &Summary{Duration: elapsed, Thresholds: r.Thresholds()}
	watched := map[*Metric]bool{}
	for _, t := range s.Thresholds {
		watched[t.series.Metric] = true
	}
	for _, m := range r.Metrics() {
		st := m.root.Stats()
		if st.Count == 0 && !watched[m] {
			continue // nothing recorded: not worth a row
		}
		s.Rows = append(s.Rows, Row{Name: m.Name, Series: m.root, Stats: st})
		subs := m.Sub()
		sort.Slice(subs, func(i, j int) bool { return subs[i].key < subs[j].key })
		for _, se := range subs {
			if sst := se.Stats(); sst.Count > 0 {
				s.Rows = append(s.Rows, Row{Name: "  " + se.key, Series: se, Stats: sst, Tags: se.Tags})
			}
		}
	}
	return s
}

// HideTag leaves the tag key out of the summary: a sub-series tagged with
// key alone is not shown (the metric's row is the same), others are shown
// (and exported) under their other tags. For a tag that every sample has
// with one value, such as the scenario of a run with one scenario.
func (s *Summary) HideTag(key string) {
	rows := s.Rows[:0]
	for _, r := range s.Rows {
		if r.Series != r.Series.Metric.root {
			if _, has := r.Tags.Get(key); has {
				r.Tags = r.Tags.Without(key)
				if len(r.Tags) == 0 {
					continue
				}
				r.Name = "  " + r.Tags.String()
			}
		}
		rows = append(rows, r)
	}
	s.Rows = rows
}

// Failed reports whether a threshold failed.
func (s *Summary) Failed() bool {
	for _, t := range s.Thresholds {
		if t.Evaluated && !t.OK {
			return true
		}
	}
	return false
}

// FormatValue renders v for display in the unit of vt: milliseconds as
// "1.23ms" or "2.5s", bytes as "1.2 MB", others as a short number.
func FormatValue(v float64, vt ValueType) string {
	switch vt {
	case Time:
		switch a := math.Abs(v); {
		case a >= 1000:
			return trimNum(v/1000, 2) + "s"
		case a >= 100:
			return trimNum(v, 1) + "ms"
		case a >= 1:
			return trimNum(v, 2) + "ms"
		default:
			return trimNum(v, 3) + "ms"
		}
	case Data:
		units := []string{"B", "kB", "MB", "GB", "TB"}
		i := 0
		for math.Abs(v) >= 1000 && i < len(units)-1 {
			v /= 1000
			i++
		}
		if i == 0 {
			return trimNum(v, 0) + " B"
		}
		return trimNum(v, 1) + " " + units[i]
	}
	return shortNum(v)
}

func trimNum(v float64, prec int) string {
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func shortNum(v float64) string {
	switch a := math.Abs(v); {
	case v == math.Trunc(v) && a < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case a >= 100:
		return trimNum(v, 1)
	case a >= 1:
		return trimNum(v, 2)
	default:
		return trimNum(v, 4)
	}
}

// WriteText writes the summary table: one row per series with count, rate,
// avg, p50, p90, p95, p99 and max where they apply, then the checks (the
// "checks" metric's series by tag "check") and the thresholds with ✓ or ✗.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	head := []string{"COUNT", "RATE", "AVG", "P50", "P90", "P95", "P99", "MAX"}
	nameW := len("METRIC")
	for _, r := range s.Rows {
		nameW = max(nameW, len(r.Name))
	}
	cells := make([][]string, len(s.Rows))
	widths := make([]int, len(head))
	for i, h := range head {
		widths[i] = len(h)
	}
	secs := s.Duration
	for i, r := range s.Rows {
		c := rowCells(r, secs)
		cells[i] = c
		for j, x := range c {
			widths[j] = max(widths[j], len([]rune(x)))
		}
	}
	fmt.Fprintf(&b, "\n  %-*s", nameW, "METRIC")
	for i, h := range head {
		fmt.Fprintf(&b, "  %*s", widths[i], h)
	}
	b.WriteByte('\n')
	for i, r := range s.Rows {
		line := fmt.Sprintf("  %-*s", nameW, r.Name)
		for j, x := range cells[i] {
			line += fmt.Sprintf("  %*s", widths[j], x)
		}
		b.WriteString(strings.TrimRight(line, " "))
		b.WriteByte('\n')
	}

	var checks []Row
	for _, r := range s.Rows {
		if _, ok := r.Tags.Get("check"); ok && r.Series.Metric.Name == "checks" && r.Series.Metric.Kind == Rate {
			checks = append(checks, r)
		}
	}
	if len(checks) > 0 {
		b.WriteString("\n  checks\n")
		for _, r := range checks {
			mark := "✓"
			if r.Stats.NonZero != r.Stats.Count {
				mark = "✗"
			}
			name, _ := r.Tags.Get("check")
			if rest := r.Tags.Without("check"); len(rest) > 0 {
				name += " " + rest.String()
			}
			fmt.Fprintf(&b, "    %s %s  %s (%d/%d)\n", mark, name, pct(r.Stats.RateValue()), r.Stats.NonZero, r.Stats.Count)
		}
	}
	if len(s.Thresholds) > 0 {
		b.WriteString("\n  thresholds\n")
		selW, srcW := 0, 0
		for _, t := range s.Thresholds {
			selW = max(selW, len(t.Selector))
			srcW = max(srcW, len(t.Source))
		}
		for _, t := range s.Thresholds {
			mark := "✓"
			if !t.OK {
				mark = "✗"
			}
			if !t.Evaluated {
				mark = "?"
			}
			m := t.series.Metric
			val := FormatValue(t.Value, m.Type)
			if m.Kind == Rate || (m.Kind == Counter && t.Cond.Agg.Method == "rate") || t.Cond.Agg.Method == "count" {
				val = shortNum(t.Value)
			}
			fmt.Fprintf(&b, "    %s %-*s  %-*s  %s=%s\n", mark, selW, t.Selector, srcW, t.Source, t.Cond.Agg, val)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 2, 64) + "%" }

func rowCells(r Row, elapsed time.Duration) []string {
	c := make([]string, 8)
	st := r.Stats
	vt := r.Series.Metric.Type
	perSec := func(n float64) string {
		if elapsed <= 0 {
			return ""
		}
		return shortNum(n/elapsed.Seconds()) + "/s"
	}
	switch st.Kind {
	case Counter:
		c[0] = FormatValue(st.Sum, vt)
		if vt == Data {
			c[1] = FormatValue(st.Sum/max(elapsed.Seconds(), 1e-9), vt) + "/s"
		} else {
			c[1] = perSec(st.Sum)
		}
	case Gauge:
		c[0] = "-"
		c[2] = FormatValue(st.Value, vt)
		c[7] = FormatValue(st.Max, vt)
	case Rate:
		c[0] = strconv.FormatInt(st.Count, 10)
		c[1] = pct(st.RateValue())
	case Trend:
		c[0] = strconv.FormatInt(st.Count, 10)
		c[1] = perSec(float64(st.Count))
		if st.Count > 0 {
			c[2] = FormatValue(st.Avg(), vt)
			c[3] = FormatValue(st.Percentile(50), vt)
			c[4] = FormatValue(st.Percentile(90), vt)
			c[5] = FormatValue(st.Percentile(95), vt)
			c[6] = FormatValue(st.Percentile(99), vt)
			c[7] = FormatValue(st.Max, vt)
		}
	}
	return c
}

// JSONSummary is the shape of --summary-export (docs/merge.md).
type JSONSummary struct {
	DurationMs       float64                `json:"duration_ms"`
	ThresholdsFailed bool                   `json:"thresholds_failed"`
	Metrics          map[string]JSONMetric  `json:"metrics"`
	Thresholds       []JSONThresholdOutcome `json:"thresholds"`
	// ThresholdData is the state of the series of each threshold on tags
	// ("metric{tag:value}": every sample whose tags contain those), for
	// `amqpjs merge`; thresholds on a whole metric use its "data".
	ThresholdData map[string]SeriesData `json:"threshold_data,omitempty"`
	// Run describes the run: in the --summary-export file (the run line of
	// the JSON lines output has it beside the summary instead).
	Run *RunInfo `json:"run,omitempty"`
}

// JSONMetric is one series of the JSON summary.
type JSONMetric struct {
	Type       string                        `json:"type"`     // counter, gauge, rate, trend
	Contains   string                        `json:"contains"` // default, time, data
	Tags       map[string]string             `json:"tags,omitempty"`
	Values     map[string]float64            `json:"values"`
	Thresholds map[string]JSONThresholdBrief `json:"thresholds,omitempty"`
	// Data is the series' state for `amqpjs merge`; absent for the series
	// of a threshold on tags that is no row of the summary (its state is in
	// [JSONSummary.ThresholdData]).
	Data *SeriesData `json:"data,omitempty"`
}

// JSONThresholdBrief is a threshold's outcome under its metric.
type JSONThresholdBrief struct {
	OK bool `json:"ok"`
}

// JSONThresholdOutcome is one threshold in the list of all thresholds.
type JSONThresholdOutcome struct {
	Metric    string  `json:"metric"`
	Threshold string  `json:"threshold"`
	OK        bool    `json:"ok"`
	Value     float64 `json:"value"`
}

// JSON builds the JSON form of the summary. Values per kind: counter
// count (the sum) and rate (per second); gauge value, min, max; rate rate,
// passes, fails; trend count, avg, min, med, max, p(90), p(95), p(99) and
// any other percentile a threshold asked for.
func (s *Summary) JSON() JSONSummary {
	out := JSONSummary{DurationMs: float64(s.Duration.Microseconds()) / 1000, ThresholdsFailed: s.Failed(), Metrics: map[string]JSONMetric{}}
	extraP := map[string][]float64{}
	for _, t := range s.Thresholds {
		if t.Cond.Agg.Method == "p" {
			k := t.Metric + t.Tags.String()
			extraP[k] = append(extraP[k], t.Cond.Agg.P)
		}
	}
	add := func(key string, se *Series, tags Tags, st Stats, row bool) JSONMetric {
		jm := JSONMetric{Type: se.Metric.Kind.String(), Contains: se.Metric.Type.String(), Values: map[string]float64{}}
		if d, err := se.Data(); err == nil && row { // a threshold's series: in ThresholdData
			jm.Data = &d
		}
		if len(tags) > 0 {
			jm.Tags = tags.Map()
		}
		v := jm.Values
		switch st.Kind {
		case Counter:
			v["count"] = st.Sum
			v["rate"] = st.PerSecond(s.Duration)
		case Gauge:
			v["value"], v["min"], v["max"] = st.Value, st.Min, st.Max
		case Rate:
			v["rate"] = st.RateValue()
			v["passes"] = float64(st.NonZero)
			v["fails"] = float64(st.Count - st.NonZero)
		case Trend:
			v["count"] = float64(st.Count)
			v["avg"], v["min"], v["max"] = st.Avg(), st.Min, st.Max
			v["med"] = st.Percentile(50)
			for _, p := range append([]float64{90, 95, 99}, extraP[key]...) {
				v[Aggregation{Method: "p", P: p}.String()] = st.Percentile(p)
			}
		}
		out.Metrics[key] = jm
		return jm
	}
	for _, r := range s.Rows {
		add(r.Series.Metric.Name+r.Tags.String(), r.Series, r.Tags, r.Stats, true)
	}
	for _, t := range s.Thresholds {
		key := t.Metric + t.Tags.String()
		jm, ok := out.Metrics[key]
		if !ok {
			jm = add(key, t.series, t.Tags, t.series.Stats(), false)
		}
		if jm.Thresholds == nil {
			jm.Thresholds = map[string]JSONThresholdBrief{}
		}
		jm.Thresholds[t.Source] = JSONThresholdBrief{OK: !t.Evaluated || t.OK}
		out.Metrics[key] = jm
		out.Thresholds = append(out.Thresholds, JSONThresholdOutcome{Metric: t.Selector, Threshold: t.Source, OK: !t.Evaluated || t.OK, Value: t.Value})
		if _, done := out.ThresholdData[key]; len(t.Tags) > 0 && !done {
			if d, err := t.series.Data(); err == nil {
				if out.ThresholdData == nil {
					out.ThresholdData = map[string]SeriesData{}
				}
				out.ThresholdData[key] = d
			}
		}
	}
	return out
}

// WriteJSON writes the JSON summary, indented.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s.JSON())
}
