package bench

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCheckAddsPrerequisites(t *testing.T) {
	o := Options{N: 10, Window: 1, Runs: 1, Rate: 10, Duration: time.Second, Clients: []string{"raw"}, Phases: []string{"consume_ack", "consume"}}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(o.Phases, ","); got != "publish,consume,confirm,consume_ack" {
		t.Fatalf("phases %s", got)
	}
	for _, bad := range []Options{
		{N: 0, Window: 1, Runs: 1},
		{N: 1, Window: 1, Runs: 1, Clients: []string{"pika"}},
		{N: 1, Window: 1, Runs: 1, Phases: []string{"nap"}},
		{N: 1, Window: 1, Runs: 1, Phases: []string{"latency"}, Rate: 1, Duration: time.Millisecond},
	} {
		if err := bad.check(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestTable(t *testing.T) {
	var out bytes.Buffer
	o := Options{N: 100, Size: 10, Window: 5, Prefetch: 7, Rate: 50, Duration: time.Second, Runs: 3,
		Phases: []string{"publish", "latency"}, Stdout: &out, Markdown: true}
	r := func(client, phase string, secs, cpu, p50 float64) Result {
		return Result{Client: client, PhaseResult: PhaseResult{Phase: phase, N: 100, Secs: secs, CPU: cpu, P50: p50, P99: 2 * p50}}
	}
	results := []Result{
		r("amqpjs", "publish", 1, 0.1, 0), r("amqpjs", "publish", 2, 0.3, 0), r("amqpjs", "publish", 4, 0.2, 0),
		r("raw", "publish", 2, 0.4, 0),
		r("amqpjs", "latency", 1, 0.1, 1), r("raw", "latency", 1, 0.2, 2),
	}
	printTable(o, []string{"amqpjs", "raw"}, map[string]string{"amqpjs": "amqpjs", "raw": "raw"}, results)
	got := out.String()
	for _, want := range []string{
		"| phase | amqpjs | cpu | raw | cpu | amqpjs/raw | cpu |",
		"| publish, await each (until enqueued) | 50 | 200.000 | 50 | 400.000 | 1.00 | 0.50 |", // medians
		"| latency p50/p99 ms at 50 msg/s | 1.00/2.00 | 100.000 | 2.00/4.00 | 200.000 | 0.50/0.50 | 0.50 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
}

func TestTableWire(t *testing.T) {
	var out bytes.Buffer
	o := Options{N: 100, Size: 10, Window: 5, Prefetch: 7, Rate: 50, Duration: time.Second, Runs: 1,
		Phases: []string{"confirm", "latency"}, Stdout: &out, Markdown: true}
	r := func(client, phase string, secs, cpu float64) Result {
		return Result{Client: client, PhaseResult: PhaseResult{Phase: phase, N: 100, Secs: secs, CPU: cpu, P50: 1, P99: 2}}
	}
	results := []Result{
		r("amqpjs", "confirm", 2, 0.1), r("raw", "confirm", 4, 0.4), r("wire", "confirm", 1, 0.01),
		r("amqpjs", "latency", 1, 0.1), r("raw", "latency", 1, 0.2),
	}
	printTable(o, []string{"amqpjs", "raw", "wire"}, map[string]string{"amqpjs": "amqpjs", "raw": "raw", "wire": "wire (limit)"}, results)
	got := out.String()
	for _, want := range []string{
		"| phase | amqpjs | cpu | raw | cpu | wire (limit) | cpu | amqpjs/raw | cpu | amqpjs/wire |",
		"| publish, confirms, W=5 in flight | 50 | 100.000 | 25 | 400.000 | 100 | 10.000 | 2.00 | 0.25 | 0.50 |",
		"| latency p50/p99 ms at 50 msg/s | 1.00/2.00 | 100.000 | 1.00/2.00 | 200.000 | – |  | 1.00/1.00 | 0.50 |  |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
}
