package scenario

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// recorder is an output that records the run's end.
type recorder struct {
	writes, summaries int
	closedFirst       bool
	closed            bool
	info              metrics.RunInfo
	sum               *metrics.Summary
}

func (r *recorder) Write([]metrics.Point) error { r.writes++; return nil }
func (r *recorder) Close() error                { r.closed = true; return nil }
func (r *recorder) WriteSummary(info metrics.RunInfo, sum *metrics.Summary) error {
	r.summaries++
	r.closedFirst = r.closed
	r.info, r.sum = info, sum
	return nil
}

func TestOutputsGetTheRunAndSummary(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	jb := &closingBuf{}
	r := run(t, prelude+`
export const options = { vus: 2, duration: '400ms', thresholds: { per_vu: ['count>1000000'] } };
export default async function () { perVU.add(1); await sleep(20); }`,
		func(o *Options) { o.Outputs = []metrics.Output{rec, metrics.NewJSONOutput(jb)} }, nil)
	if r.code != ExitThresholds {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if rec.summaries != 1 || rec.closedFirst || !rec.closed || rec.writes == 0 {
		t.Fatalf("recorder %+v", rec)
	}
	in := rec.info
	if in.Version != runtime.Version || !strings.HasSuffix(in.Script, "scenario.js") || in.Status != "" || in.Broker != "" {
		t.Errorf("info %+v", in)
	}
	if d := in.End.Sub(in.Start); d < 400*time.Millisecond || d > 30*time.Second {
		t.Errorf("start %v end %v", in.Start, in.End)
	}
	if in.Scenario != "constant-vus, 2 VUs for 400ms" {
		t.Errorf("scenario %q", in.Scenario)
	}
	var cfg struct{ Scenarios []map[string]any }
	if err := json.Unmarshal(in.Config, &cfg); err != nil || len(cfg.Scenarios) != 1 || cfg.Scenarios[0]["Executor"] != "constant-vus" || cfg.Scenarios[0]["Duration"] != "400ms" || cfg.Scenarios[0]["VUs"] != 2.0 {
		t.Errorf("config %s (%v)", in.Config, err)
	}
	if len(rec.sum.Thresholds) != 1 || rec.sum.Thresholds[0].OK {
		t.Errorf("thresholds %+v", rec.sum.Thresholds)
	}
	// The JSON lines output ends with the run line.
	lines := strings.Split(strings.TrimSpace(jb.String()), "\n")
	var last metrics.JSONRunLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last.Run.Scenario != in.Scenario || !last.Summary.ThresholdsFailed || last.Summary.Metrics["per_vu"].Values["count"] != r.sum("per_vu") {
		t.Errorf("run line %s", lines[len(lines)-1])
	}
}
