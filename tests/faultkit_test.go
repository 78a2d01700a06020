//go:build integration

// Fault-injection kit for the fault tests (faults_test.go): a TCP proxy that
// forwards, stalls or drops connections, a RabbitMQ node of the test's own
// for the destructive faults (restart, memory alarm), and a runner that
// plays a script's "@@<command>" lines as faults.
//
// The shared broker on 127.0.0.1:5672 is never restarted or reconfigured:
// everything destructive happens on the node that startRabbitNode launches
// (its own name, ports, data directory and Erlang cookie), which is always
// stopped at the end of the test — and, should the test binary die first,
// by a watchdog process that notices.
package tests

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testcert"
)

// faultProxy forwards TCP connections to a backend. Stall stops forwarding
// in both directions (bytes wait, nothing is lost: a silent network);
// Resume forwards again; DropAll resets every live connection (a cut).
type faultProxy struct {
	l       net.Listener
	backend string

	mu      sync.Mutex
	cond    *sync.Cond
	stalled bool
	closed  bool
	links   map[*proxyLink]struct{}
	wg      sync.WaitGroup

	accepted atomic.Int64
}

type proxyLink struct {
	front, back net.Conn
	once        sync.Once
}

func (k *proxyLink) close() {
	k.once.Do(func() {
		// A reset, not a FIN: the peer sees the connection die mid-stream.
		for _, c := range []net.Conn{k.front, k.back} {
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
		}
	})
}

func newFaultProxy(t testing.TB, backend string) *faultProxy {
	t.Helper()
	return newFaultProxyTLS(t, backend, nil)
}

// newFaultProxyTLS is newFaultProxy terminating TLS with cfg (nil: none).
func newFaultProxyTLS(t testing.TB, backend string, cfg *tls.Config) *faultProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if cfg != nil {
		l = tls.NewListener(l, cfg)
	}
	p := &faultProxy{l: l, backend: backend, links: map[*proxyLink]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// newTLSFaultProxy is newFaultProxy terminating TLS, with a certificate
// for localhost and 127.0.0.1 signed by a CA generated for the test. It
// returns the proxy and the CA's PEM file.
func newTLSFaultProxy(t testing.TB, backend string) (*faultProxy, string) {
	t.Helper()
	cfg, caFile := testcert.Server(t, "amqpjs fault test CA")
	return newFaultProxyTLS(t, backend, cfg), caFile
}

// Port is the proxy's port on 127.0.0.1.
func (p *faultProxy) Port() int { return p.l.Addr().(*net.TCPAddr).Port }

// URL is amqp URL u with its host and port replaced by the proxy's.
func (p *faultProxy) URL(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	pu.Host = "127.0.0.1:" + strconv.Itoa(p.Port())
	return pu.String()
}

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		front, err := p.l.Accept()
		if err != nil {
			return
		}
		back, err := net.Dial("tcp", p.backend)
		if err != nil {
			front.Close()
			continue
		}
		k := &proxyLink{front: front, back: back}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			k.close()
			return
		}
		p.links[k] = struct{}{}
		p.accepted.Add(1)
		p.wg.Add(2)
		p.mu.Unlock()
		go p.pipe(k, back, front)
		go p.pipe(k, front, back)
	}
}

