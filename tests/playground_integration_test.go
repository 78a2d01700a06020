//go:build integration

package tests

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestPlayground runs the playground page (node wasm/host/bin.mjs serve)
// in headless Chromium against RabbitMQ, driven by
// wasm/host/playground/drive.mjs (npm playwright-core with Debian's
// /usr/bin/chromium):
//
//   - every example of scripts/ that is not a scenario (scenarios need the
//     scenario runner of `amqpjs run`, which the wasm module does not
//     have): the first opened as /?example=NAME&autorun=1 (a first visit),
//     the others picked in the page's menu and run with its Run button;
//     exit code 0 and stdout equal to the native run's golden file
//     (testdata/scripts/NAME.golden, normalised as TestScripts does), and
//     the page requests nothing of another server;
//   - Stop ends a script stuck in a consumer (exit 130, "interrupted") and
//     its connection is closed (the server has no relay open), and ends a
//     script that never yields (its worker is terminated);
//   - a script that connects to another host and port still reaches the
//     server's broker: the page cannot choose the relay's target (the
//     server's own tests, wasm/host/test/serve.test.mjs, try the request's
//     path, query, headers and messages);
//   - a syntax error shows its position, an uncaught error its stack
//     (?source= and ?source64= give the scripts).
//
// Screenshots go to tests/.tmp/playground/. The page's download and its
// time to the first connection are logged (-v).
//
// Needs wasm/host/dist/amqpjs.wasm (wasm/build.sh), node and chromium
// ($AMQPJS_CHROMIUM, /usr/bin/chromium or chromium on PATH; wasm/ci.sh
// installs it); without them the test is skipped, unless
// AMQPJS_WASM_REQUIRED is set (tests/run.sh), then it fails.
func TestPlayground(t *testing.T) {
	hostDir, node := wasmHost(t, "esbuild", "ws", "playwright-core", "codemirror")
	chromium := os.Getenv("AMQPJS_CHROMIUM")
	if chromium == "" {
		if _, err := os.Stat("/usr/bin/chromium"); err == nil {
			chromium = "/usr/bin/chromium"
		} else if p, err := exec.LookPath("chromium"); err == nil {
			chromium = p
		} else {
			wasmSkip(t, "chromium not found: apt-get install chromium (wasm/ci.sh installs it when missing), or set AMQPJS_CHROMIUM")
		}
	}
	// The page (quick: the examples and amqpjs.wasm.gz may have changed).
	if out, err := exec.Command(node, filepath.Join(hostDir, "playground", "build.mjs")).CombinedOutput(); err != nil {
		t.Fatalf("node wasm/host/playground/build.mjs: %v\n%s", err, out)
	}

	u, err := url.Parse(aioamqpURL())
	if err != nil {
		t.Fatal(err)
	}
	brokerAddr := u.Host
	if u.Port() == "" {
		brokerAddr = net.JoinHostPort(u.Hostname(), "5672")
	}
	base, serverLog := startPlayground(t, node, filepath.Join(hostDir, "bin.mjs"), brokerAddr)

	// The jobs: the examples, then the page's own behaviour.
	type job struct {
		Name       string `json:"name"`
		Query      string `json:"query,omitempty"`
		Select     string `json:"select,omitempty"`
		Source     string `json:"source,omitempty"`
		Screenshot string `json:"screenshot,omitempty"`
		StopWhen   string `json:"stopWhen,omitempty"`
		TimeoutMs  int    `json:"timeoutMs"`
	}
	shots := filepath.Join(repoRoot, "tests", ".tmp", "playground")
	var jobs []job
	var examples []string
	files, _ := filepath.Glob(filepath.Join(repoRoot, "scripts", "*.js"))
	scenarioRe := regexp.MustCompile(`(?m)^export default\b|^\s*scenarios\s*:`) // a default export or options.scenarios
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".js")
		if scenarioRe.Match(src) {
			t.Logf("scripts/%s.js is a scenario: not run in the page", name)
			continue
		}
		// The first by URL (?example=…&autorun=1, a first visit), the
		// others from the menu of the same page (Run: amqpjs.wasm stays
		// loaded).
		j := job{Name: name, Select: name, Screenshot: filepath.Join(shots, name+".png"), TimeoutMs: 120000}
		if len(examples) == 0 {
			j.Select, j.Query = "", "example="+url.QueryEscape(name)+"&autorun=1"
		}
		examples = append(examples, name)
		jobs = append(jobs, j)
	}
	stuck := `const aioamqp = require('aioamqp');
const [transport, protocol] = await aioamqp.connect();
const channel = await protocol.channel();
const { queue } = await channel.queue_declare('', { exclusive: true });
await channel.basic_consume(async (body) => console.log('got', body.toString()), { queue_name: queue });
console.log('consuming; only Stop ends this');
await new Promise(() => {});
`
	elsewhere := `const aioamqp = require('aioamqp');
// TEST-NET-1, port 1: the relay ignores where the script points.
const [transport, protocol] = await aioamqp.connect({ host: '192.0.2.1', port: 1 });
console.log('connected to', protocol.server_properties.product);
await protocol.close();
transport.close();
`
	spinner := `const aioamqp = require('aioamqp');
const [transport, protocol] = await aioamqp.connect();
console.log('spinning');
for (;;) {}
`
	thrower := "function fail(what) {\n  throw new Error(`boom: ${what}`);\n}\nconsole.log('before');\nfail('ü');\n"
	b64 := base64.RawURLEncoding.EncodeToString
	// Scripts in the editor of the same page, then two by URL (?source=,
	// ?source64=); the loop last, as it costs the page its worker.
	jobs = append(jobs,
		job{Name: "stop", Source: stuck, StopWhen: "consuming", Screenshot: filepath.Join(shots, "stop.png"), TimeoutMs: 60000},
		job{Name: "elsewhere", Source: elsewhere, TimeoutMs: 60000},
		job{Name: "syntax", Source: "console.log('never');\nlet = ;\n", TimeoutMs: 60000},
		job{Name: "thrower", Query: "source=" + url.QueryEscape(thrower) + "&autorun=1",
			Screenshot: filepath.Join(shots, "error.png"), TimeoutMs: 60000},
		job{Name: "spin", Query: "source64=" + b64([]byte(spinner)) + "&autorun=1", StopWhen: "spinning", TimeoutMs: 60000},
	)
	jobsFile := filepath.Join(t.TempDir(), "jobs.json")
	data, _ := json.Marshal(jobs)
	if err := os.WriteFile(jobsFile, data, 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join(hostDir, "playground", "drive.mjs"), base, jobsFile)
	cmd.Env = append(os.Environ(), "AMQPJS_CHROMIUM="+chromium)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	t.Logf("%d page runs in Chromium in %s", len(jobs), time.Since(start).Round(time.Millisecond))
	if err != nil {
		t.Fatalf("drive.mjs: %v\n--- stderr:\n%s\n--- stdout:\n%s\n--- server:\n%s", err, stderr.String(), out, serverLog())
	}
	type result struct {
		Name           string   `json:"name"`
		ExitCode       *int     `json:"exitCode"`
		Stdout         string   `json:"stdout"`
		Stderr         string   `json:"stderr"`
		Conn           string   `json:"conn"`
		ConnBeforeStop string   `json:"connBeforeStop"`
		ReadyMs        float64  `json:"readyMs"`
		ConnectedMs    float64  `json:"connectedMs"`
		DownloadBytes  int64    `json:"downloadBytes"`
		RelaysAfter    int      `json:"relaysAfter"`
		Foreign        []string `json:"foreignRequests"`
		Error          string   `json:"error"`
		Output         string   `json:"output"`
		Console        []string `json:"console"`
	}
	var results []result
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("drive.mjs output: %v\n%s", err, out)
	}
	byName := map[string]result{}
	for _, r := range results {
		byName[r.Name] = r
	}
	get := func(t *testing.T, name string) result {
		t.Helper()
		r, ok := byName[name]
		if !ok {
			t.Fatalf("no result for %s", name)
		}
		if r.Error != "" || r.ExitCode == nil {
			t.Fatalf("%s: the page did not finish: %s\n--- #output:\n%s\n--- console:\n%s\n--- server:\n%s",
				name, r.Error, r.Output, strings.Join(r.Console, "\n"), serverLog())
		}
		return r
	}

	for _, name := range examples {
		t.Run("example/"+name, func(t *testing.T) {
			r := get(t, name)
			if len(r.Foreign) > 0 {
				t.Errorf("the page requested other servers than its own: %q", r.Foreign)
			}
			if name == examples[0] {
				t.Logf("%s, a first visit: the page downloaded %d bytes; amqpjs.wasm ready at %.0f ms, connected at %.0f ms (from the navigation's start)",
					name, r.DownloadBytes, r.ReadyMs, r.ConnectedMs)
			}
			if *r.ExitCode != 0 {
				t.Fatalf("exit code %d, want 0\n--- stdout:\n%s\n--- stderr:\n%s", *r.ExitCode, r.Stdout, r.Stderr)
			}
			want, err := os.ReadFile(filepath.Join("testdata", "scripts", name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if got := normaliseScriptOutput(r.Stdout); got != string(want) {
				t.Errorf("stdout of scripts/%s.js in the page differs from testdata/scripts/%s.golden (- want, + got; normalised):\n%s\n--- stderr:\n%s",
					name, name, lineDiff(string(want), got), r.Stderr)
			}
			if !strings.HasSuffix(r.Conn, ": closed") {
				t.Errorf("the connection state after the run is %q, want closed", r.Conn)
			}
		})
	}

	t.Run("stop", func(t *testing.T) {
		r := get(t, "stop")
		if !strings.Contains(r.Stdout, "consuming") {
			t.Fatalf("the script did not reach its consumer before Stop:\n%s\n%s", r.Stdout, r.Stderr)
		}
		if !strings.Contains(r.ConnBeforeStop, "connected (1 open)") {
			t.Errorf("the connection state before Stop is %q, want connected (1 open)", r.ConnBeforeStop)
		}
		if *r.ExitCode != 130 || !strings.Contains(r.Stderr, "amqpjs: interrupted") {
			t.Errorf("after Stop: exit code %d, stderr %q; want 130 and amqpjs: interrupted", *r.ExitCode, r.Stderr)
		}
		if !strings.HasSuffix(r.Conn, ": closed") {
			t.Errorf("the connection state after Stop is %q, want closed", r.Conn)
		}
		// The relay's TCP connection to the broker is gone too.
		if r.RelaysAfter != 0 {
			t.Errorf("%d relay connection(s) still open after Stop\n--- server:\n%s", r.RelaysAfter, serverLog())
		}
	})

	t.Run("stop a loop", func(t *testing.T) {
		// A script that never yields cannot see the abort: the page
		// terminates its worker, which closes its connections.
		r := get(t, "spin")
		if !strings.Contains(r.Stdout, "spinning") {
			t.Fatalf("the script did not start spinning before Stop:\n%s\n%s", r.Stdout, r.Stderr)
		}
		if *r.ExitCode != 130 || !strings.Contains(r.Stderr, "its worker was terminated") {
			t.Errorf("after Stop: exit code %d, stderr %q; want 130 and the worker terminated", *r.ExitCode, r.Stderr)
		}
		if r.RelaysAfter != 0 {
			t.Errorf("%d relay connection(s) still open after the worker was terminated\n--- server:\n%s", r.RelaysAfter, serverLog())
		}
	})

	t.Run("target", func(t *testing.T) {
		r := get(t, "elsewhere")
		if *r.ExitCode != 0 || !strings.Contains(r.Stdout, "connected to RabbitMQ") {
			t.Errorf("connect({ host: '192.0.2.1', port: 1 }) in the page: exit %d\n--- stdout:\n%s\n--- stderr:\n%s\nwant it connected to the server's broker", *r.ExitCode, r.Stdout, r.Stderr)
		}
	})

	t.Run("syntax error", func(t *testing.T) {
		// Compiled by the server's esbuild (/transform): its message and
		// position, as amqpjs run prints them.
		r := get(t, "syntax")
		if *r.ExitCode == 0 || r.Stdout != "" || !strings.Contains(r.Stderr, "main.js:2:7: SyntaxError: ") || !strings.Contains(r.Stderr, "let = ;") {
			t.Errorf("exit code %d, stdout %q, stderr %q; want a SyntaxError at main.js:2:7 and nothing run", *r.ExitCode, r.Stdout, r.Stderr)
		}
	})

	t.Run("error", func(t *testing.T) {
		r := get(t, "thrower")
		if *r.ExitCode != 1 || r.Stdout != "before\n" {
			t.Errorf("exit code %d, stdout %q; want 1 and \"before\\n\"", *r.ExitCode, r.Stdout)
		}
		if !regexp.MustCompile(`Uncaught Error: boom: ü\n\s+at fail \(\S*main\.js:2:\d+\)`).MatchString(r.Stderr) {
			t.Errorf("stderr has no error with its stack:\n%s", r.Stderr)
		}
	})
}

// startPlayground starts `node bin.mjs serve` on a free port of 127.0.0.1
// and returns its URL and a function returning its log so far.
func startPlayground(t *testing.T, node, bin, broker string) (string, func() string) {
	t.Helper()
	cmd := exec.Command(node, bin, "serve", "--port", "0", "--broker", broker)
	cmd.Dir = repoRoot
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logBuf strings.Builder
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	serverLog := func() string {
		mu.Lock()
		defer mu.Unlock()
		return logBuf.String()
	}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	select {
	case line := <-lines:
		m := regexp.MustCompile(`on (http://\S+/)`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("bin.mjs serve said %q\n%s", line, serverLog())
		}
		return m[1], serverLog
	case <-time.After(60 * time.Second):
		t.Fatalf("bin.mjs serve did not start\n%s", serverLog())
	}
	return "", nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
