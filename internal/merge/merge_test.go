package merge

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// part is one instance's registry, as a run fills it.
type part struct {
	reg                  *metrics.Registry
	sent, lat, ok, depth *metrics.Metric
	vus                  *metrics.Metric
	latA, latB, sentA    *metrics.Series
	okTagged, sentTagged *metrics.Series
	start, end           time.Time
	segment              string
	thresholds           []metrics.ThresholdSpec
}

var testThresholds = []metrics.ThresholdSpec{
	{Selector: "sent", Source: "count<1000"},
	{Selector: "lat", Source: "p(95)<250"},
	{Selector: "lat{queue:a}", Source: "p(99.9)<400"},
	{Selector: "ok", Source: "rate>0.3"},
	{Selector: "ok{queue:b}", Source: "rate>0.3"},
	{Selector: "depth", Source: "max<1000"},
	{Selector: "vus", Source: "max<=3"},
}

func newPart(seg string, start time.Time) *part {
	p := &part{reg: metrics.NewRegistry(), segment: seg, start: start, end: start.Add(10 * time.Second)}
	r := p.reg
	p.sent = r.MustNew("sent", metrics.Counter, metrics.Default)
	p.lat = r.MustNew("lat", metrics.Trend, metrics.Time)
	p.ok = r.MustNew("ok", metrics.Rate, metrics.Default)
	p.depth = r.MustNew("depth", metrics.Gauge, metrics.Default)
	p.vus = r.MustNew("vus", metrics.Gauge, metrics.Default)
	if err := r.AddThresholds(testThresholds); err != nil {
		panic(err)
	}
	p.latA = p.lat.Series(metrics.Tags{{Key: "queue", Value: "a"}})
	p.latB = p.lat.Series(metrics.Tags{{Key: "queue", Value: "b"}})
	p.sentA = p.sent.Series(metrics.Tags{{Key: "queue", Value: "a"}})
	p.okTagged = p.ok.Series(metrics.Tags{{Key: "queue", Value: "b"}, {Key: "scenario", Value: "s"}})
	p.sentTagged = p.sent.Series(metrics.Tags{{Key: "queue", Value: "b"}, {Key: "scenario", Value: "s"}})
	return p
}

// sample records one random event in p (and in all, the single run).
func sample(rng *rand.Rand, ps ...*part) {
	lat := math.Round(rng.ExpFloat64()*80000) / 1000 // thousands of distinct values, to the microsecond
	q := rng.IntN(3)
	ok := float64(rng.IntN(4) % 3)
	for _, p := range ps {
		switch q {
		case 0:
			p.latA.Add(lat)
			p.sentA.Add(2)
		case 1:
			p.latB.Add(lat)
			p.okTagged.Add(ok)
			p.sentTagged.Add(1)
		default:
			p.lat.Add(lat)
			p.ok.Add(ok)
		}
	}
}

func (p *part) input(name, id string) *Input {
	elapsed := p.end.Sub(p.start)
	p.reg.EvalThresholds(elapsed)
	sum := p.reg.Summarize(elapsed)
	b, err := json.Marshal(sum.JSON()) // through JSON, as a file carries it
	if err != nil {
		panic(err)
	}
	in := &Input{Name: name, Run: metrics.RunInfo{ID: id, Script: "s.js", ScriptSHA256: "abc123", Segment: p.segment, Start: p.start, End: p.end,
		Scenario: "constant-vus, 1 VUs for 10s", Options: json.RawMessage(`{"Scenarios":[{"VUs":3}],"Thresholds":[]}`)}}
	if err := json.Unmarshal(b, &in.Summary); err != nil {
		panic(err)
	}
	return in
}

// threeParts fills three instances and one run with the same samples.
func threeParts(t testing.TB, n int) (parts []*part, all *part) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	parts = []*part{newPart("0:1/3", t0), newPart("1/3:2/3", t0.Add(time.Second)), newPart("2/3:1", t0.Add(500*time.Millisecond))}
	all = newPart("0:1", t0)
	all.end = t0.Add(11 * time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		sample(rng, parts[rng.IntN(3)], all)
	}
	for i, p := range parts {
		p.depth.Add(float64(10 * (i + 1)))
		p.depth.Add(float64(i)) // last value i; the part that ends last is parts[1]
		p.vus.Add(1)
		p.vus.Add(float64(i + 1))
		p.vus.Add(0)
	}
	return parts, all
}

