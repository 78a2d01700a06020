package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// MaxPoints is the most points a chart line has: longer runs are
// downsampled to buckets of several intervals (see [Data.Page]).
const MaxPoints = 1200

// Page is the report's content, handed to the page script as JSON.
type Page struct {
	Title      string         `json:"title"`
	Info       [][2]string    `json:"info"`             // label, value
	Config     string         `json:"config,omitempty"` // indented JSON
	Notes      []string       `json:"notes,omitempty"`
	X          []float64      `json:"x"` // Unix seconds at the end of each point (ms precision)
	Sections   []*Section     `json:"sections"`
	Thresholds []ThresholdRow `json:"thresholds"`
	Head       []string       `json:"head"`
	Summary    []SummaryRow   `json:"summary"`
	Failed     bool           `json:"failed"`
	Events     []PageEvent    `json:"events,omitempty"`
}

// PageEvent is an event of the run, marked on every chart at T (Unix
// seconds) and listed under the charts.
type PageEvent struct {
	T       float64 `json:"t"`
	Elapsed float64 `json:"elapsed"` // seconds since the run's start
	Label   string  `json:"label"`
}

// Section is a group of charts: the whole run, or one scenario.
type Section struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Charts []*Chart `json:"charts"`
	byName map[string]*Chart
}

// Chart is one chart: lines over the page's X.
type Chart struct {
	ID    string  `json:"id"`
	Title string  `json:"title"`
	Unit  string  `json:"unit"` // "ms", "/s", "B/s", "%", ""
	Lines []*Line `json:"lines"`
}

// Line is one line of a chart: Values over X (NaN: no sample), or a
// threshold drawn at Const.
type Line struct {
	Label     string `json:"label"`
	Values    []num  `json:"values,omitempty"`
	Threshold bool   `json:"threshold,omitempty"`
	Const     num    `json:"const,omitempty"`
	OK        bool   `json:"ok,omitempty"`
}

// ThresholdRow is one threshold in the table.
type ThresholdRow struct {
	Selector string `json:"selector"`
	Source   string `json:"source"`
	Value    string `json:"value"`
	OK       bool   `json:"ok"`
	Chart    string `json:"chart,omitempty"` // the chart's ID, "" when not drawn
	Why      string `json:"why,omitempty"`   // why it is not drawn
}

// SummaryRow is one row of the summary table.
type SummaryRow struct {
	Name  string   `json:"name"`
	Sub   bool     `json:"sub,omitempty"`
	Cells []string `json:"cells"`
}

// num is a number written with 5 significant digits; NaN is null.
type num float64

func (n num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', 5, 64), nil
}

// Page builds the report's content with at most maxPoints points per line
// (0: [MaxPoints]). A point of a downsampled chart covers several intervals:
// counters show their rate over it, gauges their last value, trends the
// highest of each percentile (and max) of its intervals, so no spike is
// hidden.
func (d *Data) Page(maxPoints int) *Page {
	if maxPoints <= 0 {
		maxPoints = MaxPoints
	}
	p := &Page{Title: "amqpjs report"}
	if d.Run != nil && d.Run.Script != "" {
		p.Title = "amqpjs report: " + d.Run.Script
	}
	if len(d.series) > 0 {
		tl := d.timeline(maxPoints)
		p.X = make([]float64, tl.N)
		for b := range p.X {
			p.X[b] = math.Round(tl.x(b)*1000) / 1000
		}
		if tl.Factor > 1 {
			p.Notes = append(p.Notes, fmt.Sprintf("The run has more intervals than a chart shows: each point covers %s (%d intervals of %s). Counters show their rate over it, gauges their last value, latencies the highest percentile of its intervals.",
				secs(tl.width()), tl.Factor, secs(tl.Tick)))
		}
		d.sections(p, tl)
	} else {
		p.Notes = append(p.Notes, "No time series: the run recorded no sample.")
	}
	p.Notes = append(p.Notes, d.Notes...)
	if d.extra > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf("%d more results files describe their run: their points are in the charts, but the summary and thresholds below are the first file's.", d.extra))
	}
	d.thresholds(p)
	d.summary(p)
	d.info(p)
	p.Events = append([]PageEvent(nil), d.events...)
	sort.SliceStable(p.Events, func(i, j int) bool { return p.Events[i].T < p.Events[j].T })
	return p
}

func secs(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Millisecond).String()
}

