package promwrite

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

// writtenNames are the Prometheus names of amqpjs's built-in metrics.
func writtenNames() map[string]bool {
	reg := metrics.NewRegistry()
	bindings.RegisterMetrics(reg)
	scenario.RegisterBuiltins(reg)
	names := map[string]bool{}
	for _, m := range reg.Metrics() {
		for _, n := range MetricNames(m.Name, m.Kind, m.Type) {
			names[n] = true
		}
	}
	return names
}

var (
	selectorRE = regexp.MustCompile(`([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{`)
	statRE     = regexp.MustCompile(`stat=~?"([^"]*)"`)
)

// TestGrafanaDashboard: every query of docs/grafana/amqpjs.json (panels and
// variables) names metrics that amqpjs writes, and trend statistics that
// it writes; and every built-in metric of the AMQP side is on it.
func TestGrafanaDashboard(t *testing.T) {
	d := testutil.ReadJSON[testutil.GrafanaDashboard](t, "../../../docs/grafana/amqpjs.json")
	written := writtenNames()
	used := map[string]bool{}
	check := func(where, expr string) {
		t.Helper()
		sel := selectorRE.FindAllStringSubmatch(expr, -1)
		if len(sel) == 0 {
			t.Errorf("%s: %q selects no metric", where, expr)
		}
		for _, s := range sel {
			used[s[1]] = true
			if !written[s[1]] {
				t.Errorf("%s: %q: amqpjs writes no metric %s", where, expr, s[1])
			}
		}
		for _, s := range statRE.FindAllStringSubmatch(expr, -1) {
			if !slices.Contains(TrendStats, s[1]) {
				t.Errorf("%s: %q: amqpjs writes no stat %q (it writes %v)", where, expr, s[1], TrendStats)
			}
		}
	}
	n := 0
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
			n++
		}
	}
	for _, v := range d.Templating.List {
		if v.Type == "query" {
			check("variable "+v.Name, v.Definition)
			n++
		}
	}
	if n < 10 {
		t.Errorf("%d queries in the dashboard", n)
	}
	// The dashboard covers the AMQP metrics, VUs and errors.
	for _, name := range []string{"amqp_published_total", "amqp_confirmed_total", "amqp_consumed_total", "amqp_confirm_latency_seconds",
		"amqp_e2e_latency_seconds", "amqp_rpc_duration_seconds", "vus", "errors_total", "iterations_total", "checks_passes_total"} {
		if !used[name] {
			t.Errorf("the dashboard does not show %s", name)
		}
	}
	var all []string
	for k := range used {
		all = append(all, k)
	}
	sort.Strings(all)
	t.Logf("%d queries over %v", n, all)
}

// TestMetricNamesAreWhatIsWritten: the names the dashboard test relies on
// are those the output writes.
func TestMetricNamesAreWhatIsWritten(t *testing.T) {
	rcv := newReceiver(t)
	out, _ := start(t, rcv, Options{})
	reg := metrics.NewRegistry()
	scenario.RegisterBuiltins(reg)
	bindings.RegisterMetrics(reg)
	t0 := time.Unix(1_800_000_000, 0)
	reg.Start(t0)
	reg.EnableWindows()
	for _, m := range reg.Metrics() {
		m.Add(1)
	}
	if err := out.Write(metrics.NewSampler(reg, t0).Sample(t0.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	want := writtenNames()
	got := map[string]bool{}
	for _, k := range rcv.names() {
		got[k[:strings.IndexByte(k, '{')]] = true
	}
	for n := range want {
		if !got[n] {
			t.Errorf("MetricNames has %s, not written", n)
		}
	}
	for n := range got {
		if !want[n] {
			t.Errorf("%s written, not in MetricNames", n)
		}
	}
}