func inputs(parts []*part) []*Input {
	var ins []*Input
	for i, p := range parts {
		ins = append(ins, p.input(fmt.Sprintf("part%d.json", i), fmt.Sprintf("id%d", i)))
	}
	return ins
}

// The merge of three instances is the run of one that recorded every
// sample: counts and sums add up, rates are numerator/denominator, and a
// trend's histogram and so each of its percentiles are exactly those of one
// histogram of all the samples.
func TestMergeIsTheWholeRun(t *testing.T) {
	parts, all := threeParts(t, 20000)
	res, err := Merge(inputs(parts))
	if err != nil {
		t.Fatal(err)
	}
	got := res.Registry
	for _, name := range []string{"sent", "lat", "ok"} {
		ws := append([]*metrics.Series{all.reg.Get(name).Root()}, all.reg.Get(name).Sub()...)
		for _, w := range ws {
			key := w.Name()
			var g *metrics.Series
			if len(w.Tags) == 0 {
				g = got.Get(name).Root()
			} else {
				g = got.Get(name).Series(w.Tags)
			}
			ws, gs := w.Stats(), g.Stats()
			if ws.Count == 0 {
				t.Fatalf("%s: no samples in the test", key)
			}
			if gs.Count != ws.Count || gs.NonZero != ws.NonZero || gs.Min != ws.Min || gs.Max != ws.Max {
				t.Errorf("%s: merged %+v, whole %+v", key, gs, ws)
			}
			if math.Abs(gs.Sum-ws.Sum) > 1e-9*math.Abs(ws.Sum) { // a float sum in another order
				t.Errorf("%s: sum %v, whole %v", key, gs.Sum, ws.Sum)
			}
			if name != "lat" {
				continue
			}
			for _, p := range []float64{0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100} {
				if gp, wp := gs.Percentile(p), ws.Percentile(p); gp != wp {
					t.Errorf("%s: p(%v) merged %v, whole %v", key, p, gp, wp)
				}
			}
			gd, _ := g.Data()
			wd, _ := w.Data()
			gh, err1 := metrics.DecodeHistogram(gd.HDR)
			wh, err2 := metrics.DecodeHistogram(wd.HDR)
			if err1 != nil || err2 != nil || !gh.Equals(wh) || gh.TotalCount() != ws.Count {
				t.Errorf("%s: the merged histogram is not the whole run's (%v, %v)", key, err1, err2)
			}
		}
	}
	// Counters add up exactly: 2 per sample on queue a, 1 on b.
	if s := got.Get("sent").Root().Stats(); s.Sum != all.reg.Get("sent").Root().Stats().Sum || s.Count != all.reg.Get("sent").Root().Stats().Count {
		t.Errorf("sent %+v", s)
	}
	// The run lasted from the first start to the last end.
	if d := res.Summary.Duration; d != 11*time.Second {
		t.Errorf("duration %v", d)
	}
	if res.Run.Segment != "" || res.Run.ID == "" || res.Run.ID == "id0" || strings.Join(res.Segments, " ") != "0:1/3 1/3:2/3 2/3:1" {
		t.Errorf("run %+v, segments %v", res.Run, res.Segments)
	}
}

// Gauges: the VU gauges add up; others keep the value of the instance that
// ended last, the lowest min and the highest max.
func TestMergeGauges(t *testing.T) {
	parts, _ := threeParts(t, 10)
	parts[1].end = parts[1].end.Add(time.Hour)
	res, err := Merge(inputs(parts))
	if err != nil {
		t.Fatal(err)
	}
	d := res.Registry.Get("depth").Root().Stats()
	if d.Value != 1 || d.Min != 0 || d.Max != 30 || d.Count != 6 {
		t.Errorf("depth %+v", d)
	}
	v := res.Registry.Get("vus").Root().Stats()
	if v.Value != 0 || v.Max != 1+2+3 || v.Min != 0 {
		t.Errorf("vus %+v", v)
	}
}