// The charts of a section, and which metrics they show.
type chartDef struct {
	id, title, unit string
	lines           []lineDef
	byMethod        bool // one line per method tag (amqp_rpc_duration), field of lines[0]
}

type lineDef struct {
	metric, field, label string
	always               bool // a line of zeros when nothing was recorded
}

func trendLines(metric string) []lineDef {
	return []lineDef{{metric, "p50", "p50", false}, {metric, "p90", "p90", false}, {metric, "p95", "p95", false}, {metric, "p99", "p99", false}, {metric, "max", "max", false}}
}

var chartDefs = []chartDef{
	{id: "rates", title: "Message rates", unit: "/s", lines: []lineDef{
		{"amqp_published", "rate", "published", false}, {"amqp_confirmed", "rate", "confirmed", false}, {"amqp_consumed", "rate", "consumed", false},
		{"amqp_nacked", "rate", "nacked", false}, {"amqp_returned", "rate", "returned", false}}},
	{id: "confirm", title: "Confirm latency (publish → broker ack)", unit: "ms", lines: trendLines("amqp_confirm_latency")},
	{id: "e2e", title: "End-to-end latency (publish → delivery)", unit: "ms", lines: trendLines("amqp_e2e_latency")},
	{id: "rpc", title: "RPC duration by method (p95)", unit: "ms", byMethod: true, lines: []lineDef{{"amqp_rpc_duration", "p95", "", false}}},
	{id: "vus", title: "Virtual users", unit: "", lines: []lineDef{{"vus", "value", "vus", false}, {"vus_max", "value", "vus_max", false}}},
	{id: "errors", title: "Errors", unit: "/s", lines: []lineDef{
		{"errors", "rate", "errors", true}, {"checks", "fails", "failed checks", false}, {"dropped_iterations", "rate", "dropped iterations", false}}},
	{id: "iterations", title: "Iterations", unit: "/s", lines: []lineDef{{"iterations", "rate", "iterations", false}}},
	{id: "iteration_duration", title: "Iteration duration", unit: "ms", lines: trendLines("iteration_duration")},
	{id: "bytes", title: "Payload bytes", unit: "B/s", lines: []lineDef{
		{"amqp_publish_bytes", "rate", "published", false}, {"amqp_consume_bytes", "rate", "consumed", false}}},
	{id: "checks", title: "Checks passed", unit: "%", lines: []lineDef{{"checks", "share", "passed", false}}},
}

var builtin = func() map[string]bool {
	m := map[string]bool{}
	for _, c := range chartDefs {
		for _, l := range c.lines {
			m[l.metric] = true
		}
	}
	return m
}()

// ScenarioTag is the tag that names a run's scenario: a section of charts
// per value when there are several.
const ScenarioTag = "scenario"

func (d *Data) sections(p *Page, tl timeline) {
	scen := map[string]bool{}
	for _, se := range d.series {
		if v, ok := se.Tags[ScenarioTag]; ok {
			scen[v] = true
		}
	}
	names := make([]string, 0, len(scen))
	for n := range scen {
		names = append(names, n)
	}
	sort.Strings(names)
	title := "Whole run"
	if len(names) == 1 {
		title = "Scenario " + names[0]
	}
	p.Sections = append(p.Sections, d.section(tl, "all", title, func(se *series) bool { return len(se.Tags) == 0 }))
	if len(names) > 1 {
		for i, n := range names {
			n := n
			p.Sections = append(p.Sections, d.section(tl, "s"+strconv.Itoa(i+1), "Scenario "+n, func(se *series) bool { return se.Tags[ScenarioTag] == n }))
		}
	}
}

