package promwrite

import (
	"encoding/pem"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"
	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a remote-write endpoint for the unit tests: it decodes what
// it receives with the same libraries as Prometheus (snappy, prompb) and
// keeps it. The end-to-end test against a real Prometheus server is
// tests/prometheus_integration_test.go.
type receiver struct {
	t       *testing.T
	mu      sync.Mutex
	series  map[string][]prompb.Sample // by labels rendered as {a="b",…}
	headers []http.Header
	status  func(n int) int // the status of the n-th request (from 1); nil: 204
	n       int
}

func newReceiver(t *testing.T) *receiver {
	return &receiver{t: t, series: map[string][]prompb.Sample{}}
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	r.headers = append(r.headers, req.Header.Clone())
	if r.status != nil {
		if code := r.status(r.n); code/100 != 2 {
			http.Error(w, "refused by the test", code)
			return
		}
	}
	if req.Header.Get("Content-Encoding") != "snappy" || req.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad headers", http.StatusBadRequest)
		r.t.Errorf("headers %v", req.Header)
		return
	}
	comp, _ := io.ReadAll(req.Body)
	raw, err := snappy.Decode(nil, comp)
	if err != nil {
		r.t.Errorf("snappy: %v", err)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(raw); err != nil {
		r.t.Errorf("prompb: %v", err)
		return
	}
	for _, ts := range wr.Timeseries {
		if !sort.SliceIsSorted(ts.Labels, func(i, j int) bool { return ts.Labels[i].Name < ts.Labels[j].Name }) {
			r.t.Errorf("labels not sorted: %v", ts.Labels)
		}
		k := render(ts.Labels)
		r.series[k] = append(r.series[k], ts.Samples...)
	}
	w.WriteHeader(http.StatusNoContent)
}

// render writes labels as name{a="b",…} without job, instance and run_id.
func render(ls []prompb.Label) string {
	name := ""
	var parts []string
	for _, l := range ls {
		switch l.Name {
		case "__name__":
			name = l.Value
		case "job", "instance", "run_id":
		default:
			parts = append(parts, l.Name+`="`+l.Value+`"`)
		}
	}
	return name + "{" + strings.Join(parts, ",") + "}"
}

// values returns the non-stale values of a series.
func (r *receiver) values(k string) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var v []float64
	for _, s := range r.series[k] {
		if !value.IsStaleNaN(s.Value) {
			v = append(v, s.Value)
		}
	}
	return v
}

