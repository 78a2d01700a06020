// Package merge adds up the results of the instances of a split run (each
// `amqpjs run --execution-segment` with --summary-export or --out json=)
// into the results of the whole run, exactly: counts and sums add up, rates
// are the sum of their numerators over the sum of their denominators, a
// trend's HdrHistograms merge into the histogram of all its samples (so its
// percentiles are those of one run that recorded them all), and the
// thresholds of the script's options are evaluated on the merged data.
// `amqpjs merge` is its command; docs/merge.md describes the format and the
// rules.
package merge

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
	"github.com/amqpjs/amqpjs/runtime/scenario/segment"
)

// Input is one instance's results: a --summary-export file, or an --out
// json= file (its points and its last line, the run line).
type Input struct {
	Name    string // the file's name, for messages
	Run     metrics.RunInfo
	Summary metrics.JSONSummary
	// Points are the time series of a JSON lines file (none for a summary
	// export).
	Points []metrics.JSONPoint
	// Lines is true for a JSON lines file (--out json=).
	Lines bool
}

// InputError is a file that is not an instance's results, or results that
// do not belong with the others: `amqpjs merge` exits 2 with its message.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// line is one value of a file: a summary export, a point or a run line.
type line struct {
	metrics.JSONPoint
	// the run line of the JSON lines output
	RunLine *metrics.RunInfo     `json:"run"`
	Summary *metrics.JSONSummary `json:"summary"`
	// a summary export
	Metrics map[string]metrics.JSONMetric `json:"metrics"`
}

// Read reads one instance's results from r: a --summary-export document or
// the JSON lines of --out json= (which must end with its run line: the run
// finished). name is the file's name, for messages. The points of JSON
// lines are kept only when points is true (for the HTML report: an hour's
// run has tens of MB of them).
func Read(r io.Reader, name string, points bool) (*Input, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<16))
	in := &Input{Name: name}
	var raw json.RawMessage
	n := 0
	for {
		raw = raw[:0]
		if err := dec.Decode(&raw); err == io.EOF {
			break
		} else if err != nil {
			return nil, inputErr("%s: not amqpjs results (a --summary-export file or the lines of --out json=): %v", name, err)
		}
		n++
		if n == 1 && bytes.Contains(raw, []byte(`"metrics"`)) {
			var doc metrics.JSONSummary
			if err := json.Unmarshal(raw, &doc); err == nil && doc.Metrics != nil {
				if dec.More() {
					return nil, inputErr("%s: more after the summary document", name)
				}
				if doc.Run == nil {
					return nil, inputErr("%s: the summary has no run description (\"run\"): it was written by an amqpjs older than 'amqpjs merge', run it again", name)
				}
				in.Run, in.Summary = *doc.Run, doc
				in.Summary.Run = nil
				return in, nil
			}
		}
		var l line
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, inputErr("%s: value %d: not amqpjs results: %v", name, n, err)
		}
		switch {
		case l.Metric != "":
			if points {
				in.Points = append(in.Points, l.JSONPoint)
			}
		case l.RunLine != nil && l.Summary != nil:
			in.Run, in.Summary = *l.RunLine, *l.Summary
			in.Lines = true
		default:
			return nil, inputErr("%s: value %d: neither a point nor the run line of amqpjs's JSON output", name, n)
		}
	}
	if in.Summary.Metrics == nil {
		if n == 0 {
			return nil, inputErr("%s: empty", name)
		}
		return nil, inputErr("%s: no run line at the end (the run did not finish, or an amqpjs older than 'amqpjs merge' wrote it)", name)
	}
	return in, nil
}

// Result is the whole run, merged.
type Result struct {
	// Registry holds the merged metrics and the thresholds, evaluated.
	Registry *metrics.Registry
	// Summary is the merged summary (thresholds evaluated).
	Summary *metrics.Summary
	// Run describes the whole run: a new id, no segment (the whole), the
	// earliest start and the latest end.
	Run metrics.RunInfo
	// Segments are the inputs' segments, in the order of the whole.
	Segments []string
	// Failed reports whether a threshold failed.
	Failed bool
}

