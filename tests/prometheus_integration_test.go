//go:build integration

package tests

// --out prometheus=URL against a real Prometheus server (Debian's package,
// installed by tests/prometheus.sh when missing), and against a dead
// endpoint.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// prometheusServer is a Prometheus started for one test: a free loopback
// port, a temporary storage directory, the remote-write receiver on.
type prometheusServer struct {
	base string // http://127.0.0.1:PORT
}

func startPrometheus(t *testing.T) *prometheusServer {
	t.Helper()
	bin := os.Getenv("PROMETHEUS_BIN")
	if bin == "" {
		if _, err := exec.LookPath("prometheus"); err != nil {
			out, err := exec.Command(filepath.Join(repoRoot, "tests", "prometheus.sh")).CombinedOutput()
			if err != nil {
				t.Fatalf("no prometheus binary, and tests/prometheus.sh could not install it: %v\n%s\n"+
					"install Debian's package (apt-get install prometheus) or set PROMETHEUS_BIN", err, out)
			}
		}
		bin = "prometheus"
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	log, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port),
		"--web.enable-remote-write-receiver",
	)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		log.Close()
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("prometheus exited: %v\n%s", err, b)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(log.Name())
			t.Fatalf("prometheus not ready on %s after 60s\n%s", base, b)
		}
	}
	return &prometheusServer{base: base}
}

// query runs an instant PromQL query and returns the values of its vector
// result by the series' labels (rendered as name{k="v",…} without job,
// instance and run_id).
func (p *prometheusServer) query(t *testing.T, q string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("query %s: %v %s", q, err, body)
	}
	out := map[string]float64{}
	for _, s := range r.Data.Result {
		var parts []string
		name := s.Metric["__name__"]
		for k, v := range s.Metric {
			if k != "__name__" && k != "job" && k != "instance" && k != "run_id" {
				parts = append(parts, k+`="`+v+`"`)
			}
		}
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			t.Fatalf("query %s: value %v", q, s.Value)
		}
		out[name+"{"+strings.Join(parts, ",")+"}"] = v
	}
	return out
}

// scalar runs a query whose result is one series (or none: ok false).
func (p *prometheusServer) scalar(t *testing.T, q string) (float64, bool) {
	t.Helper()
	r := p.query(t, q)
	if len(r) > 1 {
		t.Fatalf("query %s: %d series, want one: %v", q, len(r), r)
	}
	for _, v := range r {
		return v, true
	}
	return 0, false
}

const promScenario = `
import * as aioamqp from 'aioamqp';
import { check } from 'amqpjs/metrics';
import { setTimeout as sleep } from 'timers/promises';
export const options = { vus: 2, duration: '8s' };
` + sinkQueueSetupJS + `export default async function ({ queue }) {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  await channel.publish('x', '', queue);
  check(__ITER, { 'even': (i) => i % 2 === 0 });
  await sleep(5);
}
export async function teardown() {
  await server.protocol.close();
  server.transport.close();
  console.log('done');
}`

