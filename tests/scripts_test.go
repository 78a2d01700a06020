//go:build integration

// TestScripts runs every example script of ../scripts/*.js through the
// binary against RabbitMQ and compares its stdout, with volatile text
// normalised (broker-generated names, random suffixes, versions, timings),
// with testdata/scripts/<name>.golden. The script must exit 0.
//
//	go test -tags integration -run TestScripts ./tests/ -count=1
//	go test -tags integration -run TestScripts ./tests/ -count=1 -update   # rewrite the golden files
package tests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The -update flag rewrites the golden files. It is registered here unless
// another test file of the package registered an "update" flag first (then
// that one is shared).
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files (TestScripts)")
	}
	return true
}()

func scriptsUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// scriptNormalisers replace volatile text, in order.
var scriptNormalisers = []struct {
	re   *regexp.Regexp
	repl string
}{
	// Broker-generated queue names and consumer tags.
	{regexp.MustCompile(`amq\.gen-[A-Za-z0-9_-]+`), "amq.gen-<generated>"},
	{regexp.MustCompile(`amq\.ctag-[A-Za-z0-9_-]+`), "amq.ctag-<generated>"},
	{regexp.MustCompile(`\bctag\d+\.[0-9a-f]{8,}\b`), "ctag<generated>"},
	{regexp.MustCompile(`\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`), "<uuid>"},
	// Random suffixes of names: a run of hex digits after a name and a '.', '-' or '_'.
	{regexp.MustCompile(`\b([A-Za-z][A-Za-z0-9]*[._-])[0-9a-f]{5,16}\b`), "${1}<random>"},
	// Ports of the client side of a connection.
	{regexp.MustCompile(`(\x00\d+\x00|\blocalhost|\[::1\]):\d{4,5}\b`), "${1}:<port>"},
	// Dates and times.
	{regexp.MustCompile(`\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)?`), "<date>"},
	// Versions (RabbitMQ 3.10.8, amqpjs v0.1.0-dev, Erlang 25.3).
	{regexp.MustCompile(`\bv?\d+\.\d+(\.\d+)+([-+][0-9A-Za-z.-]+)?\b`), "<version>"},
	{regexp.MustCompile(`(?i)((?:version|erlang|otp|rabbitmq)\s+)v?\d+(\.\d+)?\b`), "${1}<version>"},
	// Timings and rates: 12 ms, 1.5s, 340µs, 2m3s, 5000 msg/s.
	{regexp.MustCompile(`\b\d+(\.\d+)?\s?(ns|µs|us|ms|s|m|h)(\d+(\.\d+)?(ns|µs|us|ms|s))*\b`), "<duration>"},
	{regexp.MustCompile(`\b\d+(\.\d+)?\s?(msg|messages?|ops)/s\b`), "<rate>"},
}

// normaliseScriptOutput makes a script's stdout comparable across runs.
func normaliseScriptOutput(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	// IPv4 addresses are kept as they are (not taken for versions).
	var ips []string
	s = ipv4.ReplaceAllStringFunc(s, func(ip string) string {
		ips = append(ips, ip)
		return fmt.Sprintf("\x00%d\x00", len(ips)-1)
	})
	for _, n := range scriptNormalisers {
		s = n.re.ReplaceAllString(s, n.repl)
	}
	return ipPlaceholder.ReplaceAllStringFunc(s, func(p string) string {
		var i int
		fmt.Sscanf(strings.Trim(p, "\x00"), "%d", &i)
		return ips[i]
	})
}

var (
	ipv4          = regexp.MustCompile(`\b\d{1,3}(\.\d{1,3}){3}\b`)
	ipPlaceholder = regexp.MustCompile("\x00\\d+\x00")
)