// Thresholds are evaluated on the merged data: each instance passes
// "count<1000" and "vus max<=3", the whole run does not.
func TestMergeThresholds(t *testing.T) {
	parts, all := threeParts(t, 1200)
	ins := inputs(parts)
	for _, in := range ins {
		if in.Summary.ThresholdsFailed {
			t.Fatalf("%s fails alone: %+v", in.Name, in.Summary.Thresholds)
		}
	}
	res, err := Merge(ins)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed {
		t.Fatal("merged thresholds pass")
	}
	all.reg.EvalThresholds(11 * time.Second)
	want := map[string]*metrics.Threshold{}
	for _, th := range all.reg.Thresholds() {
		want[th.Selector+" "+th.Source] = th
	}
	var failed []string
	for _, th := range res.Registry.Thresholds() {
		w := want[th.Selector+" "+th.Source]
		if th.Selector != "vus" && th.Selector != "depth" && (th.OK != w.OK || th.Value != w.Value) { // the gauges: the whole run here has none
			t.Errorf("%s %s: merged %v (%v), whole %v (%v)", th.Selector, th.Source, th.OK, th.Value, w.OK, w.Value)
		}
		if !th.OK {
			failed = append(failed, th.Selector)
		}
	}
	if strings.Join(failed, ",") != "sent,vus" {
		t.Errorf("failed: %v", failed)
	}
	// The same rows as the whole run's summary: a threshold's series on a
	// subset of tags (ok{queue:b}) is not a row of its own.
	rows := func(s *metrics.Summary) (names []string) {
		for _, r := range s.Rows {
			if n := r.Series.Metric.Name; n == "sent" || n == "lat" || n == "ok" {
				names = append(names, n+"|"+r.Name)
			}
		}
		return names
	}
	if g, w := strings.Join(rows(res.Summary), " "), strings.Join(rows(all.reg.Summarize(time.Second)), " "); g != w {
		t.Errorf("rows:\n%s\nwant\n%s", g, w)
	}
	var out bytes.Buffer
	if err := res.Summary.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"✗ sent", "✓ lat{queue:a}", "✓ ok{queue:b}", "✗ vus"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("summary lacks %q:\n%s", s, out.String())
		}
	}
	// The merged export carries what a merge needs, and reads back.
	b, _ := json.Marshal(res.JSON())
	in, err := Read(bytes.NewReader(b), "merged.json", true)
	if err != nil {
		t.Fatal(err)
	}
	if in.Run.Segment != "" || in.Summary.Metrics["lat"].Data.HDR == "" || in.Summary.ThresholdData["lat{queue:a}"].Count == 0 {
		t.Errorf("merged export: %+v", in.Run)
	}
	again, err := Merge([]*Input{in})
	if err != nil {
		t.Fatal(err)
	}
	if g, w := again.Registry.Get("lat").Root().Stats(), res.Registry.Get("lat").Root().Stats(); g.Percentile(95) != w.Percentile(95) || g.Count != w.Count {
		t.Errorf("merged again: %+v", g)
	}
}

