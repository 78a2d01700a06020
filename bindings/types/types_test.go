package types_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/bindings/types"
	"github.com/amqpjs/amqpjs/internal/dtscheck"
	"github.com/amqpjs/amqpjs/runtime"
)

// defs parses aioamqp.d.ts (from the embedded FS, as shipped).
func defs(t *testing.T) (*dtscheck.File, *dtscheck.Scope) {
	t.Helper()
	return moduleDefs(t, "aioamqp.d.ts", "aioamqp")
}

// moduleDefs parses one shipped .d.ts and returns the module it declares.
func moduleDefs(t *testing.T, file, module string) (*dtscheck.File, *dtscheck.Scope) {
	t.Helper()
	src, err := types.FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	f, err := dtscheck.Parse(string(src))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	m := f.Module(module)
	if m == nil {
		t.Fatalf("%s declares no module '%s'", file, module)
	}
	return f, m
}

// same and members are dtscheck's, messages naming aioamqp.d.ts and the bindings.
var (
	same    = dtscheck.Checker{Defs: "aioamqp.d.ts", Impl: "the bindings"}.Same
	members = dtscheck.MustMembers
)

// ownNames lists an object's own property names and symbol keys (as
// "[Symbol.x]"), leaving out names starting with "_" (internal).
func ownNames(vm *goja.Runtime, o *goja.Object) []string {
	var out []string
	for _, k := range o.GetOwnPropertyNames() {
		if !strings.HasPrefix(k, "_") {
			out = append(out, k)
		}
	}
	syms, err := vm.RunString("(o) => Object.getOwnPropertySymbols(o).map(s => s.description)")
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(syms)
	v, err := fn(goja.Undefined(), o)
	if err != nil {
		panic(err)
	}
	for _, d := range v.Export().([]any) {
		// Symbols described "amqpjs.…" are the runtime's own slots
		// (non-enumerable, read-only; e.g. the faults module's link from a
		// protocol to its connection), like the "_" names above.
		if !strings.HasPrefix(d.(string), "amqpjs.") {
			out = append(out, "["+d.(string)+"]")
		}
	}
	return out
}

// newModule requires aioamqp in a runtime with the bindings registered.
func newModule(t *testing.T) (*runtime.Runtime, *goja.Object) {
	t.Helper()
	return requireModule(t, bindings.ModuleName)
}

// requireModule requires module name in a runtime with the bindings
// registered.
func requireModule(t *testing.T, name string) (*runtime.Runtime, *goja.Object) {
	t.Helper()
	rt := runtime.New(runtime.Options{})
	bindings.Register(rt, bindings.Options{})
	v, err := rt.Require(name)
	if err != nil {
		t.Fatal(err)
	}
	return rt, v.ToObject(rt.VM())
}

func TestModuleExports(t *testing.T) {
	f, m := defs(t)
	rt, exports := newModule(t)
	vm := rt.VM()
	same(t, "module 'aioamqp'", ownNames(vm, exports), f.ModuleValues("aioamqp"))
	node, err := rt.Require("node:" + bindings.ModuleName)
	if err != nil {
		t.Fatal(err)
	}
	same(t, "module 'node:aioamqp'", ownNames(vm, node.ToObject(vm)), f.ModuleValues("node:aioamqp"))
	same(t, "aioamqp.exceptions", ownNames(vm, exports.Get("exceptions").ToObject(vm)), members(t, f, m, "Exceptions"))
}

// excArgs are constructor arguments for each exception class.
var excArgs = map[string]string{
	"AioamqpException":     "'m', 1",
	"AmqpClosedConnection": "'m', 320",
	"ChannelClosed":        "406, 'm'",
	"DuplicateConsumerTag": "'tag'",
	"ConsumerCancelled":    "'tag'",
	"EmptyQueue":           "",
	"NoChannelAvailable":   "",
	"PublishFailed":        "7",
	"SynchronizationError": "",
	"TimeoutError":         "1.5",
}

func eval(t *testing.T, vm *goja.Runtime, src string) goja.Value {
	t.Helper()
	v, err := vm.RunString(src)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	return v
}

