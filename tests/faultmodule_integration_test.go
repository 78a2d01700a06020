//go:build integration

// The amqpjs/faults module (faults on cue, on the script's own connections),
// through the binary against the shared broker: for each fault, what the
// script observes (on_error's class and code, which pending calls reject and
// with what), that a new connection recovers, and that every message whose
// publish was confirmed is in the queue afterwards
// (testdata/faultmodule/fault.js). Then scripts/chaos.js with --out json=:
// each fault is an event of the run. (faults_test.go is a different thing:
// faults injected from outside, through a TCP proxy and a node of its own.)
//
//	go test -tags integration -run TestFaultModule ./tests/ -count=1 -v
package tests

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFaultModule(t *testing.T) {
	aioamqpBinary(t)
	for _, fault := range []string{"cut", "stall", "latency", "bandwidth"} {
		t.Run(fault, func(t *testing.T) { faultModuleRun(t, fault) })
	}
	t.Run("ChaosEvents", faultModuleChaosEvents)
}

type faultCallResult struct {
	Name, Outcome, Class string
	Code                 int
}

type faultErrorSeen struct {
	Class, Message string
	Code           int
}

func faultModuleRun(t *testing.T, fault string) {
	script, err := filepath.Abs(filepath.Join("testdata", "faultmodule", "fault.js"))
	if err != nil {
		t.Fatal(err)
	}
	queue := "amqpjs.faultmodule." + fault + "." + strings.ReplaceAll(time.Now().Format("150405.000000"), ".", "")
	t.Setenv("FAULT", fault)
	t.Setenv("FAULT_QUEUE", queue)
	res := runAmqpjs(t, script, nil, 2*time.Minute)
	dump := "\n--- stdout:\n" + res.stdout + "\n--- stderr:\n" + res.stderr
	if res.exit != 0 {
		t.Fatalf("exit %d%s", res.exit, dump)
	}
	steps := map[string]json.RawMessage{}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "@@"); ok {
			k, v, _ := strings.Cut(rest, " ")
			steps[k] = json.RawMessage(v)
		}
	}
	get := func(step string, v any) {
		t.Helper()
		raw, ok := steps[step]
		if !ok {
			t.Fatalf("no step %q%s", step, dump)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			t.Fatalf("step %s: %v: %s", step, err, raw)
		}
	}

	// Bad input throws, naming the parameter.
	var bad []struct{ What, Name, Code, Message string }
	get("bad", &bad)
	wantBad := map[string][2]string{
		"not a protocol":      {"TypeError", "parameter 'protocol'"},
		"no protocol":         {"TypeError", "parameter 'protocol'"},
		"null protocol":       {"TypeError", "parameter 'protocol'"},
		"bad duration string": {"TypeError", "parameter 'duration'"},
		"negative duration":   {"RangeError", "parameter 'duration'"},
		"bad size":            {"TypeError", "parameter 'size'"},
		"zero size":           {"RangeError", "parameter 'size'"},
		"bad filter":          {"TypeError", "unknown filter key 'queue'"},
	}
	for _, b := range bad {
		w, ok := wantBad[b.What]
		if !ok {
			t.Errorf("unexpected case %q", b.What)
			continue
		}
		delete(wantBad, b.What)
		if b.Name != w[0] || !strings.Contains(b.Message, w[1]) || !strings.HasPrefix(b.Message, "faults.") {
			t.Errorf("%s: %s %q (%s); want a %s naming %s", b.What, b.Name, b.Message, b.Code, w[0], w[1])
		}
	}
	if len(wantBad) > 0 {
		t.Errorf("cases not run: %v", wantBad)
	}

	var listed []string
	get("listed", &listed)
	if len(listed) != 1 || !strings.HasPrefix(listed[0], "127.0.0.1:") {
		t.Errorf("faults.connections() listed %q; want the script's one connection", listed)
	}

	var state struct {
		State  int
		Errors []faultErrorSeen
		Got    string
	}
	get("state", &state)
	switch fault {
	case "cut", "stall":
		if fault == "cut" {
			var cut struct{ First, Second bool }
			get("cut", &cut)
			if !cut.First || cut.Second {
				t.Errorf("cut() returned %v then %v; want true then false", cut.First, cut.Second)
			}
		}
		var s string
		get("stall", &s) // the stall's promise settled when the connection ended
		var pending []faultCallResult
		get("pending", &pending)
		for _, p := range pending {
			want := faultCallResult{Name: p.Name, Outcome: "rejected", Class: "AmqpClosedConnection"}
			if p.Name == "wait_closed" {
				want = faultCallResult{Name: p.Name, Outcome: "fulfilled"}
			}
			if p != want {
				t.Errorf("pending %s: %+v; want %+v", p.Name, p, want)
			}
		}
		if len(pending) != 7 {
			t.Errorf("%d pending calls settled, want 7", len(pending))
		}
		wantMsg := map[string]string{"cut": "connection reset by peer", "stall": "missed heartbeats"}[fault]
		if state.State != 3 || len(state.Errors) != 1 || state.Errors[0].Class != "AmqpClosedConnection" || state.Errors[0].Code != 0 || !strings.Contains(state.Errors[0].Message, wantMsg) {
			t.Errorf("after the %s: state %d, on_error calls %+v; want CLOSED (3) and one AmqpClosedConnection, code 0, mentioning %q", fault, state.State, state.Errors, wantMsg)
		}
		var after struct{ Class string }
		get("after", &after)
		if after.Class != "AmqpClosedConnection" {
			t.Errorf("a publish after the %s: %+v; want AmqpClosedConnection", fault, after)
		}
		if fault == "cut" {
			// The broker saw the socket go.
			faultModuleConnGone(t, "faultmodule "+queue)
		}
	default:
		if state.State != 1 || len(state.Errors) != 0 || state.Got != "m1" {
			t.Errorf("with %s: state %d, on_error calls %+v, first message %q; want OPEN (1), none, m1", fault, state.State, state.Errors, state.Got)
		}
	}

	// Nothing confirmed is lost; the large message crossed intact.
	var result struct {
		Confirmed []string
		Present   map[string]int
		Sizes     map[string]int
	}
	get("result", &result)
	if len(result.Confirmed) < 30 {
		t.Errorf("only %d publishes confirmed", len(result.Confirmed))
	}
	for _, id := range result.Confirmed {
		if result.Present[id] == 0 {
			t.Errorf("message %s was confirmed but is not in the queue", id)
		}
	}
	if fault == "latency" || fault == "bandwidth" {
		if n := result.Sizes["m24"]; n != 300000 {
			t.Errorf("the 300 kB message arrived with %d bytes", n)
		}
	}
}