func (r *receiver) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n []string
	for k := range r.series {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func start(t *testing.T, h http.Handler, o Options) (*promOutput, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o.URL = srv.URL + "/api/v1/write"
	if o.RunID == "" {
		o.RunID = "test-run"
	}
	if o.PushInterval == 0 {
		o.PushInterval = time.Hour // pushes happen in Close unless a test wants them sooner
	}
	out, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return out.(*promOutput), srv
}

// TestSeries: what a run's registry becomes in Prometheus: names, units,
// labels, cumulative counters, trend statistics in seconds, one series per
// tag set so that sum() adds up, and stale markers at the end.
func TestSeries(t *testing.T) {
	rcv := newReceiver(t)
	out, _ := start(t, rcv, Options{})
	reg := metrics.NewRegistry()
	pub := reg.MustNew("amqp_published", metrics.Counter, metrics.Default)
	bytes := reg.MustNew("amqp_publish_bytes", metrics.Counter, metrics.Data)
	vus := reg.MustNew("vus", metrics.Gauge, metrics.Default)
	lat := reg.MustNew("amqp_confirm_latency", metrics.Trend, metrics.Time)
	rpc := reg.MustNew("amqp_rpc_duration", metrics.Trend, metrics.Time)
	checks := reg.MustNew("checks", metrics.Rate, metrics.Default)
	mixed := reg.MustNew("mixed", metrics.Counter, metrics.Default)
	t0 := time.Unix(1_800_000_000, 0)
	reg.Start(t0)
	reg.EnableWindows()
	s := metrics.NewSampler(reg, t0)

	for range 3 {
		pub.Add(1)
	}
	bytes.Add(512)
	vus.Add(4)
	for i := 1; i <= 100; i++ {
		lat.Add(float64(i)) // ms
	}
	rpc.Series(metrics.Tags{{Key: "method", Value: "queue_declare"}}).Add(2)
	rpc.Series(metrics.Tags{{Key: "method", Value: "close"}}).Add(4)
	checks.Series(metrics.Tags{{Key: "check", Value: "ok"}}).Add(1)
	checks.Series(metrics.Tags{{Key: "check", Value: "ok"}}).Add(0)
	checks.Series(metrics.Tags{{Key: "check", Value: "ok"}}).Add(1)
	mixed.Add(10)
	mixed.Series(metrics.Tags{{Key: "q", Value: "a"}}).Add(1)
	mixed.Series(metrics.Tags{{Key: "run_id", Value: "mine"}, {Key: "a-b", Value: "x"}}).Add(2)
	if err := out.Write(s.Sample(t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	pub.Add(1)
	pub.Add(1)
	vus.Add(2)
	mixed.Series(metrics.Tags{{Key: "q", Value: "a"}}).Add(5)
	if err := out.Write(s.Sample(t0.Add(2 * time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}

	eq := func(k string, want ...float64) {
		t.Helper()
		got := rcv.values(k)
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v (series: %v)", k, got, want, rcv.names())
			return
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-9*math.Max(1, math.Abs(want[i])) {
				t.Errorf("%s: %v, want %v", k, got, want)
				return
			}
		}
	}
	// Counters: cumulative, from a zero at the start of their first interval.
	eq("amqp_published_total{}", 0, 3, 5)
	eq("amqp_publish_bytes_total{}", 0, 512)
	eq("vus{}", 4, 2)
	// Trends: seconds, per interval, and count/sum for averages and rates.
	eq("amqp_confirm_latency_seconds_count{}", 100)
	eq("amqp_confirm_latency_seconds_sum{}", 5.050)
	eq(`amqp_confirm_latency_seconds{stat="max"}`, 0.100)
	eq(`amqp_confirm_latency_seconds{stat="min"}`, 0.001)
	eq(`amqp_confirm_latency_seconds{stat="avg"}`, 0.0505)
	if v := rcv.values(`amqp_confirm_latency_seconds{stat="p95"}`); len(v) != 1 || v[0] < 0.094 || v[0] > 0.096 {
		t.Errorf("p95 %v, want about 0.095", v)
	}
	// Tagged trends: per tag set; the root (all methods) is not a series.
	eq(`amqp_rpc_duration_seconds{method="queue_declare",stat="max"}`, 0.002)
	eq(`amqp_rpc_duration_seconds_count{method="close"}`, 1)
	eq(`amqp_rpc_duration_seconds{stat="max"}`)
	eq(`amqp_rpc_duration_seconds_count{}`)
	// Rates: passes and fails.
	eq(`checks_passes_total{check="ok"}`, 2)
	eq(`checks_fails_total{check="ok"}`, 1)
	eq(`checks_passes_total{}`)
	// Untagged samples of a tagged metric: their own series, so that
	// sum(mixed_total) is the metric's total.
	eq(`mixed_total{}`, 10)
	eq(`mixed_total{q="a"}`, 0, 1, 6)
	eq(`mixed_total{a_b="x",exported_run_id="mine"}`, 0, 2)

	// Every series ends with a stale marker.
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	for k, ss := range rcv.series {
		if !value.IsStaleNaN(ss[len(ss)-1].Value) {
			t.Errorf("%s does not end with a stale marker", k)
		}
		for i := 1; i < len(ss); i++ {
			if ss[i].Timestamp <= ss[i-1].Timestamp {
				t.Errorf("%s: timestamps not increasing: %v", k, ss)
			}
		}
	}
	h := rcv.headers[0]
	if h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" || h.Get("Authorization") != "" {
		t.Errorf("headers %v", h)
	}
}

// TestLabelsOfARun: job, instance and run_id on every series.
func TestLabelsOfARun(t *testing.T) {
	var got []prompb.Label
	out, _ := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		comp, _ := io.ReadAll(r.Body)
		raw, _ := snappy.Decode(nil, comp)
		var wr prompb.WriteRequest
		_ = wr.Unmarshal(raw)
		if got == nil && len(wr.Timeseries) > 0 {
			got = wr.Timeseries[0].Labels
		}
		w.WriteHeader(http.StatusNoContent)
	}), Options{RunID: "r1", Instance: "host-1"})
	pts := []metrics.Point{{Time: time.Unix(10, 0), Elapsed: 1, Metric: "vus", Kind: metrics.Gauge, Count: 1, Value: 1}}
	if err := out.Write(pts); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	want := `[{__name__ vus} {instance host-1} {job amqpjs} {run_id r1}]`
	if s := labelsString(got); s != want {
		t.Errorf("labels %s, want %s", s, want)
	}
}

