package bindings

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime"
)

// newVM returns the goja runtime of a fresh amqpjs runtime (Buffer,
// TextEncoder… installed). Run is never called, so the test goroutine owns
// the VM.
func newVM(tb testing.TB) *goja.Runtime {
	tb.Helper()
	return runtime.New(runtime.Options{}).VM()
}

// jsEval evaluates src (an expression or a script whose completion value is
// wanted) and fails the test on a JS error.
func jsEval(tb testing.TB, vm *goja.Runtime, src string) goja.Value {
	tb.Helper()
	v, err := vm.RunString(src)
	if err != nil {
		tb.Fatalf("evaluating %s: %v", src, err)
	}
	return v
}

// jsArgs evaluates "[" + list + "]" and returns its elements as call
// arguments, holes as undefined.
func jsArgs(tb testing.TB, vm *goja.Runtime, list string) []goja.Value {
	tb.Helper()
	return arrayElems(vm, jsEval(tb, vm, "["+list+"]").(*goja.Object))
}

func arrayElems(vm *goja.Runtime, o *goja.Object) []goja.Value {
	n := int(o.Get("length").ToInteger())
	out := make([]goja.Value, n)
	for i := range out {
		v := o.Get(strconv.Itoa(i))
		if v == nil {
			v = goja.Undefined()
		}
		out[i] = v
	}
	return out
}

// jsTrue evaluates a JS boolean expression with the given globals set and
// fails when it is not true.
func jsTrue(tb testing.TB, vm *goja.Runtime, globals map[string]any, expr string) {
	tb.Helper()
	for k, v := range globals {
		if err := vm.Set(k, v); err != nil {
			tb.Fatal(err)
		}
	}
	v, err := vm.RunString("(" + expr + ")")
	if err != nil {
		tb.Errorf("%s: %v", expr, err)
		return
	}
	if !v.StrictEquals(vm.ToValue(true)) {
		tb.Errorf("%s: got %v, want true", expr, v)
	}
}

// show renders a parsed argument for comparisons: "-" when not given.
func show(vm *goja.Runtime, v goja.Value) string {
	switch {
	case v == nil:
		return "-"
	case goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "function"
	}
	switch x := v.Export().(type) {
	case string:
		return strconv.Quote(x)
	case *big.Int:
		return x.String() + "n"
	}
	if o, ok := v.(*goja.Object); ok {
		s, err := vm.RunString("(v => JSON.stringify(v))")
		if err == nil {
			f, _ := goja.AssertFunction(s)
			if r, err := f(goja.Undefined(), o); err == nil && !goja.IsUndefined(r) {
				return r.String()
			}
		}
		return "[" + o.ClassName() + "]"
	}
	return v.String()
}

// showValue renders a Go field table (or value) with its Go types, sorted,
// so that int8(4) and int32(4) differ: "{a:int8(4),b:[]interface {}[...]}".
func showValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "nil"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(strconv.Quote(k) + ":" + showValue(x[k]))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = showValue(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case string:
		return strconv.Quote(x)
	case []byte:
		return fmt.Sprintf("bytes(%x)", x)
	case time.Time:
		return "time(" + x.UTC().Format(time.RFC3339Nano) + ")"
	case float64:
		return "float64(" + strconv.FormatFloat(x, 'g', -1, 64) + ")"
	}
	return fmt.Sprintf("%s(%v)", reflect.TypeOf(v), v)
}

// sameJS reports whether a and b are the same JS data: primitives strictly
// equal (a number and a BigInt of the same value count as equal), objects
// and arrays with the same own keys and equal values, Buffers byte-equal,
// Dates with the same time. It explains the first difference.
func sameJS(vm *goja.Runtime, a, b goja.Value, path string) error {
	if a == nil {
		a = goja.Undefined()
	}
	if b == nil {
		b = goja.Undefined()
	}
	if na, ok := numeric(a); ok {
		if nb, ok := numeric(b); ok {
			if na.Cmp(nb) != 0 {
				return fmt.Errorf("%s: %v != %v", path, a, b)
			}
			return nil
		}
	}
	oa, aObj := a.(*goja.Object)
	ob, bObj := b.(*goja.Object)
	if !aObj || !bObj {
		if aObj != bObj || !a.StrictEquals(b) && !(isNaN(a) && isNaN(b)) {
			return fmt.Errorf("%s: %s != %s", path, show(vm, a), show(vm, b))
		}
		return nil
	}
	if ta, ok := a.Export().(time.Time); ok {
		tb, ok := b.Export().(time.Time)
		if !ok || !ta.Equal(tb) {
			return fmt.Errorf("%s: date %v != %v", path, a, b)
		}
		return nil
	}
	if ba, ok := runtime.BytesOf(vm, a); ok {
		bb, ok := runtime.BytesOf(vm, b)
		if !ok || string(ba) != string(bb) {
			return fmt.Errorf("%s: bytes %x != %s", path, ba, show(vm, b))
		}
		return nil
	}
	if (oa.ClassName() == "Array") != (ob.ClassName() == "Array") {
		return fmt.Errorf("%s: %s vs %s", path, oa.ClassName(), ob.ClassName())
	}
	ka, kb := oa.Keys(), ob.Keys()
	sort.Strings(ka)
	sort.Strings(kb)
	if strings.Join(ka, "\x00") != strings.Join(kb, "\x00") {
		return fmt.Errorf("%s: keys %q != %q", path, ka, kb)
	}
	for _, k := range ka {
		if err := sameJS(vm, oa.Get(k), ob.Get(k), path+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// numeric returns a number or BigInt's exact value (nil for NaN, ±Inf or a
// non-number).
func numeric(v goja.Value) (*big.Float, bool) {
	switch x := v.Export().(type) {
	case int64:
		if _, isObj := v.(*goja.Object); isObj {
			return nil, false
		}
		return new(big.Float).SetInt64(x), true
	case float64:
		if _, isObj := v.(*goja.Object); isObj || math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, false
		}
		return new(big.Float).SetFloat64(x), true
	case *big.Int:
		return new(big.Float).SetInt(x), true
	}
	return nil, false
}

// jsonParse parses JSON in vm with an optional reviver source.
func jsonParse(vm *goja.Runtime, text, reviver string) (goja.Value, error) {
	f, err := vm.RunString("(function (text) { return JSON.parse(text" + optArg(reviver) + ") })")
	if err != nil {
		return nil, err
	}
	fn, _ := goja.AssertFunction(f)
	return fn(goja.Undefined(), vm.ToValue(text))
}

func optArg(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

// validJSON reports whether s is one JSON document (cheap pre-filter so that
// the fuzzers spend no time on JS syntax errors).
func validJSON(s string) bool { return json.Valid([]byte(s)) }

func isNaN(v goja.Value) bool {
	f, ok := v.Export().(float64)
	return ok && math.IsNaN(f)
}

// normaliseTable makes t look received: integers int64, times UTC, tables
// nested.
func normaliseTable(t map[string]any) map[string]any {
	return testutil.Received(t).(map[string]any)
}
