package runtime

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

// fixture returns the absolute path of a file under testdata/modules.
func fixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("testdata", "modules", filepath.FromSlash(name)))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestModules(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, main, want string
	}{
		{
			name: "CommonJS relative require",
			main: "cjs/main.js",
			want: "a true 1\n" +
				"1,2,3 true\n" +
				"b c from lib nested json\n" +
				"main.js lib/nested/b.js\n" +
				"lib/index.js\n",
		},
		{
			name: "ES modules",
			main: "esm/main.mjs",
			want: "hello esm X!\n" +
				"0\n" +
				"1 1\n" +
				"bump,counter,default,shout\n" +
				"json 2\n" +
				"commonjs commonjs\n" +
				"SIDE EFFECT!\n",
		},
		{
			name: "TypeScript",
			main: "ts/main.ts",
			want: "3 9 green n:none m:4\nboxed\n",
		},
		{
			name: "TypeScript imports without the .ts extension",
			main: "tsext/main.ts",
			want: "3 5 8\n",
		},
		{
			name: "top-level await in an ES module main",
			main: "tla/esm.mjs",
			want: "after sleep dep\nloop 1\nloop 2\n",
		},
		{
			name: "top-level await in a CommonJS main",
			main: "tla/cjs.js",
			want: "cjs after sleep cjs dep\ncaught at top level\n",
		},
		{
			name: "top-level await in a TypeScript main",
			main: "tla/main.ts",
			want: "waited 1\n",
		},
		{
			name: "built-in modules",
			main: "builtins/main.js",
			want: "true function true\n" +
				"AssertionError ERR_ASSERTION\n" +
				"AssertionError\n" +
				"boom\n" +
				"n=42 {\"k\":[1]}\n" +
				"{ a: [Object] }\n" +
				"6869 true true\n" +
				"slept\n",
		},
		{
			name: "missing modules throw catchable errors",
			main: "errors/missing.js",
			want: "true true MODULE_NOT_FOUND Cannot find module './nope'\n" +
				"true true MODULE_NOT_FOUND Cannot find module './nope.json'\n" +
				"true true MODULE_NOT_FOUND Cannot find module 'no-such-package'\n" +
				"true true MODULE_NOT_FOUND Cannot find module 'node:no-such-builtin'\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runPath(t, fixture(t, tc.main))
			if res.err != nil {
				t.Fatalf("run: %s\nstderr:\n%s", res.rt.FormatError(res.err), res.stderr)
			}
			wantOut(t, res.stdout, tc.want)
		})
	}
}

func TestModuleExports(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ main, key, want string }{
		{"esm/main.mjs", "fromMain", "1"},
		{"tla/esm.mjs", "done", "exported"},
	} {
		res := runPath(t, fixture(t, tc.main))
		if res.err != nil {
			t.Fatalf("%s: %v", tc.main, res.err)
		}
		m, _ := res.exports.(map[string]any)
		if got := fmt.Sprint(m[tc.key]); got != tc.want {
			t.Errorf("%s: exports.%s: got %q, want %q", tc.main, tc.key, got, tc.want)
		}
	}
}

func TestModuleErrors(t *testing.T) {
	t.Parallel()
	t.Run("missing import in an ES module", func(t *testing.T) {
		t.Parallel()
		res := runPath(t, fixture(t, "errors/missing-import.mjs"))
		msg := res.rt.FormatError(res.err)
		for _, want := range []string{"Uncaught Error: Cannot find module './sub/not-there.js'", "code: 'MODULE_NOT_FOUND'", "missing-import.mjs:1:19"} {
			if !strings.Contains(msg, want) {
				t.Errorf("FormatError: got\n%s\nwant it to contain %q", msg, want)
			}
		}
		if strings.Contains(msg, "GoError") || strings.Contains(msg, "github.com/") {
			t.Errorf("FormatError shows Go internals:\n%s", msg)
		}
		if code := res.rt.ExitCodeOf(res.err); code != ExitFailure {
			t.Errorf("exit code: got %d, want %d", code, ExitFailure)
		}
	})
	t.Run("syntax error in a required file", func(t *testing.T) {
		t.Parallel()
		res := runPath(t, fixture(t, "errors/requires-bad.js"))
		if res.err != nil {
			t.Fatalf("run: %v", res.err)
		}
		bad := fixture(t, "errors/sub/bad.js")
		want := "true ERR_SYNTAX\n" +
			bad + ":3:14: SyntaxError: Unexpected \"*\"\n" +
			"      return ok +* 2;\n" +
			"                 ^\n"
		wantOut(t, res.stdout, want)
	})
	for _, tc := range []struct {
		main string
		want string
	}{
		{
			main: "errors/main-bad.js",
			want: ":4:8: SyntaxError: Expected identifier but found \",\"\n" +
				"      b: 2,,\n" +
				"           ^",
		},
		{
			main: "errors/bad.ts",
			want: ":3:18: SyntaxError: Unexpected \";\"\n" +
				"    const w = v.a as ;\n" +
				"                     ^",
		},
		{
			main: "tla/in-dependency.mjs",
			want: "has-tla.mjs:1:1: SyntaxError: top-level await is only supported in the main script\n" +
				"    await Promise.resolve();\n" +
				"    ^",
		},
	} {
		t.Run("syntax error "+tc.main, func(t *testing.T) {
			t.Parallel()
			res := runPath(t, fixture(t, tc.main))
			if res.err == nil {
				t.Fatal("run: got nil, want a syntax error")
			}
			msg := res.rt.FormatError(res.err)
			if !strings.HasSuffix(msg, tc.want) {
				t.Errorf("FormatError: got\n%s\nwant it to end with\n%s", msg, tc.want)
			}
			if code := res.rt.ExitCodeOf(res.err); code != ExitUsage {
				t.Errorf("exit code: got %d, want %d", code, ExitUsage)
			}
		})
	}
	t.Run("main syntax error is a *SyntaxError", func(t *testing.T) {
		t.Parallel()
		res := runPath(t, fixture(t, "errors/main-bad.js"))
		se := errorAs[*SyntaxError](t, res.err)
		if se.File != fixture(t, "errors/main-bad.js") || se.Line != 4 || se.Column != 7 {
			t.Errorf("position: got %s:%d:%d, want main-bad.js:4:7 (0-based column)", se.File, se.Line, se.Column)
		}
	})
	t.Run("top-level await rejection", func(t *testing.T) {
		t.Parallel()
		res := runPath(t, fixture(t, "tla/reject.mjs"))
		errorAs[*UncaughtError](t, res.err)
		msg := res.rt.FormatError(res.err)
		want := "Uncaught Error: top-level await failed\n    at " + fixture(t, "tla/reject.mjs") + ":2:7"
		if msg != want {
			t.Errorf("FormatError: got\n%s\nwant\n%s", msg, want)
		}
	})
}