// faultModuleConnGone waits until the broker lists no connection named name.
func faultModuleConnGone(t *testing.T, name string) {
	t.Helper()
	var out []byte
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var err error
		out, err = exec.Command("rabbitmqctl", "-q", "list_connections", "client_properties").CombinedOutput()
		if err != nil {
			t.Fatalf("list_connections: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), name) {
			return
		}
	}
	t.Errorf("the broker still lists the connection %q after the cut:\n%s", name, out)
}

// faultModuleChaosEvents runs scripts/chaos.js with --out json= and finds
// each fault it injects as an event line, tagged with the chaos scenario and
// the target's scenario.
func faultModuleChaosEvents(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "scripts", "chaos.js"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, page := filepath.Join(dir, "run.json"), filepath.Join(dir, "report.html")
	res := runAmqpjs(t, script, []string{"--out", "json=" + out, "--out", "html=" + page}, 2*time.Minute)
	if res.exit != 0 {
		t.Fatalf("exit %d\n--- stdout:\n%s\n--- stderr:\n%s", res.exit, res.stdout, res.stderr)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e struct {
			Type, Event string
			Elapsed     float64
			Tags        map[string]string
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		if e.Type != "event" {
			continue
		}
		if e.Tags["scenario"] != "chaos" || e.Tags["target_scenario"] == "" || e.Tags["connection"] == "" || e.Elapsed < 1 {
			t.Errorf("event %s: elapsed %v, tags %v; want the chaos scenario's, after its startTime, naming the target", e.Event, e.Elapsed, e.Tags)
		}
		seen[e.Event+" "+e.Tags["target_scenario"]]++
	}
	want := map[string]int{
		"fault.cut producers": 1, "fault.cut consumers": 1,
		"fault.latency producers": 1, "fault.bandwidth producers": 1, "fault.clear producers": 1,
		"fault.stall consumers": 1,
	}
	for k, n := range want {
		if seen[k] != n {
			t.Errorf("%d events %q, want %d (all: %v)", seen[k], k, n, seen)
		}
	}

	// The HTML report lists the events and marks them on its charts.
	p := pageData(t, page)
	labels := map[string]bool{}
	for _, e := range p.Events {
		labels[strings.Join(strings.Fields(e.Label)[:2], " ")] = true
		if e.Elapsed < 1 || e.T == 0 {
			t.Errorf("report event %+v: before the chaos scenario's start", e)
		}
	}
	for k := range want {
		if !labels[k] {
			t.Errorf("the report has no event %q (events %+v)", k, p.Events)
		}
	}
	t.Run("Browser", func(t *testing.T) {
		bin := chromiumPath(t)
		checkRendered(t, bin, page, []string{"--window-size=1400,2400", "--virtual-time-budget=3000"}, "all")
		dom, _ := chromium(t, bin, page, "--window-size=1400,2400", "--virtual-time-budget=3000", "--dump-dom")
		if !strings.Contains(dom, `<section id="events">`) || !strings.Contains(dom, "fault.stall consumers VU") {
			t.Errorf("the drawn report lists no events")
		}
	})
}