// section builds the charts of the series that keep selects (for RPC
// durations: of the series with a method tag that keep selects but for
// that tag).
func (d *Data) section(tl timeline, id, title string, keep func(*series) bool) *Section {
	sec := &Section{ID: id, Title: title, byName: map[string]*Chart{}}
	byMetric := map[string][]*series{}
	byMethod := map[string]map[string][]*series{}
	var others []string
	for _, se := range d.sortedSeries() {
		m, ok := se.Tags["method"]
		if !ok {
			continue
		}
		rest := map[string]string{}
		for k, v := range se.Tags {
			if k != "method" {
				rest[k] = v
			}
		}
		// A sample is in one tag set only: the whole run takes every
		// series of the method, whatever its other tags.
		if id == "all" || keep(&series{Tags: rest}) {
			if byMethod[se.Metric] == nil {
				byMethod[se.Metric] = map[string][]*series{}
			}
			byMethod[se.Metric][m] = append(byMethod[se.Metric][m], se)
		}
	}
	for _, se := range d.sortedSeries() {
		if !keep(se) {
			continue
		}
		if byMetric[se.Metric] == nil && !builtin[se.Metric] {
			others = append(others, se.Metric)
		}
		byMetric[se.Metric] = append(byMetric[se.Metric], se)
	}
	add := func(c *Chart, metrics ...string) {
		if len(c.Lines) == 0 {
			return
		}
		c.ID = id + "-" + c.ID
		sec.Charts = append(sec.Charts, c)
		for _, m := range metrics {
			if m == "checks" && c.Unit != "%" {
				continue // thresholds on checks go to the share chart
			}
			if sec.byName[m] == nil {
				sec.byName[m] = c
			}
		}
	}
	for _, def := range chartDefs {
		c := &Chart{ID: def.id, Title: def.title, Unit: def.unit}
		var ms []string
		if def.byMethod {
			l := def.lines[0]
			methods := byMethod[l.metric]
			keys := make([]string, 0, len(methods))
			for k := range methods {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if ln := lineOf(tl, methods[k], l.field, k); ln != nil {
					c.Lines = append(c.Lines, ln)
				}
			}
			ms = append(ms, l.metric)
		} else {
			for _, l := range def.lines {
				ln := lineOf(tl, byMetric[l.metric], l.field, l.label)
				if ln == nil && l.always && len(byMetric) > 0 {
					ln = &Line{Label: l.label, Values: make([]num, tl.N)}
				}
				if ln != nil {
					c.Lines = append(c.Lines, ln)
					ms = append(ms, l.metric)
				}
			}
		}
		add(c, ms...)
	}
	for _, m := range others {
		ss := byMetric[m]
		c := &Chart{ID: "m-" + m, Title: m}
		unit := ""
		if d.Summary != nil {
			if jm, ok := d.Summary.Metrics[m]; ok {
				switch jm.Contains {
				case "time":
					unit = "ms"
				case "data":
					unit = "B"
				}
			}
		}
		switch ss[0].Kind {
		case "counter":
			c.Unit = unit + "/s"
			c.Lines = []*Line{lineOf(tl, ss, "rate", m)}
		case "gauge":
			c.Unit = unit
			c.Lines = []*Line{lineOf(tl, ss, "value", m)}
		case "rate":
			c.Unit = "%"
			c.Lines = []*Line{lineOf(tl, ss, "share", m)}
		case "trend":
			c.Unit = unit
			for _, l := range trendLines(m) {
				c.Lines = append(c.Lines, lineOf(tl, ss, l.field, l.label))
			}
			if c.Lines[0] == nil { // no percentiles: the average
				c.Lines = []*Line{lineOf(tl, ss, "avg", "avg")}
			}
		}
		if len(c.Lines) == 0 || c.Lines[0] == nil {
			continue
		}
		add(c, m)
	}
	return sec
}

func (d *Data) sortedSeries() []*series {
	keys := make([]string, 0, len(d.series))
	for k := range d.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*series, len(keys))
	for i, k := range keys {
		out[i] = d.series[k]
	}
	return out
}

// lineOf makes the line of field over the series ss (nil when they have no
// sample of it).
func lineOf(tl timeline, ss []*series, field, label string) *Line {
	if len(ss) == 0 {
		return nil
	}
	kind := ss[0].Kind
	aggs := bucketed(tl, kind, ss)
	vals := make([]num, len(aggs))
	any := false
	for b, a := range aggs {
		v := math.NaN()
		if a.n > 0 {
			switch field {
			case "rate":
				v = a.sum / tl.duration(b)
			case "value":
				v = a.last
			case "share":
				if a.count > 0 {
					v = 100 * a.sum / float64(a.count)
				}
			case "fails":
				v = (float64(a.count) - a.sum) / tl.duration(b)
			case "avg":
				if a.count > 0 {
					v = a.sum / float64(a.count)
				}
			case "max":
				if a.pct {
					v = a.max
				}
			case "p50", "p90", "p95", "p99":
				if a.pct {
					v = map[string]float64{"p50": a.p50, "p90": a.p90, "p95": a.p95, "p99": a.p99}[field]
				}
			}
		} else if kind == "counter" && (field == "rate") {
			v = 0 // a counter without samples in an interval counted nothing
		}
		if !math.IsNaN(v) {
			any = true
		}
		vals[b] = num(v)
	}
	if !any {
		return nil
	}
	// Counters and failed checks: zero where nothing was counted, so that a
	// pause shows as a drop, not a gap.
	if field == "fails" {
		for i, v := range vals {
			if math.IsNaN(float64(v)) {
				vals[i] = 0
			}
		}
	}
	return &Line{Label: label, Values: vals}
}

