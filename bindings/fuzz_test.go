package bindings

import (
	"math"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"

	"github.com/amqpjs/amqpjs/amqp/wire"
	"github.com/amqpjs/amqpjs/internal/testutil"
)

// One VM per fuzzing process: the fuzz function runs sequentially in each
// worker, and building a runtime per input would dominate the run time.
var (
	fuzzOnce    sync.Once
	fuzzVM      *goja.Runtime
	fuzzReviver goja.Value
	fuzzParse   goja.Callable
)

// fuzzReviverSrc turns marker strings of a JSON document into the JS values
// that JSON cannot spell, so that the fuzzers reach them.
const fuzzReviverSrc = `(function (k, v) {
	if (typeof v !== 'string' || v[0] !== '$') return v
	switch (v) {
	case '$undefined': return undefined
	case '$fn': return function () {}
	case '$class': return new (class Opts { constructor() { this.timeout = 1 } })()
	case '$nullproto': return Object.assign(Object.create(null), { b: true })
	case '$buf': return Buffer.from('ab')
	case '$sub': return new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
	case '$ab': return new Uint8Array([5, 6]).buffer
	case '$dv': return new DataView(new ArrayBuffer(3), 1)
	case '$date': return new Date(1700000000123)
	case '$baddate': return new Date(NaN)
	case '$nan': return NaN
	case '$inf': return Infinity
	case '$ninf': return -Infinity
	case '$negzero': return -0
	case '$map': return new Map([['a', 1]])
	case '$re': return /x/
	case '$err': return new Error('e')
	case '$array': return [1, 'two']
	}
	try {
		if (v.startsWith('$big:')) return BigInt(v.slice(5))
		if (v.startsWith('$date:')) return new Date(Number(v.slice(6)))
		if (v.startsWith('$bytes:')) return Buffer.from(v.slice(7))
		if (v.startsWith('$num:')) return Number(v.slice(5))
	} catch (e) {}
	return v
})`

func fuzzSetup(tb testing.TB) *goja.Runtime {
	fuzzOnce.Do(func() {
		fuzzVM = newVM(tb)
		fuzzReviver = jsEval(tb, fuzzVM, fuzzReviverSrc)
		fuzzParse, _ = goja.AssertFunction(jsEval(tb, fuzzVM, `(function (text, reviver) { return JSON.parse(text, reviver) })`))
	})
	return fuzzVM
}

// fuzzDoc parses doc with the reviver; ok is false for input that is not
// one JSON document.
func fuzzDoc(tb testing.TB, doc string) (goja.Value, bool) {
	if len(doc) > 1<<16 || !validJSON(doc) {
		return nil, false
	}
	vm := fuzzSetup(tb)
	v, err := fuzzParse(goja.Undefined(), vm.ToValue(doc), fuzzReviver)
	if err != nil {
		// JSON that goja's parser refuses though encoding/json takes it
		// (e.g. nesting beyond its limits) is no input for these targets.
		return nil, false
	}
	return v, true
}

// fuzzSigs are the signatures FuzzArgs parses against: every kind, the
// options-only parameters, required ones, wide integer ranges.
var fuzzSigs = []*sig{allKinds, twoAny, queueDeclareSig, queueBindSig, publishSig, basicQosSig, basicConsumeSig, consumeSig,
	basicAckSig, channelCloseSig, connectSig, fromURLSig, channelOpenSig, flowSig}

var argCodes = map[string]bool{"ERR_TOO_MANY_ARGS": true, "ERR_INVALID_ARG_VALUE": true, "ERR_MISSING_ARGS": true,
	"ERR_INVALID_ARG_TYPE": true, "ERR_OUT_OF_RANGE": true}

