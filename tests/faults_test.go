//go:build integration

// Fault tests: scripts run through the built binary while the test injects
// faults — the connection cut mid-publish and mid-consume (faultProxy), the
// broker force-closing it (rabbitmqctl close_connection), missed heartbeats
// (the proxy stalls), a broker restart (stop_app/start_app) and a memory
// alarm (set_vm_memory_high_watermark) — against a RabbitMQ node of the
// test's own (faultkit_test.go), never the shared broker.
//
// For each fault the script asserts that on_error fires exactly once with
// the right class and code and that every pending call settles with the
// right class; the test asserts the run neither hit its --timeout nor
// lingered after its last line, and that every message whose publish
// resolved (with confirms) is in the queue afterwards. All output is kept
// and searched for the password of the user the scripts log in as.
//
//	go test -tags integration -run TestFaults ./tests/ -count=1 -v
package tests

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The fault scripts log in as this user, created on the test's node; the
// password must never appear in any output.
const (
	faultUser     = "amqpjs-fault"
	faultPassword = "Fault-Pw-7q3ZkX9v"
)

func faultScript(t testing.TB, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "faults", name))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFaults(t *testing.T) {
	aioamqpBinary(t)
	node := startRabbitNode(t)
	node.AddUser(t, faultUser, faultPassword)
	out := &outputLog{}
	f := &faultEnv{node: node, out: out, url: node.URL(faultUser, faultPassword)}

	for _, kind := range []string{"cut", "stall", "close", "restart"} {
		t.Run("Publish/"+kind, func(t *testing.T) { f.publishFault(t, kind) })
	}

	for _, kind := range []string{"cut", "stall", "close", "restart"} {
		t.Run("Consume/"+kind, func(t *testing.T) { f.consumeFault(t, kind) })
	}

	t.Run("MemoryAlarm", f.memoryAlarm)
	for _, kind := range []string{"cut", "stall", "close", "restart"} {
		t.Run("Go/Publish/"+kind, func(t *testing.T) { f.goPublishFault(t, kind) })
		t.Run("Go/Consume/"+kind, func(t *testing.T) { f.goConsumeFault(t, kind) })
	}
	t.Run("Go/MemoryAlarm", f.goMemoryAlarm)
	t.Run("StuckLoop/timeout", func(t *testing.T) { f.stuckLoop(t, false) })
	t.Run("StuckLoop/sigint", func(t *testing.T) { f.stuckLoop(t, true) })

	t.Run("Reconnect", f.reconnect)
	t.Run("TLS", f.tls)
	t.Run("Secrets", f.secrets)

	t.Run("Passwords", func(t *testing.T) {
		if hits := out.find(faultPassword); len(hits) > 0 {
			t.Errorf("the password was printed:\n%s", strings.Join(hits, "\n"))
		}
		// The search is not vacuous: the output holds what surrounds the
		// password (the user name in a refused login, a URL shown with ***).
		for _, s := range []string{"authentication failed for user '" + faultUser + "'", faultUser + ":***@"} {
			if len(out.find(s)) == 0 {
				t.Errorf("no output mentions %q: the password check saw too little", s)
			}
		}
	})
}

// faultEnv is what the fault subtests share.
type faultEnv struct {
	node *rabbitNode
	out  *outputLog
	url  string // the node's URL, as the fault user
}

// memoryAlarm runs memory_alarm.js, raising and clearing a memory alarm
// on the test's node when asked.
func (f *faultEnv) memoryAlarm(t *testing.T) {
	restore := func() { f.node.Ctl(t, "set_vm_memory_high_watermark", "0.4") }
	t.Cleanup(restore) // even when the test fails half-way
	handlers := map[string]func(string){
		"alarm-on":  func(string) { f.node.Ctl(t, "set_vm_memory_high_watermark", "0.0000001") },
		"alarm-off": func(string) { restore() },
	}
	run := runFaultScript(t, f.out, faultScript(t, "memory_alarm.js"),
		[]string{"AMQP_URL=" + f.url, "FAULT_QUEUE=" + uniqueName(t, "q"), "FAULT_NAME=" + uniqueName(t, "conn")}, handlers)
	checkFaultRun(t, run)
	t.Log(lastLine(run.Stdout))
	if out := f.node.Ctl(t, "eval", "rabbit_alarm:get_alarms()."); strings.Contains(out, "memory") {
		t.Errorf("the memory alarm is still on: %s", out)
	}
}

