package report

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

var t0 = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

// point makes a JSON point of interval i (1-based) of a run that started at t0.
func point(i int, metric, kind string, tags map[string]string, count int64, value float64) metrics.JSONPoint {
	if tags == nil {
		tags = map[string]string{}
	}
	p := metrics.JSONPoint{Time: t0.Add(time.Duration(i) * time.Second), Elapsed: float64(i), Metric: metric, Type: kind, Tags: tags, Count: count, Value: value}
	if kind == "counter" {
		p.Rate = f(value)
	}
	return p
}

func trendPoint(i int, metric string, tags map[string]string, count int64, p50, p99, max float64) metrics.JSONPoint {
	p := point(i, metric, "trend", tags, count, p50)
	p.Min, p.Max, p.P50, p.P90, p.P95, p.P99 = f(p50/2), f(max), f(p50), f(p99*0.9), f(p99*0.95), f(p99)
	return p
}

func gaugePoint(i int, metric string, v float64) metrics.JSONPoint {
	p := point(i, metric, "gauge", nil, 1, v)
	p.Min, p.Max = f(v), f(v)
	return p
}

func chartOf(t *testing.T, p *Page, section, id string) *Chart {
	t.Helper()
	for _, s := range p.Sections {
		if s.ID != section {
			continue
		}
		for _, c := range s.Charts {
			if c.ID == section+"-"+id {
				return c
			}
		}
	}
	t.Fatalf("no chart %s in section %s", id, section)
	return nil
}

func line(t *testing.T, c *Chart, label string) *Line {
	t.Helper()
	for _, l := range c.Lines {
		if l.Label == label {
			return l
		}
	}
	t.Fatalf("chart %s has no line %q", c.ID, label)
	return nil
}

func TestPageChartsAndThresholds(t *testing.T) {
	d := NewData()
	for i := 1; i <= 10; i++ {
		d.AddPoint(point(i, "amqp_published", "counter", nil, 100, 100))
		d.AddPoint(point(i, "amqp_confirmed", "counter", nil, 90, 90))
		d.AddPoint(trendPoint(i, "amqp_confirm_latency", nil, 90, 2, 8, 9))
		d.AddPoint(trendPoint(i, "amqp_rpc_duration", map[string]string{"method": "queue_declare"}, 1, 3, 3, 3))
		d.AddPoint(gaugePoint(i, "vus", float64(i)))
		if i == 5 {
			d.AddPoint(point(i, "errors", "counter", nil, 2, 2))
		}
	}
	d.Summary = &metrics.JSONSummary{DurationMs: 10000, Metrics: map[string]metrics.JSONMetric{
		"amqp_confirm_latency": {Type: "trend", Contains: "time", Values: map[string]float64{"count": 900, "avg": 2, "med": 2, "p(90)": 7, "p(95)": 7.6, "p(99)": 8, "max": 9}},
		"amqp_published":       {Type: "counter", Contains: "default", Values: map[string]float64{"count": 1000, "rate": 100}},
	}, Thresholds: []metrics.JSONThresholdOutcome{
		{Metric: "amqp_confirm_latency", Threshold: "p(95)<50", OK: true, Value: 7.6},
		{Metric: "amqp_published", Threshold: "rate>500", OK: false, Value: 100},
		{Metric: "amqp_published", Threshold: "count>0", OK: true, Value: 1000},
		{Metric: "amqp_confirm_latency", Threshold: "count>10", OK: true, Value: 900},
	}}
	p := d.Page(0)
	if len(p.X) != 10 || p.X[0] != float64(t0.Unix()+1) {
		t.Fatalf("x %v", p.X)
	}
	rates := chartOf(t, p, "all", "rates")
	if v := line(t, rates, "published").Values; v[0] != 100 || v[9] != 100 {
		t.Errorf("published/s %v", v)
	}
	conf := chartOf(t, p, "all", "confirm")
	if v := line(t, conf, "p99").Values; v[3] != 8 {
		t.Errorf("confirm p99 %v", v)
	}
	if v := line(t, chartOf(t, p, "all", "vus"), "vus").Values; v[6] != 7 {
		t.Errorf("vus %v", v)
	}
	if v := line(t, chartOf(t, p, "all", "rpc"), "queue_declare").Values; math.Abs(float64(v[0])-2.85) > 1e-9 {
		t.Errorf("rpc %v", v)
	}
	if v := line(t, chartOf(t, p, "all", "errors"), "errors").Values; v[4] != 2 || v[3] != 0 {
		t.Errorf("errors/s %v", v)
	}
	// Thresholds: drawn as constant lines on their charts, with their outcome.
	th := line(t, conf, "✓ amqp_confirm_latency p(95)<50")
	if !th.Threshold || th.Const != 50 || !th.OK {
		t.Errorf("confirm threshold line %+v", th)
	}
	th = line(t, rates, "✗ amqp_published rate>500")
	if th.Const != 500 || th.OK {
		t.Errorf("rate threshold line %+v", th)
	}
	if !p.Failed || len(p.Thresholds) != 4 {
		t.Fatalf("thresholds %+v", p.Thresholds)
	}
	if p.Thresholds[0].Chart != "all-confirm" || p.Thresholds[1].Chart != "all-rates" || p.Thresholds[2].Chart != "" || p.Thresholds[2].Why == "" || p.Thresholds[3].Chart != "" {
		t.Errorf("threshold rows %+v", p.Thresholds)
	}
	if p.Thresholds[0].Value != "7.6ms" {
		t.Errorf("threshold value %q", p.Thresholds[0].Value)
	}
	// The summary table, formatted as the text summary.
	if len(p.Summary) != 2 || p.Summary[0].Name != "amqp_confirm_latency" || p.Summary[0].Cells[5] != "7.6ms" || p.Summary[1].Cells[1] != "100/s" {
		t.Errorf("summary %+v", p.Summary)
	}
}

