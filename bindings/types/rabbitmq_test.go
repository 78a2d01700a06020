package types_test

import (
	"go/ast"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/brokermetrics"
	"github.com/amqpjs/amqpjs/internal/dtscheck"
)

// rabbitmqDefs parses rabbitmq.d.ts (as shipped) and returns its module.
func rabbitmqDefs(t *testing.T) (*dtscheck.File, *dtscheck.Scope) {
	t.Helper()
	return moduleDefs(t, "rabbitmq.d.ts", bindings.RabbitMQModuleName)
}

func requireRabbitMQ(t *testing.T, name string) (*goja.Runtime, *goja.Object) {
	t.Helper()
	rt, exports := requireModule(t, name)
	return rt.VM(), exports
}

func TestRabbitMQModuleExports(t *testing.T) {
	f, m := rabbitmqDefs(t)
	for _, name := range []string{bindings.RabbitMQModuleName, "node:" + bindings.RabbitMQModuleName} {
		vm, exports := requireRabbitMQ(t, name)
		same(t, "module '"+name+"'", ownNames(vm, exports), f.ModuleValues(name))
		e, err := vm.New(exports.Get("ManagementError"), vm.ToValue("m"), vm.ToValue(404))
		if err != nil {
			t.Fatal(err)
		}
		same(t, "a ManagementError", append(ownNames(vm, e), "name", "message", "stack"), members(t, f, m, "ManagementError"))
	}
}

// rabbitmqOptions maps the options interfaces to the module's signatures.
var rabbitmqOptions = map[string][]string{
	"CallOptions":            {"rmqOverviewSig", "rmqNodesSig", "rmqConnectionsSig"},
	"QueueOptions":           {"rmqQueueSig"},
	"QueuesOptions":          {"rmqQueuesSig"},
	"CloseConnectionOptions": {"rmqCloseSig"},
	"ConfigureOptions":       {"rmqConfigureSig"},
}

// TestRabbitMQOptionInterfaces: each options interface declares exactly
// its method's parameter names (every parameter may be passed by name).
func TestRabbitMQOptionInterfaces(t *testing.T) {
	f, m := rabbitmqDefs(t)
	sigs := signatures(t, source(t, "rabbitmq.go"), nil)
	for _, v := range checkOptions(t, f, m, sigs, rabbitmqOptions, "bindings/rabbitmq.go") {
		t.Errorf("signature %s has no options interface in rabbitmq.d.ts (map it in rabbitmqOptions)", v)
	}
	// options.rabbitmq: the JSON names brokermetrics.Option reads.
	var tags []string
	ast.Inspect(source(t, filepath.Join("..", "internal", "brokermetrics", "brokermetrics.go")), func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "brokerOptionsJSON" {
			return true
		}
		for _, fl := range ts.Type.(*ast.StructType).Fields.List {
			tag, _ := strconv.Unquote(fl.Tag.Value)
			tags = append(tags, strings.Split(reflect.StructTag(tag).Get("json"), ",")[0])
		}
		return false
	})
	if len(tags) == 0 {
		t.Fatal("no struct brokerOptionsJSON in internal/brokermetrics/brokermetrics.go")
	}
	same(t, "BrokerMetricsOptions (brokerOptionsJSON)", tags, members(t, f, f.Module("amqpjs/metrics"), "BrokerMetricsOptions"))
	if sc := members(t, f, f.Module("amqpjs/metrics"), "ScenarioOptions"); !sc[brokermetrics.Key] {
		t.Errorf("rabbitmq.d.ts does not add %q to amqpjs/metrics's ScenarioOptions", brokermetrics.Key)
	}
}

// rabbitmqRef checks docs/reference/rabbitmq.md.
func rabbitmqRef(t *testing.T) *refChecker {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "reference", "rabbitmq.md"))
	if err != nil {
		t.Fatal(err)
	}
	return &refChecker{t: t, pages: map[string]dtscheck.Reference{"rabbitmq.md": dtscheck.ParseReference(string(b))}, checked: map[string]map[string]bool{"rabbitmq.md": {}}}
}

// TestRabbitMQReference: docs/reference/rabbitmq.md has a section for
// every export, ManagementError field and object field (as rabbitmq.d.ts
// declares them; the integration test checks the live objects), and none
// for names that do not exist.
func TestRabbitMQReference(t *testing.T) {
	f, m := rabbitmqDefs(t)
	rc := rabbitmqRef(t)
	vm, exports := requireRabbitMQ(t, bindings.RabbitMQModuleName)
	rc.check("rabbitmq.md", "amqpjs/rabbitmq", ownNames(vm, exports))
	e, err := vm.New(exports.Get("ManagementError"), vm.ToValue("m"))
	if err != nil {
		t.Fatal(err)
	}
	var fields []string
	for _, n := range ownNames(vm, e) {
		if n != "message" && n != "stack" {
			fields = append(fields, n)
		}
	}
	rc.check("rabbitmq.md", "ManagementError", fields)
	for _, iface := range []string{"Queue", "Rates", "OverviewRates", "Overview", "ObjectTotals", "Node", "Connection"} {
		var names []string
		for n := range members(t, f, m, iface) {
			names = append(names, n)
		}
		rc.check("rabbitmq.md", iface, names)
	}
	rc.done()
}
