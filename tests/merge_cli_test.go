package tests

// End-to-end tests of `amqpjs merge` (no broker): three instances of a
// scenario run with --execution-segment, their results merged, the merged
// counts, percentiles and threshold verdicts checked against the
// instances' own files.

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// mergeSrc records in setup() (once per instance: "setups" is below 2 in
// each, 3 in the whole run) and, with SLOW=1, slow work and failing checks
// (that instance fails its own thresholds, the whole run does not: two
// thirds of its samples are fast).
const mergeSrc = `
import { Trend, Counter, check } from 'amqpjs/metrics';
const work = new Trend('work_ms', true);
const setups = new Counter('setups');
export const options = {
  vus: 3, iterations: 30,
  thresholds: { setups: ['count<2'], work_ms: ['p(50)<50', 'p(99)<1000'], checks: ['rate>0.5'], 'checks{check:fast}': ['rate>0.5'] },
};
export function setup() { setups.add(1); }
export default function () {
  const slow = __ENV.SLOW === '1';
  work.add(slow ? 100 + __ITER * 1.5 : 1 + __ITER / 7);
  check(__ITER, { fast: () => !slow });
}
`

var mergeSegments = []string{"0:1/3", "1/3:2/3", "2/3:1"}

type mergeRun struct {
	summary, series string
	res             Result
}

// runInstances runs script as the three instances; the first with SLOW=1.
func runInstances(t *testing.T, script string) []mergeRun {
	t.Helper()
	dir := t.TempDir()
	var runs []mergeRun
	for i, seg := range mergeSegments {
		r := mergeRun{summary: filepath.Join(dir, fmt.Sprintf("summary%d.json", i)), series: filepath.Join(dir, fmt.Sprintf("series%d.jsonl", i))}
		env := []string{"SLOW=0"}
		if i == 0 {
			env = []string{"SLOW=1"}
		}
		r.res = Run(t, Opts{Args: []string{"run", "--quiet", "--execution-segment", seg, "--summary-export", r.summary, "--out", "json=" + r.series, script}, Env: env})
		runs = append(runs, r)
	}
	return runs
}

// allSamples is one histogram of every sample of a metric in the
// instances' exports, and the samples' min and max.
type allSamples struct {
	h      *hdr.Histogram
	lo, hi float64
}

func mergeSamples(t *testing.T, parts []exportDoc, metric string) allSamples {
	t.Helper()
	a := allSamples{h: hdr.New(1, 1e12, 3), lo: math.Inf(1), hi: math.Inf(-1)}
	for _, p := range parts {
		d := p.Metrics[metric].Data
		h, err := hdr.Decode([]byte(d.HDR))
		if err != nil {
			t.Fatal(err)
		}
		a.h.Merge(h)
		a.lo, a.hi = math.Min(a.lo, d.Min), math.Max(a.hi, d.Max)
	}
	return a
}

// percentile is the percentile pc of the samples in ms, within their min
// and max.
func (a allSamples) percentile(pc float64) float64 {
	return math.Max(a.lo, math.Min(a.hi, float64(a.h.ValueAtPercentile(pc))/1000))
}

