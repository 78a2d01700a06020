package metrics

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestParseCondition(t *testing.T) {
	cases := []struct {
		src    string
		method string
		p      float64
		op     string
		target float64
		bad    bool
	}{
		{src: "p(95)<200", method: "p", p: 95, op: "<", target: 200},
		{src: " p( 99.9 ) <= 5.5 ", method: "p", p: 99.9, op: "<=", target: 5.5},
		{src: "avg>1", method: "avg", op: ">", target: 1},
		{src: "min>=0", method: "min", op: ">=", target: 0},
		{src: "max!=3", method: "max", op: "!=", target: 3},
		{src: "med==2", method: "med", op: "==", target: 2},
		{src: "count>0", method: "count", op: ">", target: 0},
		{src: "rate>0.99", method: "rate", op: ">", target: 0.99},
		{src: "value==-1", method: "value", op: "==", target: -1},
		{src: "rate<1e-3", method: "rate", op: "<", target: 0.001},
		{src: "p(101)<1", bad: true},
		{src: "p95<1", bad: true},
		{src: "avg<", bad: true},
		{src: "avg=1", bad: true},
		{src: "mean<1", bad: true},
		{src: "", bad: true},
		{src: "avg<1 extra", bad: true},
	}
	for _, c := range cases {
		t.Run(c.src, func(t *testing.T) {
			got, err := ParseCondition(c.src)
			if c.bad {
				if err == nil {
					t.Fatalf("got %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Agg.Method != c.method || got.Agg.P != c.p || got.Op != c.op || got.Target != c.target {
				t.Fatalf("got %+v, want %s p=%v %s %v", got, c.method, c.p, c.op, c.target)
			}
		})
	}
}

func TestConditionHolds(t *testing.T) {
	cases := []struct {
		op   string
		v    float64
		want bool
	}{
		{"<", 1, true}, {"<", 2, false}, {"<=", 2, true}, {"<=", 3, false},
		{">", 3, true}, {">", 2, false}, {">=", 2, true}, {">=", 1, false},
		{"==", 2, true}, {"==", 2.0001, false}, {"!=", 1, true}, {"!=", 2, false},
	}
	for _, c := range cases {
		cond := Condition{Op: c.op, Target: 2}
		if got := cond.Holds(c.v); got != c.want {
			t.Errorf("%v %s 2: got %v, want %v", c.v, c.op, got, c.want)
		}
	}
}

func TestParseSelector(t *testing.T) {
	name, tags, err := ParseSelector("amqp_rpc_duration{method:queue_declare, x : y}")
	if err != nil || name != "amqp_rpc_duration" || tags.String() != "{method:queue_declare,x:y}" {
		t.Fatalf("got %q %q %v", name, tags, err)
	}
	for _, bad := range []string{"", "1abc", "m{", "m{tag}", "m{:v}", "a-b"} {
		if _, _, err := ParseSelector(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}

func TestRegistryKinds(t *testing.T) {
	r := NewRegistry()
	c := r.MustNew("c", Counter, Default)
	if again, err := r.New("c", Counter, Default); err != nil || again != c {
		t.Fatalf("get-or-create: %v %v", again, err)
	}
	if _, err := r.New("c", Trend, Default); err == nil || !strings.Contains(err.Error(), "is a counter") {
		t.Fatalf("redefinition: got %v", err)
	}
	if _, err := r.New("bad name", Counter, Default); err == nil {
		t.Fatal("invalid name accepted")
	}
	c.Add(2)
	c.Add(3.5)
	if st := c.Root().Stats(); st.Sum != 5.5 || st.Count != 2 {
		t.Fatalf("counter: %+v", st)
	}
	g := r.MustNew("g", Gauge, Default)
	for _, v := range []float64{5, 1, 9, 4} {
		g.Add(v)
	}
	if st := g.Root().Stats(); st.Value != 4 || st.Min != 1 || st.Max != 9 {
		t.Fatalf("gauge: %+v", st)
	}
	rt := r.MustNew("r", Rate, Default)
	for _, v := range []float64{1, 0, 1, 1} {
		rt.Add(v)
	}
	if st := rt.Root().Stats(); st.RateValue() != 0.75 {
		t.Fatalf("rate: %+v", st)
	}
	rt.Add(math.NaN())
	if st := rt.Root().Stats(); st.Count != 4 {
		t.Fatalf("NaN counted: %+v", st)
	}
}

func TestTagsPropagate(t *testing.T) {
	r := NewRegistry()
	m := r.MustNew("rpc", Trend, Time)
	f := m.Filter(NewTags(map[string]string{"method": "a"}))
	a := m.Series(NewTags(map[string]string{"method": "a", "vu": "1"}))
	b := m.Series(NewTags(map[string]string{"method": "b"}))
	a.Add(1)
	a.Add(3)
	b.Add(10)
	if got := m.Root().Stats().Count; got != 3 {
		t.Errorf("root count %d, want 3", got)
	}
	if got := f.Stats(); got.Count != 2 || got.Avg() != 2 {
		t.Errorf("filter %+v, want count 2 avg 2", got)
	}
	// A filter made after the series still gets later samples.
	f2 := m.Filter(NewTags(map[string]string{"method": "b"}))
	b.Add(20)
	if got := f2.Stats(); got.Count != 1 || got.Max != 20 {
		t.Errorf("late filter %+v", got)
	}
	if m.Series(NewTags(map[string]string{"vu": "1", "method": "a"})) != a {
		t.Error("same tags in another order made a new series")
	}
}

func TestTrendPercentiles(t *testing.T) {
	r := NewRegistry()
	m := r.MustNew("lat", Trend, Time)
	// 1..100000 in units of 0.01 ms: 0.01 .. 1000 ms.
	for i := 1; i <= 100000; i++ {
		m.Add(float64(i) / 100)
	}
	st := m.Root().Stats()
	if st.Count != 100000 || st.Min != 0.01 || st.Max != 1000 {
		t.Fatalf("count/min/max: %+v", st)
	}
	if math.Abs(st.Avg()-500.005) > 1e-6 {
		t.Errorf("avg %v", st.Avg())
	}
	for _, p := range []float64{50, 90, 95, 99, 99.9, 100} {
		want := p * 10 // ms
		got := st.Percentile(p)
		if math.Abs(got-want)/want > 0.002 {
			t.Errorf("p(%v) = %v, want %v ± 0.2%%", p, got, want)
		}
	}
	if got := st.Percentile(0); got != 0.01 {
		t.Errorf("p(0) = %v, want the min", got)
	}
}

func TestTrendOutOfRange(t *testing.T) {
	r := NewRegistry()
	m := r.MustNew("x", Trend, Default)
	m.Add(-5)
	m.Add(2e12)
	st := m.Root().Stats()
	if st.Min != -5 || st.Max != 2e12 || st.Count != 2 {
		t.Fatalf("%+v", st)
	}
	if p := st.Percentile(100); p < -5 || p > 2e12 {
		t.Fatalf("p100 %v outside min..max", p)
	}
}

func TestThresholdEvaluation(t *testing.T) {
	r := NewRegistry()
	lat := r.MustNew("lat", Trend, Time)
	cnt := r.MustNew("cnt", Counter, Default)
	ok := r.MustNew("ok", Rate, Default)
	g := r.MustNew("g", Gauge, Default)
	for i := 1; i <= 100; i++ {
		lat.Series(NewTags(map[string]string{"k": map[bool]string{true: "even", false: "odd"}[i%2 == 0]})).Add(float64(i))
		cnt.Add(1)
		ok.Add(b2f(i <= 97))
	}
	g.Add(7)
	specs := []ThresholdSpec{
		{Selector: "lat", Source: "p(95)<100"},      // 95 → ok
		{Selector: "lat", Source: "p(99)<99"},       // 99 → fail
		{Selector: "lat", Source: "avg==50.5"},      // ok
		{Selector: "lat", Source: "med<=51"},        // ok
		{Selector: "lat", Source: "min>=1"},         // ok
		{Selector: "lat", Source: "max<100"},        // fail
		{Selector: "lat", Source: "count==100"},     // ok
		{Selector: "lat{k:even}", Source: "min==2"}, // filter: ok
		{Selector: "lat{k:odd}", Source: "max<99"},  // filter: fail (99)
		{Selector: "cnt", Source: "count>=100"},     // ok
		{Selector: "cnt", Source: "rate>=100"},      // 100 over 1s: ok
		{Selector: "ok", Source: "rate>0.99"},       // 0.97: fail
		{Selector: "g", Source: "value==7"},         // ok
	}
	// The filters must exist before the samples they aggregate; make them
	// first, then replay.
	r2 := NewRegistry()
	for _, name := range []string{"lat", "cnt", "ok", "g"} {
		m := r.Get(name)
		r2.MustNew(name, m.Kind, m.Type)
	}
	if err := r2.AddThresholds(specs); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 100; i++ {
		r2.Get("lat").Series(NewTags(map[string]string{"k": map[bool]string{true: "even", false: "odd"}[i%2 == 0]})).Add(float64(i))
		r2.Get("cnt").Add(1)
		r2.Get("ok").Add(b2f(i <= 97))
	}
	r2.Get("g").Add(7)
	failed, abort := r2.EvalThresholds(time.Second)
	if !failed || abort {
		t.Fatalf("failed=%v abort=%v", failed, abort)
	}
	want := []bool{true, false, true, true, true, false, true, true, false, true, true, false, true}
	for i, th := range r2.Thresholds() {
		if th.OK != want[i] {
			t.Errorf("%s %s: ok=%v (value %v), want %v", th.Selector, th.Source, th.OK, th.Value, want[i])
		}
	}
}

func TestThresholdAbort(t *testing.T) {
	r := NewRegistry()
	m := r.MustNew("errors", Counter, Default)
	if err := r.AddThresholds([]ThresholdSpec{{Selector: "errors", Source: "count<1", AbortOnFail: true, DelayAbortEval: 2 * time.Second}}); err != nil {
		t.Fatal(err)
	}
	if failed, abort := r.EvalThresholds(time.Second); failed || abort {
		t.Fatalf("no errors: failed=%v abort=%v", failed, abort)
	}
	m.Add(1)
	if failed, abort := r.EvalThresholds(time.Second); !failed || abort {
		t.Fatalf("before delayAbortEval: failed=%v abort=%v", failed, abort)
	}
	if failed, abort := r.EvalThresholds(3 * time.Second); !failed || !abort {
		t.Fatalf("after delayAbortEval: failed=%v abort=%v", failed, abort)
	}
}

func TestAddThresholdsErrors(t *testing.T) {
	r := NewRegistry()
	r.MustNew("c", Counter, Default)
	r.MustNew("r", Rate, Default)
	for _, sp := range []ThresholdSpec{
		{Selector: "nope", Source: "count>0"},
		{Selector: "c", Source: "p(95)<1"},
		{Selector: "r", Source: "avg<1"},
		{Selector: "c", Source: "count>>0"},
		{Selector: "c{", Source: "count>0"},
	} {
		if err := r.AddThresholds([]ThresholdSpec{sp}); err == nil {
			t.Errorf("%+v: want an error", sp)
		}
	}
	if len(r.Thresholds()) != 0 {
		t.Fatal("a failed AddThresholds registered something")
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestSamplerAndOutputs(t *testing.T) {
	r := NewRegistry()
	r.EnableWindows()
	start := time.Unix(1700000000, 0)
	r.Start(start)
	c := r.MustNew("pub", Counter, Default)
	lat := r.MustNew("lat", Trend, Time)
	g := r.MustNew("vus", Gauge, Default)
	s := NewSampler(r, start)
	var jbuf, cbuf bytes.Buffer
	jo, co := NewJSONOutput(&jbuf), NewCSVOutput(&cbuf)

	for sec := 1; sec <= 3; sec++ {
		for i := 0; i < 10*sec; i++ {
			c.Series(NewTags(map[string]string{"q": "a"})).Add(1)
			lat.Add(float64(sec))
		}
		g.Add(float64(sec))
		pts := s.Sample(start.Add(time.Duration(sec) * time.Second))
		if err := jo.Write(pts); err != nil {
			t.Fatal(err)
		}
		if err := co.Write(pts); err != nil {
			t.Fatal(err)
		}
	}
	// An interval with no activity writes only the gauge.
	if pts := s.Sample(start.Add(4 * time.Second)); len(pts) != 1 || pts[0].Metric != "vus" {
		t.Fatalf("idle interval: %+v", pts)
	}
	if err := jo.Close(); err != nil {
		t.Fatal(err)
	}
	if err := co.Close(); err != nil {
		t.Fatal(err)
	}

	// JSON lines, parsed back.
	type key struct {
		metric string
		sec    float64
		tags   string
	}
	got := map[key]JSONPoint{}
	for _, line := range strings.Split(strings.TrimSpace(jbuf.String()), "\n") {
		var p JSONPoint
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		got[key{p.Metric, p.Elapsed, NewTags(p.Tags).String()}] = p
	}
	for sec := 1; sec <= 3; sec++ {
		s := float64(sec)
		if p := got[key{"pub", s, "{q:a}"}]; p.Value != 10*s || p.Rate == nil || *p.Rate != 10*s {
			t.Errorf("pub{q:a} at %vs: %+v", s, p)
		}
		if p := got[key{"pub", s, ""}]; p.Value != 10*s {
			t.Errorf("pub at %vs: %+v", s, p)
		}
		if p := got[key{"lat", s, ""}]; p.Count != int64(10*sec) || p.Value != s || p.P99 == nil || *p.P99 != s || *p.Min != s {
			t.Errorf("lat at %vs: %+v", s, p)
		}
		if p := got[key{"vus", s, ""}]; p.Value != s {
			t.Errorf("vus at %vs: %+v", s, p)
		}
	}

	// CSV, parsed back.
	rows, err := csv.NewReader(&cbuf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("header %v", rows[0])
	}
	var sawLat bool
	for _, row := range rows[1:] {
		if len(row) != len(CSVHeader) {
			t.Fatalf("row %v", row)
		}
		if _, err := time.Parse(time.RFC3339Nano, row[0]); err != nil {
			t.Errorf("time %q: %v", row[0], err)
		}
		if row[2] == "pub" && row[4] == "q=a" && row[1] == "2" && (row[5] != "20" || row[6] != "20" || row[7] != "20") {
			t.Errorf("pub row %v", row)
		}
		if row[2] == "lat" && row[1] == "3" {
			sawLat = true
			if row[5] != "30" || row[6] != "3" || row[13] != "3" {
				t.Errorf("lat row %v", row)
			}
		}
	}
	if !sawLat {
		t.Error("no lat row at 3s")
	}
}

func TestSummary(t *testing.T) {
	r := NewRegistry()
	lat := r.MustNew("amqp_e2e_latency", Trend, Time)
	chk := r.MustNew("checks", Rate, Default)
	pub := r.MustNew("amqp_publish_bytes", Counter, Data)
	for i := 1; i <= 100; i++ {
		lat.Add(float64(i) / 10)
		chk.Series(Tags{{"check", "ok"}}).Add(1)
		chk.Series(Tags{{"check", "fast"}}).Add(b2f(i > 5))
		pub.Add(1000)
	}
	if err := r.AddThresholds([]ThresholdSpec{
		{Selector: "amqp_e2e_latency", Source: "p(99)<20"},
		{Selector: "checks", Source: "rate>0.99"},
		{Selector: "amqp_e2e_latency", Source: "p(99.9)<20"},
	}); err != nil {
		t.Fatal(err)
	}
	failed, _ := r.EvalThresholds(2 * time.Second)
	if !failed {
		t.Fatal("checks rate 0.975 passed rate>0.99")
	}
	sum := r.Summarize(2 * time.Second)
	var b bytes.Buffer
	if err := sum.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	text := b.String()
	for _, want := range []string{"METRIC", "P99", "amqp_e2e_latency", "9.9ms", "10ms", "50/s", "100 kB", "50 kB/s",
		"✓ ok  100.00% (100/100)", "✗ fast  95.00% (95/100)", "✓ amqp_e2e_latency  p(99)<20", "✗ checks", "rate=0.975"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	b.Reset()
	if err := sum.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var js JSONSummary
	if err := json.Unmarshal(b.Bytes(), &js); err != nil {
		t.Fatal(err)
	}
	if !js.ThresholdsFailed || js.DurationMs != 2000 {
		t.Errorf("%+v", js)
	}
	e2e := js.Metrics["amqp_e2e_latency"]
	if e2e.Type != "trend" || e2e.Contains != "time" || e2e.Values["count"] != 100 || !near(e2e.Values["p(99)"], 9.9) || !near(e2e.Values["p(99.9)"], 10) || !e2e.Thresholds["p(99)<20"].OK {
		t.Errorf("e2e %+v", e2e)
	}
	if c := js.Metrics["checks{check:fast}"]; c.Values["rate"] != 0.95 || c.Values["fails"] != 5 || c.Tags["check"] != "fast" {
		t.Errorf("checks{check:fast} %+v", c)
	}
	if c := js.Metrics["checks"]; c.Thresholds["rate>0.99"].OK {
		t.Errorf("checks %+v", c)
	}
	if p := js.Metrics["amqp_publish_bytes"]; p.Values["count"] != 100000 || p.Values["rate"] != 50000 {
		t.Errorf("bytes %+v", p)
	}
	if len(js.Thresholds) != 3 || js.Thresholds[1].OK || js.Thresholds[1].Value != 0.975 {
		t.Errorf("thresholds %+v", js.Thresholds)
	}
}

// near: within the histogram's resolution (3 significant digits).
func near(got, want float64) bool { return math.Abs(got-want) <= math.Abs(want)*0.001 }

func TestFormatValue(t *testing.T) {
	cases := []struct {
		v    float64
		vt   ValueType
		want string
	}{
		{0.1234, Time, "0.123ms"}, {1.5, Time, "1.5ms"}, {123.45, Time, "123.5ms"}, {2500, Time, "2.5s"},
		{999, Data, "999 B"}, {1500, Data, "1.5 kB"}, {2e6, Data, "2 MB"},
		{42, Default, "42"}, {3.14159, Default, "3.14"}, {0.5, Default, "0.5"},
	}
	for _, c := range cases {
		if got := FormatValue(c.v, c.vt); got != c.want {
			t.Errorf("FormatValue(%v, %v) = %q, want %q", c.v, c.vt, got, c.want)
		}
	}
}

// TestLazyRoots: the root of a counter and of a rate adds up its
// sub-series when read: the root's own samples, those of every tag set
// (made before or after), and the sampler sees the same per interval.
func TestLazyRoots(t *testing.T) {
	r := NewRegistry()
	c := r.MustNew("c", Counter, Default)
	rt := r.MustNew("r", Rate, Default)
	f := c.Filter(Tags{{"scenario", "a"}})
	s := NewSampler(r, time.Now())
	c.Add(1)
	a := c.Series(Tags{{"scenario", "a"}, {"x", "1"}})
	a.Add(2)
	a.Add(3)
	c.Series(Tags{{"scenario", "b"}}).Add(10)
	rt.Series(Tags{{"scenario", "a"}}).Add(1)
	rt.Series(Tags{{"scenario", "b"}}).Add(0)
	rt.Add(1)
	if st := c.Root().Stats(); st.Sum != 16 || st.Count != 4 {
		t.Errorf("counter root %+v, want sum 16 of 4 adds", st)
	}
	if st := f.Stats(); st.Sum != 5 || st.Count != 2 {
		t.Errorf("counter filter %+v, want 5 of 2", st)
	}
	if st := rt.Root().Stats(); st.Count != 3 || st.NonZero != 2 {
		t.Errorf("rate root %+v, want 2 of 3", st)
	}
	pts := s.Sample(time.Now())
	c.Series(Tags{{"scenario", "b"}}).Add(4)
	pts2 := s.Sample(time.Now())
	root := func(pts []Point, name string) Point {
		for _, p := range pts {
			if p.Metric == name && len(p.Tags) == 0 {
				return p
			}
		}
		return Point{}
	}
	if p := root(pts, "c"); p.Value != 16 || p.Count != 4 {
		t.Errorf("first interval %+v", p)
	}
	if p := root(pts2, "c"); p.Value != 4 || p.Count != 1 {
		t.Errorf("second interval %+v", p)
	}
	if p := root(pts, "r"); p.Count != 3 || p.Value != 2.0/3 {
		t.Errorf("rate interval %+v", p)
	}
}

func TestConcurrentAdds(t *testing.T) {
	r := NewRegistry()
	r.EnableWindows()
	c := r.MustNew("c", Counter, Default)
	tr := r.MustNew("t", Trend, Time)
	rt := r.MustNew("r", Rate, Default)
	g := r.MustNew("g", Gauge, Default)
	s := NewSampler(r, time.Now())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	go func() { // a sampler and a late filter, concurrently with the adds
		for {
			select {
			case <-stop:
				return
			default:
				s.Sample(time.Now())
				tr.Filter(Tags{{"w", "3"}})
			}
		}
	}()
	const workers, n = 8, 2000
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			ts := tr.Series(Tags{{"w", string(rune('0' + w))}})
			cs := c.Series(Tags{{"w", string(rune('0' + w))}})
			for i := 0; i < n; i++ {
				c.Add(1)
				cs.Add(1)
				ts.Add(float64(i))
				rt.Add(float64(i % 2))
				g.Add(float64(i))
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	if got := c.Root().Stats().Sum; got != 2*workers*n {
		t.Errorf("counter %v", got)
	}
	if got := tr.Root().Stats().Count; got != workers*n {
		t.Errorf("trend %v", got)
	}
	if got := rt.Root().Stats().RateValue(); got != 0.5 {
		t.Errorf("rate %v", got)
	}
	if got := g.Root().Stats().Max; got != n-1 {
		t.Errorf("gauge max %v", got)
	}
}

// TestTrendMemoryFlat: a trend's memory does not grow with its samples.
func TestTrendMemoryFlat(t *testing.T) {
	n := 2_000_000
	if testing.Short() {
		n = 200_000
	}
	r := NewRegistry()
	m := r.MustNew("lat", Trend, Time)
	m.Add(1)
	before := testutil.HeapInUse()
	for i := 0; i < n; i++ {
		m.Add(float64(i%100000) / 7)
	}
	after := testutil.HeapInUse()
	if grew := int64(after) - int64(before); grew > 1<<20 {
		t.Fatalf("heap grew by %d bytes over %d samples", grew, n)
	}
	runtime.KeepAlive(m)
}

// BenchmarkTrendMemory records 10 million samples into one trend and
// reports the heap growth (bytes) over them: flat, whatever b.N.
func BenchmarkTrendMemory(b *testing.B) {
	for i := 0; i < b.N; i++ {
		r := NewRegistry()
		m := r.MustNew("lat", Trend, Time)
		m.Add(1)
		before := testutil.HeapInUse()
		s := m.Root()
		for j := 0; j < 10_000_000; j++ {
			s.Add(float64(j%1_000_000) / 1000)
		}
		after := testutil.HeapInUse()
		b.ReportMetric(float64(int64(after)-int64(before)), "heap-growth-B/10M-samples")
		b.ReportMetric(float64(s.Stats().Percentile(99)), "p99")
	}
}

// benchCounterAdd adds 1 to s from parallel goroutines.
func benchCounterAdd(b *testing.B, s *Series) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Add(1)
		}
	})
}

// benchTrendAdd adds growing values (0.37 apart) to s from parallel
// goroutines.
func benchTrendAdd(b *testing.B, s *Series) {
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		x := 0.0
		for pb.Next() {
			x += 0.37
			s.Add(x)
		}
	})
}

func BenchmarkCounterAdd(b *testing.B) {
	benchCounterAdd(b, NewRegistry().MustNew("c", Counter, Default).Root())
}

func BenchmarkTrendAdd(b *testing.B) {
	benchTrendAdd(b, NewRegistry().MustNew("t", Trend, Time).Root())
}

// BenchmarkCounterAddTagged is BenchmarkCounterAdd on a tagged series (a
// scenario's: {scenario:default}), which also adds to the root.
func BenchmarkCounterAddTagged(b *testing.B) {
	benchCounterAdd(b, NewRegistry().MustNew("c", Counter, Default).Series(Tags{{Key: "scenario", Value: "default"}}))
}

// BenchmarkTrendAddTagged is BenchmarkTrendAdd on a tagged series.
func BenchmarkTrendAddTagged(b *testing.B) {
	benchTrendAdd(b, NewRegistry().MustNew("t", Trend, Time).Series(Tags{{Key: "scenario", Value: "default"}}))
}
