package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// These tests run the built binary and need no broker.

func TestCLIExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		src       string
		ext       string   // script extension; ".js" when empty
		flags     []string // run flags before the script
		code      int
		stdout    string   // exact
		stderrHas []string // substrings of stderr, "{{path}}" is the script's path
		stderrNot []string
	}{
		{
			name:   "success",
			src:    "console.log('ok')",
			code:   0,
			stdout: "ok\n",
		},
		{
			name: "uncaught exception",
			src:  "console.log('before');\nfunction f() {\n  throw new Error('boom');\n}\nf();\nconsole.log('after');\n",
			code: 1, stdout: "before\n",
			stderrHas: []string{
				"{{path}}:3\n  throw new Error('boom');\n        ^\n",
				"Uncaught Error: boom\n    at f ({{path}}:3:9)\n    at {{path}}:5:1",
			},
		},
		{
			name:      "uncaught exception in a timer",
			src:       "setTimeout(() => {\n  null.x;\n}, 1);\n",
			code:      1,
			stderrHas: []string{"Uncaught TypeError", "{{path}}:2:"},
		},
		{
			name:      "unhandled rejection",
			src:       "async function f() {\n  throw new RangeError('nope');\n}\nf();\n",
			code:      1,
			stderrHas: []string{"Uncaught (in promise) RangeError: nope\n    at f ({{path}}:2:9)"},
		},
		{
			name:      "syntax error",
			src:       "const a = 1;\nconst b = a +* 2;\n",
			code:      2,
			stderrHas: []string{"{{path}}:2:14: SyntaxError: Unexpected \"*\"\n    const b = a +* 2;\n                 ^\n"},
			stderrNot: []string{"Uncaught"},
		},
		{
			name:      "syntax error in TypeScript",
			src:       "let x: number = 1;\nlet y: = 2;\n",
			ext:       ".ts",
			code:      2,
			stderrHas: []string{"{{path}}:2:8: SyntaxError:", "    let y: = 2;\n           ^\n"},
		},
		{
			name:   "process.exit",
			src:    "console.log('a'); process.exit(7); console.log('b');",
			code:   7,
			stdout: "a\n",
		},
		{
			name: "process.exit in a callback with timers pending",
			src:  "setInterval(() => {}, 1000); setTimeout(() => process.exit(3), 1);",
			code: 3,
		},
		{
			name:   "process.exitCode",
			src:    "process.exitCode = 4; setTimeout(() => console.log('done'), 1);",
			code:   4,
			stdout: "done\n",
		},
		{
			name:      "timeout",
			src:       "setInterval(() => {}, 1000);",
			flags:     []string{"--timeout", "200ms"},
			code:      1,
			stderrHas: []string{"timed out after 200ms"},
		},
		{
			name:      "timeout of a busy script",
			src:       "for (;;) {}",
			flags:     []string{"--timeout=200ms"},
			code:      1,
			stderrHas: []string{"timed out after 200ms"},
		},
		{
			name:      "missing module",
			src:       "require('./not-here');",
			code:      1,
			stderrHas: []string{"Uncaught Error: Cannot find module './not-here'", "code: 'MODULE_NOT_FOUND'"},
			stderrNot: []string{"GoError", "github.com/"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ext := tc.ext
			if ext == "" {
				ext = ".js"
			}
			path := WriteScript(t, "script"+ext, tc.src)
			args := append(append([]string{"run"}, tc.flags...), path)
			res := RunArgs(t, args...)
			if res.Code != tc.code {
				t.Errorf("exit code: got %d, want %d\n%s", res.Code, tc.code, res)
			}
			if res.Stdout != tc.stdout {
				t.Errorf("stdout: got %q, want %q", res.Stdout, tc.stdout)
			}
			for _, want := range tc.stderrHas {
				want = strings.ReplaceAll(want, "{{path}}", path)
				if !strings.Contains(res.Stderr, want) {
					t.Errorf("stderr: got\n%s\nwant it to contain\n%s", res.Stderr, want)
				}
			}
			for _, bad := range tc.stderrNot {
				if strings.Contains(res.Stderr, bad) {
					t.Errorf("stderr: got\n%s\nwant no %q", res.Stderr, bad)
				}
			}
			if tc.code == 0 && res.Stderr != "" {
				t.Errorf("stderr: got %q, want nothing", res.Stderr)
			}
		})
	}
}

func TestCLIUsageErrors(t *testing.T) {
	t.Parallel()
	script := WriteScript(t, "ok.js", "console.log('should not run')")
	for _, tc := range []struct {
		name      string
		args      []string
		stderrHas string
	}{
		{"no command", nil, "Usage:"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"bad flag", []string{"run", "--bogus", script}, "unknown flag: --bogus"},
		{"bad flag value", []string{"run", "--timeout", "soon", script}, "--timeout"},
		{"missing script argument", []string{"run"}, "missing script path"},
		{"missing file", []string{"run", filepath.Join(t.TempDir(), "nope.js")}, "no such file"},
		{"directory", []string{"run", t.TempDir()}, "is a directory"},
		{"cpuprofile in a missing directory", []string{"run", "--cpuprofile", filepath.Join(t.TempDir(), "no", "cpu.prof"), script}, "--cpuprofile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := RunArgs(t, tc.args...)
			if res.Code != 2 {
				t.Errorf("exit code: got %d, want 2\n%s", res.Code, res)
			}
			if !strings.Contains(res.Stderr, tc.stderrHas) {
				t.Errorf("stderr: got\n%s\nwant it to contain %q", res.Stderr, tc.stderrHas)
			}
			if res.Stdout != "" {
				t.Errorf("stdout: got %q, want nothing", res.Stdout)
			}
		})
	}
}

