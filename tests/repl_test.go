//go:build unix

package tests

// End-to-end tests of `amqpjs repl`: the binary runs in a real
// pseudo-terminal (github.com/creack/pty), or with stdin from a string
// (piped mode). The tests that need RabbitMQ are in
// repl_integration_test.go. Every wait polls the output against a
// deadline; none sleeps to assert.

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// replWait bounds each wait for output of the REPL.
const replWait = 20 * time.Second

// Term is an amqpjs repl running in a pseudo-terminal.
type Term struct {
	t    testing.TB
	cmd  *exec.Cmd
	pty  *os.File
	mu   sync.Mutex
	raw  bytes.Buffer // everything the REPL wrote
	mark int          // Expect looks at the cleaned output after this offset
	done chan struct{}
	read chan struct{} // closed when the reader goroutine ended
	code int
}

// StartTerm starts `amqpjs repl args...` in a pseudo-terminal of 200
// columns. The history goes to a file in a temporary directory unless env
// sets AMQPJS_HISTORY. The process is killed at the end of the test if it
// still runs.
func StartTerm(t testing.TB, env []string, args ...string) *Term {
	t.Helper()
	cmd := exec.Command(binPath, append([]string{"repl"}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm", "NO_COLOR=", "AMQPJS_HISTORY="+filepath.Join(t.TempDir(), "history"))
	cmd.Env = append(cmd.Env, env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: 200})
	if err != nil {
		t.Fatalf("starting amqpjs repl in a pty: %v", err)
	}
	tm := &Term{t: t, cmd: cmd, pty: f, done: make(chan struct{}), read: make(chan struct{})}
	go func() {
		defer close(tm.read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			if n > 0 {
				tm.mu.Lock()
				tm.raw.Write(buf[:n])
				tm.mu.Unlock()
			}
			if err != nil { // EIO once the child is gone
				return
			}
		}
	}()
	go func() {
		defer close(tm.done)
		err := cmd.Wait()
		tm.code = cmd.ProcessState.ExitCode()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			tm.code = -1
		}
	}()
	t.Cleanup(func() {
		select {
		case <-tm.done:
		default:
			_ = cmd.Process.Kill()
			<-tm.done
		}
		f.Close()
		<-tm.read
	})
	return tm
}

