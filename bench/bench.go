/*
Package bench is `amqpjs bench`: it measures amqpjs against the broker and
against two other clients doing the same work, in one run, and prints a
table with the ratios.

The clients, each run as its own process so that its CPU time is its own:

  - amqpjs: the amqpjs binary running amqpjs.js (the workload written in
    JavaScript with aioamqp's API: `amqpjs run --url URL amqpjs.js -- CONFIG`);
  - raw: the same binary's hidden `bench --worker raw` mode (raw.go): the
    workload written directly against amqp091-go (with
    GOGC=100, as a Go program would run);
  - amqplib: Node running amqplib.js with amqplib installed by npm into a
    temporary directory (skipped, with a notice, without node and npm);
  - wire: the hidden `bench --worker wire` mode (wire.go), a client with no
    library that costs next to nothing: the broker's limit (no latency
    phase). The table gives amqpjs/wire beside the ratios to raw.

Phases, in this order, each on N messages of S bytes (one exclusive queue):

	publish      await publish() in a loop (no confirms), until the queue holds N
	consume      basic_consume no_ack, until N received
	confirm      publish in confirm mode with W unconfirmed in flight, until all acked
	consume_ack  basic_qos(prefetch) and an async callback awaiting basic_client_ack
	latency      R msg/s for D seconds, publish → delivery on the same connection, p50/p99

Each client measures itself: CPU time is getrusage(RUSAGE_SELF) user+system
(process.cpuUsage() in the scripts) taken around each phase, so process
start-up and connecting are not counted. Runs are interleaved (amqpjs, raw,
amqplib, amqpjs, ...) and the table shows the median of each cell.
*/
package bench

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/amqpjs/amqpjs/amqp"
)

//go:embed amqpjs.js amqplib.js
var scripts embed.FS

// Clients are the clients the benchmark knows, in table order.
var Clients = []string{"amqpjs", "raw", "amqplib", "wire"}

// Phases are the phases of the workload, in the order they run.
var Phases = []string{"publish", "consume", "confirm", "consume_ack", "latency"}

// Options configure a benchmark run.
type Options struct {
	URL      string
	N        int
	Size     int
	Window   int
	Prefetch int
	Rate     int
	Duration time.Duration
	Runs     int
	Clients  []string
	Phases   []string
	// NoAckWindow is amqpjs's no_ack_window in the consume phase: 0 (the
	// default) is the broker's own no_ack, as the other clients use.
	NoAckWindow int

	Exe            string        // the amqpjs binary; "" is os.Executable()
	AmqpjsBin      string        // the binary of the amqpjs client; "" is Exe
	Amqplib        string        // npm package spec, e.g. "amqplib" or "amqplib@0.10.4"
	RunTimeout     time.Duration // bound on one client run
	Markdown       bool          // print the table as Markdown
	JSONOut        string        // write every result to this file
	Verbose        bool
	Stdout, Stderr io.Writer
}

// config is what a client process gets (JSON, one argument).
type config struct {
	URL      string   `json:"url"`
	N        int      `json:"n"`
	Size     int      `json:"size"`
	Window   int      `json:"window"`
	Prefetch int      `json:"prefetch"`
	Rate     int      `json:"rate"`
	Duration float64  `json:"duration"` // seconds
	Phases   []string `json:"phases"`

	NoAckWindow int `json:"no_ack_window,omitempty"` // amqpjs only
}

// Result is one phase of one client run.
type Result struct {
	Client string `json:"client"`
	Run    int    `json:"run"`
	PhaseResult
}

