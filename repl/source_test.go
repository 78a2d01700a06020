package repl

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

func TestIncomplete(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  string
		want bool
	}{
		{"", false},
		{"1 + 1", false},
		{"function f() {", true},
		{"function f() {\n  return 1\n}", false},
		{"const x = await foo({", true},
		{"await channel.queue_declare('q', {\n  durable: true,", true},
		{"`multi", true},
		{"`multi\nline`", false},
		{"'unterminated", false}, // a string cannot span lines: an error, not more input
		{"/* comment", true},
		{"1 +", true},
		{"if (x) {", true},
		{"foo(", true},
		{"[1, 2", true},
		{"a.", true},
		{"class A {", true},
		{"let x =", true},
		{"x => ", true},
		{"}", false},
		{"let let", false},
		{"for await (const m of it) {", true},
		// From Node's test-repl.js.
		{"'the\\", true},    // a string continued with a backslash
		{"'the\\\\", false}, // an escaped backslash does not continue it
		{"'the\\\nfourth\\", true},
		{"[] \\", false}, // a backslash outside a string: an error
		{"a = 3.5e", false},
		{"{ \"a\": ", true},
		{"{ a: 1 }.a", false},
		{"{ a: 1 }.a;", false},
		{"x = {\nfield\n{", false},
		{"const n = foo(await", true},
		{"class Foo { #private = true ", true},
		{"/* '\n\"", true},
	} {
		if got := incomplete(tc.src); got != tc.want {
			t.Errorf("incomplete(%q) = %v, want %v", tc.src, got, tc.want)
		}
	}
}

// run evaluates the prepared entries one after the other in one VM, as the
// session does, awaiting async ones, and returns the last value.
func runEntries(t *testing.T, entries ...string) goja.Value {
	t.Helper()
	vm := goja.New()
	var v goja.Value
	for i, src := range entries {
		p, err := prepare(src, "REPL"+string(rune('1'+i)))
		if err != nil {
			t.Fatalf("prepare(%q): %v", src, err)
		}
		v, err = vm.RunScript("REPL", p.code)
		if err != nil {
			t.Fatalf("running %q: %v\n%s", src, err, p.code)
		}
		if p.async {
			pr, ok := v.Export().(*goja.Promise)
			if !ok {
				t.Fatalf("%q: async entry gave %v", src, v)
			}
			if pr.State() != goja.PromiseStateFulfilled {
				t.Fatalf("%q: promise %v: %v\n%s", src, pr.State(), pr.Result(), p.code)
			}
			v = pr.Result()
			if p.value {
				v = v.ToObject(vm).Get("value")
			}
		}
	}
	return v
}

func TestPrepareValues(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		entries []string
		want    any
	}{
		{[]string{"1 + 1"}, int64(2)},
		{[]string{"'a' + 'b'"}, "ab"}, // esbuild would drop it: the entry runs as typed
		{[]string{"-1"}, int64(-1)},
		{[]string{"{ a: 1 }.a"}, int64(1)}, // as Node: ({ a: 1 }.a)
		{[]string{"await 1; 2"}, int64(2)},
		{[]string{"await Promise.resolve(41) + 1"}, int64(42)},
		{[]string{"const x = await Promise.resolve(5)", "x * 2"}, int64(10)},
		{[]string{"let { a, b: [c] } = await Promise.resolve({ a: 1, b: [2] })", "a + c"}, int64(3)},
		{[]string{"var v = 1", "var v; await 0", "v"}, int64(1)}, // var without initialiser keeps the value
		{[]string{"let w = 1", "let w2; await 0; w2"}, nil},
		{[]string{"const q = (await Promise.resolve({ queue: 'amq.gen-1' })).queue", "q"}, "amq.gen-1"},
		{[]string{"var n = new Number(await 1)", "let o = new Object(), p = await 2", "n + p"}, int64(3)},
		{[]string{"async function f() { return 7 }\nawait f()", "f.name"}, "f"},
		{[]string{"class K { m() { return 3 } }\nawait 0", "new K().m()"}, int64(3)},
		{[]string{"const q = 1", "q + 1"}, int64(2)},
		{[]string{"for await (const n of [1, 2]) globalThis.last = n", "last"}, int64(2)},
		{[]string{"await 0;;"}, int64(0)}, // empty statements leave the completion value
		{[]string{"await (async () => 9)()"}, int64(9)},
		{[]string{"(await Promise.resolve({ n: 4 })).n"}, int64(4)},
		{[]string{"await 0; ((1), (2))"}, int64(2)},
		{[]string{"await 0;\n\n  (3)"}, int64(3)},
		{[]string{"await 0; (x => x + 1)(1)"}, int64(2)},
		{[]string{"await 0; /* c */ (5)"}, int64(5)},
		{[]string{"var await = 3; await"}, int64(3)}, // sloppy scripts may name a variable await
	} {
		v := runEntries(t, tc.entries...)
		var got any
		if v != nil && !goja.IsUndefined(v) {
			got = v.Export()
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %#v, want %#v", tc.entries, got, tc.want)
		}
	}
}