// TestIntegrationPrometheusRemoteWrite: a scenario with --out
// prometheus=URL; its series are in Prometheus while it runs, and after
// it the last values are the summary's. (Samples recorded after the
// scenario's end, by teardown or by deliveries still on their way to
// setup's consumer, are in the summary but in no --out output.)
func TestIntegrationPrometheusRemoteWrite(t *testing.T) {
	t.Parallel()
	prom := startPrometheus(t)
	path := WriteScript(t, "prom.js", promScenario)
	runID := fmt.Sprintf("it-%d", time.Now().UnixNano())
	sum := filepath.Join(t.TempDir(), "summary.json")
	p := Start(t, Opts{
		Args: []string{"run", "--quiet", "--summary-export", sum, "--out", "prometheus=" + prom.base + "/api/v1/write", path},
		Env: []string{"AMQP_URL=" + aioamqpURL(), "AMQPJS_RUN_ID=" + runID,
			"AMQPJS_PROMETHEUS_PUSH_INTERVAL=1s"},
		Timeout: 3 * time.Minute,
	})
	sel := `{run_id="` + runID + `"}`
	// During the run: the series arrive while the VUs run (teardown, which
	// prints "done", has not run yet).
	during := false
	p.WaitFor("amqp_published_total in Prometheus", func() bool {
		running := p.Stdout() == ""
		v, ok := prom.scalar(t, "amqp_published_total"+sel)
		if ok && v > 0 {
			during = running
			return true
		}
		time.Sleep(50 * time.Millisecond)
		return false
	})
	if !during {
		t.Errorf("amqp_published_total reached Prometheus only after the run")
	}
	res := p.Wait()
	ended := time.Now()
	if res.Code != 0 || res.Stdout != "done\n" {
		t.Fatalf("run: %s", res)
	}
	if strings.Contains(res.Stderr, "prometheus") {
		t.Errorf("a warning about prometheus: %s", res.Stderr)
	}
	s := readExport(t, sum)
	v := func(m, k string) float64 { return s.Metrics[m].Values[k] }
	// After the run: the last samples (stale markers end the series, so
	// last_over_time) are the summary's figures.
	last := func(q string) float64 {
		t.Helper()
		x, ok := prom.scalar(t, "sum(last_over_time("+q+"[1h]))")
		if !ok {
			t.Fatalf("%s: no series", q)
		}
		return x
	}
	published := v("amqp_published", "count")
	if published == 0 {
		t.Fatalf("nothing published: %s", res)
	}
	for _, c := range []struct {
		q    string
		want float64
	}{
		{`amqp_published_total` + sel, published},
		{`amqp_confirmed_total` + sel, v("amqp_confirmed", "count")},
		{`amqp_publish_bytes_total` + sel, v("amqp_publish_bytes", "count")},
		{`iterations_total` + sel, v("iterations", "count")},
		{`amqp_confirm_latency_seconds_count` + sel, v("amqp_confirm_latency", "count")},
		{`checks_passes_total` + sel, v("checks", "passes")},
		{`checks_fails_total` + sel, v("checks", "fails")},
	} {
		if got := last(c.q); got != c.want {
			t.Errorf("%s: %v in Prometheus, %v in the summary", c.q, got, c.want)
		}
	}
	// Deliveries may still reach setup's consumer after the last sample.
	if got := last(`amqp_e2e_latency_seconds_count` + sel); got == 0 || got > v("amqp_e2e_latency", "count") {
		t.Errorf("amqp_e2e_latency_seconds_count %v, summary %v", got, v("amqp_e2e_latency", "count"))
	}
	// The whole run's confirm latency sum, in seconds.
	if got, want := last(`amqp_confirm_latency_seconds_sum`+sel), v("amqp_confirm_latency", "avg")*v("amqp_confirm_latency", "count")/1000; abs(got-want) > 1e-6*want+1e-9 {
		t.Errorf("confirm latency sum %v s, summary %v s", got, want)
	}
	// Per-interval statistics: every stat, within the run's min and max.
	stats := prom.query(t, `max by (stat) (max_over_time(amqp_confirm_latency_seconds`+sel+`[1h]))`)
	for _, st := range []string{"avg", "min", "max", "p50", "p90", "p95", "p99"} {
		x, ok := stats[`{stat="`+st+`"}`]
		if !ok {
			t.Errorf("no amqp_confirm_latency_seconds{stat=%q}: %v", st, stats)
			continue
		}
		if x <= 0 || x > v("amqp_confirm_latency", "max")/1000+1e-9 {
			t.Errorf("stat %s: %v s, outside the run's (0, %v ms]", st, x, v("amqp_confirm_latency", "max"))
		}
	}
	if x := last(`amqp_confirm_latency_seconds{stat="max",run_id="` + runID + `"}`); x <= 0 {
		t.Errorf("max %v", x)
	}
	if got, ok := prom.scalar(t, "max(max_over_time(vus"+sel+"[1h]))"); !ok || got != 2 {
		t.Errorf("vus: %v %v, want 2", got, ok)
	}
	// The rpc trend is one series per method.
	if n := len(prom.query(t, `last_over_time(amqp_rpc_duration_seconds_count`+sel+`[1h])`)); n < 2 {
		t.Errorf("%d amqp_rpc_duration series, want one per method", n)
	}
	// The Grafana dashboard's queries, a few seconds before the run's end:
	// Prometheus takes each, and each has data unless it is about what
	// this run did not do.
	checkDashboard(t, prom, runID, ended.Add(-3*time.Second))
	// Stale markers ended the run's series: nothing answers an instant
	// query on them now.
	if r := prom.query(t, "amqp_published_total"+sel); len(r) != 0 {
		t.Errorf("amqp_published_total still current after the run: %v", r)
	}
}