func (d *Data) thresholds(p *Page) {
	if d.Summary == nil {
		return
	}
	secByID := map[string]*Section{}
	for _, s := range p.Sections {
		secByID[s.Title] = s
	}
	for _, t := range d.Summary.Thresholds {
		row := ThresholdRow{Selector: t.Metric, Source: t.Threshold, OK: t.OK}
		if !t.OK {
			p.Failed = true
		}
		name, tags, err := metrics.ParseSelector(t.Metric)
		cond, cerr := metrics.ParseCondition(t.Threshold)
		kind, vt := "", metrics.Default
		jm, ok := d.Summary.Metrics[t.Metric]
		if !ok {
			jm, ok = d.Summary.Metrics[name]
		}
		if ok {
			kind = jm.Type
			switch jm.Contains {
			case "time":
				vt = metrics.Time
			case "data":
				vt = metrics.Data
			}
		}
		row.Value = metrics.FormatValue(t.Value, vt)
		if kind == "rate" || cond.Agg.Method == "count" || cond.Agg.Method == "rate" {
			row.Value = strconv.FormatFloat(t.Value, 'g', 6, 64)
		}
		if err != nil || cerr != nil {
			row.Why = "cannot be read"
			p.Thresholds = append(p.Thresholds, row)
			continue
		}
		var sec *Section
		if len(p.Sections) > 0 {
			sec = p.Sections[0]
		}
		for _, tg := range tags {
			if tg.Key == ScenarioTag {
				if s := secByID["Scenario "+tg.Value]; s != nil {
					sec = s
				}
			}
		}
		var c *Chart
		if sec != nil {
			c = sec.byName[name]
		}
		target := cond.Target
		switch {
		case c == nil:
			row.Why = "no chart: no sample of " + name
		case cond.Agg.Method == "count":
			row.Why = "a count over the whole run: the charts show each interval"
		default:
			if c.Unit == "%" {
				target *= 100
			}
			mark := "✓"
			if !t.OK {
				mark = "✗"
			}
			c.Lines = append(c.Lines, &Line{Label: fmt.Sprintf("%s %s %s", mark, t.Metric, t.Threshold), Threshold: true, Const: num(target), OK: t.OK})
			row.Chart = c.ID
		}
		p.Thresholds = append(p.Thresholds, row)
	}
}

// summary fills the table from the run's summary, else from the series'
// points (then without whole-run percentiles).
func (d *Data) summary(p *Page) {
	p.Head = []string{"COUNT", "RATE", "AVG", "P50", "P90", "P95", "P99", "MAX"}
	sum := d.Summary
	if sum == nil {
		sum = d.summaryFromPoints()
		if sum == nil {
			return
		}
		p.Notes = append(p.Notes, "This results file has no summary line (written by an older amqpjs, or the run did not finish): the summary below is computed from the time series, without percentiles over the whole run.")
	}
	keys := make([]string, 0, len(sum.Metrics))
	for k := range sum.Metrics {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		mi, _, _ := strings.Cut(keys[i], "{")
		mj, _, _ := strings.Cut(keys[j], "{")
		if mi != mj {
			return mi < mj
		}
		return keys[i] < keys[j]
	})
	secs := sum.DurationMs / 1000
	for _, k := range keys {
		jm := sum.Metrics[k]
		name, tags, sub := strings.Cut(k, "{")
		row := SummaryRow{Name: name, Cells: make([]string, 8)}
		if sub {
			row.Name, row.Sub = "{"+tags, true
		}
		vt := metrics.Default
		switch jm.Contains {
		case "time":
			vt = metrics.Time
		case "data":
			vt = metrics.Data
		}
		v := jm.Values
		f := func(x float64) string { return metrics.FormatValue(x, vt) }
		c := row.Cells
		switch jm.Type {
		case "counter":
			c[0] = f(v["count"])
			if vt == metrics.Data {
				c[1] = f(v["rate"]) + "/s"
			} else {
				c[1] = metrics.FormatValue(v["rate"], metrics.Default) + "/s"
			}
		case "gauge":
			c[0], c[2], c[7] = "-", f(v["value"]), f(v["max"])
		case "rate":
			c[0] = strconv.FormatFloat(v["passes"]+v["fails"], 'f', 0, 64)
			c[1] = strconv.FormatFloat(v["rate"]*100, 'f', 2, 64) + "%"
		case "trend":
			c[0] = strconv.FormatFloat(v["count"], 'f', 0, 64)
			if secs > 0 {
				c[1] = metrics.FormatValue(v["count"]/secs, metrics.Default) + "/s"
			}
			if v["count"] > 0 {
				c[2], c[7] = f(v["avg"]), f(v["max"])
				for i, key := range []string{"med", "p(90)", "p(95)", "p(99)"} {
					if x, ok := v[key]; ok {
						c[3+i] = f(x)
					}
				}
			}
		}
		p.Summary = append(p.Summary, row)
	}
}