func TestPrepareObjectLiteral(t *testing.T) {
	t.Parallel()
	v := runEntries(t, "{ a: 1, b: 'x' }")
	o, ok := v.(*goja.Object)
	if !ok || o.Get("a").ToInteger() != 1 {
		t.Fatalf("{ a: 1, b: 'x' } gave %v", v)
	}
	// A block stays a block.
	if v := runEntries(t, "{ let inBlock = 2; inBlock * 3 }"); v.ToInteger() != 6 {
		t.Fatalf("block gave %v", v)
	}
}

func TestPrepareAsyncRewrite(t *testing.T) {
	t.Parallel()
	p, err := prepare("const [t, p] = await conn()\nfunction helper() {}\nclass C {}\np", "REPL1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.async {
		t.Fatal("not async")
	}
	if want := []string{"t", "p", "C"}; !reflect.DeepEqual(p.lexical, want) {
		t.Errorf("lexical: got %v, want %v", p.lexical, want)
	}
	for _, want := range []string{"var helper; let t, p, C; (async () => {\n", "void ( [t, p] = await conn())", `globalThis["helper"] = helper;`, "C = class C {};", "return { value: (p) }", "sourceMappingURL="} {
		if !strings.Contains(p.code, want) {
			t.Errorf("code lacks %q:\n%s", want, p.code)
		}
	}
	// Plain entries list their global lexical names, for completion.
	p, err = prepare("let a = 1, { b } = {}; const c = 2; class D {}; var e", "REPL2")
	if err != nil {
		t.Fatal(err)
	}
	if p.async || !reflect.DeepEqual(p.lexical, []string{"a", "b", "c", "D"}) {
		t.Errorf("plain entry: async %v, lexical %v", p.async, p.lexical)
	}
}

func TestPrepareSyntaxErrors(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"}", "let let", "1 +* 2", "await }"} {
		_, err := prepare(src, "REPL1")
		if err == nil {
			t.Errorf("prepare(%q): no error", src)
			continue
		}
		var se *runtime.SyntaxError
		var pe *parseError
		if !errors.As(err, &se) && !errors.As(err, &pe) {
			t.Errorf("prepare(%q): %T %v", src, err, err)
		}
		if syntaxMessage(err) == "" {
			t.Errorf("prepare(%q): empty message", src)
		}
	}
}

// Stack positions are those of the entry as typed (1-based columns, like
// Node's REPL), through the source map.
func TestPreparePositions(t *testing.T) {
	t.Parallel()
	vm := goja.New()
	for _, tc := range []struct{ src, want string }{
		{"function g() { throw new RangeError('deep') }\ng()", "at g (REPL7:1:22)"},
		{"function h() {\n  null.x\n}\nawait 0; h()", "at h (REPL7:2:"},
	} {
		p, err := prepare(tc.src, "REPL7")
		if err != nil {
			t.Fatal(err)
		}
		v, err := vm.RunScript("REPL7", p.code)
		var stack string
		if err != nil {
			var ex *goja.Exception
			if !errors.As(err, &ex) {
				t.Fatal(err)
			}
			stack = ex.Value().ToObject(vm).Get("stack").String()
		} else {
			pr := v.Export().(*goja.Promise)
			stack = pr.Result().ToObject(vm).Get("stack").String()
		}
		if got := runtime.CleanStack(stack); !strings.Contains(got, tc.want) {
			t.Errorf("%q: stack %q lacks %q", tc.src, got, tc.want)
		}
	}
}