// Each exception class: the fields of an instance are the class's declared
// members (with those of its bases and Error's).
func TestExceptionClasses(t *testing.T) {
	f, m := defs(t)
	rt, exports := newModule(t)
	vm := rt.VM()
	args := excArgs
	excs := exports.Get("exceptions").ToObject(vm)
	for _, name := range excs.Keys() {
		a, ok := args[name]
		if !ok {
			t.Errorf("exception %s: no constructor arguments in this test; add them", name)
			continue
		}
		if err := vm.Set("__C", excs.Get(name)); err != nil {
			t.Fatal(err)
		}
		v, err := vm.RunString("new __C(" + a + ")")
		if err != nil {
			t.Fatalf("new %s(%s): %v", name, a, err)
		}
		o := v.ToObject(vm)
		real := ownNames(vm, o)
		real = append(real, "name") // on the prototype
		// Error's message and stack are declared through "extends Error";
		// an optional member (code?) may be absent.
		undeclared, _ := dtscheck.Diff(real, members(t, f, m, name))
		required, err := f.Required(m, name)
		if err != nil {
			t.Fatal(err)
		}
		_, extra := dtscheck.Diff(real, required)
		if len(undeclared) > 0 || len(extra) > 0 {
			t.Errorf("new %s(): not declared: %v; declared but missing: %v", name, undeclared, extra)
		}
		if !f.Type(m, name).Class {
			t.Errorf("%s is not declared as a class", name)
		}
	}
}

// The message and iterator objects of channel.consume() come from the
// module's prelude; evaluate it as the module does and look at them.
func TestMessageAndIterator(t *testing.T) {
	f, m := defs(t)
	rt, exports := newModule(t)
	vm := rt.VM()
	msg, it := preludeObjects(t, rt, exports)
	same(t, "channel.consume() message", ownNames(vm, msg), members(t, f, m, "Message"))
	same(t, "channel.consume() iterator", ownNames(vm, it), members(t, f, m, "ConsumeIterator"))
}

// preludeObjects makes a consume() message and iterator with the module's
// prelude, as the bindings do.
func preludeObjects(t *testing.T, rt *runtime.Runtime, exports *goja.Object) (msg, it *goja.Object) {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "js", "prelude.js"))
	if err != nil {
		t.Fatal(err)
	}
	vm := rt.VM()
	pv, err := vm.RunScript("prelude.js", string(src))
	if err != nil {
		t.Fatal(err)
	}
	pf, _ := goja.AssertFunction(pv)
	prelude, err := pf(goja.Undefined(), exports.Get("exceptions"))
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.Set("__prelude", prelude); err != nil {
		t.Fatal(err)
	}
	msgV := eval(t, vm, "__prelude.message({}, Buffer.from('x'), { delivery_tag: 1 }, {})")
	itV := eval(t, vm, "__prelude.makeIterator({}, 'tag', () => Promise.resolve()).iter")
	return msgV.ToObject(vm), itV.ToObject(vm)
}

// source parses a file of the bindings.
func source(t *testing.T, name string) *ast.File {
	t.Helper()
	file, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", name), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

func funcDecl(t *testing.T, file *ast.File, name string) *ast.FuncDecl {
	t.Helper()
	for _, d := range file.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Name == name {
			return fd
		}
	}
	t.Fatalf("no func %s", name)
	return nil
}

func strLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

// setNames lists the names an object gets in fn: the string literals named
// by obj.Set("x", …) and setMethod(vm, obj, "x", …) calls, and by
// getter("x", …) calls when getter is true (the local helper that defines
// accessors on that object).
func setNames(fn *ast.FuncDecl, obj string, getter bool) []string {
	var out []string
	isObj := func(e ast.Expr) bool {
		x, ok := e.(*ast.Ident)
		return ok && x.Name == obj
	}
	ast.Inspect(fn, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		var name ast.Expr
		switch f := call.Fun.(type) {
		case *ast.SelectorExpr:
			if isObj(f.X) && f.Sel.Name == "Set" {
				name = call.Args[0]
			}
		case *ast.Ident:
			switch {
			case getter && f.Name == "getter":
				name = call.Args[0]
			case f.Name == "setMethod" && len(call.Args) >= 3 && isObj(call.Args[1]):
				name = call.Args[2]
			}
		}
		if name != nil {
			if s, ok := strLit(name); ok {
				out = append(out, s)
			}
		}
		return true
	})
	return out
}

// stringSlice returns the elements of the package-level []string var name.
func stringSlice(t *testing.T, file *ast.File, name string) []string {
	t.Helper()
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, s := range gd.Specs {
			vs, ok := s.(*ast.ValueSpec)
			if !ok || len(vs.Names) != 1 || vs.Names[0].Name != name || len(vs.Values) != 1 {
				continue
			}
			cl, ok := vs.Values[0].(*ast.CompositeLit)
			if !ok {
				t.Fatalf("%s is not a literal", name)
			}
			var out []string
			for _, e := range cl.Elts {
				if s, ok := strLit(e); ok {
					out = append(out, s)
				}
			}
			return out
		}
	}
	t.Fatalf("no var %s", name)
	return nil
}

