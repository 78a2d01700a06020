//go:build integration

// End-to-end tests of the aioamqp API (docs/api.md) through the built
// amqpjs binary against a real RabbitMQ.
//
// TestAioamqp runs every testdata/aioamqp/*.js (also .mjs, .cjs, .ts) as a
// subtest. A script asserts with require('assert') and must exit 0, unless
// its leading comment block says otherwise:
//
//	// expect-exit: N                 the exit code (default 0)
//	// expect-stdout: <substring>     stdout contains it (repeatable)
//	// expect-stderr: <substring>     stderr contains it (repeatable)
//	// expect-no-output: <substring>  neither stdout nor stderr contains it (repeatable)
//	// args: <flags>                  extra `amqpjs run` flags, space-separated
//
// While a script runs, a stdout line "@@close-connection <name>" makes the
// runner force-close (rabbitmqctl close_connection) the broker connection
// whose client_properties mention <name>; the script learns of it through
// on_error / wait_closed.
//
// AMQP_URL defaults to amqp://guest:guest@127.0.0.1:5672/. The binary is
// TestMain's (main_test.go; $AMQPJS_BIN overrides it).
//
//	go test -tags integration -run 'TestAioamqp|TestScripts' ./tests/ -count=1
package tests

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const aioamqpDefaultURL = "amqp://guest:guest@127.0.0.1:5672/"

var (
	aioamqpRaceOnce sync.Once
	aioamqpRacePath string
	aioamqpRaceErr  error
)

// aioamqpBinary is the binary under test: TestMain's (binPath), except when
// the tests themselves run with -race (and $AMQPJS_BIN is unset): then a
// -race build of amqpjs, made once, so that the end-to-end runs look for
// races in the binary too (it stays in $TMPDIR, named after the pid).
func aioamqpBinary(t testing.TB) string {
	t.Helper()
	if !aioamqpRaceEnabled || os.Getenv("AMQPJS_BIN") != "" {
		if binPath == "" {
			t.Fatal("tests: binPath is not set (TestMain did not build amqpjs)")
		}
		return binPath
	}
	aioamqpRaceOnce.Do(func() {
		bin := filepath.Join(os.TempDir(), fmt.Sprintf("amqpjs-e2e-race-%d", os.Getpid()))
		cmd := exec.Command("go", "build", "-race", "-o", bin, ".")
		cmd.Dir = ".." // the module root
		out, err := cmd.CombinedOutput()
		if err != nil {
			aioamqpRaceErr = fmt.Errorf("go build -race: %v\n%s", err, out)
			return
		}
		aioamqpRacePath = bin
	})
	if aioamqpRaceErr != nil {
		t.Fatalf("building amqpjs: %v", aioamqpRaceErr)
	}
	return aioamqpRacePath
}

// aioamqpRaceEnabled: the binary is built with -race when the tests are.
var aioamqpRaceEnabled = func() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}()

func aioamqpURL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return aioamqpDefaultURL
}

// aioamqpSpec is what a script's leading comment block expects.
type aioamqpSpec struct {
	exit       int
	stdout     []string
	stderr     []string
	noOutput   []string
	extraFlags []string
}

var aioamqpDirective = regexp.MustCompile(`^//\s*(expect-exit|expect-stdout|expect-stderr|expect-no-output|args):\s?(.*)$`)

func parseAioamqpSpec(t *testing.T, src []byte) aioamqpSpec {
	var s aioamqpSpec
	for _, line := range strings.Split(string(src), "\n") {
		line = strings.TrimRight(line, "\r")
		if !strings.HasPrefix(strings.TrimSpace(line), "//") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			break // end of the leading comment block
		}
		m := aioamqpDirective.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		v := strings.TrimSpace(m[2])
		switch m[1] {
		case "expect-exit":
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("bad expect-exit %q", v)
			}
			s.exit = n
		case "expect-stdout":
			s.stdout = append(s.stdout, v)
		case "expect-stderr":
			s.stderr = append(s.stderr, v)
		case "expect-no-output":
			s.noOutput = append(s.noOutput, v)
		case "args":
			s.extraFlags = append(s.extraFlags, strings.Fields(v)...)
		}
	}
	return s
}