// TestRequireArgument: require with a non-string is a TypeError, not a Go error.
func TestRequireArgument(t *testing.T) {
	t.Parallel()
	out := mustRun(t, `
		try { require(42) } catch (e) { console.log(e instanceof TypeError, e.message) }
		try { require() } catch (e) { console.log(e instanceof TypeError) }`)
	wantOut(t, out, "true require: parameter 'id' must be a string, got a number\ntrue\n")
}

// TestStackPositions: positions in stacks and source excerpts are those of
// the user's file (1-based columns like Node), also in TypeScript where
// types were stripped before the line.
func TestStackPositions(t *testing.T) {
	t.Parallel()
	src := "type N = number;\n" + // 1
		"function f(n: N, label: string = 'x'): never {\n" + // 2
		"  const msg: string = `boom ${n} ${label}`; throw new Error(msg);\n" + // 3
		"}\n" + // 4
		"const o = { g(): void { f(1 as N); } };\n" + // 5
		"    o.g();\n" // 6
	dir := t.TempDir()
	testutil.WriteFiles(t, dir, map[string]string{"main.ts": src})
	path := filepath.Join(dir, "main.ts")
	res := runPath(t, path)
	msg := res.rt.FormatError(res.err)
	want := path + ":3\n" +
		"  const msg: string = `boom ${n} ${label}`; throw new Error(msg);\n" +
		"                                                  ^\n" +
		"\n" +
		"Uncaught Error: boom 1 x\n" +
		"    at f (" + path + ":3:51)\n" +
		"    at g (" + path + ":5:25)\n" +
		"    at " + path + ":6:7"
	if msg != want {
		t.Errorf("FormatError:\ngot:\n%s\nwant:\n%s", msg, want)
	}
}

func TestCleanStack(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"Error: x\n\tat f (/a/b.js:3:4(12))\n\tat /a/b.js:5:0(3)\n", "Error: x\n    at f (/a/b.js:3:5)\n    at /a/b.js:5:1\n"},
		{"Error: x\n\tat amqpjs:assert.js:10:5(7)\n\tat /a.js:1:0(1)\n", "Error: x\n    at /a.js:1:1\n"},
		{"E: y\n\tat makeIterator (amqpjs:aioamqp/prelude.js:3:4(5))\n\tat amqpjs:aioamqp/exceptions.js:28:12(9)\n", "E: y\n"},
		{"Error: x\n\tat github.com/amqpjs/amqpjs/runtime.(*Runtime).jsRequire-fm (native)\n\tat /a.js:1:0(1)\n", "Error: x\n    at /a.js:1:1\n"},
		{"Error: x\n\tat map (native)\n", "Error: x\n    at map (native)\n"},
	} {
		if got := CleanStack(tc.in); got != tc.want {
			t.Errorf("CleanStack(%q):\ngot  %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestShiftMappings(t *testing.T) {
	t.Parallel()
	for _, v := range []int{0, 1, -1, 15, 16, -16, 1000, -123456} {
		got, n, ok := decodeVLQ(encodeVLQ(v) + "X")
		if !ok || got != v || n != len(encodeVLQ(v)) {
			t.Errorf("VLQ round trip of %d: got %d (%d bytes, ok %v)", v, got, n, ok)
		}
	}
	// "AAAA" is a segment at generated column 0; "CAAC" is +1 relative.
	if got, want := shiftMappings("AAAA,CAAC;;IAAI"), "CAAA,CAAC;;KAAI"; got != want {
		t.Errorf("shiftMappings: got %q, want %q", got, want)
	}
}