// TestObjectsFromSource checks the objects that need a broker to exist
// (protocol, transport, channel, envelopes, results) against what the
// bindings' source sets on them; the integration test checks the live
// objects.
func TestObjectsFromSource(t *testing.T) {
	f, m := defs(t)
	channelGo, connectGo, consumeGo, deliveryGo := source(t, "channel.go"), source(t, "connect.go"), source(t, "consume.go"), source(t, "delivery.go")

	chNames := stringSlice(t, channelGo, "channelMethodNames")
	chNames = append(chNames, setNames(funcDecl(t, channelGo, "newChannel"), "o", true)...)
	same(t, "channel (channelMethodNames and newChannel)", chNames, members(t, f, m, "Channel"))

	open := funcDecl(t, connectGo, "open")
	same(t, "protocol (connection.open)", setNames(open, "proto", true), members(t, f, m, "Protocol"))
	same(t, "transport (connection.open)", setNames(open, "transport", false), members(t, f, m, "Transport"))

	same(t, "envelope (envelopeKeys)", stringSlice(t, deliveryGo, "envelopeKeys"), members(t, f, m, "Envelope"))
	same(t, "return envelope (channel.returned)", setNames(funcDecl(t, channelGo, "returned"), "env", false), members(t, f, m, "ReturnEnvelope"))
	props := stringSlice(t, deliveryGo, "propertyOrder")
	same(t, "received properties (propertyOrder)", props, members(t, f, m, "ReceivedProperties"))
	same(t, "publish properties (propertyOrder)", props, members(t, f, m, "Properties"))

	results := map[string][]string{
		"QueueDeclareResult": setNames(funcDecl(t, channelGo, "queueDeclare"), "o", false),
		"QueuePurgeResult":   setNames(funcDecl(t, channelGo, "queuePurge"), "o", false),
		"BasicGetResult":     setNames(funcDecl(t, channelGo, "basicGet"), "o", false),
		"FlowResult":         setNames(funcDecl(t, channelGo, "flow"), "o", false),
		"ConsumerTagResult":  setNames(funcDecl(t, channelGo, "basicCancel"), "o", false),
	}
	for iface, names := range results {
		same(t, iface, names, members(t, f, m, iface))
	}
	same(t, "ConsumerTagResult (startConsumer)", setNames(funcDecl(t, consumeGo, "startConsumer"), "o", false), members(t, f, m, "ConsumerTagResult"))

	// connect's ssl object: the cases of its key switch.
	var ssl []string
	ast.Inspect(funcDecl(t, connectGo, "connect"), func(n ast.Node) bool {
		sw, ok := n.(*ast.SwitchStmt)
		if !ok {
			return true
		}
		if id, ok := sw.Tag.(*ast.Ident); !ok || id.Name != "k" {
			return true
		}
		for _, st := range sw.Body.List {
			for _, e := range st.(*ast.CaseClause).List {
				if s, ok := strLit(e); ok {
					ssl = append(ssl, s)
				}
			}
		}
		return false
	})
	same(t, "connect ssl options", ssl, members(t, f, m, "SSLOptions"))
}

// sigOptions maps each options interface to the signature variables
// (newSig calls) of the methods that take it.
var sigOptions = map[string][]string{
	"ConnectOptions":           {"connectSig"},
	"FromURLOptions":           {"fromURLSig"},
	"ChannelOptions":           {"channelOpenSig"},
	"ProtocolCloseOptions":     {"protoCloseSig"},
	"WaitClosedOptions":        {"waitClosedSig"},
	"QueueDeclareOptions":      {"queueDeclareSig"},
	"QueueDeleteOptions":       {"queueDeleteSig"},
	"QueueBindOptions":         {"queueBindSig"},
	"QueueUnbindOptions":       {"queueUnbindSig"},
	"QueuePurgeOptions":        {"queuePurgeSig"},
	"ExchangeDeclareOptions":   {"exchangeDeclareSig"},
	"ExchangeDeleteOptions":    {"exchangeDeleteSig"},
	"ExchangeBindOptions":      {"exchangeBindSig", "exchangeUnbindSig"},
	"PublishOptions":           {"publishSig", "basicPublishSig"},
	"ConfirmSelectOptions":     {"confirmSelectSig"},
	"BasicQosOptions":          {"basicQosSig"},
	"BasicConsumeOptions":      {"basicConsumeSig"},
	"ConsumeOptions":           {"consumeSig"},
	"BasicCancelOptions":       {"basicCancelSig"},
	"BasicGetOptions":          {"basicGetSig"},
	"BasicAckOptions":          {"basicAckSig"},
	"BasicNackOptions":         {"basicNackSig"},
	"BasicRejectOptions":       {"basicRejectSig"},
	"BasicRecoverOptions":      {"basicRecoverSig"},
	"BasicRecoverAsyncOptions": {"basicRecoverAsyncSig"},
	"FlowOptions":              {"flowSig"},
	"ChannelCloseOptions":      {"channelCloseSig"},
}