// JSON is the merged summary in the --summary-export format (with the run
// description, without a segment): it can be merged again only as a whole
// run.
func (r *Result) JSON() metrics.JSONSummary {
	js := r.Summary.JSON()
	info := r.Run
	js.Run = &info
	return js
}

// additiveGauges are the gauges that count a share of the whole in each
// instance (the VUs): merged by adding up.
var additiveGauges = map[string]bool{scenario.MetricVUs: true, scenario.MetricVUsMax: true}

// acc accumulates one series over the inputs.
type acc struct {
	kind   metrics.Kind
	vt     metrics.ValueType
	tags   metrics.Tags
	from   string // the first input that had it
	d      metrics.SeriesData
	lastAt time.Time // gauge: the end of the run whose value d.Value is
	hist   histAcc
	n      int // inputs with samples
}

func (a *acc) add(name string, d metrics.SeriesData, end time.Time, additive bool) error {
	switch a.kind {
	case metrics.Counter:
		a.d.Count += d.Count
		a.d.Sum += d.Sum
	case metrics.Rate:
		a.d.Count += d.Count
		a.d.NonZero += d.NonZero
	case metrics.Gauge:
		if d.Count == 0 {
			return nil
		}
		switch {
		case additive:
			a.d.Value += d.Value
			a.d.Min += d.Min
			a.d.Max += d.Max
		case a.n == 0:
			a.d.Value, a.d.Min, a.d.Max, a.lastAt = d.Value, d.Min, d.Max, end
		default:
			if end.After(a.lastAt) {
				a.d.Value, a.lastAt = d.Value, end
			}
			a.d.Min, a.d.Max = math.Min(a.d.Min, d.Min), math.Max(a.d.Max, d.Max)
		}
		a.d.Count += d.Count
	case metrics.Trend:
		if d.Count == 0 {
			return nil
		}
		if d.HDR == "" {
			return inputErr("%s: trend without its histogram (\"hdr\")", name)
		}
		if err := a.hist.add(d.HDR); err != nil {
			return inputErr("%s: %v", name, err)
		}
		if a.n == 0 {
			a.d.Min, a.d.Max = d.Min, d.Max
		} else {
			a.d.Min, a.d.Max = math.Min(a.d.Min, d.Min), math.Max(a.d.Max, d.Max)
		}
		a.d.Count += d.Count
		a.d.Sum += d.Sum
	}
	a.n++
	return nil
}