func TestCLIHelpAndVersion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		has  []string
	}{
		{[]string{"--help"}, []string{"Usage:", "amqpjs run", "amqpjs version"}},
		{[]string{"help"}, []string{"Usage:", "amqpjs run"}},
		{[]string{"run", "--help"}, []string{"Usage: amqpjs run", "--url", "--timeout", "130"}},
		{[]string{"help", "run"}, []string{"Usage: amqpjs run", "--timeout"}},
		{[]string{"version"}, []string{"amqpjs "}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			res := RunArgs(t, tc.args...)
			if res.Code != 0 {
				t.Errorf("exit code: got %d, want 0\n%s", res.Code, res)
			}
			for _, want := range tc.has {
				if !strings.Contains(res.Stdout, want) {
					t.Errorf("stdout: got\n%s\nwant it to contain %q", res.Stdout, want)
				}
			}
		})
	}
	res := RunArgs(t, "version")
	if !regexp.MustCompile(`^amqpjs \S+\n$`).MatchString(res.Stdout) {
		t.Errorf("version: got %q, want \"amqpjs <version>\\n\"", res.Stdout)
	}
}

// TestCLISigint: Ctrl-C ends a script that would run forever with exit code
// 130, whether it waits on a timer or spins in JavaScript.
func TestCLISigint(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src string }{
		{"idle", "setInterval(() => {}, 1000);\nconsole.log('ready');\n"},
		{"busy", "console.log('ready');\nsetImmediate(() => { for (;;) {} });\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := WriteScript(t, "forever.js", tc.src)
			p := Start(t, Opts{Args: []string{"run", path}})
			p.WaitFor("ready", func() bool { return strings.Contains(p.Stdout(), "ready") })
			p.Signal(os.Interrupt)
			res := p.Wait()
			if res.Code != 130 {
				t.Errorf("exit code: got %d, want 130\n%s", res.Code, res)
			}
			if !strings.Contains(res.Stderr, "interrupted") {
				t.Errorf("stderr: got %q, want it to mention the interrupt", res.Stderr)
			}
		})
	}
}

// TestCLIStackPositionsTypeScript: stack frames of a .ts file point at the
// user's source (types stripped before the line), with 1-based columns as
// Node prints them.
func TestCLIStackPositionsTypeScript(t *testing.T) {
	t.Parallel()
	src := "type N = number;\n" +
		"interface Opts { label?: string }\n" +
		"function fail(n: N, opts: Opts = {}): never {\n" +
		"  const msg: string = `boom ${n} ${opts.label ?? ''}`; throw new Error(msg);\n" +
		"}\n" +
		"class Runner<T> {\n" +
		"  constructor(private readonly value: T) {}\n" +
		"  run(): void { fail(this.value as unknown as N, { label: 'x' }); }\n" +
		"}\n" +
		"const r: Runner<number> = new Runner<number>(7);\n" +
		"    r.run();\n"
	res, path := RunScript(t, "stack.ts", src)
	if res.Code != 1 {
		t.Fatalf("exit code: got %d, want 1\n%s", res.Code, res)
	}
	want := path + ":4\n" +
		"  const msg: string = `boom ${n} ${opts.label ?? ''}`; throw new Error(msg);\n" +
		"                                                             ^\n" +
		"\n" +
		"Uncaught Error: boom 7 x\n" +
		"    at fail (" + path + ":4:62)\n" +
		"    at run (" + path + ":8:17)\n" +
		"    at " + path + ":11:7\n"
	if res.Stderr != want {
		t.Errorf("stderr:\ngot:\n%s\nwant:\n%s", res.Stderr, want)
	}
}