// Run runs the benchmark and prints the table on o.Stdout.
func Run(ctx context.Context, o Options) error {
	if err := o.check(); err != nil {
		return err
	}
	cfg := config{URL: o.URL, N: o.N, Size: o.Size, Window: o.Window, Prefetch: o.Prefetch,
		Rate: o.Rate, Duration: o.Duration.Seconds(), Phases: o.Phases, NoAckWindow: o.NoAckWindow}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "amqpjs-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"amqpjs.js", "amqplib.js"} {
		b, _ := scripts.ReadFile(name)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	exe := o.Exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}

	clients := slices.Clone(o.Clients)
	names := map[string]string{"amqpjs": "amqpjs", "raw": "raw amqp091-go", "wire": "wire (limit)"}
	if slices.Contains(clients, "amqplib") {
		v, err := installAmqplib(ctx, dir, o.Amqplib, o.Stderr)
		if err != nil {
			fmt.Fprintf(o.Stderr, "amqpjs bench: skipping amqplib: %v\n", err)
			clients = slices.DeleteFunc(clients, func(c string) bool { return c == "amqplib" })
		} else {
			names["amqplib"] = "amqplib " + v
		}
	}
	if d, err := amqp.ParseURL(o.URL); slices.Contains(clients, "wire") && err == nil && d.SSL {
		fmt.Fprintf(o.Stderr, "amqpjs bench: skipping the wire client: it speaks amqp:// only (no TLS)\n")
		clients = slices.DeleteFunc(clients, func(c string) bool { return c == "wire" })
	}
	if len(clients) == 0 {
		return errors.New("no client left to run")
	}
	if v, err := rawVersion(); err == nil {
		names["raw"] = "amqp091-go " + v
	}

	var results []Result
	for run := 1; run <= o.Runs; run++ {
		for _, c := range clients {
			var cmd *exec.Cmd
			switch c {
			case "amqpjs":
				bin := exe
				if o.AmqpjsBin != "" {
					bin = o.AmqpjsBin
				}
				cmd = exec.Command(bin, "run", "--url", o.URL, filepath.Join(dir, "amqpjs.js"), "--", string(cfgJSON))
			case "raw":
				cmd = exec.Command(exe, "bench", "--worker", "raw", string(cfgJSON))
				cmd.Env = append(os.Environ(), "GOGC=100")
			case "amqplib":
				cmd = exec.Command("node", filepath.Join(dir, "amqplib.js"), string(cfgJSON))
			case "wire":
				cmd = exec.Command(exe, "bench", "--worker", "wire", string(cfgJSON))
				cmd.Env = append(os.Environ(), "GOMAXPROCS=1") // the other core is the broker's
			}
			fmt.Fprintf(o.Stderr, "run %d/%d: %s ...\n", run, o.Runs, names[c])
			rs, err := runClient(ctx, cmd, o.RunTimeout)
			if err != nil {
				fmt.Fprintf(o.Stderr, "amqpjs bench: %s, run %d: %v\n", names[c], run, err)
			}
			for _, r := range rs {
				results = append(results, Result{Client: c, Run: run, PhaseResult: r})
				if o.Verbose {
					fmt.Fprintf(o.Stderr, "  %-12s %8.0f msg/s  cpu %.3f s/100k  (secs %.3f loop %.3f p50 %.3f p99 %.3f)\n",
						r.Phase, float64(r.N)/r.Secs, per100k(r), r.Secs, r.LoopSecs, r.P50, r.P99)
				}
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
	}
	if o.JSONOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(o.JSONOut, b, 0o644); err != nil {
			return err
		}
	}
	printTable(o, clients, names, results)
	return nil
}

func (o *Options) check() error {
	if o.N < 1 || o.Size < 0 || o.Window < 1 || o.Prefetch < 0 || o.Prefetch > 65535 || o.Runs < 1 {
		return errors.New("need n ≥ 1, size ≥ 0, window ≥ 1, 0 ≤ prefetch ≤ 65535, runs ≥ 1")
	}
	if slices.Contains(o.Phases, "latency") && (o.Rate < 1 || float64(o.Rate)*o.Duration.Seconds() < 1) {
		return errors.New("the latency phase needs rate × duration ≥ 1 message")
	}
	for _, c := range o.Clients {
		if !slices.Contains(Clients, c) {
			return fmt.Errorf("unknown client %q (known: %s)", c, strings.Join(Clients, ", "))
		}
	}
	for _, p := range o.Phases {
		if !slices.Contains(Phases, p) {
			return fmt.Errorf("unknown phase %q (known: %s)", p, strings.Join(Phases, ", "))
		}
	}
	// A consume phase takes what the publish phase before it left.
	need := map[string]string{"consume": "publish", "consume_ack": "confirm"}
	var ps []string
	for _, p := range Phases {
		if slices.Contains(o.Phases, p) || slices.ContainsFunc(o.Phases, func(q string) bool { return need[q] == p }) {
			ps = append(ps, p)
		}
	}
	o.Phases = ps
	if o.Stdout == nil {
		o.Stdout = io.Discard
	}
	if o.Stderr == nil {
		o.Stderr = io.Discard
	}
	if o.RunTimeout <= 0 {
		o.RunTimeout = 15 * time.Minute
	}
	return nil
}