// stuckLoop runs stuck_loop.js, whose consumer callback never returns, and
// ends it with --timeout or with SIGINT; the connection must be closed on
// the way out.
func (f *faultEnv) stuckLoop(t *testing.T, sigint bool) {
	name := uniqueName(t, "conn")
	var proc *os.Process
	o := faultOpts{Timeout: 3 * time.Second, OnStart: func(p *os.Process) { proc = p }}
	if sigint {
		o.Timeout = faultSafetyTimeout
	}
	var sent time.Time
	handlers := map[string]func(string){"spinning": func(string) {
		if sigint {
			sent = time.Now()
			if err := proc.Signal(os.Interrupt); err != nil {
				t.Errorf("SIGINT: %v", err)
			}
		}
	}}
	run := runFaultScriptOpts(t, f.out, faultScript(t, "stuck_loop.js"), []string{"AMQP_URL=" + f.url, "FAULT_NAME=" + name}, handlers, o)
	dump := "\n--- stdout:\n" + run.Stdout + "\n--- stderr:\n" + run.Stderr
	if len(run.Values("spinning")) != 1 {
		t.Fatalf("the script did not reach its loop%s", dump)
	}
	if sigint {
		if run.Exit != 130 || !strings.Contains(run.Stderr, "interrupted") {
			t.Errorf("Ctrl-C: exit %d, want 130 and a message saying it was interrupted%s", run.Exit, dump)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("the process ended %s after SIGINT", took)
		}
	} else {
		if run.Exit != 1 || !strings.Contains(run.Stderr, "timed out after 3s") {
			t.Errorf("--timeout 3s: exit %d, want 1 and a message saying it timed out%s", run.Exit, dump)
		}
		if run.Took > 8*time.Second {
			t.Errorf("--timeout 3s ended the run after %s", run.Took)
		}
	}
	// The connection was closed on the way out, not left to the broker's
	// heartbeat timeout.
	time.Sleep(500 * time.Millisecond)
	if out := f.node.Ctl(t, "list_connections", "client_properties"); strings.Contains(out, name) {
		t.Errorf("the connection is still open on the broker after the run:\n%s", out)
	}
	t.Logf("exit %d after %s: %s", run.Exit, run.Took.Round(time.Millisecond), strings.TrimSpace(lastLine(run.Stderr)))
}

// reconnect runs scripts/reconnect.js (the documented recipe) without its
// simulated loss, restarts the broker while it works, and expects it to
// reconnect, resume and finish.
func (f *faultEnv) reconnect(t *testing.T) {
	script, err := filepath.Abs(filepath.Join("..", "scripts", "reconnect.js"))
	if err != nil {
		t.Fatal(err)
	}
	queue := uniqueName(t, "q")
	var wg sync.WaitGroup
	var once sync.Once
	o := faultOpts{
		Args: []string{"--no-simulate", "--jobs", "60", "--interval", "50", "--queue", queue},
		OnLine: func(line string) {
			if line == "job 20 confirmed" {
				once.Do(func() {
					wg.Add(1)
					go func() {
						defer wg.Done()
						f.node.Ctl(t, "stop_app")
						time.Sleep(time.Second) // connection attempts are refused meanwhile
						f.node.Ctl(t, "start_app")
					}()
				})
			}
		},
	}
	run := runFaultScriptOpts(t, f.out, script, []string{"AMQP_URL=" + f.url}, nil, o)
	wg.Wait()
	checkFaultRun(t, run)
	for _, want := range []string{
		"session 1: connected\n",
		"session 1: connection lost (CONNECTION_FORCED - broker forced connection closure with reason 'shutdown', code 320); reconnecting\n",
		"session 2: connected, resuming at job ",
		"done: 60 jobs published and consumed, none lost\n",
	} {
		if !strings.Contains(run.Stdout, want) {
			t.Errorf("stdout lacks %q\n--- stdout:\n%s\n--- stderr:\n%s", want, run.Stdout, run.Stderr)
		}
	}
	if n := f.node.QueueMessages(t, queue); n != -1 {
		t.Errorf("the script left its queue behind (%d messages)", n)
	}
	t.Logf("stdout:\n%s\nstderr:\n%s", run.Stdout, run.Stderr)
}

