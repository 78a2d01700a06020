//go:build integration

package tests

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/report"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// chromiumPath returns a headless Chromium, installed by tests/chromium.sh
// when missing; the test fails saying how to install it when it cannot.
func chromiumPath(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(filepath.Join(repoRoot, "tests", "chromium.sh"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	path := strings.TrimSpace(string(out))
	if err != nil || path == "" {
		t.Fatalf("no Chromium for the browser test of the HTML report (%v):\n%s\nInstall it: sudo apt-get install chromium (or set CHROMIUM=/path/to/chromium), then run again.", err, stderr.String())
	}
	return path
}

// chromium runs headless Chromium on a file with args (--dump-dom or
// --screenshot=…) and returns its stdout and its console messages.
func chromium(t *testing.T, bin, file string, args ...string) (stdout string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	all := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0",
	}, args...)
	all = append(all, "file://"+file)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	sc := bufio.NewScanner(&errb)
	for sc.Scan() {
		if strings.Contains(sc.Text(), ":CONSOLE") {
			console = append(console, sc.Text())
		}
	}
	return out.String(), console
}

// pageData returns the data a report page draws.
func pageData(t *testing.T, file string) *report.Page {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?s)<script id="report-data" type="application/json">(.*?)</script>`).FindSubmatch(b)
	var p report.Page
	if m == nil || json.Unmarshal(m[1], &p) != nil {
		t.Fatalf("%s: no page data", file)
	}
	return &p
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	attrRE    = regexp.MustCompile(`<html[^>]*>`)
	sectionRE = regexp.MustCompile(`(?s)<section id="([^"]+)" class="charts">(.*?)</section>`)
)

func htmlAttr(tag, name string) string {
	m := regexp.MustCompile(name + `="([^"]*)"`).FindStringSubmatch(tag)
	if m == nil {
		return ""
	}
	return m[1]
}

// checkRendered opens the report in Chromium (with args besides
// --dump-dom) and asserts that the page script drew every chart with no
// error: a uPlot canvas per chart, at least one chart in every section,
// nothing on the console. It returns the page script's time from navigation
// to the end of drawing, in milliseconds (meaningless under
// --virtual-time-budget).
func checkRendered(t *testing.T, bin, file string, args []string, wantSections ...string) int {
	t.Helper()
	dom, console := chromium(t, bin, file, append(args, "--dump-dom")...)
	html := attrRE.FindString(dom)
	if got := htmlAttr(html, "data-report"); got != "rendered" {
		t.Fatalf("%s: data-report=%q (errors: %q), want rendered", file, got, htmlAttr(html, "data-report-errors"))
	}
	if len(console) > 0 {
		t.Errorf("%s: console messages:\n%s", file, strings.Join(console, "\n"))
	}
	charts, _ := strconv.Atoi(htmlAttr(html, "data-charts"))
	boxes := strings.Count(dom, `data-chart="`)
	plots := strings.Count(dom, `class="uplot`)
	canvases := strings.Count(dom, "<canvas")
	if charts == 0 || boxes != charts || plots != charts || canvases != charts {
		t.Errorf("%s: %d charts announced, %d chart boxes, %d uPlot charts, %d canvases", file, charts, boxes, plots, canvases)
	}
	got := map[string]bool{}
	for _, m := range sectionRE.FindAllStringSubmatch(dom, -1) {
		got[m[1]] = true
		if !strings.Contains(m[2], "<canvas") {
			t.Errorf("%s: section %s has no chart", file, m[1])
		}
	}
	for _, s := range wantSections {
		if !got[s] {
			t.Errorf("%s: no section %s (sections %v)", file, s, got)
		}
	}
	ms, _ := strconv.Atoi(htmlAttr(html, "data-ready-ms"))
	return ms
}

// TestHTMLReport runs the pub/sub load scenario against the broker with
// --out html= and --out json=, makes the report again from the JSON with
// 'amqpjs report', and opens both in headless Chromium; then the report of
// a synthetic one-hour run at 10 000 msg/s. Set AMQPJS_REPORT_SCREENSHOT to
// a PNG path to keep the screenshot (docs/report.png is made that way).
func TestHTMLReport(t *testing.T) {
	bin := chromiumPath(t)
	dir := t.TempDir()
	live, jsonl, again := filepath.Join(dir, "live.html"), filepath.Join(dir, "run.jsonl"), filepath.Join(dir, "again.html")
	r := Run(t, Opts{Args: []string{"run", "--quiet", "--out", "html=" + live, "--out", "json=" + jsonl,
		filepath.Join(repoRoot, "scripts", "load-pubsub.js")}, Timeout: 2 * time.Minute})
	if r.Code != 0 {
		t.Fatalf("load-pubsub.js: %s", r)
	}
	b, err := os.ReadFile(live)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, want := range []string{`"Broker","RabbitMQ `, `"Scenario","producers: constant-arrival-rate, 200 iterations per 1s for 2s`, `"title":"Scenario producers"`, `"title":"Scenario consumers"`, `"selector":"amqp_e2e_latency","source":"p(95)\u003c1000","value":`, `"label":"✓ amqp_e2e_latency p(95)\u003c1000"`, `"label":"published"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %s", want)
		}
	}
	shot := os.Getenv("AMQPJS_REPORT_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(dir, "report.png")
	}
	checkRendered(t, bin, live, []string{"--window-size=1400,2400", "--virtual-time-budget=3000", "--screenshot=" + shot}, "all")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil || img.Bounds().Dx() != 1400 {
		t.Fatalf("screenshot: %v %v", err, img.Bounds())
	}
	t.Logf("screenshot: %s", shot)

	// The same page again from the JSON lines: the same data but for the
	// name of the results file (so it renders as the one above did).
	r = Run(t, Opts{Args: []string{"report", "--html", again, jsonl}})
	if r.Code != 0 || !strings.Contains(r.Stderr, "wrote "+again) {
		t.Fatalf("amqpjs report: %s", r)
	}
	livePage, againPage := pageData(t, live), pageData(t, again)
	var info [][2]string
	for _, kv := range againPage.Info {
		if kv[0] != "Results" {
			info = append(info, kv)
		}
	}
	againPage.Info = info
	if lj, aj := mustJSON(t, livePage), mustJSON(t, againPage); lj != aj {
		t.Errorf("the report from the JSON lines differs from the run's:\n%s\n%s", lj, aj)
	}

	// One hour at 10 000 msg/s in two scenarios: under 5 MB, and drawn.
	hour := filepath.Join(dir, "hour.jsonl")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	report.OneHour(func(p metrics.JSONPoint) { _ = enc.Encode(p) })
	if err := os.WriteFile(hour, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	hourHTML := filepath.Join(dir, "hour.html")
	if r := Run(t, Opts{Args: []string{"report", "--html", hourHTML, hour}, Timeout: 2 * time.Minute}); r.Code != 0 {
		t.Fatalf("amqpjs report (one hour): %s", r)
	}
	st, err := os.Stat(hourHTML)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() > 5<<20 {
		t.Errorf("the one-hour report is %d bytes, over 5 MB", st.Size())
	}
	ms := checkRendered(t, bin, hourHTML, []string{"--window-size=1400,1000"}, "all", "s1", "s2")
	t.Logf("one-hour report: %d bytes (results %d bytes), drawn %d ms after navigation", st.Size(), buf.Len(), ms)
}