// pipe copies src to dst, waiting while the proxy is stalled.
func (p *faultProxy) pipe(k *proxyLink, dst, src net.Conn) {
	defer p.wg.Done()
	defer func() {
		k.close()
		p.mu.Lock()
		delete(p.links, k)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.stalled && !p.closed {
				if _, live := p.links[k]; !live {
					break
				}
				p.cond.Wait()
			}
			_, live := p.links[k]
			p.mu.Unlock()
			if !live {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Stall stops forwarding: both directions go silent, connections stay open.
func (p *faultProxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.mu.Unlock()
}

// Resume forwards again what waited and what follows.
func (p *faultProxy) Resume() {
	p.mu.Lock()
	p.stalled = false
	p.cond.Broadcast()
	p.mu.Unlock()
}

// DropAll resets every live connection and returns how many there were.
func (p *faultProxy) DropAll() int {
	p.mu.Lock()
	links := make([]*proxyLink, 0, len(p.links))
	for k := range p.links {
		links = append(links, k)
		delete(p.links, k)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, k := range links {
		k.close()
	}
	return len(links)
}

// Live returns the number of connections being forwarded.
func (p *faultProxy) Live() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops the proxy and waits for its goroutines.
func (p *faultProxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.l.Close()
	p.DropAll()
	p.wg.Wait()
}

// rabbitNode is a RabbitMQ node of the test's own.
type rabbitNode struct {
	Name    string // e.g. amqpjs-fault-123@localhost
	Port    int    // AMQP port on 127.0.0.1
	dir     string
	env     []string
	ctlPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	stopped atomic.Bool
}

// rabbitBin finds a RabbitMQ script. Debian's /usr/sbin wrappers switch to
// the rabbitmq user when run as root (and then use that user's Erlang
// cookie), so the real scripts in /usr/lib/rabbitmq/bin come first.
func rabbitBin(name string) (string, error) {
	for _, dir := range []string{"/usr/lib/rabbitmq/bin", "/usr/local/lib/rabbitmq/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRabbitNode starts a RabbitMQ node with no plugins on free ports, in
// a temporary directory, and stops it when the test ends. It fails the
// test when rabbitmq-server is not installed.
func startRabbitNode(t testing.TB) *rabbitNode {
	t.Helper()
	server, err := rabbitBin("rabbitmq-server")
	if err != nil {
		t.Fatalf("rabbitmq-server not found (install RabbitMQ; tests/broker.sh does): %v", err)
	}
	ctl, err := rabbitBin("rabbitmqctl")
	if err != nil {
		t.Fatalf("rabbitmqctl not found: %v", err)
	}
	dir, err := os.MkdirTemp("", "amqpjs-fault-node-")
	if err != nil {
		t.Fatal(err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	n := &rabbitNode{
		Name:    fmt.Sprintf("amqpjs-fault-%d-%s@localhost", os.Getpid(), hex.EncodeToString(rnd[:3])),
		dir:     dir,
		ctlPath: ctl,
		exited:  make(chan struct{}),
	}
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(dir, "mnesia"), filepath.Join(dir, "log")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	// The node and rabbitmqctl share this cookie through HOME.
	if err := os.WriteFile(filepath.Join(home, ".erlang.cookie"), []byte(strings.ToUpper(hex.EncodeToString(rnd[:]))+"AMQPJSFAULTCOOKIE"), 0o400); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "enabled_plugins"), []byte("[].\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		n.Port = freePort(t)
		dist := freePort(t)
		for dist == n.Port {
			dist = freePort(t)
		}
		n.env = append(os.Environ(),
			"HOME="+home,
			"RABBITMQ_NODENAME="+n.Name,
			"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
			"RABBITMQ_NODE_PORT="+strconv.Itoa(n.Port),
			"RABBITMQ_DIST_PORT="+strconv.Itoa(dist),
			"RABBITMQ_MNESIA_BASE="+filepath.Join(dir, "mnesia"),
			"RABBITMQ_LOG_BASE="+filepath.Join(dir, "log"),
			"RABBITMQ_PID_FILE="+filepath.Join(dir, "pid"),
			"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(dir, "enabled_plugins"),
			"RABBITMQ_CONFIG_FILE="+filepath.Join(dir, "no-config"),
			"RABBITMQ_ADVANCED_CONFIG_FILE="+filepath.Join(dir, "no-advanced.config"),
			"RABBITMQ_CONF_ENV_FILE="+filepath.Join(dir, "no-env.conf"),
		)
		lastErr = n.start(server)
		if lastErr == nil {
			t.Cleanup(func() { n.Stop(t) })
			t.Logf("own RabbitMQ node %s on 127.0.0.1:%d", n.Name, n.Port)
			return n
		}
		t.Logf("starting RabbitMQ node %s (attempt %d): %v", n.Name, attempt+1, lastErr)
		n.kill()
		for _, d := range []string{"mnesia", "log"} {
			os.RemoveAll(filepath.Join(dir, d))
			_ = os.MkdirAll(filepath.Join(dir, d), 0o700)
		}
	}
	os.RemoveAll(dir)
	t.Fatalf("starting a RabbitMQ node: %v", lastErr)
	return nil
}

// kill ends the node's process group at once.
func (n *rabbitNode) kill() {
	if n.cmd == nil || n.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-n.cmd.Process.Pid, syscall.SIGKILL)
	<-n.exited
	n.cmd = nil
	n.exited = make(chan struct{})
}

// start launches the node under a watchdog shell: the shell stops the node
// when this test process disappears without stopping it (killed, timed out).
func (n *rabbitNode) start(server string) error {
	watchdog := `"$1" >"$2/server.out" 2>&1 &
srv=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$srv" 2>/dev/null; do sleep 1; done
if kill -0 "$srv" 2>/dev/null; then "$4" -q -n "$5" stop >/dev/null 2>&1 || kill "$srv"; fi
wait "$srv"`
	n.cmd = exec.Command("sh", "-c", watchdog, "watchdog", server, n.dir, strconv.Itoa(os.Getpid()), n.ctlPath, n.Name)
	n.cmd.Env = n.env
	n.cmd.Dir = n.dir
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a Ctrl-C of the test run is the watchdog's to handle
	if err := n.cmd.Start(); err != nil {
		return err
	}
	go func() {
		_ = n.cmd.Wait()
		close(n.exited)
	}()
	// await_startup gives up at once while the node is not registered
	// with epmd yet, so it is retried until the node runs or exits.
	deadline := time.Now().Add(90 * time.Second)
	var out []byte
	var err error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		cmd := exec.CommandContext(ctx, n.ctlPath, "-q", "-n", n.Name, "await_startup", "--timeout", "80")
		cmd.Env = n.env
		out, err = cmd.CombinedOutput()
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-n.exited:
			deadline = time.Now() // the node exited: report it
		case <-time.After(500 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(filepath.Join(n.dir, "server.out"))
	if len(log) > 4000 {
		log = log[len(log)-4000:]
	}
	return fmt.Errorf("await_startup: %v\n%s\nserver output (tail):\n%s", err, out, log)
}

// Ctl runs rabbitmqctl against the node and fails the test on error.
func (n *rabbitNode) Ctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := n.CtlErr(args...)
	if err != nil {
		t.Fatalf("rabbitmqctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// CtlErr runs rabbitmqctl against the node.
func (n *rabbitNode) CtlErr(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, n.ctlPath, append([]string{"-q", "-n", n.Name}, args...)...)
	cmd.Env = n.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// URL is the node's AMQP URL for user and password.
func (n *rabbitNode) URL(user, password string) string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(user, password), Host: "127.0.0.1:" + strconv.Itoa(n.Port), Path: "/"}
	return u.String()
}

// Addr is the node's AMQP address.
func (n *rabbitNode) Addr() string { return "127.0.0.1:" + strconv.Itoa(n.Port) }

// Stop stops the node (rabbitmqctl stop, then a kill of the process group
// if it lingers) and removes its directory. Idempotent.
func (n *rabbitNode) Stop(t testing.TB) {
	if n.cmd == nil || !n.stopped.CompareAndSwap(false, true) {
		return
	}
	if out, err := n.CtlErr("stop"); err != nil {
		t.Logf("rabbitmqctl stop %s: %v\n%s", n.Name, err, out)
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Logf("node %s still running 30s after stop: killing it", n.Name)
		n.kill()
	}
	short := strings.TrimSuffix(n.Name, "@localhost")
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("epmd", "-names").CombinedOutput()
		if !strings.Contains(string(out), "name "+short+" ") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("epmd still lists %s after stopping it:\n%s", short, out)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	os.RemoveAll(n.dir)
}

// AddUser creates a user with full permissions on vhost "/".
func (n *rabbitNode) AddUser(t testing.TB, user, password string) {
	t.Helper()
	n.Ctl(t, "add_user", user, password)
	n.Ctl(t, "set_permissions", "-p", "/", user, ".*", ".*", ".*")
}

// CloseConnections force-closes every connection whose client properties
// mention name and returns how many it closed.
func (n *rabbitNode) CloseConnections(t testing.TB, name, reason string) int {
	t.Helper()
	out := n.Ctl(t, "list_connections", "pid", "client_properties")
	closed := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, name) {
			n.Ctl(t, "close_connection", strings.Fields(line)[0], reason)
			closed++
		}
	}
	return closed
}

// QueueMessages returns the number of ready + unacked messages in queue.
func (n *rabbitNode) QueueMessages(t testing.TB, queue string) int {
	t.Helper()
	out := n.Ctl(t, "list_queues", "name", "messages")
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "\t")
		if len(f) == 2 && f[0] == queue {
			c, _ := strconv.Atoi(strings.TrimSpace(f[1]))
			return c
		}
	}
	return -1
}

// faultRun is one run of the binary driven by a script's "@@" lines.
type faultRun struct {
	Stdout, Stderr string
	Exit           int
	Took           time.Duration
	// DoneToExit is the time from the script's last stdout line to the
	// process's exit: how promptly it ends once the script is done.
	DoneToExit time.Duration
	// Commands are the script's "@@" lines, without the "@@".
	Commands []string
}

// Values returns the arguments of every "@@<cmd> ..." line, in order.
func (r faultRun) Values(cmd string) []string {
	var out []string
	for _, c := range r.Commands {
		if rest, ok := strings.CutPrefix(c, cmd+" "); ok {
			out = append(out, rest)
		} else if c == cmd {
			out = append(out, "")
		}
	}
	return out
}

// outputLog collects every byte the fault tests' processes printed, for the
// password check.
type outputLog struct {
	mu  sync.Mutex
	all []string
}

func (o *outputLog) add(what, s string) {
	o.mu.Lock()
	o.all = append(o.all, "=== "+what+"\n"+s)
	o.mu.Unlock()
}

func (o *outputLog) find(secret string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var hits []string
	for _, s := range o.all {
		if strings.Contains(s, secret) {
			hits = append(hits, s)
		}
	}
	return hits
}

// faultSafetyTimeout is the --timeout of fault scripts: a hang fails the
// test with the binary's own timeout message, which the test checks for.
const faultSafetyTimeout = 90 * time.Second

// faultOpts are the options of runFaultScript beyond the script and env.
type faultOpts struct {
	Args    []string          // script arguments (after --)
	Timeout time.Duration     // --timeout; 0 is faultSafetyTimeout
	OnStart func(*os.Process) // called once the process started
	OnLine  func(line string) // called for each stdout line
}

// runFaultScript runs `amqpjs run --timeout <safety> script -- args` with
// env, calling handlers[cmd](arg) for each "@@cmd arg" line of stdout as it
// appears (the script keeps running meanwhile). A command without a handler
// fails the test.
func runFaultScript(t *testing.T, log *outputLog, script string, env []string, handlers map[string]func(arg string), args ...string) faultRun {
	t.Helper()
	return runFaultScriptOpts(t, log, script, env, handlers, faultOpts{Args: args})
}

func runFaultScriptOpts(t *testing.T, log *outputLog, script string, env []string, handlers map[string]func(arg string), o faultOpts) faultRun {
	t.Helper()
	bin := aioamqpBinary(t)
	timeout := o.Timeout
	if timeout == 0 {
		timeout = faultSafetyTimeout
	}
	argv := []string{"run", "--timeout", timeout.String(), script}
	if len(o.Args) > 0 {
		argv = append(append(argv, "--"), o.Args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), faultSafetyTimeout+30*time.Second)
	defer cancel()
	start := time.Now()
	cmd, pipe, stderr := startPiped(t, ctx, bin, argv, env)
	if o.OnStart != nil {
		o.OnStart(cmd.Process)
	}
	var stdout strings.Builder
	var run faultRun
	var lastLine time.Time
	r := bufio.NewReader(pipe)
	for {
		line, err := r.ReadString('\n')
		if line != "" {
			lastLine = time.Now()
			stdout.WriteString(line)
			if o.OnLine != nil {
				o.OnLine(strings.TrimRight(line, "\n"))
			}
			if c, ok := strings.CutPrefix(strings.TrimSpace(line), "@@"); ok {
				run.Commands = append(run.Commands, c)
				name, arg, _ := strings.Cut(c, " ")
				if h, ok := handlers[name]; ok {
					h(arg)
				} else if _, known := passiveCommands[name]; !known {
					t.Errorf("script asked for unknown fault %q", c)
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("reading stdout: %v", err)
			}
			break
		}
	}
	err := cmd.Wait()
	end := time.Now()
	run.Stdout, run.Stderr, run.Took = stdout.String(), stderr.String(), end.Sub(start)
	if !lastLine.IsZero() {
		run.DoneToExit = end.Sub(lastLine)
	}
	log.add(filepath.Base(script)+" stdout", run.Stdout)
	log.add(filepath.Base(script)+" stderr", run.Stderr)
	if ctx.Err() != nil {
		t.Fatalf("%s was killed by the test's own safety timeout\nstdout:\n%s\nstderr:\n%s", script, run.Stdout, run.Stderr)
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running %s: %v", script, err)
		}
		run.Exit = ee.ExitCode()
	}
	return run
}

// passiveCommands are "@@" lines that report results rather than ask for a
// fault; the tests read them from faultRun.Commands.
var passiveCommands = map[string]struct{}{"resolved": {}, "received": {}, "queue": {}, "result": {}}

// checkFaultRun asserts the common outcome of a fault script: exit 0, the
// safety --timeout not hit, nothing printed on stderr but expected
// warnings, and a prompt exit once the script printed its last line.
func checkFaultRun(t *testing.T, run faultRun) {
	t.Helper()
	dump := fmt.Sprintf("\n--- stdout:\n%s\n--- stderr:\n%s", run.Stdout, run.Stderr)
	if strings.Contains(run.Stderr, "timed out after "+faultSafetyTimeout.String()) {
		t.Fatalf("the script hung until the safety --timeout%s", dump)
	}
	if run.Exit != 0 {
		t.Fatalf("exit code %d%s", run.Exit, dump)
	}
	if strings.Contains(run.Stderr, "panic") || strings.Contains(run.Stderr, "goroutine ") {
		t.Errorf("stderr shows a Go panic%s", dump)
	}
	if run.DoneToExit > 3*time.Second {
		t.Errorf("the process took %s to exit after the script's last output line", run.DoneToExit)
	}
	t.Logf("%d commands, took %s, exit %s after the last line", len(run.Commands), run.Took.Round(time.Millisecond), run.DoneToExit.Round(time.Millisecond))
}