func labelsString(ls []prompb.Label) string {
	parts := make([]string, len(ls))
	for i, l := range ls {
		parts[i] = "{" + l.Name + " " + l.Value + "}"
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func gaugePoints(sec int64, n int) []metrics.Point {
	pts := make([]metrics.Point, n)
	for i := range pts {
		pts[i] = metrics.Point{Time: time.Unix(sec, 0), Elapsed: float64(sec), Metric: "g", Kind: metrics.Gauge, Tags: metrics.Tags{{Key: "i", Value: string(rune('a' + i))}}, Count: 1, Value: float64(i)}
	}
	return pts
}

// deadURL is an address where nothing listens.
func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr + "/api/v1/write"
}

// TestDeadEndpoint: Write never waits for the endpoint; samples are kept
// up to MaxPending, then the oldest are dropped; one warning; Close counts
// what was not delivered.
func TestDeadEndpoint(t *testing.T) {
	o, err := New(Options{URL: deadURL(t), PushInterval: 5 * time.Millisecond, MaxPending: 10, RunID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var warnings []error
	for sec := int64(1); sec <= 20; sec++ {
		if err := o.Write(gaugePoints(sec, 3)); err != nil {
			warnings = append(warnings, err)
		}
		sent, dropped := Stats(o)
		if sent != 0 {
			t.Fatalf("sent %d to a dead endpoint", sent)
		}
		if pending := 3*sec - dropped; pending > 10 {
			t.Fatalf("after %d writes: %d samples pending, more than MaxPending", sec, pending)
		}
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %v, want exactly one", warnings)
	} else if !strings.Contains(warnings[0].Error(), "the run goes on") {
		t.Errorf("warning %q", warnings[0])
	}
	err = o.Close()
	// 60 gauge samples and 3 stale markers, none delivered.
	if err == nil || !strings.Contains(err.Error(), "63 of 63 samples not delivered") {
		t.Errorf("Close: %v", err)
	}
}

// TestRetriesUntilTheEndpointTakes: a 5xx or 429 is retried at the next
// push; nothing is lost.
func TestRetriesUntilTheEndpointTakes(t *testing.T) {
	rcv := newReceiver(t)
	rcv.status = func(n int) int {
		switch n {
		case 1:
			return http.StatusServiceUnavailable
		case 2:
			return http.StatusTooManyRequests
		}
		return http.StatusNoContent
	}
	out, _ := start(t, rcv, Options{PushInterval: time.Millisecond})
	err := out.Write(gaugePoints(1, 2))
	for {
		rcv.mu.Lock()
		n := rcv.n
		rcv.mu.Unlock()
		if n >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if werr := out.Write(gaugePoints(2, 2)); err == nil {
		err = werr
	}
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("warning %v, want the 503", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if v := rcv.values(`g{i="a"}`); len(v) != 2 {
		t.Errorf(`g{i="a"}: %v, want 2 samples`, v)
	}
	if sent, dropped := Stats(out); sent != 6 || dropped != 0 {
		t.Errorf("sent %d dropped %d, want 6 (4 and 2 stale markers) and 0", sent, dropped)
	}
}

// TestRefusedSamplesAreDropped: a 4xx (other than 429) is not retried.
func TestRefusedSamplesAreDropped(t *testing.T) {
	rcv := newReceiver(t)
	rcv.status = func(n int) int { return http.StatusBadRequest }
	out, _ := start(t, rcv, Options{})
	_ = out.Write(gaugePoints(1, 2))
	err := out.Close()
	if err == nil || !strings.Contains(err.Error(), "4 of 4 samples not delivered") || !strings.Contains(err.Error(), "400") {
		t.Errorf("Close: %v", err)
	}
	if rcv.n != 1 {
		t.Errorf("%d requests, want 1", rcv.n)
	}
}

// TestSlowEndpoint: an endpoint that never answers holds up neither Write
// nor Close beyond Timeout.
func TestSlowEndpoint(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	o, err := New(Options{URL: srv.URL, PushInterval: time.Millisecond, Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for sec := int64(1); sec <= 5; sec++ {
		_ = o.Write(gaugePoints(sec, 1))
	}
	err = o.Close()
	if err == nil || !strings.Contains(err.Error(), "samples not delivered") {
		t.Errorf("Close: %v", err)
	}
}

// TestAuth: basic auth (from the options or the URL) and bearer tokens are
// sent, and never printed.
func TestAuth(t *testing.T) {
	for _, c := range []struct {
		name string
		o    Options
		url  func(string) string
		want string
	}{
		{"basic", Options{Username: "u", Password: "s3cret-pw"}, nil, "Basic dTpzM2NyZXQtcHc="},
		{"url", Options{}, func(u string) string { return strings.Replace(u, "http://", "http://u:s3cret-pw@", 1) }, "Basic dTpzM2NyZXQtcHc="},
		{"bearer", Options{BearerToken: "s3cret-pw"}, nil, "Bearer s3cret-pw"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcv := newReceiver(t)
			rcv.status = func(int) int { return http.StatusUnauthorized }
			srv := httptest.NewServer(rcv)
			defer srv.Close()
			c.o.URL = srv.URL + "/api/v1/write"
			if c.url != nil {
				c.o.URL = c.url(c.o.URL)
			}
			o, err := New(c.o)
			if err != nil {
				t.Fatal(err)
			}
			_ = o.Write(gaugePoints(1, 1))
			err = o.Close()
			if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "401") {
				t.Errorf("Close: %v", err)
			}
			if got := rcv.headers[0].Get("Authorization"); got != c.want {
				t.Errorf("Authorization %q, want %q", got, c.want)
			}
		})
	}
	if _, err := New(Options{URL: "http://u:s3cret-pw@h:1/x", BearerToken: "t"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("basic and bearer: %v", err)
	}
	if _, err := New(Options{URL: "ftp://u:s3cret-pw@h/x"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("ftp URL: %v", err)
	}
}

// TestTLS: an https endpoint whose certificate the CA file vouches for; and
// the same endpoint refused without it.
func TestTLS(t *testing.T) {
	rcv := newReceiver(t)
	srv := httptest.NewTLSServer(rcv)
	defer srv.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	o, err := New(Options{URL: srv.URL, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Write(gaugePoints(1, 1))
	if err := o.Close(); err != nil {
		t.Errorf("with the CA: %v", err)
	}
	if len(rcv.values(`g{i="a"}`)) != 1 {
		t.Errorf("nothing received over TLS")
	}

	o, err = New(Options{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Write(gaugePoints(2, 1))
	if err := o.Close(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v", err)
	}
	o, err = New(Options{URL: srv.URL, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Write(gaugePoints(3, 1))
	if err := o.Close(); err != nil {
		t.Errorf("insecure: %v", err)
	}
}

func TestOptionsFromEnv(t *testing.T) {
	env := map[string]string{
		"AMQPJS_RUN_ID":                          "r",
		"AMQPJS_PROMETHEUS_BEARER_TOKEN":         "tok",
		"AMQPJS_PROMETHEUS_PUSH_INTERVAL":        "2s",
		"AMQPJS_PROMETHEUS_MAX_PENDING":          "7",
		"AMQPJS_PROMETHEUS_INSECURE_SKIP_VERIFY": "true",
	}
	o, err := OptionsFromEnv("http://x/api/v1/write", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if o.RunID != "r" || o.BearerToken != "tok" || o.PushInterval != 2*time.Second || o.MaxPending != 7 || !o.InsecureSkipVerify {
		t.Errorf("%+v", o)
	}
	for k, v := range map[string]string{
		"AMQPJS_PROMETHEUS_PUSH_INTERVAL":        "soon",
		"AMQPJS_PROMETHEUS_TIMEOUT":              "-1s",
		"AMQPJS_PROMETHEUS_MAX_PENDING":          "0",
		"AMQPJS_PROMETHEUS_INSECURE_SKIP_VERIFY": "maybe",
	} {
		if _, err := OptionsFromEnv("http://x", func(name string) string {
			if name == k {
				return v
			}
			return ""
		}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
}

// TestOpenOutput: the package registers prometheus=URL with metrics.OpenOutput.
func TestOpenOutput(t *testing.T) {
	rcv := newReceiver(t)
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	o, err := metrics.OpenOutput("prometheus=" + srv.URL + "/api/v1/write")
	if err != nil {
		t.Fatal(err)
	}
	_ = o.Write(gaugePoints(1, 1))
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if len(rcv.values(`g{i="a"}`)) != 1 {
		t.Errorf("nothing received: %v", rcv.names())
	}
}

// TestSameMillisecond: the run's last tick may fall in the millisecond of
// the previous one; Prometheus refuses two samples of a series at one
// time, so the second moves a millisecond on.
func TestSameMillisecond(t *testing.T) {
	rcv := newReceiver(t)
	out, _ := start(t, rcv, Options{})
	for _, v := range []float64{1, 2} {
		pts := []metrics.Point{{Time: time.Unix(10, 0), Elapsed: 1, Metric: "vus", Kind: metrics.Gauge, Count: 1, Value: v}}
		if err := out.Write(pts); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	ss := rcv.series["vus{}"]
	if len(ss) != 3 || ss[0].Timestamp != 10_000 || ss[1].Timestamp != 10_001 || ss[1].Value != 2 || ss[2].Timestamp <= ss[1].Timestamp {
		t.Errorf("samples %v, want 1 at 10000, 2 at 10001, then a stale marker", ss)
	}
}

// BenchmarkWriteTick: the cost of one interval on the ticker's goroutine
// (the conversion and queueing of a scenario's built-in series, the rpc
// trend's 18 methods included); pushing is another goroutine's.
func BenchmarkWriteTick(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer srv.Close()
	o, err := New(Options{URL: srv.URL, PushInterval: 100 * time.Millisecond, MaxPending: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	reg := metrics.NewRegistry()
	bindings.RegisterMetrics(reg)
	scenario.RegisterBuiltins(reg)
	t0 := time.Unix(1_800_000_000, 0)
	reg.Start(t0)
	reg.EnableWindows()
	rpc := reg.Get(bindings.MetricRPCDuration)
	for _, m := range []string{"queue_declare", "queue_delete", "queue_bind", "confirm_select", "basic_qos", "basic_consume", "close"} {
		rpc.Series(metrics.Tags{{Key: "method", Value: m}}).Add(1)
	}
	s := metrics.NewSampler(reg, t0)
	var pts []metrics.Point
	for _, m := range reg.Metrics() {
		m.Add(1)
	}
	pts = s.Sample(t0.Add(time.Second))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		for j := range pts {
			pts[j].Time = t0.Add(time.Duration(i+2) * time.Second)
		}
		_ = o.Write(pts)
	}
	b.StopTimer()
	_ = o.Close()
	b.ReportMetric(float64(len(pts)), "points/tick")
}
