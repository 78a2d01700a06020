package tests

// End-to-end tests of load and test scenarios (scripts with a default
// export) through the built binary, without a broker: executors, flags,
// thresholds and exit code 99, the JSON summary and the time series files,
// Ctrl-C. Those against RabbitMQ are in scenario_integration_test.go.

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

const scenarioSrc = `
import { Trend, check } from 'amqpjs/metrics';
import { setTimeout as sleep } from 'timers/promises';
const work = new Trend('work_ms', true);
export const options = {
  vus: 2, iterations: 10,
  thresholds: { iterations: ['count==10'], checks: ['rate==1'], work_ms: ['p(95)<1000'] },
};
export function setup() { return { greeting: 'hi' }; }
export default async function (data) {
  const t0 = Date.now();
  await sleep(5);
  work.add(Date.now() - t0);
  check(data, { 'setup data arrives': (d) => d.greeting === 'hi' });
}
export function teardown() { console.log('teardown'); }
`

func TestScenarioThresholdsPass(t *testing.T) {
	t.Parallel()
	res, _ := RunScript(t, "pass.js", scenarioSrc)
	if res.Code != 0 {
		t.Fatalf("want exit 0\n%s", res)
	}
	if res.Stdout != "teardown\n" {
		t.Errorf("stdout %q", res.Stdout)
	}
	for _, want := range []string{"scenario: shared-iterations, 10 iterations shared by 2 VUs", "METRIC", "iteration_duration",
		"✓ setup data arrives", "✓ iterations", "✓ checks", "✓ work_ms"} {
		if !strings.Contains(res.Stderr, want) {
			t.Errorf("stderr lacks %q\n%s", want, res.Stderr)
		}
	}
}

func TestScenarioThresholdFailsExit99(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "fail.js", scenarioSrc)
	res := RunArgs(t, "run", "--iterations", "3", path) // the flag overrides options: 3 ≠ 10
	if res.Code != 99 {
		t.Fatalf("want exit 99\n%s", res)
	}
	if !strings.Contains(res.Stderr, "✗ iterations") || !strings.Contains(res.Stderr, "count=3\n") || !strings.Contains(res.Stderr, "✓ checks") {
		t.Errorf("summary:\n%s", res.Stderr)
	}
	// The summary comes after teardown, then the process exits 99.
	if res.Stdout != "teardown\n" {
		t.Errorf("stdout %q", res.Stdout)
	}
}