// runClient runs one client process and parses its JSON lines.
func runClient(ctx context.Context, cmd *exec.Cmd, timeout time.Duration) ([]PhaseResult, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	stop()
	var rs []PhaseResult
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Bytes()
		if !bytes.HasPrefix(line, []byte(`{"phase"`)) {
			continue
		}
		var r PhaseResult
		if json.Unmarshal(line, &r) == nil && r.N > 0 && r.Secs > 0 {
			rs = append(rs, r)
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return rs, fmt.Errorf("%v: %s", err, tail(stderr.String(), 800))
	}
	return rs, nil
}

func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// installAmqplib installs the npm package spec into dir and returns the
// installed version.
func installAmqplib(ctx context.Context, dir, spec string, stderr io.Writer) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errors.New("node is not installed")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return "", errors.New("npm is not installed")
	}
	if spec == "" {
		spec = "amqplib"
	}
	fmt.Fprintf(stderr, "installing %s with npm into %s ...\n", spec, dir)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--no-save", "--prefix", dir, spec)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("npm install %s: %v: %s", spec, err, tail(string(out), 400))
	}
	b, err := os.ReadFile(filepath.Join(dir, "node_modules", "amqplib", "package.json"))
	if err != nil {
		return "", err
	}
	var pj struct{ Version string }
	if err := json.Unmarshal(b, &pj); err != nil {
		return "", err
	}
	return pj.Version, nil
}

// RawWorker is the process of the "raw" client: cfgJSON is the config the
// harness passes; results go to stdout as JSON lines.
func RawWorker(cfgJSON string, stdout io.Writer) error {
	var c config
	if err := json.Unmarshal([]byte(cfgJSON), &c); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return rawBench(c, func(r PhaseResult) { _ = enc.Encode(r) })
}