// Merge adds the inputs up. It fails with an [*InputError] when they do not
// belong together: the same run twice, other scripts or options, segments
// that overlap or leave part of the whole uncovered, a file without the data
// a merge needs.
func Merge(inputs []*Input) (*Result, error) {
	if len(inputs) == 0 {
		return nil, inputErr("no results to merge")
	}
	segs, err := check(inputs)
	if err != nil {
		return nil, err
	}
	first := inputs[0]

	series := map[string]*acc{}
	filters := map[string]*acc{}
	dec := &decoder{}
	var keys []string
	for _, in := range inputs {
		for key, jm := range in.Summary.Metrics {
			kind, err := metrics.ParseKind(jm.Type)
			if err != nil {
				return nil, inputErr("%s: metric %s: %v", in.Name, key, err)
			}
			vt, err := metrics.ParseValueType(jm.Contains)
			if err != nil {
				return nil, inputErr("%s: metric %s: %v", in.Name, key, err)
			}
			if jm.Data == nil {
				if _, ok := in.Summary.ThresholdData[key]; ok {
					continue // a threshold's series, not a row: merged from threshold_data
				}
				return nil, inputErr("%s: metric %s has no \"data\": written by an amqpjs older than 'amqpjs merge'", in.Name, key)
			}
			tags := metrics.NewTags(jm.Tags)
			if want := metricName(key) + tags.String(); want != key {
				return nil, inputErr("%s: metric %q: its tags say %s", in.Name, key, want)
			}
			a := series[key]
			if a == nil {
				a = &acc{kind: kind, vt: vt, tags: tags, from: in.Name, hist: histAcc{dec: dec}}
				series[key] = a
				keys = append(keys, key)
			} else if a.kind != kind || a.vt != vt {
				return nil, inputErr("%s: metric %s is a %s of %s values, but a %s of %s values in %s", in.Name, key, kind, vt, a.kind, a.vt, a.from)
			}
			if err := a.add(in.Name+": metric "+key, *jm.Data, in.Run.End, additiveGauges[metricName(key)]); err != nil {
				return nil, err
			}
		}
	}
	for _, t := range first.Summary.Thresholds {
		name, tags, err := metrics.ParseSelector(t.Metric)
		if err != nil {
			return nil, inputErr("%s: threshold %q: %v", first.Name, t.Metric, err)
		}
		key := name + tags.String()
		root := series[name]
		if root == nil {
			return nil, inputErr("%s: threshold on %s: no metric %s in the summary", first.Name, t.Metric, name)
		}
		if len(tags) == 0 || filters[key] != nil {
			continue
		}
		a := &acc{kind: root.kind, vt: root.vt, tags: tags, from: first.Name, hist: histAcc{dec: dec}}
		filters[key] = a
		for _, in := range inputs {
			d, ok := in.Summary.ThresholdData[key]
			if !ok {
				return nil, inputErr("%s: no \"threshold_data\" for the threshold on %s", in.Name, key)
			}
			if err := a.add(in.Name+": threshold data "+key, d, in.Run.End, additiveGauges[name]); err != nil {
				return nil, err
			}
		}
	}

	reg := metrics.NewRegistry()
	sort.Strings(keys)
	for _, key := range keys {
		a := series[key]
		m, err := reg.New(metricName(key), a.kind, a.vt)
		if err != nil {
			return nil, inputErr("%s: metric %s: %v", a.from, key, err)
		}
		h, err := a.hist.histogram()
		if err != nil {
			return nil, inputErr("metric %s: %v", key, err)
		}
		m.Series(a.tags).Load(a.d, h)
	}
	var specs []metrics.ThresholdSpec
	for _, t := range first.Summary.Thresholds {
		specs = append(specs, metrics.ThresholdSpec{Selector: t.Metric, Source: t.Threshold})
	}
	if err := reg.AddThresholds(specs); err != nil {
		return nil, inputErr("%s: %v", first.Name, err)
	}
	for key, a := range filters {
		h, err := a.hist.histogram()
		if err != nil {
			return nil, inputErr("threshold data %s: %v", key, err)
		}
		reg.Get(metricName(key)).Filter(a.tags).Load(a.d, h)
	}

	res := &Result{Registry: reg, Run: mergeRun(inputs)}
	for _, s := range segs {
		res.Segments = append(res.Segments, s.seg.String())
	}
	elapsed := res.Run.End.Sub(res.Run.Start)
	if res.Run.Start.IsZero() || elapsed <= 0 {
		for _, in := range inputs {
			elapsed = max(elapsed, time.Duration(in.Summary.DurationMs*float64(time.Millisecond)))
		}
	}
	res.Failed, _ = reg.EvalThresholds(elapsed)
	res.Summary = reg.Summarize(elapsed)
	return res, nil
}

// metricName is the metric of a summary key "metric{tag:value}".
func metricName(key string) string {
	name, _, _ := strings.Cut(key, "{")
	return name
}

type segOf struct {
	seg segment.Segment
	in  *Input
}