func TestScenarioExportsParseBack(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := WriteScript(t, "export.js", scenarioSrc)
	sum, jl, cs := filepath.Join(dir, "summary.json"), filepath.Join(dir, "series.jsonl"), filepath.Join(dir, "series.csv")
	res := RunArgs(t, "run", "--quiet", "--vus", "3", "--duration", "2200ms", "--summary-export", sum, "--out", "json="+jl, "--out", "csv="+cs, path)
	// --duration makes it constant-vus: the script's 10 iterations do not
	// hold, so its threshold count==10 fails.
	if res.Code != 99 {
		t.Fatalf("want exit 99 (iterations count==10 fails)\n%s", res)
	}
	if strings.Contains(res.Stderr, "running [") {
		t.Errorf("--quiet printed progress:\n%s", res.Stderr)
	}
	var js struct {
		DurationMs       float64 `json:"duration_ms"`
		ThresholdsFailed bool    `json:"thresholds_failed"`
		Metrics          map[string]struct {
			Type       string                       `json:"type"`
			Values     map[string]float64           `json:"values"`
			Thresholds map[string]struct{ OK bool } `json:"thresholds"`
		} `json:"metrics"`
	}
	b, err := os.ReadFile(sum)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &js); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	iters := js.Metrics["iterations"].Values["count"]
	if !js.ThresholdsFailed || js.DurationMs < 2100 || iters < 20 || js.Metrics["vus_max"].Values["value"] != 3 ||
		js.Metrics["iterations"].Thresholds["count==10"].OK || !js.Metrics["checks"].Thresholds["rate==1"].OK ||
		js.Metrics["work_ms"].Type != "trend" || js.Metrics["work_ms"].Values["p(95)"] <= 0 {
		t.Errorf("summary export:\n%s", b)
	}

	// JSON lines: the iterations of every second add up to the total.
	b, err = os.ReadFile(jl)
	if err != nil {
		t.Fatal(err)
	}
	var seriesIters, taggedIters float64
	seconds := map[float64]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var p struct {
			Elapsed float64           `json:"elapsed"`
			Metric  string            `json:"metric"`
			Tags    map[string]string `json:"tags"`
			Value   float64           `json:"value"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		// Each interval has the metric's point (no tags) and one per tag
		// set: here the scenario's, {scenario: default}, the same count.
		if p.Metric == "iterations" && len(p.Tags) > 0 {
			if len(p.Tags) != 1 || p.Tags["scenario"] != "default" {
				t.Errorf("iterations point tagged %v", p.Tags)
			}
			taggedIters += p.Value
		}
		if p.Metric == "iterations" && len(p.Tags) == 0 {
			seriesIters += p.Value
			seconds[p.Elapsed] = true
		}
	}
	if seriesIters != iters || taggedIters != iters || len(seconds) < 3 {
		t.Errorf("json series: %v iterations (%v tagged) over %d intervals, summary %v", seriesIters, taggedIters, len(seconds), iters)
	}

	// CSV: the same, by column.
	f, err := os.Open(cs)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var csvIters float64
	for _, r := range rows[1:] {
		if r[col["metric"]] == "iterations" && r[col["tags"]] == "" {
			v, err := strconv.ParseFloat(r[col["value"]], 64)
			if err != nil {
				t.Fatal(err)
			}
			csvIters += v
		}
	}
	if csvIters != iters {
		t.Errorf("csv series: %v iterations, summary %v", csvIters, iters)
	}
}

func TestScenarioFlags(t *testing.T) {
	t.Parallel()
	res := RunArgs(t, "run", "--help")
	for _, flag := range []string{"--vus", "--duration", "--iterations", "--stage", "--rate", "--max-vus", "--quiet", "--summary-export", "--out", "--no-e2e-header", "exit code\n99"} {
		if !strings.Contains(res.Stdout, flag) {
			t.Errorf("run --help lacks %q", flag)
		}
	}
	path := WriteScript(t, "s.js", `export default function () {}`)
	for _, args := range [][]string{{"--stage", "10s"}, {"--out", "xml=f"}, {"--out", "json="}} {
		res := RunArgs(t, append(append([]string{"run"}, args...), path)...)
		if res.Code != 2 {
			t.Errorf("%v: want exit 2\n%s", args, res)
		}
	}
	res = RunArgs(t, "run", "--stage", "300ms:3", "--stage", "300ms:0", "--quiet", path)
	if res.Code != 0 || !strings.Contains(res.Stderr, "ramping-vus") || !strings.Contains(res.Stderr, "vus_max") {
		t.Errorf("--stage:\n%s", res)
	}
	res = RunArgs(t, "run", "--rate", "20", "--duration", "500ms", "--max-vus", "2", "--quiet", path)
	if res.Code != 0 || !strings.Contains(res.Stderr, "constant-arrival-rate, 20 iterations per 1s for 500ms") {
		t.Errorf("--rate:\n%s", res)
	}
	bad := WriteScript(t, "bad.js", `export const options = { thresholds: { nope: ['count>0'] } }; export default function () {}`)
	if res := RunArgs(t, "run", bad); res.Code != 2 || !strings.Contains(res.Stderr, `no metric named "nope"`) {
		t.Errorf("unknown metric in thresholds:\n%s", res)
	}
}

func TestScenarioInterrupt(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "long.js", `
import { setTimeout as sleep } from 'timers/promises';
export const options = { vus: 2, duration: '1m' };
export default async function () { await sleep(50); }
export function teardown() { console.log('teardown after Ctrl-C'); }`)
	p := Start(t, Opts{Args: []string{"run", path}})
	p.WaitFor("progress", func() bool { return strings.Contains(p.Stderr(), "running [") })
	p.Signal(syscall.SIGINT)
	res := p.Wait()
	if res.Code != 130 {
		t.Fatalf("want exit 130\n%s", res)
	}
	if res.Stdout != "teardown after Ctrl-C\n" || !strings.Contains(res.Stderr, "(interrupted)") || !strings.Contains(res.Stderr, "iterations") {
		t.Errorf("%s", res)
	}
}

// TestScenarioNamedConfigErrors: bad options.scenarios exit 2 with a
// message naming the scenario and the key; the shorthand flags do too
// with options.scenarios.
func TestScenarioNamedConfigErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ src, want string }{
		{`export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s', exec: 'produce' } } }; export default function () {}`,
			`amqpjs: options: scenarios.p.exec: the script exports no function "produce" (its exported functions: default)`},
		{`export const options = { scenarios: { p: { executor: 'arrival-rate', duration: '1s' } } }; export default function () {}`,
			`amqpjs: options: scenarios.p.executor: unknown executor "arrival-rate"`},
		{`export const options = { scenarios: { p: { executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: -10 }] } } }; export default function () {}`,
			`amqpjs: options: scenarios.p.stages[0].target: must be a number of iterations per timeUnit ≥ 0`},
		{`export const options = { scenarios: { jobs: { executor: 'constant-vus', duration: '1s' }, JOBS: { executor: 'constant-vus', duration: '1s' } } }; export default function () {}`,
			`amqpjs: options: scenarios.JOBS: the name overlaps scenario "jobs"`},
		{`export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s', iterations: 3 } } }; export default function () {}`,
			`amqpjs: options: scenarios.p: unknown key "iterations" for constant-vus`},
	} {
		res, _ := RunScript(t, "bad.js", c.src)
		if res.Code != 2 || !strings.Contains(res.Stderr, c.want) {
			t.Errorf("%s\nwant exit 2 and %q\n%s", c.src, c.want, res)
		}
	}
	path := WriteScript(t, "named.js", `export const options = { scenarios: { p: { executor: 'constant-vus', duration: '1s' } } }; export default function () {}`)
	res := RunArgs(t, "run", "--duration", "5s", path)
	if res.Code != 2 || !strings.Contains(res.Stderr, "--duration sets the shorthand options (one scenario) only; this script has options.scenarios") {
		t.Errorf("--duration with options.scenarios:\n%s", res)
	}
}