// ansi matches the escape sequences of the line editor and of colours.
var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\r`)

// Output returns what the REPL printed so far, without escape sequences
// and carriage returns.
func (tm *Term) Output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return ansi.ReplaceAllString(tm.raw.String(), "")
}

// Raw returns what the REPL printed so far, as it was written.
func (tm *Term) Raw() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.raw.String()
}

// Send types s (control characters included: "\r" is Enter, "\x03"
// Ctrl-C, "\x04" Ctrl-D, "\t" Tab).
func (tm *Term) Send(s string) {
	tm.t.Helper()
	if _, err := tm.pty.Write([]byte(s)); err != nil {
		tm.t.Fatalf("writing to the pty: %v", err)
	}
}

// Expect waits until the output after the mark contains want, then moves
// the mark past it.
func (tm *Term) Expect(want string) {
	tm.t.Helper()
	tm.ExpectFunc(want, func(s string) int {
		if i := strings.Index(s, want); i >= 0 {
			return i + len(want)
		}
		return -1
	})
}

// ExpectRe is Expect with a regular expression.
func (tm *Term) ExpectRe(re string) {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	tm.ExpectFunc(re, func(s string) int {
		if m := rx.FindStringIndex(s); m != nil {
			return m[1]
		}
		return -1
	})
}

// ExpectFunc polls until match finds something in the output after the
// mark (it returns the end offset of the match, or -1).
func (tm *Term) ExpectFunc(what string, match func(string) int) {
	tm.t.Helper()
	deadline := time.Now().Add(replWait)
	for {
		out := tm.Output()
		if tm.mark <= len(out) {
			if end := match(out[tm.mark:]); end >= 0 {
				tm.mark += end
				return
			}
		}
		select {
		case <-tm.done:
			// The last output may still be in the pty.
			select {
			case <-tm.read:
			case <-time.After(time.Second):
			}
			out = tm.Output()
			if end := match(out[min(tm.mark, len(out)):]); end >= 0 {
				tm.mark += end
				return
			}
			tm.t.Fatalf("amqpjs repl exited (code %d) while waiting for %q; output after the mark:\n%s", tm.code, what, out[min(tm.mark, len(out)):])
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; output after the mark:\n%s\n--- all output:\n%q", what, out[min(tm.mark, len(out)):], tm.Raw())
		}
	}
}

// Rest returns the output after the mark.
func (tm *Term) Rest() string {
	out := tm.Output()
	return out[min(tm.mark, len(out)):]
}

// Prompt waits for the prompt "> ".
func (tm *Term) Prompt() {
	tm.t.Helper()
	tm.Expect("> ")
}

// Eval types line and Enter, and waits for want in what follows the echo
// of the line.
func (tm *Term) Eval(line, want string) {
	tm.t.Helper()
	tm.Send(line + "\r")
	tm.Expect(line + "\n") // the line as entered (the editor draws it as it is typed, too)
	tm.Expect(want)
}

// Wait waits for the REPL to exit and returns its exit code.
func (tm *Term) Wait() int {
	tm.t.Helper()
	select {
	case <-tm.done:
		return tm.code
	case <-time.After(replWait):
		tm.t.Fatalf("amqpjs repl did not exit; output after the mark:\n%s", tm.Rest())
		return -1
	}
}

// Signal sends sig to the REPL process.
func (tm *Term) Signal(sig os.Signal) {
	tm.t.Helper()
	if err := tm.cmd.Process.Signal(sig); err != nil {
		tm.t.Fatalf("signal: %v", err)
	}
}

func TestREPLTermBasics(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Expect("Welcome to amqpjs")
	tm.Expect(`Type ".help" for more information.`)
	tm.Prompt()
	tm.Eval("6 * 7", "42")
	tm.Prompt()
	tm.Eval("_ + 1", "43")
	tm.Prompt()
	tm.Eval("typeof aioamqp.connect", "'function'")
	tm.Prompt()
	tm.Eval("({ a: [1, 2, { b: Buffer.from('hi') }], p: Promise.resolve(7) })", "{ a: [ 1, 2, { b: <Buffer 68 69> } ], p: Promise { 7 } }")
	tm.Prompt()
	tm.Eval("'str'", "'str'")
	tm.Prompt()

	// A multi-line function: the continuation prompt until it is complete.
	tm.Send("function add(a, b) {\r")
	tm.Expect("... ")
	tm.Send("  return a + b\r")
	tm.Expect("... ")
	tm.Send("}\r")
	tm.Prompt()
	tm.Eval("add(40, 2)", "42")
	tm.Prompt()

	// Top-level await; declarations survive to the next entry.
	tm.Eval("const x = await Promise.resolve(5)", "undefined")
	tm.Prompt()
	tm.Eval("let { y } = await Promise.resolve({ y: 6 }); x * y", "30")
	tm.Prompt()
	tm.Eval("y + 1", "7")
	tm.Prompt()
	tm.Eval("const z = 8", "undefined")
	tm.Prompt()
	tm.Eval("z * 2", "16")
	tm.Prompt()

	// Errors are printed, and the session goes on.
	tm.Eval("null.x", "Uncaught TypeError: Cannot read property 'x' of ")
	tm.Prompt()
	tm.Eval("throw Object.assign(new RangeError('bad'), { code: 406 })", "Uncaught RangeError: bad { code: 406 }")
	tm.Prompt()
	tm.Eval("_error.code", "406")
	tm.Prompt()
	tm.Eval("await Promise.reject(new Error('nope'))", "Uncaught Error: nope")
	tm.Prompt()
	tm.Eval("let let", "Uncaught SyntaxError:")
	tm.Prompt()
	tm.Eval("const noInit", "Uncaught SyntaxError: Missing initializer in const declaration")
	tm.Prompt()

	tm.Eval(".help", ".editor")
	tm.Expect(".load")
	tm.Prompt()
	tm.Send("\x04") // Ctrl-D
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code after Ctrl-D: got %d, want 0\n%s", code, tm.Output())
	}
}

func TestREPLTermColors(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()
	tm.Send("40 + 2\r")
	tm.ExpectFunc("a yellow 42", func(string) int {
		if i := strings.Index(tm.Raw(), "\x1b[33m42\x1b[39m"); i >= 0 {
			return 0
		}
		return -1
	})
	tm.Send(".exit\r")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code after .exit: got %d, want 0", code)
	}

	tm = StartTerm(t, nil, "--no-color")
	tm.Prompt()
	tm.Eval("40 + 2", "42")
	tm.Prompt()
	tm.Send(".exit\r")
	tm.Wait()
	if strings.Contains(tm.Raw(), "\x1b[33m") {
		t.Errorf("--no-color: colours in the output:\n%q", tm.Raw())
	}
}

func TestREPLTermCtrlC(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()

	// Ctrl-C while awaiting a promise that never settles.
	tm.Send("console.log('waiting-' + 1); await new Promise(() => {})\r")
	tm.Expect("waiting-1")
	tm.Send("\x03")
	tm.Expect("interrupted")
	tm.Prompt()
	tm.Eval("1 + 2", "3")
	tm.Prompt()

	// Ctrl-C during a synchronous runaway loop.
	tm.Send("console.log('spinning-' + 1); for (;;) {}\r")
	tm.Expect("spinning-1")
	tm.Send("\x03")
	tm.Expect("interrupted")
	tm.Prompt()
	tm.Eval("2 + 3", "5")
	tm.Prompt()

	// Ctrl-C clears a line being typed, without the exit hint.
	tm.Send("'abandoned")
	tm.Expect("'abandoned")
	tm.Send("\x03")
	tm.Prompt()
	tm.Eval("3 + 4", "7")
	tm.Prompt()
	if strings.Contains(tm.Output(), "To exit") {
		t.Fatalf("exit hint after Ctrl-C on a non-empty line:\n%s", tm.Output())
	}

	// Ctrl-C in a multi-line entry abandons it.
	tm.Send("function f() {\r")
	tm.Expect("... ")
	tm.Send("\x03")
	tm.Prompt()
	tm.Eval("typeof f", "'undefined'")
	tm.Prompt()

	// At an empty prompt: the hint, then a second Ctrl-C exits.
	tm.Send("\x03")
	tm.Expect("(To exit, press Ctrl+C again or Ctrl+D or type .exit)")
	tm.Prompt()
	tm.Send("\x03")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code after Ctrl-C twice: got %d, want 0", code)
	}
}

func TestREPLTermTimerOutputKeepsLine(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()
	// Half a line typed when a timer prints: the line is drawn again below
	// the output. The timer repeats, so one of its ticks comes after the
	// typing whatever the timing.
	tm.Eval("const ticker = setInterval(() => console.log('tick-' + 'from-timer'), 100), armed = 'armed'; armed", "'armed'")
	tm.Prompt()
	tm.Send("12")
	tm.Expect("12")
	tm.Expect("tick-from-timer\n")
	tm.Expect("> 12")
	tm.Send("3 + 1\r")
	tm.Expect("124")
	tm.Prompt()
	tm.Eval("clearInterval(ticker)", "undefined")
	tm.Prompt()

	// A timer callback that throws is reported; the session goes on.
	tm.Eval("setTimeout(() => { throw new TypeError('in-timer') }, 10), 'armed'", "'armed'")
	tm.Expect("Uncaught TypeError: in-timer")
	tm.Prompt()
	tm.Eval("'still-' + 'alive'", "'still-alive'")
	tm.Prompt()
	tm.Send(".exit\r")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code: got %d, want 0", code)
	}
}

func TestREPLTermCompletion(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()
	tm.Eval("const obj = { alpha: 1, alphabet: 2, beta: 3 }", "undefined")
	tm.Prompt()
	tm.Send("obj.alp\t")
	tm.Expect("obj.alpha") // the common part
	tm.Send("\t")
	tm.ExpectRe(`alpha\s+alphabet`) // the candidates
	tm.Send("bet\r")
	tm.Expect("2")
	tm.Prompt()

	tm.Send("aioa\t")
	tm.Expect("aioamqp")
	tm.Send(".vers\t")
	tm.Expect("aioamqp.version")
	tm.Send("\r")
	tm.Expect("'")
	tm.Prompt()

	tm.Eval("let str = 'abc'", "undefined")
	tm.Prompt()
	tm.Send("str.toUpp\t")
	tm.Expect("str.toUpperCase")
	tm.Send("()\r")
	tm.Expect("'ABC'")
	tm.Prompt()

	tm.Send(".edi\t")
	tm.Expect(".editor")
	tm.Send("\r")
	tm.Expect("// Entering editor mode")
	tm.Send("const e1 = 20\r")
	tm.Send("e1 + 22\r")
	tm.Send("\x04")
	tm.Expect("42")
	tm.Prompt()
	tm.Send("\x04")
	tm.Wait()
}

func TestREPLTermHistory(t *testing.T) {
	t.Parallel()
	hist := filepath.Join(t.TempDir(), "sub", "history")
	env := []string{"AMQPJS_HISTORY=" + hist}
	tm := StartTerm(t, env)
	tm.Prompt()
	tm.Eval("'remember-' + 'me'", "'remember-me'")
	tm.Prompt()
	tm.Send("\x04")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code: got %d", code)
	}
	data, err := os.ReadFile(hist)
	if err != nil {
		t.Fatalf("history file: %v", err)
	}
	if !strings.Contains(string(data), "'remember-' + 'me'") {
		t.Fatalf("history file holds %q", data)
	}
	if st, err := os.Stat(hist); err == nil && st.Mode().Perm()&0o077 != 0 {
		t.Errorf("history file mode %v: readable by others", st.Mode().Perm())
	}

	tm = StartTerm(t, env)
	tm.Prompt()
	tm.Send("\x1b[A") // up arrow: the line of the last session
	tm.Expect("'remember-' + 'me'")
	tm.Send("\r")
	tm.Expect("'remember-me'")
	tm.Prompt()
	tm.Send("\x04")
	tm.Wait()

	// --history moves it; the flag wins over the environment.
	other := filepath.Join(t.TempDir(), "other")
	tm = StartTerm(t, env, "--history", other)
	tm.Prompt()
	tm.Eval("'flag-' + 'history'", "'flag-history'")
	tm.Prompt()
	tm.Send("\x04")
	tm.Wait()
	if data, err := os.ReadFile(other); err != nil || !strings.Contains(string(data), "'flag-' + 'history'") {
		t.Fatalf("--history file: %q, %v", data, err)
	}
}

func TestREPLTermLoadAndSave(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lib := filepath.Join(repoRoot, "tests", "testdata", "repl", "lib.js")
	tm := StartTerm(t, nil)
	tm.Prompt()
	tm.Eval(".load "+lib, "'lib loaded'")
	tm.Prompt()
	tm.Eval("double(21)", "42")
	tm.Prompt()
	tm.Eval("loaded", "true")
	tm.Prompt()
	saved := filepath.Join(dir, "saved.js")
	tm.Eval(".save "+saved, "Session saved to:")
	tm.Prompt()
	tm.Eval(".load "+filepath.Join(dir, "missing.js"), "Failed to load")
	tm.Prompt()
	tm.Eval(".nosuch", "Invalid REPL keyword")
	tm.Prompt()
	tm.Send(".exit\r")
	tm.Wait()
	data, err := os.ReadFile(saved)
	if err != nil || !strings.Contains(string(data), "double(21)") {
		t.Fatalf("saved session: %q, %v", data, err)
	}
}

func TestREPLTermRedactsURL(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil, "--url", "amqp://alice:s3cr3t-pw@127.0.0.1:5672/vh")
	tm.Expect("amqp://alice:***@127.0.0.1:5672/vh")
	tm.Prompt()
	tm.Send(".exit\r")
	tm.Wait()
	if strings.Contains(tm.Raw(), "s3cr3t-pw") {
		t.Fatalf("the password was printed:\n%s", tm.Raw())
	}
}

func TestREPLTermSIGTERM(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()
	tm.Signal(syscall.SIGTERM)
	if code := tm.Wait(); code != 130 {
		t.Fatalf("exit code after SIGTERM: got %d, want 130", code)
	}
}

func TestREPLTermProcessExit(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, nil)
	tm.Prompt()
	tm.Send("process.exit(7)\r")
	if code := tm.Wait(); code != 7 {
		t.Fatalf("exit code after process.exit(7): got %d, want 7", code)
	}
	// From a timer, while the prompt waits.
	tm = StartTerm(t, nil)
	tm.Prompt()
	tm.Eval("setTimeout(() => process.exit(5), 100), 'armed'", "'armed'")
	if code := tm.Wait(); code != 5 {
		t.Fatalf("exit code after process.exit(5) in a timer: got %d, want 5", code)
	}
}

func TestREPLPiped(t *testing.T) {
	t.Parallel()
	in := strings.Join([]string{
		"1 + 1",
		"const x = await Promise.resolve(40)",
		"x + 2",
		"function twice(n) {",
		"  return n * 2",
		"}",
		"twice(x)",
		"console.log('printed', { a: 1 })",
		"'a string'",
		"null.x",
		"[1, 2, 3].map(n => n * n)",
		"let o = {",
		"  k: 'v',",
		"}",
		"o",
		"_",
		"await new Promise(r => setTimeout(() => r('later'), 20))",
		"undefined",
		"typeof aioamqp",
	}, "\n") + "\n"
	res := Run(t, Opts{Args: []string{"repl"}, Stdin: in})
	if res.Code != 0 {
		t.Fatalf("exit code %d\n%s", res.Code, res)
	}
	want := strings.Join([]string{
		"2",
		"42",
		"80",
		"printed { a: 1 }",
		"'a string'",
		"[ 1, 4, 9 ]",
		"{ k: 'v' }",
		"{ k: 'v' }",
		"'later'",
		"'object'",
	}, "\n") + "\n"
	if res.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.Stdout, want)
	}
	if !strings.HasPrefix(res.Stderr, "Uncaught TypeError: Cannot read property 'x' of ") || strings.Count(res.Stderr, "\n") != 1 {
		t.Errorf("stderr: %q", res.Stderr)
	}
	if strings.Contains(res.Stdout+res.Stderr, "> ") || strings.Contains(res.Stdout, "\x1b[") {
		t.Errorf("prompts or colours in piped mode:\n%s", res)
	}
}

func TestREPLPipedExitCodes(t *testing.T) {
	t.Parallel()
	res := Run(t, Opts{Args: []string{"repl"}, Stdin: "1\nprocess.exit(3)\n2\n"})
	if res.Code != 3 || res.Stdout != "1\n" {
		t.Errorf("process.exit(3): %s", res)
	}
	res = Run(t, Opts{Args: []string{"repl"}, Stdin: "'before'\n.exit\n'after'\n"})
	if res.Code != 0 || res.Stdout != "'before'\n" {
		t.Errorf(".exit: %s", res)
	}
	// An unfinished entry at the end of input is an error, not a hang.
	res = Run(t, Opts{Args: []string{"repl"}, Stdin: "function broken() {\n"})
	if res.Code != 0 || !strings.Contains(res.Stderr, "SyntaxError") {
		t.Errorf("unfinished entry: %s", res)
	}
	// An open handle does not keep a piped session alive past the input.
	res = Run(t, Opts{Args: []string{"repl"}, Stdin: "setInterval(() => {}, 1000); 'x'\n", Timeout: 20 * time.Second})
	if res.Code != 0 || res.Stdout != "'x'\n" {
		t.Errorf("open interval: %s", res)
	}
}

func TestREPLHelpAndFlags(t *testing.T) {
	t.Parallel()
	res := RunArgs(t, "repl", "--help")
	for _, want := range []string{"Usage: amqpjs repl", "--url", "--history", "--no-color"} {
		if !strings.Contains(res.Stdout, want) {
			t.Errorf("repl --help lacks %q:\n%s", want, res)
		}
	}
	if res.Code != 0 {
		t.Errorf("repl --help: exit code %d", res.Code)
	}
	res = RunArgs(t, "repl", "--bogus")
	if res.Code != 2 || !strings.Contains(res.Stderr, "unknown flag") {
		t.Errorf("repl --bogus: %s", res)
	}
	res = RunArgs(t, "repl", "--url", "http://x/")
	if res.Code != 2 {
		t.Errorf("repl --url http://x/: %s", res)
	}
	res = RunArgs(t, "help")
	if !strings.Contains(res.Stdout, "amqpjs repl") {
		t.Errorf("help does not list repl:\n%s", res)
	}
}