func (d *Data) summaryFromPoints() *metrics.JSONSummary {
	if len(d.series) == 0 {
		return nil
	}
	tl := d.timeline(MaxPoints)
	dur := tl.End - tl.Start
	s := &metrics.JSONSummary{DurationMs: dur * 1000, Metrics: map[string]metrics.JSONMetric{}}
	for k, se := range d.series {
		jm := metrics.JSONMetric{Type: se.Kind, Contains: "default", Values: map[string]float64{}}
		if strings.HasSuffix(se.Metric, "_latency") || strings.HasSuffix(se.Metric, "_duration") {
			jm.Contains = "time"
		} else if strings.HasSuffix(se.Metric, "_bytes") {
			jm.Contains = "data"
		}
		var a agg
		for _, p := range se.pts {
			a.add(se.Kind, p)
		}
		if a.n == 0 || (a.count == 0 && se.Kind != "gauge") {
			continue
		}
		v := jm.Values
		switch se.Kind {
		case "counter":
			v["count"] = a.sum
			if dur > 0 {
				v["rate"] = a.sum / dur
			}
		case "gauge":
			v["value"], v["max"] = a.last, a.max
		case "rate":
			v["rate"] = a.sum / float64(a.count)
			v["passes"] = math.Round(a.sum)
			v["fails"] = float64(a.count) - math.Round(a.sum)
		case "trend":
			v["count"] = float64(a.count)
			v["avg"] = a.sum / float64(a.count)
			if a.pct {
				v["max"] = a.max
			}
		}
		s.Metrics[k] = jm
	}
	return s
}

func (d *Data) info(p *Page) {
	add := func(k, v string) { p.Info = append(p.Info, [2]string{k, v}) }
	const layout = "2006-01-02 15:04:05.000 MST"
	if r := d.Run; r != nil {
		if r.Script != "" {
			add("Script", r.Script)
		}
		if r.Scenario != "" {
			add("Scenario", r.Scenario)
		}
		status := "finished"
		if r.Status != "" {
			status = r.Status
		}
		add("Status", status)
		add("Start", r.Start.UTC().Format(layout))
		add("End", r.End.UTC().Format(layout))
		add("Duration", r.End.Sub(r.Start).Round(time.Millisecond).String())
		add("amqpjs", r.Version)
		if r.Broker != "" {
			add("Broker", r.Broker)
		} else {
			add("Broker", "not known (no connection was opened during the run)")
		}
		if len(r.Config) > 0 {
			var b bytes.Buffer
			if json.Indent(&b, r.Config, "", "  ") == nil {
				p.Config = b.String()
			}
		}
	} else {
		add("Run", "not described in the results (no run line: an older amqpjs, or the run did not finish)")
		if len(d.series) > 0 {
			add("Start", time.Unix(0, int64(d.first*1e9)).UTC().Format(layout)+" (from the time series)")
			add("End", time.Unix(0, int64(d.last*1e9)).UTC().Format(layout)+" (from the time series)")
		}
		add("amqpjs", "not recorded")
		add("Broker", "not recorded")
	}
	if len(p.Thresholds) > 0 {
		failed := 0
		for _, t := range p.Thresholds {
			if !t.OK {
				failed++
			}
		}
		add("Thresholds", fmt.Sprintf("%d passed, %d failed", len(p.Thresholds)-failed, failed))
	}
	if len(d.Sources) > 0 {
		add("Results", strings.Join(d.Sources, ", "))
	}
	add("Report", "made by amqpjs "+runtime.Version+" with uPlot "+UPlotVersion)
}