// tls runs tls.js through a TLS proxy whose CA only the test knows.
func (f *faultEnv) tls(t *testing.T) {
	proxy, ca := newTLSFaultProxy(t, f.node.Addr())
	run := runFaultScript(t, f.out, faultScript(t, "tls.js"),
		[]string{"AMQP_URL=" + f.url, "TLS_PORT=" + strconv.Itoa(proxy.Port()), "TLS_CA=" + ca}, nil)
	checkFaultRun(t, run)
	t.Logf("stdout:\n%s", run.Stdout)
}

// runLogged runs the binary with env and stdin, keeping its output for the
// password check.
func (f *faultEnv) runLogged(t *testing.T, what string, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, aioamqpBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	f.out.add(what+" stdout", stdout.String())
	f.out.add(what+" stderr", stderr.String())
	return stdout.String(), stderr.String(), code
}

// secrets puts the password everywhere output happens — errors of a failed
// login and of bad URLs, printed connection objects, --help with AMQP_URL
// set, --url, the REPL, a scenario's summary — for the Passwords subtest to
// search.
func (f *faultEnv) secrets(t *testing.T) {
	env := []string{"AMQP_URL=" + f.url}
	run := runFaultScriptOpts(t, f.out, faultScript(t, "secrets.js"), env, nil, faultOpts{})
	if run.Exit != 1 || !strings.Contains(run.Stderr, "authentication failed for user '"+faultUser+"' (ACCESS_REFUSED)") {
		t.Errorf("secrets.js: exit %d, want 1 with the refused login uncaught\n--- stdout:\n%s\n--- stderr:\n%s", run.Exit, run.Stdout, run.Stderr)
	}
	for _, args := range [][]string{{"run", "--help"}, {"help", "run"}, {"repl", "--help"}, {"--help"}} {
		out, errOut, code := f.runLogged(t, strings.Join(args, " "), env, "", args...)
		if code != 0 || !strings.Contains(out+errOut, "Usage") {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
	}
	// --url with a password: a bad one (usage error) and a good one.
	bad := strings.Replace(f.url, strconv.Itoa(f.node.Port), "99999", 1)
	_, errOut, code := f.runLogged(t, "run --url bad", nil, "", "run", "--url", bad, faultScript(t, "stuck_loop.js"))
	if code != 2 || !strings.Contains(errOut, "***") {
		t.Errorf("run --url with a bad port: exit %d, want 2 and the URL shown with ***: %s", code, errOut)
	}
	throwing := WriteScript(t, "throws.js", "const a = require('aioamqp');\nconst [t, p] = await a.connect();\nconsole.log(p.server_properties.product);\nawait p.close();\nthrow new Error('boom');\n")
	out, errOut, code := f.runLogged(t, "run --url good", nil, "", "run", "--url", f.url, throwing)
	if code != 1 || !strings.Contains(out, "RabbitMQ") || !strings.Contains(errOut, "boom") {
		t.Errorf("run --url: exit %d\n%s%s", code, out, errOut)
	}
	// The REPL: its banner, a connection and an error printed.
	repl := strings.Join([]string{
		"const [t, p] = await aioamqp.connect()",
		"p",
		"t",
		"await aioamqp.connect({ password: 'nope' }).catch((e) => e)",
		"await aioamqp.from_url(process.env.AMQP_URL.replace(/:\\d+\\//, ':99999/')).catch((e) => e.message)",
		"await p.close()",
	}, "\n") + "\n"
	out, errOut, code = f.runLogged(t, "repl", env, repl, "repl", "--history", "")
	if code != 0 || !strings.Contains(out, "authentication failed") {
		t.Errorf("repl: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", code, out, errOut)
	}
	out, errOut, code = f.runLogged(t, "repl --url", nil, ".exit\n", "repl", "--url", f.url, "--history", "")
	if code != 0 {
		t.Errorf("repl --url: exit %d\n%s%s", code, out, errOut)
	}
	// A scenario's summary.
	out, errOut, code = f.runLogged(t, "scenario", env, "", "run", faultScript(t, "scenario.js"))
	if code != 0 || !strings.Contains(out+errOut, "iterations") {
		t.Errorf("scenario: exit %d\n--- stdout:\n%s\n--- stderr:\n%s", code, out, errOut)
	}
}

// faultHandlers are the faults a script may ask for: proxy is nil unless
// the script connects through one; wg counts the slow ones running.
func (f *faultEnv) faultHandlers(t *testing.T, proxy *faultProxy, name string, wg *sync.WaitGroup) map[string]func(string) {
	return map[string]func(string){
		"cut": func(string) {
			if n := proxy.DropAll(); n != 1 {
				t.Errorf("cut %d connections, want 1", n)
			}
		},
		"stall": func(string) { proxy.Stall() },
		"close": func(string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if n := f.node.CloseConnections(t, name, "closed by the amqpjs fault test"); n != 1 {
					t.Errorf("closed %d connections, want 1", n)
				}
			}()
		},
		"restart": func(string) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				f.node.Ctl(t, "stop_app")
				f.node.Ctl(t, "start_app")
			}()
		},
	}
}

