//go:build integration

package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBench runs `amqpjs bench` small (amqpjs, raw amqp091-go and the
// wire client, every phase, one run) and checks the table and the JSON
// results.
func TestBench(t *testing.T) {
	bin := aioamqpBinary(t)
	out := filepath.Join(t.TempDir(), "results.json")
	cmd := exec.Command(bin, "bench", "-n", "500", "--runs", "1", "--clients", "amqpjs,raw,wire",
		"--rate", "1000", "--duration", "300ms", "--window", "100", "--prefetch", "50", "--json", out)
	cmd.Env = append(os.Environ(), "AMQP_URL="+aioamqpDefaultURL)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("amqpjs bench: %v\n%s", err, b)
	}
	table := string(b)
	for _, want := range []string{"publish, await each", "consume, no_ack", "confirms, W=100", "prefetch 50", "latency p50/p99", "amqpjs/raw", "wire (limit)", "amqpjs/wire"} {
		if !strings.Contains(table, want) {
			t.Errorf("no %q in the output:\n%s", want, table)
		}
	}
	if strings.Contains(table, "error") {
		t.Errorf("a client failed:\n%s", table)
	}
	var results []struct {
		Client string  `json:"client"`
		Phase  string  `json:"phase"`
		N      int     `json:"n"`
		Secs   float64 `json:"secs"`
		CPU    float64 `json:"cpu"`
		P99    float64 `json:"p99_ms"`
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &results); err != nil {
		t.Fatal(err)
	}
	if len(results) != 14 {
		t.Fatalf("%d results, want 5 phases × 2 clients + 4 of the wire client:\n%s", len(results), data)
	}
	for _, r := range results {
		if r.Client == "wire" && r.Phase == "latency" {
			t.Errorf("the wire client has no latency phase: %+v", r)
		}
		if r.Secs <= 0 || (r.CPU <= 0 && r.Client != "wire") || (r.Phase != "latency" && r.N != 500) || (r.Phase == "latency" && (r.N != 300 || r.P99 <= 0)) {
			t.Errorf("implausible result %+v", r)
		}
	}
}
