package tests

// Execution segments and --start-at through the binary (no broker).

import (
	"os"
	"strings"
	"testing"
)

// TestCLISegmentFlagErrors: bad --execution-segment, --instance and
// --start-at values, and the two segment flags together, exit 2 with a
// message naming the flag.
func TestCLISegmentFlagErrors(t *testing.T) {
	t.Parallel()
	script := WriteScript(t, "seg.js", "export default function () {}")
	for _, tc := range []struct {
		name      string
		args      []string
		stderrHas string
	}{
		{"segment backwards", []string{"--execution-segment", "2/3:1/3"}, "--execution-segment: execution segment 2/3:1/3: want 0 <= start < end <= 1"},
		{"segment past 1", []string{"--execution-segment", "0:150%"}, "--execution-segment"},
		{"segment garbage", []string{"--execution-segment", "a:b"}, "is not a fraction"},
		{"instance out of range", []string{"--instance", "3/3"}, "--instance: instance \"3/3\": want 0 <= I < N"},
		{"instance without an index", []string{"--instance", "/3"}, "is the index variable set?"},
		{"instance unexpanded", []string{"--instance", "$(JOB_COMPLETION_INDEX)/3"}, "Indexed Job"},
		{"both", []string{"--instance", "0/3", "--execution-segment", "0:1/3"}, "--execution-segment and --instance both set: give one"},
		{"start-at garbage", []string{"--start-at", "soon"}, "--start-at: \"soon\": want RFC 3339"},
		{"start-at negative", []string{"--start-at", "+-5s"}, "want +DURATION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := RunArgs(t, append(append([]string{"run"}, tc.args...), script)...)
			if res.Code != 2 || !strings.Contains(res.Stderr, tc.stderrHas) {
				t.Errorf("want exit 2 and %q\n%s", tc.stderrHas, res)
			}
		})
	}
	res := RunArgs(t, "run", "--help")
	for _, flag := range []string{"--execution-segment A:B", "--instance I/N", "--start-at TIME"} {
		if !strings.Contains(res.Stdout, flag) {
			t.Errorf("run --help has no %q", flag)
		}
	}
}

// TestCLIStartAtInterrupt: Ctrl-C while an instance waits for --start-at
// ends it at once with 130 and no iteration; the wait shows in the
// progress with the segment.
func TestCLIStartAtInterrupt(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "wait.js", `
export const options = { vus: 3, iterations: 3 };
export default function () { console.log('iteration'); }`)
	p := Start(t, Opts{Args: []string{"run", "--instance", "1/3", "--start-at", "+10m", path}})
	p.WaitFor("the wait", func() bool { return strings.Contains(p.Stderr(), "waiting for the start at") })
	p.Signal(os.Interrupt)
	res := p.Wait()
	if res.Code != 130 || strings.Contains(res.Stdout, "iteration") || !strings.Contains(res.Stderr, "1 VUs ready, segment 1/3:2/3") ||
		!strings.Contains(res.Stderr, "stopped while waiting for the start (--start-at)") {
		t.Errorf("want exit 130, no iteration\n%s", res)
	}
}
