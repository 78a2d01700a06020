package scenario

import (
	"reflect"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// ModuleName is the name scripts require/import for custom metrics.
const ModuleName = "amqpjs/metrics"

// RegisterModule installs the module "amqpjs/metrics" in rt, recording into
// reg:
//
//	const { Counter, Gauge, Rate, Trend, check } = require('amqpjs/metrics')
//	const sent = new Counter('sent')             // new Trend('lat', true): values are milliseconds
//	sent.add(1, { queue: 'jobs' })               // value, optional tags (strings)
//	check(reply, { 'is ok': (r) => r.ok })       // records into `checks`; true when all pass
//
// A metric of the same name made again (in every VU) is the same metric;
// the same name with another kind throws a TypeError. It also defines the
// globals __VU and __ITER (0), and __ENV (process.env). Call before rt runs.
func RegisterModule(rt *runtime.Runtime, reg *metrics.Registry) {
	RegisterBuiltins(reg)
	// __VU and __ITER exist in every runtime: 0 in the one that runs the main
	// module, setup and teardown; VUs get theirs when they are made.
	_ = rt.VM().Set("__VU", 0)
	_ = rt.VM().Set("__ITER", 0)
	// __ENV is process.env, as k6 scripts read their environment.
	vm := rt.VM()
	_ = vm.GlobalObject().DefineAccessorProperty("__ENV", vm.ToValue(func(goja.FunctionCall) goja.Value {
		if p, ok := vm.Get("process").(*goja.Object); ok {
			return p.Get("env")
		}
		return goja.Undefined()
	}), nil, goja.FLAG_TRUE, goja.FLAG_FALSE)
	load := func(vm *goja.Runtime, module *goja.Object) {
		exports := module.Get("exports").(*goja.Object)
		for _, k := range []struct {
			name string
			kind metrics.Kind
		}{{"Counter", metrics.Counter}, {"Gauge", metrics.Gauge}, {"Rate", metrics.Rate}, {"Trend", metrics.Trend}} {
			_ = exports.Set(k.name, metricClass(vm, rt, reg, k.name, k.kind))
		}
		checks := reg.Get(MetricChecks)
		_ = exports.Set("check", func(call goja.FunctionCall) goja.Value {
			return checkFn(vm, rt.MetricTags(), checks, call)
		})
	}
	rt.RegisterModule(ModuleName, load)
}

// metricClass makes the constructor of one kind: new Kind(name, isTime).
// Samples carry the runtime's metric tags (a VU's scenario), then the
// tags given to add.
func metricClass(vm *goja.Runtime, rt *runtime.Runtime, reg *metrics.Registry, class string, kind metrics.Kind) goja.Value {
	proto := vm.NewObject()
	ctor := vm.ToValue(func(call goja.ConstructorCall) *goja.Object {
		nameV := call.Argument(0)
		if !goja.IsString(nameV) {
			panic(vm.NewTypeError("%s: parameter 'name' must be a string, got %s", class, runtime.TypeOf(nameV)))
		}
		vt := metrics.Default
		if call.Argument(1).ToBoolean() {
			vt = metrics.Time
		}
		m, err := reg.New(nameV.String(), kind, vt)
		if err != nil {
			panic(vm.NewTypeError("%s: %v", class, err))
		}
		o := call.This
		var own *metrics.Series // the series of the runtime's tags alone, made on first use
		_ = o.DefineDataProperty("name", vm.ToValue(m.Name), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		_ = o.DefineDataProperty("type", vm.ToValue(kind.String()), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
		_ = o.Set("add", func(c goja.FunctionCall) goja.Value {
			v, ok := sampleValue(c.Argument(0), kind)
			if !ok {
				panic(vm.NewTypeError("%s '%s': add: parameter 'value' must be a number%s, got %s", class, m.Name, boolNote(kind), runtime.TypeOf(c.Argument(0))))
			}
			tags := tagsOf(vm, c.Argument(1), class+" '"+m.Name+"': add")
			if len(tags) == 0 {
				if own == nil {
					own = m.Series(rt.MetricTags())
				}
				own.Add(v)
				return goja.Undefined()
			}
			m.Series(rt.MetricTags().Merge(tags)).Add(v)
			return goja.Undefined()
		})
		return nil
	}).ToObject(vm)
	_ = ctor.Set("prototype", proto)
	_ = proto.Set("constructor", ctor)
	_ = ctor.DefineDataProperty("name", vm.ToValue(class), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return ctor
}

func boolNote(k metrics.Kind) string {
	if k == metrics.Rate {
		return " or a boolean"
	}
	return ""
}

func sampleValue(v goja.Value, kind metrics.Kind) (float64, bool) {
	switch {
	case goja.IsNumber(v):
		return v.ToFloat(), true
	case kind == metrics.Rate && isBool(v):
		if v.ToBoolean() {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// tagsOf reads an optional tags object of string values (numbers and
// booleans are turned into strings).
func tagsOf(vm *goja.Runtime, v goja.Value, what string) metrics.Tags {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	o, ok := v.(*goja.Object)
	if !ok {
		panic(vm.NewTypeError("%s: parameter 'tags' must be an object of strings, got %s", what, runtime.TypeOf(v)))
	}
	keys := o.Keys()
	if len(keys) == 0 {
		return nil
	}
	m := make(map[string]string, len(keys))
	for _, k := range keys {
		x := o.Get(k)
		if x == nil || goja.IsUndefined(x) || goja.IsNull(x) {
			continue
		}
		if _, isObj := x.(*goja.Object); isObj {
			panic(vm.NewTypeError("%s: tag '%s' must be a string, got %s", what, k, runtime.TypeOf(x)))
		}
		m[k] = x.String()
	}
	return metrics.NewTags(m)
}

// checkFn is check(value, { name: fn | boolean }, tags): each function is
// called with value; each result is recorded in checks{check:name} (with
// base, the runtime's metric tags, and tags).
func checkFn(vm *goja.Runtime, base metrics.Tags, checks *metrics.Metric, call goja.FunctionCall) goja.Value {
	val := call.Argument(0)
	set, ok := call.Argument(1).(*goja.Object)
	if !ok || goja.IsNull(call.Argument(1)) {
		panic(vm.NewTypeError("check: parameter 'checks' must be an object of name → function, got %s", runtime.TypeOf(call.Argument(1))))
	}
	extra := tagsOf(vm, call.Argument(2), "check")
	all := true
	for _, name := range set.Keys() {
		c := set.Get(name)
		var pass bool
		if fn, isFn := goja.AssertFunction(c); isFn {
			r, err := fn(goja.Undefined(), val)
			if err != nil {
				panic(err)
			}
			pass = r.ToBoolean()
		} else {
			pass = c.ToBoolean()
		}
		tags := make(map[string]string, len(base)+len(extra)+1)
		for _, t := range base {
			tags[t.Key] = t.Value
		}
		for _, t := range extra {
			tags[t.Key] = t.Value
		}
		tags["check"] = name
		v := 0.0
		if pass {
			v = 1
		}
		checks.Series(metrics.NewTags(tags)).Add(v)
		all = all && pass
	}
	return vm.ToValue(all)
}

var boolType = reflect.TypeOf(true)

func isBool(v goja.Value) bool {
	if v == nil {
		return false
	}
	if _, isObj := v.(*goja.Object); isObj {
		return false
	}
	return v.ExportType() == boolType
}