func TestMergeCLI(t *testing.T) {
	t.Parallel()
	script := WriteScript(t, "split.js", mergeSrc)
	runs := runInstances(t, script)
	// Alone, the slow instance fails its latency and check thresholds, the
	// others pass all theirs.
	for i, r := range runs {
		if want := map[bool]int{true: 99, false: 0}[i == 0]; r.res.Code != want {
			t.Fatalf("instance %d: want exit %d\n%s", i, want, r.res)
		}
	}
	dir := t.TempDir()
	merged := filepath.Join(dir, "merged.json")
	args := []string{"merge", "--summary-export", merged}
	for _, r := range runs {
		args = append(args, r.summary)
	}
	res := RunArgs(t, args...)
	// The whole run: setups count=3 fails, work_ms and checks pass.
	if res.Code != 99 {
		t.Fatalf("merge: want exit 99\n%s", res)
	}
	for _, want := range []string{"merged 3 results of " + script + ", segments 0:1/3, 1/3:2/3, 2/3:1",
		"scenario: shared-iterations", "METRIC", "work_ms", "✗ setups", "count=3", "✓ work_ms", "✓ checks{check:fast}"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("merge summary lacks %q\n%s", want, res)
		}
	}

	var parts []exportDoc
	for _, r := range runs {
		parts = append(parts, readExport(t, r.summary))
	}
	for i, p := range parts {
		if p.Run.Segment != mergeSegments[i] || len(p.Run.ID) != 32 || p.Run.ID == parts[(i+1)%3].Run.ID || len(p.Run.ScriptSHA256) != 64 || p.Run.ScriptSHA256 != parts[0].Run.ScriptSHA256 {
			t.Errorf("instance %d: run %+v", i, p.Run)
		}
	}
	m := readExport(t, merged)
	if !m.ThresholdsFailed || m.Run.Segment != "" || m.Run.ScriptSHA256 != parts[0].Run.ScriptSHA256 || m.Run.ID == parts[0].Run.ID {
		t.Errorf("merged run %+v", m.Run)
	}
	verdicts := map[string]bool{}
	for _, th := range m.Thresholds {
		verdicts[th.Metric+" "+th.Threshold] = th.OK
	}
	if !(verdicts["work_ms p(50)<50"] && verdicts["checks rate>0.5"] && verdicts["checks{check:fast} rate>0.5"] && !verdicts["setups count<2"]) {
		t.Errorf("merged verdicts %v", verdicts)
	}

	// Counts add up exactly.
	for _, key := range []string{"iterations", "setups", "work_ms", "checks", "iteration_duration"} {
		var count, nonzero int64
		var sum float64
		for _, p := range parts {
			count += p.Metrics[key].Data.Count
			nonzero += p.Metrics[key].Data.NonZero
			sum += p.Metrics[key].Data.Sum
		}
		got := m.Metrics[key].Data
		if count == 0 || got.Count != count || got.NonZero != nonzero || math.Abs(got.Sum-sum) > 1e-9*math.Abs(sum) {
			t.Errorf("%s: merged %+v; the instances add up to count %d, nonzero %d, sum %v", key, got, count, nonzero, sum)
		}
	}
	// The instances' shares of the 30 shared iterations are the whole.
	if got := m.Metrics["iterations"].Values["count"]; got != 30 || m.Metrics["checks"].Data.Count != 30 || m.Metrics["work_ms"].Data.Count != 30 {
		t.Errorf("iterations %v, checks %d, work_ms %d: want 30 each", got, m.Metrics["checks"].Data.Count, m.Metrics["work_ms"].Data.Count)
	}

	// The merged percentiles are those of one histogram of every sample.
	all := mergeSamples(t, parts, "work_ms")
	for _, pc := range []float64{50, 90, 95, 99} {
		want := all.percentile(pc)
		if got := m.Metrics["work_ms"].Values[fmt.Sprintf("p(%v)", pc)]; got != want {
			t.Errorf("work_ms p(%v): merged %v, all samples %v", pc, got, want)
		}
	}
	if all.h.TotalCount() != m.Metrics["work_ms"].Data.Count {
		t.Errorf("histogram of all samples: %d values, merged count %d", all.h.TotalCount(), m.Metrics["work_ms"].Data.Count)
	}

	// The JSON lines files merge the same, and make the report.
	report := filepath.Join(dir, "whole.html")
	res2 := RunArgs(t, "merge", "--out", "html="+report, runs[2].series, runs[0].series, runs[1].series)
	if res2.Code != 99 || !strings.Contains(res2.Stderr, "wrote "+report) {
		t.Fatalf("merge of the JSON lines:\n%s", res2)
	}
	if summaryTable(res2.Stdout) != summaryTable(res.Stdout) {
		t.Errorf("the JSON lines merge to another summary:\n%s\n---\n%s", res2.Stdout, res.Stdout)
	}
	page, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Merged from 3 instances (segments 0:1/3, 1/3:2/3, 2/3:1)", `"selector":"setups"`, "work_ms"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	// A report needs the time series: summary exports have none.
	if res := RunArgs(t, "merge", "--out", "html="+report, runs[0].summary, runs[1].summary, runs[2].summary); res.Code != 2 || !strings.Contains(res.Stderr, "is a summary export") {
		t.Errorf("html from summary exports:\n%s", res)
	}
}

// summaryTable is the summary from its table on (the header names the
// files' order and the run's length).
func summaryTable(out string) string {
	_, table, _ := strings.Cut(out, "METRIC")
	return table
}

