package metrics

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A trend made before EnableWindows (the built-in metrics are registered
// before the outputs are known) has per-interval percentiles too.
func TestEnableWindowsAppliesToExistingTrends(t *testing.T) {
	reg := NewRegistry()
	early := reg.MustNew("early", Trend, Time)
	sub := early.Series(Tags{{"k", "v"}})
	reg.EnableWindows()
	late := reg.MustNew("late", Trend, Time)
	start := time.Now()
	s := NewSampler(reg, start)
	for i := 1; i <= 100; i++ {
		early.Add(float64(i))
		sub.Add(float64(i))
		late.Add(float64(i))
	}
	pts := s.Sample(start.Add(time.Second))
	if len(pts) != 3 {
		t.Fatalf("%d points", len(pts))
	}
	for _, p := range pts {
		if !p.Percentiles || p.P99 < 98.9 || p.P99 > 99.1 || p.Max != 100 {
			t.Errorf("%s%s: %+v", p.Metric, p.Tags, p)
		}
	}
	// Each interval's own: nothing recorded since, no point.
	if pts := s.Sample(start.Add(2 * time.Second)); len(pts) != 0 {
		t.Errorf("second interval %+v", pts)
	}
}

func TestInfo(t *testing.T) {
	reg := NewRegistry()
	if reg.Info(InfoBroker) != "" {
		t.Fatal("info before set")
	}
	reg.SetInfo(InfoBroker, "RabbitMQ 3.13.0")
	reg.SetInfo(InfoBroker, "RabbitMQ 4.0.0") // the first one stays
	if got := reg.Info(InfoBroker); got != "RabbitMQ 3.13.0" {
		t.Errorf("broker %q", got)
	}
}

func TestJSONOutputRunLine(t *testing.T) {
	reg := NewRegistry()
	c := reg.MustNew("n", Counter, Default)
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.Add(3)
	var b bytes.Buffer
	o := NewJSONOutput(&b)
	if err := o.Write(NewSampler(reg, start).Sample(start.Add(time.Second))); err != nil {
		t.Fatal(err)
	}
	info := RunInfo{Version: "1.2.3", Start: start, End: start.Add(time.Second), Broker: "RabbitMQ 3.13.0"}
	if err := o.(SummaryOutput).WriteSummary(info, reg.Summarize(time.Second)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	// A reader of points tells the run line by its missing metric.
	var p JSONPoint
	if err := json.Unmarshal([]byte(lines[1]), &p); err != nil || p.Metric != "" {
		t.Errorf("run line read as a point: %+v, %v", p, err)
	}
	var rl JSONRunLine
	if err := json.Unmarshal([]byte(lines[1]), &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Run.Version != "1.2.3" || rl.Run.Broker != "RabbitMQ 3.13.0" || !rl.Run.End.Equal(start.Add(time.Second)) || rl.Summary.Metrics["n"].Values["count"] != 3 {
		t.Errorf("run line %s", lines[1])
	}
}

func TestOpenOutputHTMLNeedsTheReport(t *testing.T) {
	// This package's tests do not link the report package.
	_, err := OpenOutput("html=" + filepath.Join(t.TempDir(), "r.html"))
	if err == nil || !strings.Contains(err.Error(), "not built into this program") {
		t.Errorf("error %v", err)
	}
	if _, err := OpenOutput("pdf=x"); err == nil || !strings.Contains(err.Error(), "want json, csv, html or prometheus") {
		t.Errorf("error %v", err)
	}
}

// BenchmarkTrendAddWindowed is BenchmarkTrendAdd with the per-interval
// histogram of the --out outputs: the cost an output adds to each sample.
func BenchmarkTrendAddWindowed(b *testing.B) {
	reg := NewRegistry()
	reg.EnableWindows()
	benchTrendAdd(b, reg.MustNew("t", Trend, Time).Root())
}