func TestScenarioSections(t *testing.T) {
	d := NewData()
	for i := 1; i <= 5; i++ {
		d.AddPoint(point(i, "amqp_published", "counter", nil, 30, 30))
		d.AddPoint(point(i, "amqp_published", "counter", map[string]string{"scenario": "fast"}, 20, 20))
		d.AddPoint(point(i, "amqp_published", "counter", map[string]string{"scenario": "slow"}, 10, 10))
		d.AddPoint(trendPoint(i, "amqp_rpc_duration", map[string]string{"method": "queue_declare", "scenario": "slow"}, 1, 4, 4, 4))
	}
	d.Summary = &metrics.JSONSummary{Metrics: map[string]metrics.JSONMetric{}, Thresholds: []metrics.JSONThresholdOutcome{
		{Metric: "amqp_published{scenario:slow}", Threshold: "rate>5", OK: true, Value: 10},
	}}
	p := d.Page(0)
	if len(p.Sections) != 3 || p.Sections[1].Title != "Scenario fast" || p.Sections[2].Title != "Scenario slow" {
		t.Fatalf("sections %+v", p.Sections)
	}
	if v := line(t, chartOf(t, p, "s1", "rates"), "published").Values; v[0] != 20 {
		t.Errorf("fast %v", v)
	}
	slow := chartOf(t, p, "s2", "rates")
	if v := line(t, slow, "published").Values; v[0] != 10 {
		t.Errorf("slow %v", v)
	}
	if l := line(t, slow, "✓ amqp_published{scenario:slow} rate>5"); l.Const != 5 {
		t.Errorf("threshold %+v", l)
	}
	// RPC durations by method, in the whole run and in their scenario.
	line(t, chartOf(t, p, "all", "rpc"), "queue_declare")
	line(t, chartOf(t, p, "s2", "rpc"), "queue_declare")
	for _, c := range p.Sections[1].Charts {
		if c.ID == "s1-rpc" {
			t.Error("scenario fast has an RPC chart of scenario slow's calls")
		}
	}
}

func TestDownsampling(t *testing.T) {
	d := NewData()
	const n = 5000
	for i := 1; i <= n; i++ {
		d.AddPoint(point(i, "amqp_published", "counter", nil, 10, 10))
		p99 := 5.0
		if i == 2345 {
			p99 = 900 // one slow second
		}
		d.AddPoint(trendPoint(i, "amqp_confirm_latency", nil, 10, 1, p99, p99))
	}
	p := d.Page(1000)
	if len(p.X) != 1000 {
		t.Fatalf("%d points", len(p.X))
	}
	for i, v := range line(t, chartOf(t, p, "all", "rates"), "published").Values {
		if math.Abs(float64(v)-10) > 1e-9 {
			t.Fatalf("rate at %d = %v, want 10", i, v)
		}
	}
	spikes := 0
	for _, v := range line(t, chartOf(t, p, "all", "confirm"), "p99").Values {
		if v == 900 {
			spikes++
		}
	}
	if spikes != 1 {
		t.Errorf("the slow second shows in %d points, want 1", spikes)
	}
	if len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "each point covers 5s") {
		t.Errorf("notes %q", p.Notes)
	}
}