// TestOptionInterfaces: every parameter of every method may be passed by
// name (docs/api.md §2), so each options interface declares exactly the
// parameter names of its method's signature in the bindings.
func TestOptionInterfaces(t *testing.T) {
	f, m := defs(t)
	sigs := map[string][]string{}
	for _, name := range []string{"channel.go", "connect.go"} {
		for k, v := range signatures(t, source(t, name), sigs) {
			sigs[k] = v
		}
	}
	unmapped := checkOptions(t, f, m, sigs, sigOptions, "the bindings")
	if len(unmapped) > 0 {
		t.Errorf("signatures with no options interface in aioamqp.d.ts (add one, and map it in sigOptions): %s", strings.Join(unmapped, ", "))
	}
}

// checkOptions checks that each options interface of options (interface →
// the signature variables it serves) declares exactly the parameter names
// of its signatures in sigs (found in where), and returns, sorted, the
// signatures that no interface serves.
func checkOptions(t *testing.T, f *dtscheck.File, m *dtscheck.Scope, sigs, options map[string][]string, where string) (unmapped []string) {
	t.Helper()
	mapped := map[string]bool{}
	for iface, vars := range options {
		for _, v := range vars {
			params, ok := sigs[v]
			if !ok {
				t.Errorf("%s: no signature %s in %s", iface, v, where)
				continue
			}
			mapped[v] = true
			same(t, iface+" ("+v+")", params, members(t, f, m, iface))
		}
	}
	for v := range sigs {
		if !mapped[v] {
			unmapped = append(unmapped, v)
		}
	}
	sort.Strings(unmapped)
	return unmapped
}

// signatures reads the `x = newSig("method", params...)` declarations of a
// file: variable name → parameter names. known resolves `y.params...`.
func signatures(t *testing.T, file *ast.File, known map[string][]string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, d := range file.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok || gd.Tok != token.VAR {
			continue
		}
		for _, s := range gd.Specs {
			vs := s.(*ast.ValueSpec)
			for i, val := range vs.Values {
				call, ok := val.(*ast.CallExpr)
				if !ok {
					continue
				}
				if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "newSig" {
					continue
				}
				var params []string
				for _, arg := range call.Args[1:] {
					if sel, ok := arg.(*ast.SelectorExpr); ok && call.Ellipsis.IsValid() && sel.Sel.Name == "params" {
						base := sel.X.(*ast.Ident).Name
						p, ok := out[base]
						if !ok {
							p = known[base]
						}
						params = append(params, p...)
						continue
					}
					if name := paramName(arg); name != "" {
						params = append(params, name)
					} else {
						t.Errorf("%s: cannot read a parameter name", vs.Names[i].Name)
					}
				}
				out[vs.Names[i].Name] = params
			}
		}
	}
	return out
}

// paramName finds the name in a parameter expression: pStr("x"),
// pReq(pBool("x")), param{name: "x", …}, pTimeout().
func paramName(e ast.Expr) string {
	name := ""
	ast.Inspect(e, func(n ast.Node) bool {
		if name != "" {
			return false
		}
		switch x := n.(type) {
		case *ast.CallExpr:
			if id, ok := x.Fun.(*ast.Ident); ok {
				switch id.Name {
				case "pTimeout":
					name = "timeout"
					return false
				case "pStr", "pBool", "pInt":
					if s, ok := strLit(x.Args[0]); ok {
						name = s
					}
					return false
				}
			}
		case *ast.KeyValueExpr:
			if k, ok := x.Key.(*ast.Ident); ok && k.Name == "name" {
				if s, ok := strLit(x.Value); ok {
					name = s
				}
				return false
			}
		}
		return true
	})
	return name
}