// TestCLIArgv: argv[1] is the script's absolute path (also when given
// relative), followed by the arguments after --.
func TestCLIArgv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "console.log(JSON.stringify(process.argv.slice(1)));\nconsole.log(process.argv[0].includes('amqpjs'));\n"
	if err := os.WriteFile(filepath.Join(dir, "argv.js"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "argv.js")
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no args", []string{"run", "argv.js"}, `["` + abs + `"]`},
		{"args after --", []string{"run", "argv.js", "--", "one", "two words", "--flag", "-x", ""}, `["` + abs + `","one","two words","--flag","-x",""]`},
		{"flags before the script", []string{"run", "--timeout", "1m", "./argv.js", "--", "a"}, `["` + abs + `","a"]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := Run(t, Opts{Args: tc.args, Dir: dir})
			if res.Code != 0 {
				t.Fatalf("exit code: got %d, want 0\n%s", res.Code, res)
			}
			if want := tc.want + "\ntrue\n"; res.Stdout != want {
				t.Errorf("stdout: got %q, want %q", res.Stdout, want)
			}
		})
	}
}

// TestCLICPUProfile: --cpuprofile writes a pprof profile (gzip-compressed
// protobuf) of the whole run, also when the script fails.
func TestCLICPUProfile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		code      int
	}{
		{"success", "let s = 0; for (let i = 0; i < 2e6; i++) s += i; console.log(s > 0);", 0},
		{"uncaught error", "throw new Error('boom');", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			script := WriteScript(t, "busy.js", tc.src)
			prof := filepath.Join(t.TempDir(), "cpu.prof")
			res := RunArgs(t, "run", "--cpuprofile", prof, script)
			if res.Code != tc.code {
				t.Fatalf("exit code: got %d, want %d\n%s", res.Code, tc.code, res)
			}
			b, err := os.ReadFile(prof)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
				t.Errorf("%s: %d bytes, not a gzip-compressed pprof profile", prof, len(b))
			}
		})
	}
}

func TestCLIEnv(t *testing.T) {
	t.Parallel()
	path := WriteScript(t, "env.js", "console.log(process.env.AMQPJS_E2E_VALUE, process.env.AMQPJS_E2E_MISSING);")
	res := Run(t, Opts{Args: []string{"run", path}, Env: []string{"AMQPJS_E2E_VALUE=hello=world"}})
	if res.Code != 0 || res.Stdout != "hello=world undefined\n" {
		t.Errorf("got %s, want stdout %q", res, "hello=world undefined\n")
	}
}

func TestCLIConsoleFormat(t *testing.T) {
	t.Parallel()
	src := `
console.log('%s|%d|%i|%f|%j|%o|%%', 'str', 42.5, 42.5, '3.5', { a: [1, { b: 2 }] }, { a: 1 });
console.log({ s: 'x', n: 1, b: true, u: undefined, nl: null, arr: [1, 'two', [3]], nested: { a: { b: { c: { d: 1 } } } } });
console.log(new Map([['k', { v: 1 }]]), new Set([1, 'a']), Buffer.from('hi'), [undefined, null, -0, 1n]);
console.log('%s', 'only', 'extra', 5, { k: 'v' });
console.error('to %s', 'stderr', { e: 1 });
`
	res, _ := RunScript(t, "console.js", src)
	if res.Code != 0 {
		t.Fatalf("exit code: got %d, want 0\n%s", res.Code, res)
	}
	want := "str|42.5|42|3.5|{\"a\":[1,{\"b\":2}]}|{ a: 1 }|%\n" +
		"{\n" +
		"  s: 'x',\n" +
		"  n: 1,\n" +
		"  b: true,\n" +
		"  u: undefined,\n" +
		"  nl: null,\n" +
		"  arr: [ 1, 'two', [ 3 ] ],\n" +
		"  nested: { a: { b: [Object] } }\n" +
		"}\n" +
		"Map(1) { 'k' => { v: 1 } } Set(2) { 1, 'a' } <Buffer 68 69> [ undefined, null, -0, 1n ]\n" +
		"only extra 5 { k: 'v' }\n"
	if res.Stdout != want {
		t.Errorf("stdout:\ngot:\n%s\nwant:\n%s", res.Stdout, want)
	}
	if res.Stderr != "to stderr { e: 1 }\n" {
		t.Errorf("stderr: got %q, want %q", res.Stderr, "to stderr { e: 1 }\n")
	}
}

// TestCLIModules runs a small ESM + TypeScript + JSON program with
// top-level await through the binary.
func TestCLIModules(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"main.mjs":      "import { double } from './lib/math.ts';\nimport cfg from './cfg.json';\nimport { setTimeout as sleep } from 'node:timers/promises';\nconst v = await sleep(1, double(cfg.n));\nconsole.log(v);\n",
		"lib/math.ts":   "export function double(n: number): number { return n * 2; }\n",
		"cfg.json":      `{"n": 21}`,
		"cjs/index.cjs": "module.exports = 1;\n",
	}
	testutil.WriteFiles(t, dir, files)
	res := RunArgs(t, "run", filepath.Join(dir, "main.mjs"))
	if res.Code != 0 || res.Stdout != "42\n" {
		t.Errorf("got %s, want stdout 42", res)
	}
}

// BenchmarkEmptyScript measures a whole run of the binary on an empty
// script (start-up, compile, loop, exit) and reports the median.
func BenchmarkEmptyScript(b *testing.B) {
	path := WriteScript(b, "empty.js", "")
	durations := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res := RunArgs(b, "run", path)
		durations = append(durations, time.Since(start))
		if res.Code != 0 {
			b.Fatalf("run: %s", res)
		}
	}
	b.StopTimer()
	sort.Slice(durations, func(i, j int) bool { return durations[i] < durations[j] })
	b.ReportMetric(float64(durations[len(durations)/2].Microseconds())/1000, "median-ms")
}