func per100k(r PhaseResult) float64 { return r.CPU / float64(r.N) * 1e5 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

var phaseLabels = map[string]string{
	"publish":     "publish, await each (until enqueued)",
	"consume":     "consume, no_ack",
	"confirm":     "publish, confirms, W=%d in flight",
	"consume_ack": "consume, manual ack, prefetch %d",
	"latency":     "latency p50/p99 ms at %d msg/s",
}

type cell struct {
	ok                 bool
	thr, cpu, p50, p99 float64
	n                  int
}

func summarise(results []Result, client, phase string) cell {
	var thr, cpu, p50, p99 []float64
	for _, r := range results {
		if r.Client != client || r.Phase != phase {
			continue
		}
		thr = append(thr, float64(r.N)/r.Secs)
		cpu = append(cpu, per100k(r.PhaseResult))
		p50 = append(p50, r.P50)
		p99 = append(p99, r.P99)
	}
	if len(thr) == 0 {
		return cell{}
	}
	return cell{ok: true, thr: median(thr), cpu: median(cpu), p50: median(p50), p99: median(p99), n: len(thr)}
}

func printTable(o Options, clients []string, names map[string]string, results []Result) {
	w := o.Stdout
	fmt.Fprintf(w, "\n%d messages × %d B per phase; confirm window %d; prefetch %d; latency at %d msg/s for %s; medians of %d run(s)\n",
		o.N, o.Size, o.Window, o.Prefetch, o.Rate, o.Duration, o.Runs)
	fmt.Fprintf(w, "throughput in msg/s; cpu = client CPU seconds (user+sys) per 100 000 messages\n")
	if o.NoAckWindow > 0 {
		fmt.Fprintf(w, "amqpjs consumes no_ack with no_ack_window %d (emulated with acks)\n", o.NoAckWindow)
	}
	fmt.Fprintln(w)

	head := []string{"phase"}
	for _, c := range clients {
		head = append(head, names[c], "cpu")
	}
	others := []string{}
	if slices.Contains(clients, "raw") {
		for _, c := range clients {
			if c != "raw" && c != "wire" {
				others = append(others, c)
				head = append(head, c+"/raw", "cpu")
			}
		}
	}
	// How close amqpjs comes to the broker's limit (throughput only: the
	// wire client's CPU is not a client's).
	vsWire := slices.Contains(clients, "amqpjs") && slices.Contains(clients, "wire")
	if vsWire {
		head = append(head, "amqpjs/wire")
	}
	var rows [][]string
	for _, p := range o.Phases {
		label := phaseLabels[p]
		switch p {
		case "confirm":
			label = fmt.Sprintf(label, o.Window)
		case "consume_ack":
			label = fmt.Sprintf(label, o.Prefetch)
		case "latency":
			label = fmt.Sprintf(label, o.Rate)
		}
		row := []string{label}
		cells := map[string]cell{}
		for _, c := range clients {
			x := summarise(results, c, p)
			cells[c] = x
			switch {
			case !x.ok && c == "wire" && p == "latency":
				row = append(row, "–", "")
			case !x.ok:
				row = append(row, "error", "")
			case p == "latency":
				row = append(row, fmt.Sprintf("%.2f/%.2f", x.p50, x.p99), fmt.Sprintf("%.3f", x.cpu))
			default:
				row = append(row, fmt.Sprintf("%.0f", x.thr), fmt.Sprintf("%.3f", x.cpu))
			}
		}
		raw := cells["raw"]
		for _, c := range others {
			x := cells[c]
			switch {
			case !x.ok || !raw.ok:
				row = append(row, "", "")
			case p == "latency":
				row = append(row, fmt.Sprintf("%.2f/%.2f", x.p50/raw.p50, x.p99/raw.p99), fmt.Sprintf("%.2f", x.cpu/raw.cpu))
			default:
				row = append(row, fmt.Sprintf("%.2f", x.thr/raw.thr), fmt.Sprintf("%.2f", x.cpu/raw.cpu))
			}
		}
		if vsWire {
			if a, wc := cells["amqpjs"], cells["wire"]; a.ok && wc.ok {
				row = append(row, fmt.Sprintf("%.2f", a.thr/wc.thr))
			} else {
				row = append(row, "")
			}
		}
		rows = append(rows, row)
	}
	if o.Markdown {
		fmt.Fprintln(w, "| "+strings.Join(head, " | ")+" |")
		seps := make([]string, len(head))
		for i := range seps {
			seps[i] = "---:"
		}
		seps[0] = "---"
		fmt.Fprintln(w, "|"+strings.Join(seps, "|")+"|")
		for _, r := range rows {
			fmt.Fprintln(w, "| "+strings.Join(r, " | ")+" |")
		}
		return
	}
	// Labels left-aligned, numbers right-aligned.
	width := len(head[0])
	for _, r := range rows {
		width = max(width, len([]rune(r[0])))
	}
	pad := func(s string) string { return s + strings.Repeat(" ", width-len([]rune(s))) }
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, pad(head[0])+"\t"+strings.Join(head[1:], "\t")+"\t")
	for _, r := range rows {
		fmt.Fprintln(tw, pad(r[0])+"\t"+strings.Join(r[1:], "\t")+"\t")
	}
	_ = tw.Flush()
}

// rawVersion is the amqp091-go version built into this binary.
func rawVersion() (string, error) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build info")
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/rabbitmq/amqp091-go" {
			return d.Version, nil
		}
	}
	return "", errors.New("amqp091-go not found")
}
