package tests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// 'amqpjs report' without a broker: help, usage errors, bad input, and a
// report from a JSON lines file through standard input.
func TestReportCommand(t *testing.T) {
	t.Parallel()
	r := Run(t, Opts{Args: []string{"report", "--help"}})
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "Usage: amqpjs report [--html FILE] RESULTS...") || !strings.Contains(r.Stdout, "--html FILE") {
		t.Errorf("--help: %s", r)
	}
	if r := Run(t, Opts{Args: []string{"help"}}); !strings.Contains(r.Stdout, "amqpjs report [--html FILE] RESULTS...") {
		t.Errorf("the usage does not list report: %s", r)
	}
	if r := Run(t, Opts{Args: []string{"help", "report"}}); r.Code != 0 || !strings.HasPrefix(r.Stdout, "Usage: amqpjs report") {
		t.Errorf("help report: %s", r)
	}
	r = Run(t, Opts{Args: []string{"report"}})
	if r.Code != 2 || !strings.Contains(r.Stderr, "missing RESULTS") {
		t.Errorf("no RESULTS: %s", r)
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	if err := os.WriteFile(bad, []byte("{\"time\":\"2026-01-01T00:00:01Z\",\"elapsed\":1,\"metric\":\"amqp_published\",\"type\":\"counter\",\"tags\":{},\"count\":1,\"value\":1}\nnot json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = Run(t, Opts{Args: []string{"report", "--html", filepath.Join(dir, "r.html"), bad}})
	if r.Code != 1 || !strings.Contains(r.Stderr, "bad.jsonl:2: not a line of amqpjs's JSON output") {
		t.Errorf("bad line: %s", r)
	}
	r = Run(t, Opts{Args: []string{"report", filepath.Join(dir, "missing.jsonl")}})
	if r.Code != 1 || !strings.Contains(r.Stderr, "missing.jsonl: no such file") {
		t.Errorf("missing file: %s", r)
	}
	// From standard input to standard output.
	r = Run(t, Opts{Args: []string{"report", "--html", "-", "-"}, Stdin: "{\"time\":\"2026-01-01T00:00:01Z\",\"elapsed\":1,\"metric\":\"amqp_published\",\"type\":\"counter\",\"tags\":{},\"count\":5,\"value\":5}\n"})
	if r.Code != 0 || !strings.HasPrefix(r.Stdout, "<!DOCTYPE html>") || !strings.Contains(r.Stdout, `"label":"published","values":[5]`) {
		t.Errorf("stdin to stdout: exit %d, stderr %s, stdout %.200s", r.Code, r.Stderr, r.Stdout)
	}
	// 'amqpjs run --out' names html among its outputs.
	script := filepath.Join(dir, "s.js")
	if err := os.WriteFile(script, []byte("export default function () {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = Run(t, Opts{Args: []string{"run", "--out", "pdf=x", script}})
	if r.Code != 2 || !strings.Contains(r.Stderr, "want json, csv, html or prometheus") {
		t.Errorf("--out pdf: %s", r)
	}
}