func TestCompletionTarget(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line   string
		path   []string
		prefix string
		ok     bool
	}{
		{"", nil, "", true},
		{"aio", nil, "aio", true},
		{"await channel.que", []string{"channel"}, "que", true},
		{"channel.", []string{"channel"}, "", true},
		{"a.b.c", []string{"a", "b"}, "c", true},
		{"x = a?.b", []string{"a"}, "b", true},
		{"foo(channel.pub", []string{"channel"}, "pub", true},
		{"foo().bar", nil, "", false},
		{"arr[0].le", nil, "", false},
		{"'abc'.toUp", nil, "", false},
		{"'a.b", nil, "", false},
		{"1.to", nil, "", false},
		{"$x._y", []string{"$x"}, "_y", true},
	} {
		path, prefix, ok := completionTarget(tc.line)
		if ok != tc.ok || ok && (!reflect.DeepEqual(path, tc.path) && !(len(path) == 0 && len(tc.path) == 0) || prefix != tc.prefix) {
			t.Errorf("completionTarget(%q) = %v, %q, %v; want %v, %q, %v", tc.line, path, prefix, ok, tc.path, tc.prefix, tc.ok)
		}
	}
}

func TestParseCommand(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		line, cmd, arg string
		ok             bool
	}{
		{".exit", "exit", "", true},
		{"  .load  some file.js ", "load", "some file.js", true},
		{".editor", "editor", "", true},
		{".5 + 1", "", "", false},
		{"a.b", "", "", false},
		{"..", "", "", false},
		{"...[]", "", "", false},
		{".1+.1", "", "", false},
		{".invalid_repl_command", "invalid_repl_command", "", true}, // Invalid REPL keyword, as Node
		{".charAt(0))", "charAt(0))", "", true},                     // code in the middle of an entry
	} {
		cmd, arg, ok := parseCommand(tc.line)
		if cmd != tc.cmd || arg != tc.arg || ok != tc.ok {
			t.Errorf("parseCommand(%q) = %q, %q, %v", tc.line, cmd, arg, ok)
		}
	}
}

func FuzzPrepare(f *testing.F) {
	for _, s := range []string{"1", "await x", "const {a} = await b", "function f(){}", "{a:1}", "`x${1}`", "class A{}\nawait 0",
		"const q = (await ch.queue_declare('', {exclusive: true})).queue", "for await (var [i] of x) { if (i) { function f() {} } }",
		"let o = new X(), p = await (1); (p)", "l: for (var i in await o) break l"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		_ = incomplete(src)
		_, _, _ = completionTarget(src)
		p, err := prepare(src, "REPL1")
		if err == nil && p.async {
			// The rewrite of an entry that awaits compiles whenever the
			// entry compiles in an async function (for await aside, which
			// goes through esbuild).
			if _, cerr := goja.Compile("REPL1", p.code, false); cerr != nil {
				if _, werr := goja.Compile("", asyncOpen+src+asyncClose, false); werr == nil {
					t.Fatalf("prepare(%q) made code that does not compile: %v\n%s", src, cerr, p.code)
				}
			}
			return
		}
		if _, cerr := goja.Compile("REPL1", src, false); cerr != nil {
			return // not a plain script; prepare may still take it (await)
		}
		// A plain script that compiles must come out of prepare compiling.
		if err != nil {
			t.Fatalf("prepare(%q): %v", src, err)
		}
		if _, err := goja.Compile("REPL1", p.code, false); err != nil {
			t.Fatalf("prepare(%q) made code that does not compile: %v\n%s", src, err, p.code)
		}
	})
}