func TestMergeRefusesInputsThatDoNotBelongTogether(t *testing.T) {
	parts, _ := threeParts(t, 50)
	cases := []struct {
		name string
		edit func([]*Input) []*Input
		want string
	}{
		{"same run twice", func(in []*Input) []*Input { in[2].Run.ID = "id0"; return in }, "part0.json and part2.json are the results of the same run"},
		{"other script", func(in []*Input) []*Input { in[1].Run.ScriptSHA256 = "def"; return in }, "part1.json ran another script than part0.json"},
		{"other options", func(in []*Input) []*Input {
			in[2].Run.Options = json.RawMessage(`{"Scenarios":[{"VUs":4}],"Thresholds":[]}`)
			return in
		}, "part2.json ran with other options than part0.json: options.Scenarios[0].VUs is 3 in part0.json and 4 in part2.json"},
		{"overlap", func(in []*Input) []*Input { in[1].Run.Segment = "1/4:2/3"; return in }, "segments overlap: part0.json (0:1/3) and part1.json (1/4:2/3)"},
		{"gap", func(in []*Input) []*Input { return []*Input{in[0], in[2]} }, "segment 1/3:2/3 is missing: between part0.json (0:1/3) and part2.json (2/3:1)"},
		{"no start", func(in []*Input) []*Input { return in[1:] }, "segment 0:1/3 is missing"},
		{"no end", func(in []*Input) []*Input { return in[:2] }, "segment 2/3:1 is missing: the last segment, part1.json's, is 1/3:2/3"},
		{"two wholes", func(in []*Input) []*Input {
			in[0].Run.Segment, in[1].Run.Segment = "", "0:1" // none is the whole too
			return in[:2]
		}, "segments overlap: part0.json (0:1) and part1.json (0:1)"},
		{"older export", func(in []*Input) []*Input {
			jm := in[1].Summary.Metrics["lat"]
			jm.Data = nil
			in[1].Summary.Metrics["lat"] = jm
			return in
		}, "part1.json: metric lat has no \"data\""},
		{"kind", func(in []*Input) []*Input {
			jm := in[2].Summary.Metrics["depth"]
			jm.Type = "counter"
			in[2].Summary.Metrics["depth"] = jm
			return in
		}, "part2.json: metric depth is a counter of default values, but a gauge"},
		{"no id", func(in []*Input) []*Input { in[0].Run.ID = ""; return in }, "part0.json: the run description lacks"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Merge(c.edit(inputs(parts)))
			if err == nil || !IsInputError(err) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant %q", err, c.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	parts, _ := threeParts(t, 100)
	in := parts[0].input("x", "id0")
	doc := in.Summary
	run := in.Run
	doc.Run = &run
	b, _ := json.MarshalIndent(doc, "", "  ")
	got, err := Read(bytes.NewReader(b), "export.json", true)
	if err != nil || got.Run.ID != "id0" || got.Lines || got.Summary.Run != nil || got.Summary.Metrics["lat"].Data == nil {
		t.Fatalf("summary export: %v %+v", err, got)
	}

	var jl bytes.Buffer
	o := metrics.NewJSONOutput(&jl)
	pt := metrics.Point{Time: run.Start.Add(time.Second), Elapsed: 1, Metric: "sent", Kind: metrics.Counter, Count: 1, Value: 2, Rate: 2}
	if err := o.Write([]metrics.Point{pt}); err != nil {
		t.Fatal(err)
	}
	parts[0].reg.EvalThresholds(10 * time.Second)
	if err := o.(metrics.SummaryOutput).WriteSummary(run, parts[0].reg.Summarize(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	got, err = Read(bytes.NewReader(jl.Bytes()), "series.jsonl", true)
	if err != nil || !got.Lines || len(got.Points) != 1 || got.Run.ID != "id0" || got.Summary.Metrics["lat"].Data == nil {
		t.Fatalf("json lines: %v %+v", err, got)
	}
	got, err = Read(bytes.NewReader(jl.Bytes()), "series.jsonl", false) // the summary only
	if err != nil || !got.Lines || len(got.Points) != 0 || got.Run.ID != "id0" {
		t.Fatalf("json lines without points: %v %+v", err, got)
	}

	for src, want := range map[string]string{
		"":      "x: empty",
		"hello": "x: not amqpjs results",
		`{"metric":"a","type":"counter","time":"2026-01-01T00:00:00Z"}`: "x: no run line at the end",
		`{"duration_ms":1,"metrics":{}}`:                                "x: the summary has no run description",
		`{"foo":1}`:                                                     "x: value 1: neither a point nor the run line",
	} {
		if _, err := Read(strings.NewReader(src), "x", true); err == nil || !IsInputError(err) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", src, err, want)
		}
	}
}