// checkDashboard runs every panel query of docs/grafana/amqpjs.json at
// time at, with the dashboard's variables set to the run.
func checkDashboard(t *testing.T, prom *prometheusServer, runID string, at time.Time) {
	t.Helper()
	d := testutil.ReadJSON[testutil.GrafanaDashboard](t, filepath.Join(repoRoot, "docs", "grafana", "amqpjs.json"))
	vars := strings.NewReplacer("$run_id", runID, "$scenario", ".*", "$__rate_interval", "1m", "$__range", "1h")
	n := 0
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			q := vars.Replace(tg.Expr)
			resp, err := http.Get(prom.base + "/api/v1/query?time=" + strconv.FormatInt(at.Unix(), 10) + "&query=" + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var r struct {
				Status string `json:"status"`
				Data   struct {
					Result []json.RawMessage `json:"result"`
				} `json:"data"`
			}
			if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
				t.Errorf("panel %q: %s: %v %s", p.Title, q, err, body)
				continue
			}
			n++
			idle := false // about something this run did not do
			for _, m := range []string{"amqp_nacked_total", "amqp_returned_total", "errors_total", "dropped_iterations_total"} {
				idle = idle || strings.Contains(q, m)
			}
			if len(r.Data.Result) == 0 && !idle {
				t.Errorf("panel %q: no data for %s", p.Title, q)
			}
		}
	}
	t.Logf("%d dashboard queries answered", n)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestIntegrationPrometheusDeadEndpoint: a dead endpoint neither fails the
// run nor changes its result; one warning and a count of what was lost.
func TestIntegrationPrometheusDeadEndpoint(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "dead.js", `
import * as aioamqp from 'aioamqp';
export const options = { vus: 1, iterations: 50, thresholds: { amqp_published: ['count==50'] } };
let channel;
export default async function () {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
  }
  await channel.publish('x', '', 'amqpjs.no-such-queue.prom-dead');
}`)
	dead := fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", freePort(t))
	res := Run(t, Opts{
		Args: []string{"run", "--quiet", "--out", "prometheus=" + dead, path},
		Env:  []string{"AMQP_URL=" + aioamqpURL(), "AMQPJS_PROMETHEUS_PASSWORD=s3cret", "AMQPJS_PROMETHEUS_USERNAME=u"},
	})
	if res.Code != 0 {
		t.Fatalf("run with a dead endpoint: %s", res)
	}
	if !strings.Contains(res.Stderr, "✓ amqp_published") || !strings.Contains(res.Stderr, "samples not delivered") || !strings.Contains(res.Stderr, "connection refused") {
		t.Errorf("want the summary and a count of undelivered samples: %s", res)
	}
	if n := strings.Count(res.Stderr, "prometheus"); n > 2 {
		t.Errorf("%d lines about prometheus, want at most a warning and the count: %s", n, res.Stderr)
	}
	if strings.Contains(res.Stderr, "s3cret") {
		t.Errorf("the password was printed: %s", res.Stderr)
	}
}