// Results that do not belong together are refused with exit 2 and a
// message that names the file and the segment.
func TestMergeCLIRefuses(t *testing.T) {
	t.Parallel()
	script := WriteScript(t, "split.js", mergeSrc)
	runs := runInstances(t, script)
	dir := t.TempDir()
	half := filepath.Join(dir, "half.json")
	if res := Run(t, Opts{Args: []string{"run", "--quiet", "--execution-segment", "1/2:1", "--summary-export", half, script}}); res.Code != 0 && res.Code != 99 {
		t.Fatalf("run:\n%s", res)
	}
	other := WriteScript(t, "other.js", mergeSrc+"\n// another script\n")
	otherSum := filepath.Join(dir, "other.json")
	if res := Run(t, Opts{Args: []string{"run", "--quiet", "--execution-segment", "1/3:2/3", "--summary-export", otherSum, other}}); res.Code != 0 && res.Code != 99 {
		t.Fatalf("run:\n%s", res)
	}
	moreVUs := filepath.Join(dir, "vus.json")
	if res := Run(t, Opts{Args: []string{"run", "--quiet", "--vus", "6", "--execution-segment", "2/3:1", "--summary-export", moreVUs, script}}); res.Code != 0 && res.Code != 99 {
		t.Fatalf("run:\n%s", res)
	}
	notResults := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notResults, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s0, s1, s2 := runs[0].summary, runs[1].summary, runs[2].summary
	for _, c := range []struct {
		name  string
		files []string
		want  string
	}{
		{"twice", []string{s0, s1, s2, s1}, s1 + " and " + s1 + " are the results of the same run"},
		{"missing", []string{s0, s2}, "segment 1/3:2/3 is missing: between " + s0 + " (0:1/3) and " + s2 + " (2/3:1)"},
		{"overlap", []string{s0, s1, half}, "segments overlap: " + s1 + " (1/3:2/3) and " + half + " (1/2:1)"},
		{"other script", []string{s0, otherSum, s2}, otherSum + " ran another script than " + s0},
		{"other options", []string{s0, s1, moreVUs}, moreVUs + " ran with other options than " + s0 + ": options.Scenarios[0].VUs is 3 in " + s0 + " and 6 in " + moreVUs},
		{"not results", []string{s0, notResults}, notResults + ": not amqpjs results"},
		{"no file", []string{s0, filepath.Join(dir, "nope.json")}, "nope.json: no such file"},
	} {
		res := RunArgs(t, append([]string{"merge"}, c.files...)...)
		if res.Code != 2 || !strings.Contains(res.Stderr, c.want) || res.Stdout != "" {
			t.Errorf("%s: want exit 2 and %q\n%s", c.name, c.want, res)
		}
	}
}

func TestMergeCLIUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"merge", "--help"}, {"help", "merge"}} {
		res := RunArgs(t, args...)
		if res.Code != 0 || !strings.Contains(res.Stdout, "Usage: amqpjs merge") || !strings.Contains(res.Stdout, "--summary-export") || !strings.Contains(res.Stdout, "--out") {
			t.Errorf("%v:\n%s", args, res)
		}
	}
	if res := RunArgs(t, "help"); !strings.Contains(res.Stdout, "amqpjs merge") {
		t.Errorf("help does not list merge:\n%s", res)
	}
	for args, want := range map[string]string{
		"merge":                   "missing RESULTS",
		"merge --out csv=x.csv a": `invalid --out "csv=x.csv"`,
		"merge --bogus a":         "unknown flag: --bogus",
	} {
		if res := RunArgs(t, strings.Fields(args)...); res.Code != 2 || !strings.Contains(res.Stderr, want) {
			t.Errorf("%s: want exit 2 and %q\n%s", args, want, res)
		}
	}
}

// A run with options.scenarios merges to a line per scenario with its
// iterations in the whole run.
func TestMergeCLINamedScenarios(t *testing.T) {
	t.Parallel()
	script := WriteScript(t, "named.js", `
import { Counter } from 'amqpjs/metrics';
const things = new Counter('things');
export const options = {
  scenarios: {
    alpha: { executor: 'shared-iterations', vus: 2, iterations: 10 },
    beta: { executor: 'per-vu-iterations', vus: 2, iterations: 3 },
  },
  thresholds: { 'things{scenario:beta}': ['count>0'] },
};
export default function () { things.add(1); }
`)
	dir := t.TempDir()
	var files []string
	want := map[string]float64{}
	for i, seg := range []string{"0:1/2", "1/2:1"} {
		f := filepath.Join(dir, fmt.Sprintf("part%d.json", i))
		if res := RunArgs(t, "run", "--quiet", "--execution-segment", seg, "--summary-export", f, script); res.Code != 0 {
			t.Fatalf("run:\n%s", res)
		}
		files = append(files, f)
		d := readExport(t, f)
		for _, s := range []string{"alpha", "beta"} {
			want[s] += d.Metrics["iterations{scenario:"+s+"}"].Values["count"]
		}
	}
	if want["alpha"] != 10 || want["beta"] != 2*3 { // the whole: 10 shared, 3 for each of 2 VUs
		t.Errorf("the instances ran %v iterations", want)
	}
	res := RunArgs(t, append([]string{"merge"}, files...)...)
	if res.Code != 0 {
		t.Fatalf("merge:\n%s", res)
	}
	for _, re := range []string{
		`\n  scenarios: 2, ran \d`,
		fmt.Sprintf(`\n    alpha  shared-iterations, [^\n]*; %v iterations\n`, want["alpha"]),
		fmt.Sprintf(`\n    beta   per-vu-iterations, [^\n]*; %v iterations\n`, want["beta"]),
		fmt.Sprintf(`✓ things\{scenario:beta\}  count>0  count=%v\n`, want["beta"]),
	} {
		if !regexp.MustCompile(re).MatchString(res.Stdout) {
			t.Errorf("merge summary lacks %s\n%s", re, res)
		}
	}
}