// FuzzArgs parses a JSON array of arguments against several signatures. It
// must never panic, and either fail with a well-formed *argError or return
// values that satisfy the signature.
func FuzzArgs(f *testing.F) {
	for _, seed := range []string{
		`[]`, `["q"]`, `["q", true, 5]`, `[{"queue_name": "q", "durable": true}]`, `["q", {"durabel": true}]`,
		`["q", {"queue_name": "r"}]`, `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]`, `["q", {"timeout": null}]`, `["q", {"timeout": -1}]`,
		`["$fn", "q", {"concurrency": 0}]`, `[0, 70000]`, `["h", 99999, {"heartbeat": 1.5}]`, `["$undefined", {"s": "x"}]`,
		`["q", "$class"]`, `["q", "$nullproto"]`, `["$buf", "", "rk", {"properties": {"priority": 3}}]`,
		`[9007199254740991, true]`, `[9007199254740992]`, `[{"timeout": "$nan"}]`, `["q", {"i": "$big:5"}]`,
		`["q", {"t": [1]}, "$map"]`, `[{"on_error": null, "loop": 1}]`, `[null, null, null]`, `["$date", {"o": "$re"}]`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		v, ok := fuzzDoc(t, doc)
		if !ok {
			return
		}
		o, isObj := v.(*goja.Object)
		if !isObj || o.ClassName() != "Array" {
			return
		}
		vm := fuzzVM
		args := arrayElems(vm, o)
		for _, a := range args {
			_ = describe(a)
		}
		for _, s := range fuzzSigs {
			var out []goja.Value
			var aerr *argError
			if err := catch(func() { out, aerr = s.parseErr(vm, args) }); err != nil {
				t.Fatalf("%s(%s): %v", s.method, doc, err)
			}
			if aerr != nil {
				checkArgError(t, s, doc, out, aerr)
				continue
			}
			checkParsed(t, vm, s, doc, out)
		}
	})
}

func checkArgError(t *testing.T, s *sig, doc string, out []goja.Value, e *argError) {
	t.Helper()
	if out != nil {
		t.Errorf("%s(%s): values returned with error %q", s.method, doc, e.msg)
	}
	if !strings.HasPrefix(e.msg, s.method+": ") {
		t.Errorf("%s(%s): message %q does not name the method", s.method, doc, e.msg)
	}
	if !argCodes[e.code] {
		t.Errorf("%s(%s): code %q", s.method, doc, e.code)
	}
	if e.rangeErr != (e.code == "ERR_OUT_OF_RANGE") {
		t.Errorf("%s(%s): rangeErr %v with code %s", s.method, doc, e.rangeErr, e.code)
	}
	if !utf8.ValidString(e.msg) {
		t.Errorf("%s(%s): message is not UTF-8: %q", s.method, doc, e.msg)
	}
}

// checkParsed checks that a successful parse satisfies the signature.
func checkParsed(t *testing.T, vm *goja.Runtime, s *sig, doc string, out []goja.Value) {
	t.Helper()
	if len(out) != len(s.params) {
		t.Fatalf("%s(%s): %d values for %d params", s.method, doc, len(out), len(s.params))
	}
	for i, p := range s.params {
		v := out[i]
		if v == nil {
			if p.required {
				t.Errorf("%s(%s): required %s missing without an error", s.method, doc, p.name)
			}
			continue
		}
		if goja.IsUndefined(v) {
			t.Errorf("%s(%s): %s is undefined (should be not given)", s.method, doc, p.name)
			continue
		}
		bad := func(why string) { t.Errorf("%s(%s): %s = %s accepted: %s", s.method, doc, p.name, show(vm, v), why) }
		_, isFunc := goja.AssertFunction(v)
		_, isPlain := isPlainObject(vm, v)
		switch p.kind {
		case kString:
			if _, ok := v.Export().(string); !ok {
				bad("not a string")
			}
		case kBool:
			if _, ok := v.Export().(bool); !ok {
				bad("not a boolean")
			}
		case kInt:
			f, ok := number(v)
			if !ok || f != math.Trunc(f) || f < float64(p.min) || f > float64(p.max) {
				bad("not an integer in range")
			} else if n := integer(v, 0); n < p.min || n > p.max {
				bad("integer() out of range")
			}
		case kSeconds:
			if !goja.IsNull(v) {
				f, ok := number(v)
				if !ok || f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
					bad("not a finite number ≥ 0")
				} else if sec := seconds(v); sec < 0 || math.IsNaN(sec) || math.IsInf(sec, 0) {
					bad("seconds() not finite")
				}
			}
		case kTable:
			if !goja.IsNull(v) && !isPlain {
				bad("not a plain object or null")
			}
		case kObject:
			if !isPlain {
				bad("not a plain object")
			}
		case kFunc:
			if !isFunc {
				bad("not a function")
			}
		case kFuncNull:
			if !goja.IsNull(v) && !isFunc {
				bad("not a function or null")
			}
		}
	}
}