// runJSON records a small run into a real registry, writes it with the
// JSON lines output (points and the run line) and returns the file.
func runJSON(t *testing.T, withRunLine bool) []byte {
	t.Helper()
	reg := metrics.NewRegistry()
	pub := reg.MustNew("amqp_published", metrics.Counter, metrics.Default)
	lat := reg.MustNew("amqp_confirm_latency", metrics.Trend, metrics.Time)
	reg.EnableWindows()
	if err := reg.AddThresholds([]metrics.ThresholdSpec{{Selector: "amqp_confirm_latency", Source: "p(99)<1"}}); err != nil {
		t.Fatal(err)
	}
	reg.Start(t0)
	s := metrics.NewSampler(reg, t0)
	var buf bytes.Buffer
	out := metrics.NewJSONOutput(&buf)
	for i := 1; i <= 3; i++ {
		for j := 0; j < 50; j++ {
			pub.Add(1)
			lat.Add(float64(j))
		}
		if err := out.Write(s.Sample(t0.Add(time.Duration(i) * time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if withRunLine {
		reg.EvalThresholds(3 * time.Second)
		info := metrics.RunInfo{Script: "x.js", Version: "9.9.9", Broker: "RabbitMQ 3.13.0", Start: t0, End: t0.Add(3 * time.Second), Config: json.RawMessage(`{"VUs":2}`)}
		if err := out.(metrics.SummaryOutput).WriteSummary(info, reg.Summarize(3*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func info(p *Page, key string) string {
	for _, kv := range p.Info {
		if kv[0] == key {
			return kv[1]
		}
	}
	return ""
}

func TestReadJSON(t *testing.T) {
	d := NewData()
	if err := d.ReadJSON(bytes.NewReader(runJSON(t, true)), "run.jsonl"); err != nil {
		t.Fatal(err)
	}
	p := d.Page(0)
	if info(p, "Broker") != "RabbitMQ 3.13.0" || info(p, "amqpjs") != "9.9.9" || info(p, "Results") != "run.jsonl" || !strings.Contains(p.Config, `"VUs": 2`) {
		t.Errorf("info %q config %q", p.Info, p.Config)
	}
	if len(p.Thresholds) != 1 || p.Thresholds[0].OK || p.Thresholds[0].Chart != "all-confirm" || !p.Failed {
		t.Errorf("thresholds %+v", p.Thresholds)
	}
	if v := line(t, chartOf(t, p, "all", "rates"), "published").Values; len(v) != 3 || v[2] != 50 {
		t.Errorf("published %v", v)
	}
	if v := line(t, chartOf(t, p, "all", "confirm"), "max").Values; v[0] != 49 {
		t.Errorf("confirm max %v", v)
	}

	// A file without the run line (an older amqpjs): charts, and a summary
	// from the points.
	d = NewData()
	if err := d.ReadJSON(bytes.NewReader(runJSON(t, false)), "old.jsonl"); err != nil {
		t.Fatal(err)
	}
	p = d.Page(0)
	if len(p.Sections) != 1 || len(p.Thresholds) != 0 || !strings.Contains(info(p, "Run"), "not described") {
		t.Errorf("page %+v", p)
	}
	var sumPub *SummaryRow
	for i := range p.Summary {
		if p.Summary[i].Name == "amqp_published" {
			sumPub = &p.Summary[i]
		}
	}
	if sumPub == nil || sumPub.Cells[0] != "150" || sumPub.Cells[1] != "50/s" {
		t.Errorf("summary from points %+v", p.Summary)
	}
}

func TestReadJSONErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"{\"time\":\"2026-01-01T00:00:00Z\",\"metric\":\"x\",\"type\":\"counter\"}\nnot json\n", "r.jsonl:2: not a line of amqpjs's JSON output"},
		{"{\"a\":1}\n", "r.jsonl: no point of amqpjs's JSON output"},
		{"", "r.jsonl: no point of amqpjs's JSON output"},
		{"{\"metric\":\"x\"}\n", "r.jsonl:1: a point without time or type"},
	} {
		err := NewData().ReadJSON(strings.NewReader(tc.in), "r.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestRenderIsSelfContained(t *testing.T) {
	d := NewData()
	evil := "x</script><script>alert(1)</script>"
	for i := 1; i <= 3; i++ {
		d.AddPoint(point(i, "amqp_published", "counter", nil, 1, 1))
		d.AddPoint(point(i, "custom", "counter", map[string]string{}, 1, 1))
	}
	d.Run = &metrics.RunInfo{Script: evil, Version: "1", Start: t0, End: t0.Add(3 * time.Second)}
	var b bytes.Buffer
	if err := Render(&b, d.Page(0)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "<script>alert") {
		t.Error("the script's name is not escaped")
	}
	if regexp.MustCompile(`(?i)<(link|img|iframe)\b|\bsrc\s*=`).MatchString(out) {
		t.Error("the page loads something from elsewhere")
	}
	for _, want := range []string{"uPlot " + UPlotVersion, "Permission is hereby granted", "var uPlot=", `data-report="loading"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	m := regexp.MustCompile(`(?s)<script id="report-data" type="application/json">(.*?)</script>`).FindStringSubmatch(out)
	var p Page
	if m == nil || json.Unmarshal([]byte(m[1]), &p) != nil || len(p.Sections) != 1 || !strings.Contains(p.Title, evil) {
		t.Fatalf("the page's data does not read back")
	}
}

func TestHTMLOutput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.html")
	o, err := metrics.OpenOutput("html=" + path)
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	c := reg.MustNew("amqp_consumed", metrics.Counter, metrics.Default)
	reg.Start(t0)
	s := metrics.NewSampler(reg, t0)
	for i := 1; i <= 2; i++ {
		c.Add(7)
		if err := o.Write(s.Sample(t0.Add(time.Duration(i) * time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.(metrics.SummaryOutput).WriteSummary(metrics.RunInfo{Version: "1", Start: t0, End: t0.Add(2 * time.Second)}, reg.Summarize(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), `"label":"consumed","values":[7,7]`) {
		t.Fatalf("report: %v\n%.300s", err, b)
	}
	if _, err := metrics.OpenOutput("html=" + filepath.Join(path, "nope", "r.html")); err == nil {
		t.Error("no error for a file that cannot be created")
	}
}

// TestOneHourReportSize: the report of a one-hour run at 10 000 msg/s in two
// scenarios stays under 5 MB. AMQPJS_REPORT_SYNTHETIC=FILE also writes the
// synthetic results as JSON lines (to measure the rendering in a browser:
// see docs/report.md).
func TestOneHourReportSize(t *testing.T) {
	var buf bytes.Buffer
	var enc *json.Encoder
	if os.Getenv("AMQPJS_REPORT_SYNTHETIC") != "" {
		enc = json.NewEncoder(&buf)
	}
	d := NewData()
	add := func(p metrics.JSONPoint) {
		d.AddPoint(p)
		if enc != nil {
			_ = enc.Encode(p)
		}
	}
	OneHour(add)
	d.Run = &metrics.RunInfo{Script: "synthetic.js", Version: "test", Start: t0, End: t0.Add(time.Hour)}
	var out bytes.Buffer
	if err := Render(&out, d.Page(0)); err != nil {
		t.Fatal(err)
	}
	t.Logf("one-hour report: %d bytes, %d series", out.Len(), len(d.series))
	if out.Len() > 5<<20 {
		t.Errorf("the one-hour report is %d bytes, over 5 MB", out.Len())
	}
	if path := os.Getenv("AMQPJS_REPORT_SYNTHETIC"); path != "" {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(path, filepath.Ext(path))+".html", out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Events (faults injected by the script) from the JSON lines and from the
// live output become the page's markers, in time order, with a label
// naming the fault, its target and its argument.
func TestEvents(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	lines := `{"type":"event","event":"fault.stall","time":"2026-01-02T03:04:07Z","elapsed":2,"tags":{"scenario":"chaos","target_scenario":"consumers","target_vu":"3","duration":"10s"}}
{"type":"event","event":"fault.cut","time":"2026-01-02T03:04:06Z","elapsed":1,"tags":{"scenario":"chaos","target_scenario":"producers","target_vu":"7"}}
`
	d := NewData()
	if err := d.ReadJSON(bytes.NewReader(append(runJSON(t, true), lines...)), "run.jsonl"); err != nil {
		t.Fatal(err)
	}
	ev := d.Page(0).Events
	if len(ev) != 2 || ev[0].Label != "fault.cut producers VU 7" || ev[1].Label != "fault.stall consumers VU 3 10s" ||
		ev[0].T != float64(start.Add(time.Second).Unix()) || ev[1].Elapsed != 2 {
		t.Fatalf("events %+v", ev)
	}

	path := filepath.Join(t.TempDir(), "r.html")
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.WriteEvents([]metrics.Event{{Time: start, Elapsed: 0.5, Name: "fault.bandwidth", Tags: metrics.NewTags(map[string]string{"bytes_per_second": "1000000"})}}); err != nil {
		t.Fatal(err)
	}
	if ev := o.data.Page(0).Events; len(ev) != 1 || ev[0].Label != "fault.bandwidth 1000000 B/s" {
		t.Fatalf("live events %+v", ev)
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	var _ metrics.EventOutput = o
}