func TestScripts(t *testing.T) {
	aioamqpBinary(t)
	dir := filepath.Join("..", "scripts")
	scripts := aioamqpScripts(t, dir, ".js")
	// Timing output of the examples is opt-in: keep it off.
	t.Setenv("AMQPJS_VERBOSE", "")
	os.Unsetenv("AMQPJS_VERBOSE")
	seen := map[string]bool{}
	for _, file := range scripts {
		name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		seen[name+".golden"] = true
		t.Run(filepath.Base(file), func(t *testing.T) {
			abs, err := filepath.Abs(file)
			if err != nil {
				t.Fatal(err)
			}
			res := runAmqpjs(t, abs, nil, 2*time.Minute)
			t.Logf("%s: exit %d in %s", filepath.Base(file), res.exit, res.took.Round(time.Millisecond))
			if res.exit != 0 {
				t.Fatalf("exit code %d, want 0\n--- stdout:\n%s\n--- stderr:\n%s", res.exit, res.stdout, res.stderr)
			}
			got := normaliseScriptOutput(res.stdout)
			golden := filepath.Join("testdata", "scripts", name+".golden")
			if scriptsUpdating() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s", golden)
				return
			}
			want, err := os.ReadFile(golden)
			if os.IsNotExist(err) {
				t.Fatalf("no golden file %s for scripts/%s: run\n\tgo test -tags integration -run 'TestScripts/%s' ./tests/ -count=1 -update\nand review it. The normalised stdout is:\n%s",
					golden, filepath.Base(file), regexp.QuoteMeta(filepath.Base(file)), got)
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("stdout of scripts/%s differs from %s (- want, + got; normalised):\n%s\n--- stderr:\n%s\n(if the change is intended: rerun with -update)",
					filepath.Base(file), golden, lineDiff(string(want), got), res.stderr)
			}
		})
	}
	// A golden file without a script is stale.
	goldens, _ := filepath.Glob(filepath.Join("testdata", "scripts", "*.golden"))
	for _, g := range goldens {
		if !seen[filepath.Base(g)] {
			if scriptsUpdating() {
				if err := os.Remove(g); err != nil {
					t.Error(err)
				}
				continue
			}
			t.Errorf("%s has no script scripts/%s.js (remove it, or rerun with -update)", g, strings.TrimSuffix(filepath.Base(g), ".golden"))
		}
	}
}

// lineDiff is a small line diff (longest common subsequence) of want and
// got: unchanged lines are prefixed "  ", removed "- ", added "+ "; long
// runs of unchanged lines are elided.
func lineDiff(want, got string) string {
	a := strings.Split(want, "\n")
	b := strings.Split(got, "\n")
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		op   byte
		text string
	}
	var lines []line
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			lines = append(lines, line{' ', a[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, line{'-', a[i]})
			i++
		default:
			lines = append(lines, line{'+', b[j]})
			j++
		}
	}
	const context = 2
	var sb strings.Builder
	lastShown := -1
	for k, l := range lines {
		near := false
		for d := max(0, k-context); d <= min(len(lines)-1, k+context); d++ {
			if lines[d].op != ' ' {
				near = true
				break
			}
		}
		if !near {
			continue
		}
		if lastShown >= 0 && k > lastShown+1 {
			sb.WriteString("  ...\n")
		}
		lastShown = k
		fmt.Fprintf(&sb, "%c %s\n", l.op, l.text)
	}
	return sb.String()
}

func TestScriptsNormalise(t *testing.T) {
	for in, want := range map[string]string{
		"queue amq.gen-Sb3fJU5aTYnwFvcYgb6H1A ready":      "queue amq.gen-<generated> ready",
		"tag ctag1.4722c733c89245325c5b2262fba98e4f":      "tag ctag<generated>",
		"declared exchange amqpjs.topology.c1f625 with":   "declared exchange amqpjs.topology.<random> with",
		"connected to RabbitMQ 3.10.8":                    "connected to RabbitMQ <version>",
		"amqpjs v0.1.0-dev":                               "amqpjs <version>",
		"took 1234 ms, then 1.5s, then 2m3.5s":            "took <duration>, then <duration>, then <duration>",
		"local 127.0.0.1:53122 -> 127.0.0.1:5672":         "local 127.0.0.1:<port> -> 127.0.0.1:<port>",
		"at 2026-11-26T01:52:46.000Z":                     "at <date>",
		"10000 publishes; delivery_tag 10002; fib(10)":    "10000 publishes; delivery_tag 10002; fib(10)",
		"processed 40 jobs; at most 5 unacked (prefetch)": "processed 40 jobs; at most 5 unacked (prefetch)",
		"5000 msg/s": "<rate>",
	} {
		if got := normaliseScriptOutput(in); got != want {
			t.Errorf("normalise(%q) = %q, want %q", in, got, want)
		}
	}
}
