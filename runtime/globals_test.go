package runtime

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// TestConsoleFormat compares console.log output with what Node prints for
// the same file (testdata/console.golden was made with Node 20).
func TestConsoleFormat(t *testing.T) {
	t.Parallel()
	path, err := filepath.Abs(filepath.Join("testdata", "console.js"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "console.golden"))
	if err != nil {
		t.Fatal(err)
	}
	res := runPath(t, path)
	if res.err != nil {
		t.Fatalf("run: %s", res.rt.FormatError(res.err))
	}
	wantOut(t, res.stdout, string(want))
}

func TestConsoleStreams(t *testing.T) {
	t.Parallel()
	res := runScript(t, `
		console.log('log'); console.info('info'); console.debug('debug');
		console.warn('warn'); console.error('error %d', 1);
		process.stdout.write('raw out\n'); process.stderr.write('raw err\n');
		console.assert(1 === 1, 'not printed'); console.assert(false, 'printed %s', 'here');`)
	if res.err != nil {
		t.Fatalf("run: %v", res.err)
	}
	wantOut(t, res.stdout, "log\ninfo\ndebug\nraw out\n")
	wantOut(t, res.stderr, "warn\nerror 1\nraw err\nAssertion failed: printed here\n")
}

func TestProcess(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"main.js": `
		console.log(JSON.stringify(process.argv.slice(1)));
		console.log(process.argv[0], process.env.AMQPJS_TEST, typeof process.env.PATH);
		console.log(typeof process.pid, process.platform.length > 0, typeof process.hrtime.bigint());`})
	path := filepath.Join(dir, "main.js")
	res := runPath(t, path, "a b", "--flag", "")
	if res.err != nil {
		t.Fatalf("run: %v", res.err)
	}
	argv := `["` + strings.ReplaceAll(path, `\`, `\\`) + `","a b","--flag",""]`
	wantOut(t, res.stdout, argv+"\namqpjs 1 undefined\nnumber true bigint\n")
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		code      int
		stdout    string
		errIn     string // in FormatError; "" means it prints nothing
	}{
		{name: "success", src: `console.log('ok')`, code: 0, stdout: "ok\n"},
		{name: "exit code", src: `process.exitCode = 3; setTimeout(() => console.log('still runs'), 1)`, code: 3, stdout: "still runs\n"},
		{name: "exit", src: `console.log('before'); process.exit(4); console.log('after')`, code: 4, stdout: "before\n"},
		{name: "exit without code uses exitCode", src: `process.exitCode = 6; process.exit()`, code: 6},
		{name: "exit in a timer", src: `setInterval(() => {}, 1000); setTimeout(() => process.exit(5), 1)`, code: 5},
		{name: "exit in an async function", src: `(async () => { await null; process.exit(0); console.log('no') })(); setInterval(() => {}, 1000)`, code: 0},
		{name: "uncaught", src: `throw new TypeError('bad type')`, code: 1, errIn: "Uncaught TypeError: bad type"},
		{name: "throw a non-error", src: `throw { reason: 'x' }`, code: 1, errIn: "Uncaught { reason: 'x' }"},
		{name: "unhandled rejection", src: `Promise.reject(new Error('rej'))`, code: 1, errIn: "Uncaught (in promise) Error: rej"},
		{name: "error with extra properties", src: `const e = new Error('coded'); e.code = 404; throw e`, code: 1, errIn: "code: 404"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runScript(t, tc.src)
			if code := res.rt.ExitCodeOf(res.err); code != tc.code {
				t.Errorf("exit code: got %d, want %d (err %v)", code, tc.code, res.err)
			}
			if res.stdout != tc.stdout {
				t.Errorf("stdout: got %q, want %q", res.stdout, tc.stdout)
			}
			msg := res.rt.FormatError(res.err)
			if tc.errIn == "" && msg != "" {
				t.Errorf("FormatError: got %q, want nothing", msg)
			}
			if !strings.Contains(msg, tc.errIn) {
				t.Errorf("FormatError: got %q, want it to contain %q", msg, tc.errIn)
			}
		})
	}
}

func TestInterruptAndTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		cause error
		code  int
		msg   string
	}{
		{"interrupt", ErrInterrupted, ExitInterrupted, "amqpjs: interrupted"},
		{"timeout", &TimeoutError{After: 1500000000}, ExitFailure, "amqpjs: run timed out after 1.5s (--timeout)"},
	} {
		for _, src := range []string{`setInterval(() => {}, 1000); setImmediate(() => cancelNow())`, `setImmediate(() => { cancelNow(); for (;;) {} })`} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				if strings.Contains(src, "for (;;)") {
					skipBusyLoopOnWasm(t)
				}
				dir := t.TempDir()
				testutil.WriteFiles(t, dir, map[string]string{"main.js": src})
				rt := New(Options{})
				ctx, cancel := context.WithCancelCause(context.Background())
				defer cancel(nil)
				must(rt.VM().Set("cancelNow", func() { go cancel(tc.cause) }))
				_, err := rt.RunFile(ctx, filepath.Join(dir, "main.js"))
				if !errors.Is(err, tc.cause) {
					t.Fatalf("err: got %v, want %v", err, tc.cause)
				}
				if code := rt.ExitCodeOf(err); code != tc.code {
					t.Errorf("exit code: got %d, want %d", code, tc.code)
				}
				if msg := rt.FormatError(err); msg != tc.msg {
					t.Errorf("FormatError: got %q, want %q", msg, tc.msg)
				}
			})
		}
	}
}

func TestTextCodingAndBuffer(t *testing.T) {
	t.Parallel()
	out := mustRun(t, `
		const bytes = new TextEncoder().encode('héllo');
		console.log(bytes instanceof Uint8Array, bytes.length);
		console.log(new TextDecoder().decode(bytes), new TextDecoder('utf-8').decode(bytes.buffer));
		console.log(new TextDecoder().decode(new Uint8Array([0xff, 0x41])));
		try { new TextDecoder('latin1') } catch (e) { console.log(e instanceof RangeError) }
		const b = Buffer.from('héllo');
		console.log(b.toString(), b.length, Buffer.concat([b, Buffer.from('!')]).toString('utf8'));`)
	wantOut(t, out, "true 6\nhéllo héllo\n\uFFFDA\ntrue\nhéllo 6 héllo!\n")
}
