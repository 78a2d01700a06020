package bindings

import (
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/amqp/wire"
	"github.com/amqpjs/amqpjs/runtime"
)

// maxTableDepth bounds nesting so a cyclic object cannot recurse forever;
// it is the codec's own limit, so a table accepted here is encodable.
const maxTableDepth = wire.MaxDepth

// maxArrayLen bounds a field array (a sparse array's length may be 2^32-1).
const maxArrayLen = 1 << 20

// tableFromJS converts a JS plain object to an AMQP field table as docs/api.md
// §6 says: string → longstr, boolean → bool, integer-valued number → the
// smallest signed integer type that holds it, other numbers → double,
// BigInt → int64, Date → timestamp, null → void, array → array, plain
// object → nested table, Uint8Array/Buffer/ArrayBuffer → byte array.
// undefined, functions and symbols are errors naming the key. what names the
// parameter in error messages ("queue_declare: arguments"). Loop only.
func tableFromJS(vm *goja.Runtime, v goja.Value, what string) (amqp.Table, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil, nil
	}
	o, ok := isPlainObject(vm, v)
	if !ok {
		return nil, fmt.Errorf("%s must be a plain object, got %s", what, describe(v))
	}
	return objectToTable(vm, o, what, 0)
}

func objectToTable(vm *goja.Runtime, o *goja.Object, path string, depth int) (amqp.Table, error) {
	if depth > maxTableDepth {
		return nil, fmt.Errorf("%s: field table nested deeper than %d levels (a cycle?)", path, maxTableDepth)
	}
	keys := o.Keys()
	t := make(amqp.Table, len(keys))
	for _, k := range keys {
		if len(k) > 255 {
			return nil, fmt.Errorf("%s: key '%.20s…' is longer than 255 bytes", path, k)
		}
		fv, err := fieldFromJS(vm, o.Get(k), path+"."+k, depth+1)
		if err != nil {
			return nil, err
		}
		t[k] = fv
	}
	return t, nil
}

func fieldFromJS(vm *goja.Runtime, v goja.Value, path string, depth int) (any, error) {
	switch {
	case v == nil || goja.IsUndefined(v):
		return nil, fmt.Errorf("%s is undefined: field tables cannot hold undefined (use null)", path)
	case goja.IsNull(v):
		return nil, nil
	case goja.IsString(v):
		return v.String(), nil
	case isBool(v):
		return v.ToBoolean(), nil
	case goja.IsNumber(v):
		x := v.ToFloat()
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return wire.SmallestInt(int64(x)), nil
		}
		return x, nil
	case goja.IsBigInt(v):
		x, _ := v.Export().(*big.Int)
		if x == nil || !x.IsInt64() {
			return nil, fmt.Errorf("%s: BigInt %s does not fit in a signed 64-bit integer", path, v.String())
		}
		return x.Int64(), nil
	}
	if _, ok := v.(*goja.Symbol); ok {
		return nil, fmt.Errorf("%s is a symbol: field tables cannot hold symbols", path)
	}
	if _, ok := goja.AssertFunction(v); ok {
		return nil, fmt.Errorf("%s is a function: field tables cannot hold functions", path)
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, fmt.Errorf("%s has unsupported type %s", path, describe(v))
	}
	switch o.ClassName() {
	case "Date":
		if t, ok := o.Export().(time.Time); ok {
			return t, nil
		}
	case "Array":
		if depth > maxTableDepth {
			return nil, fmt.Errorf("%s: nested deeper than %d levels (a cycle?)", path, maxTableDepth)
		}
		n := o.Get("length").ToInteger()
		if n > maxArrayLen {
			return nil, fmt.Errorf("%s: array of %d elements is longer than the %d a field array may hold here", path, n, maxArrayLen)
		}
		arr := make([]any, n)
		for i := int64(0); i < n; i++ {
			fv, err := fieldFromJS(vm, o.Get(strconv.FormatInt(i, 10)), fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			arr[i] = fv
		}
		return arr, nil
	}
	if _, ok := isPlainObject(vm, v); ok {
		return objectToTable(vm, o, path, depth)
	}
	if b, ok := runtime.BytesOf(vm, v); ok {
		return append([]byte(nil), b...), nil
	}
	return nil, fmt.Errorf("%s has unsupported type %s", path, describe(v))
}

// tableToJS converts a received field table to a JS object: integers beyond
// ±2^53 become BigInt, other integers numbers; timestamps Dates; byte arrays
// Buffers; nested tables objects. Keys come out sorted. Loop only.
func tableToJS(vm *goja.Runtime, t amqp.Table) goja.Value {
	if t == nil {
		return goja.Null()
	}
	o := vm.NewObject()
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		// DefineDataProperty, not Set: a key named "__proto__" sent by any
		// publisher must stay a key, not become the object's prototype.
		_ = o.DefineDataProperty(k, fieldToJS(vm, t[k]), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	return o
}

// Integers beyond ±2^53 arrive as BigInt (docs/api.md §6).
const maxSafeInt = 1 << 53

func fieldToJS(vm *goja.Runtime, v any) goja.Value {
	switch x := v.(type) {
	case nil:
		return goja.Null()
	case string:
		return vm.ToValue(x)
	case bool:
		return vm.ToValue(x)
	case int8:
		return vm.ToValue(int64(x))
	case int16:
		return vm.ToValue(int64(x))
	case int32:
		return vm.ToValue(int64(x))
	case int:
		return fieldToJS(vm, int64(x))
	case uint8:
		return vm.ToValue(int64(x))
	case uint16:
		return vm.ToValue(int64(x))
	case uint32:
		return vm.ToValue(int64(x))
	case int64:
		if x > maxSafeInt || x < -maxSafeInt {
			return vm.ToValue(big.NewInt(x))
		}
		return vm.ToValue(x)
	case uint64:
		if x > maxSafeInt {
			return vm.ToValue(new(big.Int).SetUint64(x))
		}
		return vm.ToValue(int64(x))
	case float32:
		return vm.ToValue(float64(x))
	case float64:
		return vm.ToValue(x)
	case time.Time:
		d, err := vm.New(vm.Get("Date"), vm.ToValue(x.UnixMilli()))
		if err != nil {
			return goja.Null()
		}
		return d
	case []byte:
		return newBuffer(vm, x)
	case []any:
		vals := make([]any, len(x))
		for i, e := range x {
			vals[i] = fieldToJS(vm, e)
		}
		return vm.NewArray(vals...)
	case amqp.Table:
		return tableToJS(vm, x)
	}
	return vm.ToValue(fmt.Sprint(v))
}