// faultURL is the AMQP URL through which fault kind reaches a connection:
// the broker's own, or a fault proxy's in front of it for a cut or a stall.
func (f *faultEnv) faultURL(t *testing.T, kind string) (string, *faultProxy) {
	if kind == "cut" || kind == "stall" {
		proxy := newFaultProxy(t, f.node.Addr())
		return proxy.URL(f.url), proxy
	}
	return f.url, nil
}

// runFaultKind runs the fault script with connection name, AMQP_URL and
// FAULT_NAME set plus env, applies fault kind when the script asks for it,
// waits for the fault's handlers, lifts a proxy's stall and checks the run.
func (f *faultEnv) runFaultKind(t *testing.T, kind, script, name string, env ...string) faultRun {
	t.Helper()
	url, proxy := f.faultURL(t, kind)
	var wg sync.WaitGroup
	run := runFaultScript(t, f.out, faultScript(t, script),
		append([]string{"AMQP_URL=" + url, "FAULT_NAME=" + name}, env...), f.faultHandlers(t, proxy, name, &wg), kind)
	wg.Wait()
	if proxy != nil {
		proxy.Resume()
	}
	checkFaultRun(t, run)
	return run
}

// consumeFault runs consume_fault.js with one fault and checks that every
// message is in its queue afterwards or was handed to the script.
func (f *faultEnv) consumeFault(t *testing.T, kind string) {
	const n = 5000
	base := uniqueName(t, "q")
	name := uniqueName(t, "conn")
	prep := dialSync(t, amqpConfig(t, f.url))
	for _, q := range []string{".a", ".b", ".c"} {
		prep.Declare(base + q)
		prep.Fill(base+q, 0, n)
	}
	run := f.runFaultKind(t, kind, "consume_fault.js", name, "FAULT_QUEUE="+base, "FAULT_N="+strconv.Itoa(n))
	t.Log(lastLine(run.Stdout))
	received := map[string]map[int]bool{}
	for _, v := range run.Values("received") {
		k, r, _ := strings.Cut(v, " ")
		received[k] = parseRanges(t, r)
	}
	c := dialSync(t, amqpConfig(t, f.url))
	for _, k := range []string{"a", "b", "c"} {
		inQueue := c.Drain(base + "." + k)
		c.Delete(base + "." + k)
		all := map[int]int{}
		for id, times := range inQueue {
			all[id] += times
		}
		for id := range received[k] {
			all[id]++
		}
		want := map[int]bool{}
		for i := 0; i < n; i++ {
			want[i] = true
		}
		if lost, sample := missing(want, all); lost > 0 {
			t.Errorf("queue .%s: %d of %d messages neither in the queue nor handed to the script (lost), e.g. %v", k, lost, n, sample)
		}
		t.Logf("queue .%s: %d handed to the script, %d in the queue afterwards: 0 lost", k, len(received[k]), len(inQueue))
	}
}

// publishFault runs publish_fault.js with one fault and checks that every
// publish that resolved left its message in the queue.
func (f *faultEnv) publishFault(t *testing.T, kind string) {
	queue := uniqueName(t, "q")
	name := uniqueName(t, "conn")
	run := f.runFaultKind(t, kind, "publish_fault.js", name, "FAULT_QUEUE="+queue)
	if got := run.Values(kind); len(got) != 1 {
		t.Errorf("the script asked for %q %d times", kind, len(got))
	}
	t.Log(lastLine(run.Stdout))

	rs := run.Values("resolved")
	if len(rs) != 1 {
		t.Fatalf("no @@resolved line")
	}
	resolved := parseRanges(t, rs[0])
	c := dialSync(t, amqpConfig(t, f.url))
	got := c.Drain(queue)
	c.Delete(queue)
	if n, sample := missing(resolved, got); n > 0 {
		t.Errorf("%d of %d messages whose publish resolved are not in the queue (lost), e.g. %v", n, len(resolved), sample)
	}
	t.Logf("%d resolved, %d in the queue afterwards: 0 lost", len(resolved), len(got))
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