// FuzzTableFromJS converts a JSON document (with marker strings for Dates,
// BigInts, Buffers, undefined and functions) to a field table and back. It
// must never panic; an error must have a reason that the input really has;
// a table must hold only docs/api.md §6's types, and convert back to the same
// data, stably.
func FuzzTableFromJS(f *testing.F) {
	for _, seed := range []string{
		`{}`, `null`, `[]`, `"x"`, `{"a": 1}`,
		`{"s": "x", "b": true, "n": null, "i8": 127, "i16": 128, "i32": 32768, "i64": 2147483648, "f": 1.5}`,
		`{"neg": [-128, -129, -32768, -32769, -2147483648, -2147483649]}`,
		`{"safe": 9007199254740991, "edge": 9007199254740992, "nsafe": -9007199254740991, "big": 1e300, "tiny": 5e-324}`,
		`{"a": {"b": {"c": [1, [2, [3, {"d": "e"}]]]}}}`,
		`{"x-message-ttl": 60000, "x-max-priority": 4, "x-dead-letter-exchange": "dlx", "x-max-length-bytes": 1099511627776}`,
		`{"when": "$date", "b": "$big:-9223372036854775808", "bytes": "$bytes:héllo", "sub": "$sub", "ab": "$ab", "dv": "$dv"}`,
		`{"big": "$big:9223372036854775808"}`, `{"u": "$undefined"}`, `{"a": ["$undefined", 1]}`, `{"f": {"g": "$fn"}}`,
		`{"d": "$baddate"}`, `{"m": "$map"}`, `{"c": "$class"}`, `{"n": "$nullproto"}`, `{"x": "$nan", "y": "$inf", "z": "$negzero"}`,
		`{"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk": 1}`,
		`{"":"", "ü": "\u0000", "\ud83d\ude00": "\ud800"}`,
		`{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":{"n":1}}}}}}}}}}}}}}}}}}}}`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		in, ok := fuzzDoc(t, doc)
		if !ok {
			return
		}
		vm := fuzzVM
		var tbl amqp.Table
		var err error
		if perr := catch(func() { tbl, err = tableFromJS(vm, in, "h") }); perr != nil {
			t.Fatalf("tableFromJS(%s): %v", doc, perr)
		}
		if goja.IsNull(in) {
			if tbl != nil || err != nil {
				t.Fatalf("tableFromJS(null) = %v, %v", tbl, err)
			}
			return
		}
		_, plain := isPlainObject(vm, in)
		want := tableProblems(vm, in, 0)
		switch {
		case !plain:
			if err == nil {
				t.Fatalf("tableFromJS(%s): no error for a non-object", doc)
			}
			return
		case err != nil:
			if want.clean() {
				t.Fatalf("tableFromJS(%s): unexpected error %v", doc, err)
			}
			if !strings.HasPrefix(err.Error(), "h") {
				t.Fatalf("tableFromJS(%s): error %q does not name the parameter", doc, err)
			}
			return
		case !want.clean() && !want.deepOnly():
			t.Fatalf("tableFromJS(%s): no error, though %s", doc, want)
		}
		checkTableTypes(t, doc, tbl, "h")
		back := tableToJS(vm, tbl)
		if err := sameJS(vm, in, back, "h"); err != nil {
			t.Fatalf("round trip of %s: %v", doc, err)
		}
		// Converting what came back is stable from the second trip on.
		tbl2, err := tableFromJS(vm, back, "h")
		if err != nil {
			t.Fatalf("second trip of %s: %v", doc, err)
		}
		tbl3, err := tableFromJS(vm, tableToJS(vm, tbl2), "h")
		if err != nil {
			t.Fatalf("third trip of %s: %v", doc, err)
		}
		if a, b := showValue(map[string]any(tbl2)), showValue(map[string]any(tbl3)); a != b {
			t.Fatalf("round trip of %s not stable:\n %s\n %s", doc, a, b)
		}
	})
}