// check makes sure that the inputs are the instances of one run: each
// once, one script, the same options, segments that split the whole.
func check(inputs []*Input) ([]segOf, error) {
	first := inputs[0]
	ids := map[string]string{}
	var segs []segOf
	for _, in := range inputs {
		r := in.Run
		if r.ID == "" || r.ScriptSHA256 == "" || len(r.Options) == 0 {
			return nil, inputErr("%s: the run description lacks its id, script hash or options: written by an amqpjs older than 'amqpjs merge'", in.Name)
		}
		if prev, dup := ids[r.ID]; dup {
			return nil, inputErr("%s and %s are the results of the same run (id %s): give each instance's results once", prev, in.Name, r.ID)
		}
		ids[r.ID] = in.Name
		if r.ScriptSHA256 != first.Run.ScriptSHA256 {
			return nil, inputErr("%s ran another script than %s (%s, sha256 %.12s…, and %s, sha256 %.12s…)", in.Name, first.Name, r.Script, r.ScriptSHA256, first.Run.Script, first.Run.ScriptSHA256)
		}
		if d := diffJSON(first.Run.Options, r.Options, first.Name, in.Name); d != "" {
			return nil, inputErr("%s ran with other options than %s: %s", in.Name, first.Name, d)
		}
		s, err := segment.Whole(), error(nil)
		if r.Segment != "" { // none: the whole run
			s, err = segment.Parse(r.Segment)
		}
		if err != nil {
			return nil, inputErr("%s: segment %q: %v", in.Name, r.Segment, err)
		}
		segs = append(segs, segOf{s, in})
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].seg.From().Cmp(segs[j].seg.From()) < 0 })
	at := segOf{seg: segment.Whole()}
	end := "0"
	for i, s := range segs {
		from := ratString(s.seg.From())
		switch c := s.seg.From().Cmp(at.seg.To()); {
		case i == 0 && from != "0":
			return nil, inputErr("segment 0:%s is missing: the first segment, %s's, is %s", from, s.in.Name, s.seg)
		case i > 0 && c > 0:
			return nil, inputErr("segment %s:%s is missing: between %s (%s) and %s (%s)", end, from, at.in.Name, at.seg, s.in.Name, s.seg)
		case i > 0 && c < 0:
			return nil, inputErr("segments overlap: %s (%s) and %s (%s)", at.in.Name, at.seg, s.in.Name, s.seg)
		}
		at, end = s, ratString(s.seg.To())
	}
	if end != "1" {
		return nil, inputErr("segment %s:1 is missing: the last segment, %s's, is %s", end, at.in.Name, at.seg)
	}
	return segs, nil
}

// ratString is a bound as a segment writes it: "1/3", "0", "1".
func ratString(r interface{ RatString() string }) string { return r.RatString() }

// mergeRun describes the whole run.
func mergeRun(inputs []*Input) metrics.RunInfo {
	first := inputs[0].Run
	var id [16]byte
	_, _ = rand.Read(id[:])
	out := metrics.RunInfo{
		ID:           hex.EncodeToString(id[:]),
		Script:       first.Script,
		ScriptSHA256: first.ScriptSHA256,
		Version:      runtime.Version,
		Scenario:     first.Scenario,
		Config:       first.Options,
		Options:      first.Options,
	}
	var brokers, statuses []string
	seen := map[string]bool{}
	for _, in := range inputs {
		r := in.Run
		if !r.Start.IsZero() && (out.Start.IsZero() || r.Start.Before(out.Start)) {
			out.Start = r.Start
		}
		if r.End.After(out.End) {
			out.End = r.End
		}
		if r.Broker != "" && !seen[r.Broker] {
			seen[r.Broker] = true
			brokers = append(brokers, r.Broker)
		}
		if r.Status != "" {
			statuses = append(statuses, fmt.Sprintf("%s %s", in.Name, r.Status))
		}
	}
	out.Broker = strings.Join(brokers, ", ")
	out.Status = strings.Join(statuses, "; ")
	return out
}

// diffJSON compares two JSON documents by value and describes the first
// difference ("" when they are the same).
func diffJSON(a, b json.RawMessage, nameA, nameB string) string {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return "unreadable options: " + err.Error()
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return "unreadable options: " + err.Error()
	}
	return diffValue("options", va, vb, nameA, nameB)
}

func diffValue(path string, a, b any, nameA, nameB string) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := diffValue(path+"."+k, x[k], y[k], nameA, nameB); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok {
			break
		}
		for i := 0; i < max(len(x), len(y)); i++ {
			var ea, eb any
			if i < len(x) {
				ea = x[i]
			}
			if i < len(y) {
				eb = y[i]
			}
			if d := diffValue(fmt.Sprintf("%s[%d]", path, i), ea, eb, nameA, nameB); d != "" {
				return d
			}
		}
		return ""
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if bytes.Equal(ja, jb) {
		return ""
	}
	return fmt.Sprintf("%s is %s in %s and %s in %s", path, orNone(ja), nameA, orNone(jb), nameB)
}

func orNone(b []byte) string {
	if string(b) == "null" {
		return "not set"
	}
	return string(b)
}

// IsInputError reports whether err is an [*InputError].
func IsInputError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}
