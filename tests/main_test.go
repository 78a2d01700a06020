// Package tests holds the end-to-end tests of amqpjs: they build the binary
// once (TestMain) and run scripts through it. Tests that need no broker have
// no build tag; those that need RabbitMQ are tagged `integration`.
package tests

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// binPath is the amqpjs binary under test: built by TestMain, or taken from
// $AMQPJS_BIN when set (to test a binary built elsewhere).
var binPath string

// repoRoot is the module root (the parent of this directory).
var repoRoot string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Dir(wd)
	if p := os.Getenv("AMQPJS_BIN"); p != "" {
		if binPath, err = filepath.Abs(p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	} else {
		dir, err := os.MkdirTemp("", "amqpjs-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		binPath = filepath.Join(dir, "amqpjs")
		cmd := exec.Command("go", "build", "-o", binPath, ".")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "tests: building amqpjs: %v\n%s", err, out)
			return 1
		}
	}
	code := m.Run()
	removeHookBinaries()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "tests: goroutine leak: %v\n", err)
			return 1
		}
	}
	return code
}

// defaultTimeout bounds a run of the binary so that a hang fails the test
// instead of the whole suite. It is a safety net, not an assertion.
const defaultTimeout = 60 * time.Second

// Opts describe one run of the binary.
type Opts struct {
	Args    []string      // arguments after the program name
	Env     []string      // extra KEY=VALUE entries, over the test's environment
	Dir     string        // working directory; "" is the test's
	Stdin   string        // standard input
	Stdout  *os.File      // when set, the process writes its stdout here (Proc.Stdout is then empty)
	Timeout time.Duration // safety bound; 0 means defaultTimeout
	Bin     string        // the binary to run; "" is binPath (see hookBinary)
}

// Result is the outcome of a finished run.
type Result struct {
	Stdout, Stderr string
	Code           int // exit code; -1 if killed by a signal
}

func (r Result) String() string {
	return fmt.Sprintf("exit code %d\n--- stdout:\n%s\n--- stderr:\n%s", r.Code, r.Stdout, r.Stderr)
}

// Proc is a running amqpjs process.
type Proc struct {
	t      testing.TB
	cmd    *exec.Cmd
	stdout *testutil.SyncBuffer
	stderr *testutil.SyncBuffer
	done   chan struct{}
	res    Result
	cancel context.CancelFunc
}

// Start starts the binary with opts. The process is killed at the end of
// the test if still running.
func Start(t testing.TB, opts Opts) *Proc {
	t.Helper()
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	bin := opts.Bin
	if bin == "" {
		bin = binPath
	}
	cmd := exec.CommandContext(ctx, bin, opts.Args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(os.Environ(), opts.Env...)
	cmd.Stdin = strings.NewReader(opts.Stdin)
	cmd.WaitDelay = 5 * time.Second
	p := &Proc{t: t, cmd: cmd, stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, done: make(chan struct{}), cancel: cancel}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if opts.Stdout != nil {
		cmd.Stdout = opts.Stdout
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting amqpjs: %v", err)
	}
	go p.wait()
	t.Cleanup(func() {
		p.cancel()
		<-p.done
	})
	return p
}

func (p *Proc) wait() {
	defer close(p.done)
	err := p.cmd.Wait()
	p.cancel()
	p.res = Result{Stdout: p.stdout.String(), Stderr: p.stderr.String(), Code: p.cmd.ProcessState.ExitCode()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		p.res.Code = -1
		p.res.Stderr += "\n(tests: " + err.Error() + ")"
	}
}

// Wait waits for the process to end and returns its result. It fails the
// test if the process had to be killed by the safety timeout.
func (p *Proc) Wait() Result {
	p.t.Helper()
	<-p.done
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		p.t.Fatalf("amqpjs %s was killed (safety timeout)\n%s", strings.Join(p.cmd.Args[1:], " "), p.res)
	}
	return p.res
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Stdout and Stderr return what the process printed so far.
func (p *Proc) Stdout() string { return p.stdout.String() }
func (p *Proc) Stderr() string { return p.stderr.String() }

// WaitFor polls cond until it is true, failing the test at the deadline or
// if the process ends first.
func (p *Proc) WaitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(defaultTimeout)
	for !cond() {
		select {
		case <-p.done:
			if cond() {
				return
			}
			p.t.Fatalf("amqpjs ended while waiting for %s\n%s", what, p.res)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("timed out waiting for %s\nstdout:\n%s\nstderr:\n%s", what, p.Stdout(), p.Stderr())
		}
	}
}

// Run runs the binary with opts to the end.
func Run(t testing.TB, opts Opts) Result {
	t.Helper()
	return Start(t, opts).Wait()
}

// RunArgs runs the binary with args to the end.
func RunArgs(t testing.TB, args ...string) Result {
	t.Helper()
	return Run(t, Opts{Args: args})
}

// WriteScript writes src into a new temporary directory as name and returns
// its path.
func WriteScript(t testing.TB, name, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// RunScript writes src as name and runs `amqpjs run <path> [-- args]`.
func RunScript(t testing.TB, name, src string, args ...string) (Result, string) {
	t.Helper()
	path := WriteScript(t, name, src)
	argv := []string{"run", path}
	if len(args) > 0 {
		argv = append(append(argv, "--"), args...)
	}
	return RunArgs(t, argv...), path
}

// startPiped starts bin with argv under ctx, with env added to the
// environment: its stdout is the returned pipe (read it to the end, then
// Wait), its stderr is collected in the returned buffer. The process gets
// 5 s after ctx ends before its pipes are closed.
func startPiped(t testing.TB, ctx context.Context, bin string, argv, env []string) (*exec.Cmd, io.ReadCloser, *testutil.SyncBuffer) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 5 * time.Second
	stderr := &testutil.SyncBuffer{}
	cmd.Stderr = stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, pipe, stderr
}

// exportDoc is a --summary-export file, as far as the tests read it.
type exportDoc struct {
	ThresholdsFailed bool `json:"thresholds_failed"`
	Metrics          map[string]struct {
		Values map[string]float64 `json:"values"`
		Data   struct {
			Count   int64   `json:"count"`
			Sum     float64 `json:"sum"`
			NonZero int64   `json:"nonzero"`
			Min     float64 `json:"min"`
			Max     float64 `json:"max"`
			HDR     string  `json:"hdr"`
		} `json:"data"`
	} `json:"metrics"`
	Thresholds []struct {
		Metric, Threshold string
		OK                bool
		Value             float64
	} `json:"thresholds"`
	Run struct {
		ID           string `json:"id"`
		Segment      string `json:"segment"`
		ScriptSHA256 string `json:"script_sha256"`
	} `json:"run"`
}

func readExport(t *testing.T, path string) exportDoc {
	t.Helper()
	return testutil.ReadJSON[exportDoc](t, path)
}