// problems is what makes a JS value unconvertible.
type problems struct {
	reasons []string
	depth   int
}

func (p problems) clean() bool    { return len(p.reasons) == 0 && p.depth <= 60 }
func (p problems) deepOnly() bool { return len(p.reasons) == 0 && p.depth <= 70 }
func (p problems) String() string { return strings.Join(p.reasons, "; ") }

// tableProblems walks v (a JS value meant for a field table) and lists what
// docs/api.md §6 does not allow in it, with the nesting depth it reaches.
func tableProblems(vm *goja.Runtime, v goja.Value, depth int) problems {
	var p problems
	p.depth = depth
	add := func(q problems) {
		p.reasons = append(p.reasons, q.reasons...)
		p.depth = max(p.depth, q.depth)
	}
	if depth > 80 {
		p.reasons = append(p.reasons, "too deep")
		return p
	}
	if v == nil || goja.IsUndefined(v) {
		p.reasons = append(p.reasons, "undefined")
		return p
	}
	if _, ok := goja.AssertFunction(v); ok {
		p.reasons = append(p.reasons, "function")
		return p
	}
	if b, ok := v.Export().(*big.Int); ok && !b.IsInt64() {
		p.reasons = append(p.reasons, "BigInt out of range")
	}
	o, ok := v.(*goja.Object)
	if !ok {
		return p
	}
	if _, ok := o.Export().(time.Time); ok {
		return p
	}
	if o.ClassName() == "Date" {
		p.reasons = append(p.reasons, "invalid Date")
		return p
	}
	if o.ClassName() == "Array" {
		for _, e := range arrayElems(vm, o) {
			add(tableProblems(vm, e, depth+1))
		}
		return p
	}
	if _, ok := isPlainObject(vm, v); ok {
		for _, k := range o.Keys() {
			if len(k) > 255 {
				p.reasons = append(p.reasons, "long key")
			}
			add(tableProblems(vm, o.Get(k), depth+1))
		}
		return p
	}
	switch o.ClassName() {
	case "Uint8Array", "ArrayBuffer", "DataView":
		return p
	}
	if _, ok := o.Export().([]byte); ok {
		return p
	}
	if _, ok := o.Export().(goja.ArrayBuffer); ok {
		return p
	}
	if o.ClassName() == "Object" && o.Get("byteLength") != nil {
		return p // typed arrays and DataView
	}
	p.reasons = append(p.reasons, "unsupported "+o.ClassName())
	return p
}

// checkTableTypes checks that tbl holds only the Go types of docs/api.md §6 and
// that every integer has the smallest signed type.
func checkTableTypes(t *testing.T, doc string, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case nil, string, bool, time.Time, []byte:
	case int8, int16, int32:
		n := testutil.Received(x).(int64)
		if got, want := showValue(x), showValue(wire.SmallestInt(n)); got != want {
			t.Errorf("%s: %s: %s, want %s", doc, path, got, want)
		}
	case int64:
		// int64 also comes from BigInts, which keep int64 whatever their size.
	case float64:
		if x == math.Trunc(x) && math.Abs(x) <= 1<<53 {
			t.Errorf("%s: %s: integral %v kept as a double", doc, path, x)
		}
	case []any:
		for i, e := range x {
			checkTableTypes(t, doc, e, path+"["+itoa(i)+"]")
		}
	case amqp.Table:
		for k, e := range x {
			checkTableTypes(t, doc, e, path+"."+k)
		}
	default:
		t.Errorf("%s: %s: unexpected Go type %T", doc, path, v)
	}
}

func itoa(i int) string { return big.NewInt(int64(i)).String() }