// aioamqpResult is one run of the binary.
type aioamqpResult struct {
	stdout, stderr string
	exit           int
	took           time.Duration
}

// runAmqpjs runs `amqpjs run [flags] script` with AMQP_URL set, acting on
// "@@close-connection <name>" lines, and kills it after limit.
func runAmqpjs(t *testing.T, script string, flags []string, limit time.Duration) aioamqpResult {
	t.Helper()
	bin := aioamqpBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	args := append([]string{"run"}, flags...)
	args = append(args, filepath.Base(script))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(), "AMQP_URL="+aioamqpURL())
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	r := bufio.NewReader(pipe)
	for {
		line, err := r.ReadString('\n')
		stdout.WriteString(line)
		if name, ok := strings.CutPrefix(strings.TrimSpace(line), "@@close-connection "); ok {
			if cerr := rabbitmqCloseConnection(name); cerr != nil {
				t.Errorf("closing connection %q: %v", name, cerr)
			}
		}
		if err != nil {
			if err != io.EOF {
				t.Logf("reading stdout: %v", err)
			}
			break
		}
	}
	err = cmd.Wait()
	res := aioamqpResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%s did not end within %s\nstdout:\n%s\nstderr:\n%s", filepath.Base(script), limit, res.stdout, res.stderr)
	}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running %s: %v", script, err)
		}
		res.exit = ee.ExitCode()
	}
	return res
}

// rabbitmqCloseConnection force-closes the broker connection whose client
// properties mention name (e.g. its connection_name).
func rabbitmqCloseConnection(name string) error {
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "pid", "client_properties").CombinedOutput()
	if err != nil {
		return fmt.Errorf("list_connections: %v\n%s", err, out)
	}
	var pids []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, name) {
			pids = append(pids, strings.Fields(line)[0])
		}
	}
	if len(pids) == 0 {
		return fmt.Errorf("no connection mentions %q:\n%s", name, out)
	}
	for _, pid := range pids {
		if out, err := exec.Command("rabbitmqctl", "-q", "close_connection", pid, "closed by the amqpjs e2e test").CombinedOutput(); err != nil {
			return fmt.Errorf("close_connection %s: %v\n%s", pid, err, out)
		}
	}
	return nil
}

func aioamqpScripts(t *testing.T, dir string, exts ...string) []string {
	var files []string
	for _, ext := range exts {
		m, err := filepath.Glob(filepath.Join(dir, "*"+ext))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	sort.Strings(files)
	if len(files) == 0 {
		t.Fatalf("no scripts in %s", dir)
	}
	return files
}

func TestAioamqp(t *testing.T) {
	aioamqpBinary(t)
	suiteStart := time.Now()
	for _, file := range aioamqpScripts(t, filepath.Join("testdata", "aioamqp"), ".js", ".mjs", ".cjs", ".ts") {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			abs, err := filepath.Abs(file)
			if err != nil {
				t.Fatal(err)
			}
			src, err := os.ReadFile(abs)
			if err != nil {
				t.Fatal(err)
			}
			spec := parseAioamqpSpec(t, src)
			res := runAmqpjs(t, abs, spec.extraFlags, 3*time.Minute)
			t.Logf("%s: exit %d in %s", name, res.exit, res.took.Round(time.Millisecond))
			dump := func() string {
				return fmt.Sprintf("\n--- stdout:\n%s\n--- stderr:\n%s", res.stdout, res.stderr)
			}
			if res.exit != spec.exit {
				t.Errorf("exit code %d, want %d%s", res.exit, spec.exit, dump())
			}
			for _, s := range spec.stdout {
				if !strings.Contains(res.stdout, s) {
					t.Errorf("stdout lacks %q%s", s, dump())
				}
			}
			for _, s := range spec.stderr {
				if !strings.Contains(res.stderr, s) {
					t.Errorf("stderr lacks %q%s", s, dump())
				}
			}
			for _, s := range spec.noOutput {
				if strings.Contains(res.stdout, s) || strings.Contains(res.stderr, s) {
					t.Errorf("output contains %q, which must never be printed%s", s, dump())
				}
			}
		})
	}
	t.Logf("suite took %s", time.Since(suiteStart).Round(time.Millisecond))
}
