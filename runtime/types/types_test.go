package types_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/bindings"
	btypes "github.com/amqpjs/amqpjs/bindings/types"
	"github.com/amqpjs/amqpjs/internal/brokermetrics"
	"github.com/amqpjs/amqpjs/internal/dtscheck"
	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
	"github.com/amqpjs/amqpjs/runtime/types"
)

// defs parses every shipped .d.ts: the runtime's and aioamqp's.
func defs(t *testing.T) *dtscheck.File {
	t.Helper()
	var srcs []string
	for _, fsys := range []fs.FS{types.FS, btypes.FS} {
		names, err := fs.Glob(fsys, "*.d.ts")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			b, err := fs.ReadFile(fsys, n)
			if err != nil {
				t.Fatal(err)
			}
			srcs = append(srcs, string(b))
		}
	}
	f, err := dtscheck.Parse(srcs...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// newRuntime makes a runtime with every module `amqpjs run` registers.
func newRuntime(t *testing.T) *runtime.Runtime {
	t.Helper()
	rt := runtime.New(runtime.Options{})
	bindings.Register(rt, bindings.Options{})
	scenario.RegisterModule(rt, metrics.NewRegistry())
	return rt
}

func eval(t *testing.T, vm *goja.Runtime, src string) goja.Value {
	t.Helper()
	v, err := vm.RunString(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// intrinsic are the own properties every function has.
var intrinsic = dtscheck.Set("length", "name", "prototype", "constructor", "arguments", "caller")

// ownNames lists an object's own property names and well-known symbol keys
// ("[Symbol.iterator]"), leaving out internal names ("_x", "__amqpjs_x",
// other symbols) and, for functions and prototypes, the intrinsic ones.
func ownNames(t *testing.T, vm *goja.Runtime, v goja.Value) []string {
	t.Helper()
	o := v.ToObject(vm)
	_, isFn := goja.AssertFunction(v)
	isProto := o.Get("constructor") != nil && func() bool {
		c, ok := o.Get("constructor").(*goja.Object)
		return ok && c.Get("prototype") != nil && c.Get("prototype").SameAs(o)
	}()
	var out []string
	for _, k := range o.GetOwnPropertyNames() {
		if strings.HasPrefix(k, "_") || ((isFn || isProto) && intrinsic[k]) {
			continue
		}
		out = append(out, k)
	}
	if err := vm.Set("__o", o); err != nil {
		t.Fatal(err)
	}
	for _, d := range eval(t, vm, "Object.getOwnPropertySymbols(__o).map(s => String(s.description))").Export().([]any) {
		if s := d.(string); strings.HasPrefix(s, "Symbol.") {
			out = append(out, "["+s+"]")
		}
	}
	return out
}

// same and members are dtscheck's, messages naming runtime/types and the runtime.
var (
	same    = dtscheck.Checker{Defs: "runtime/types", Impl: "the runtime"}.Same
	members = dtscheck.MustMembers
)

func statics(t *testing.T, f *dtscheck.File, s *dtscheck.Scope, name string) map[string]bool {
	t.Helper()
	m, err := f.Statics(s, name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// wrapperNames are the variables of a module's wrapper function, declared
// as globals for editors but not properties of globalThis.
var wrapperNames = []string{"module", "exports", "__filename", "__dirname"}

func TestGlobals(t *testing.T) {
	f := defs(t)
	rt := newRuntime(t)
	vm := rt.VM()
	base := dtscheck.Set(goja.New().GlobalObject().GetOwnPropertyNames()...)
	var real []string
	for _, k := range vm.GlobalObject().GetOwnPropertyNames() {
		if !base[k] && !strings.HasPrefix(k, "__amqpjs") {
			real = append(real, k)
		}
	}
	declared := map[string]bool{}
	for k := range f.Global.Values {
		declared[k] = true
	}
	for _, w := range wrapperNames {
		if !declared[w] {
			t.Errorf("%s is not declared", w)
		}
		delete(declared, w)
	}
	same(t, "globals", real, declared)

	// The wrapper's variables exist in a module.
	var out strings.Builder
	rt2 := runtime.New(runtime.Options{Stdout: &out})
	_, err := rt2.RunSource(context.Background(), filepath.Join(t.TempDir(), "m.js"),
		"console.log(typeof module.exports, typeof exports, typeof __filename, typeof __dirname)")
	if err != nil || out.String() != "object object string string\n" {
		t.Errorf("module wrapper variables: %v %q", err, out.String())
	}
}

func TestGlobalObjects(t *testing.T) {
	f := defs(t)
	vm := newRuntime(t).VM()
	g := f.Global
	checks := []struct{ expr, iface string }{
		{"console", "Console"},
		{"process", "Process"},
		{"process.stdout", "ProcessWriteStream"},
		{"process.stderr", "ProcessWriteStream"},
		{"process.hrtime", "HRTime"},
		{"process.memoryUsage()", "MemoryUsage"},
		{"process.cpuUsage()", "CpuUsage"},
		{"performance", "Performance"},
		{"Object.getPrototypeOf(setTimeout(() => {}, 1))", "Timeout"},
		{"Object.getPrototypeOf(setImmediate(() => {}))", "Timeout"},
		{"new TextEncoder()", "TextEncoder"},
		{"new TextDecoder()", "TextDecoder"},
		{"URL.prototype", "URL"},
		{"URLSearchParams.prototype", "URLSearchParams"},
		{"Buffer.prototype", "Buffer"},
		{"Buffer", "BufferConstructor"},
	}
	for _, c := range checks {
		same(t, c.expr, ownNames(t, vm, eval(t, vm, c.expr)), members(t, f, g, c.iface))
	}
	for _, class := range []string{"URL", "URLSearchParams", "TextEncoder", "TextDecoder"} {
		same(t, class+" (static)", ownNames(t, vm, eval(t, vm, class)), statics(t, f, g, class))
	}
	eval(t, vm, "clearTimeout(1); clearImmediate(2)")
}

// candidateModules are the names a script might require: Node's built-in
// modules and amqpjs's own. Every one that loads must be declared.
var candidateModules = []string{
	"assert", "assert/strict", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
	"crypto", "dgram", "diagnostics_channel", "dns", "dns/promises", "domain", "events", "fs", "fs/promises",
	"http", "http2", "https", "inspector", "module", "net", "os", "path", "path/posix", "path/win32",
	"perf_hooks", "process", "punycode", "querystring", "readline", "readline/promises", "repl", "stream",
	"stream/promises", "stream/web", "string_decoder", "sys", "timers", "timers/promises", "tls",
	"trace_events", "tty", "url", "util", "util/types", "v8", "vm", "wasi", "worker_threads", "zlib",
	"aioamqp", "amqpjs/metrics", "metrics", "amqpjs/rabbitmq", "amqpjs/faults",
}

func TestModules(t *testing.T) {
	f := defs(t)
	rt := newRuntime(t)
	vm := rt.VM()
	var loadable []string
	for _, n := range candidateModules {
		for _, name := range []string{n, "node:" + n} {
			if _, err := rt.Require(name); err == nil {
				loadable = append(loadable, name)
			}
		}
	}
	declared := map[string]bool{}
	for name := range f.Modules {
		declared[name] = true
	}
	same(t, "modules", loadable, declared)

	byInterface := map[string]string{"console": "Console", "process": "Process"}
	for _, name := range loadable {
		if name == "aioamqp" || name == "node:aioamqp" || name == bindings.RabbitMQModuleName || name == "node:"+bindings.RabbitMQModuleName {
			continue // bindings/types checks it
		}
		v, err := rt.Require(name)
		if err != nil {
			t.Fatal(err)
		}
		if iface, ok := byInterface[name]; ok {
			same(t, "module '"+name+"'", ownNames(t, vm, v), members(t, f, f.Global, iface))
			continue
		}
		same(t, "module '"+name+"'", ownNames(t, vm, v), f.ModuleValues(name))
	}
}

func TestModuleObjects(t *testing.T) {
	f := defs(t)
	vm := newRuntime(t).VM()
	util, tp, mx := f.Module("util"), f.Module("timers/promises"), f.Module("amqpjs/metrics")
	assertNS := f.Module("assert").Namespaces["assert"]
	checks := []struct {
		expr  string
		scope *dtscheck.Scope
		iface string
	}{
		{"require('util').inspect", util, "Inspect"},
		{"require('util').types", util, "UtilTypes"},
		{"require('util').inspect.defaultOptions", util, "InspectOptions"},
		{"require('timers/promises').scheduler", tp, "Scheduler"},
		{"(() => { try { require('assert').strictEqual(1, 2) } catch (e) { return e } })()", assertNS, "AssertionError"},
		{"new (require('amqpjs/metrics').Counter)('c')", mx, "Counter"},
		{"new (require('amqpjs/metrics').Gauge)('g')", mx, "Gauge"},
		{"new (require('amqpjs/metrics').Rate)('r')", mx, "Rate"},
		{"new (require('amqpjs/metrics').Trend)('t', true)", mx, "Trend"},
	}
	for _, c := range checks {
		real := ownNames(t, vm, eval(t, vm, c.expr))
		if c.iface == "AssertionError" {
			real = append(real, "name", "message", "stack") // Error's, declared through extends
			real = dedup(real)
		}
		same(t, c.expr, real, members(t, f, c.scope, c.iface))
	}
	for _, class := range []string{"Counter", "Gauge", "Rate", "Trend"} {
		same(t, class+" (static)", ownNames(t, vm, eval(t, vm, "require('amqpjs/metrics')."+class)), statics(t, f, mx, class))
	}
}

func dedup(xs []string) []string {
	sort.Strings(xs)
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// TestScenarioOptions: the options interfaces declare the JSON names the
// scenario package reads (runtime/scenario/config.go).
func TestScenarioOptions(t *testing.T) {
	f := defs(t)
	mx := f.Module("amqpjs/metrics")
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "scenario", "config.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for iface, structName := range map[string]string{"ScenarioOptions": "options", "Stage": "stageJSON", "ThresholdObject": "thresholdObj"} {
		keys := jsonTags(t, file, structName)
		if iface == "ScenarioOptions" {
			// The keys of the samplers `amqpjs run` plugs in (scenario.Options.Samplers;
			// bindings/types/rabbitmq.d.ts adds it to ScenarioOptions).
			keys = append(keys, brokermetrics.Key)
		}
		same(t, iface+" (scenario."+structName+")", keys, members(t, f, mx, iface))
	}
	same(t, "Scenario (scenario.ScenarioKeys)", scenario.ScenarioKeys(), members(t, f, mx, "Scenario"))
}

func jsonTags(t *testing.T, file *ast.File, name string) []string {
	t.Helper()
	var out []string
	found := false
	ast.Inspect(file, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != name {
			return true
		}
		found = true
		for _, fl := range ts.Type.(*ast.StructType).Fields.List {
			if fl.Tag == nil {
				continue
			}
			tag, _ := strconv.Unquote(fl.Tag.Value)
			if j := reflect.StructTag(tag).Get("json"); j != "" && j != "-" {
				out = append(out, strings.Split(j, ",")[0])
			}
		}
		return false
	})
	if !found {
		t.Fatalf("no struct %s in runtime/scenario/config.go", name)
	}
	return out
}
