package bindings

// Tests for bugs found while testing the bindings. Each fails until the bug
// is fixed in the non-test code; the comment says what is wrong and what
// docs/api.md asks for.

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
)

// catch runs f and turns a Go panic into an error, so that a bug that
// panics fails its test instead of the whole test binary.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	f()
	return nil
}

// goja exports a Symbol as its description string, so everything that
// type-switches on Export() takes a symbol for a string. docs/api.md §6: symbols
// in a field table → TypeError naming the key; §2: wrong type → TypeError;
// §6: a payload that is not a string/Buffer/… → TypeError.
func TestBugSymbolTakenForString(t *testing.T) {
	vm := newVM(t)

	// tableFromJS({ a: Symbol('x') }): got table {a: "x"}, no error.
	tbl, err := tableFromJS(vm, jsEval(t, vm, `({ a: Symbol('x') })`), "h")
	if err == nil || !strings.Contains(err.Error(), "h.a") || !strings.Contains(err.Error(), "symbol") {
		t.Errorf("tableFromJS({ a: Symbol('x') }) = %s, %v; want an error naming h.a and saying symbol", showValue(map[string]any(tbl)), err)
	}

	// queue_declare(Symbol('q')): accepted as the string queue_name "q".
	out, aerr := queueDeclareSig.parseErr(vm, jsArgs(t, vm, `Symbol('q')`))
	if aerr == nil || aerr.rangeErr {
		t.Errorf("queue_declare(Symbol('q')) parsed as %s, err %v; want a TypeError", rendered(vm, queueDeclareSig, out), aerr)
	}

	// publish(Symbol('x'), …): payload []byte("x").
	b, err := payloadBytes(vm, jsEval(t, vm, `Symbol('x')`))
	if err == nil {
		t.Errorf("payloadBytes(Symbol('x')) = %q; want a TypeError", b)
	}
}

// A Boolean object passes the kBool check (it exports as a Go bool) but the
// boolean() accessor uses ToBoolean, and every object is truthy:
// queue_declare('q', new Boolean(false)) declares with passive=true.
// Expected: a TypeError, or the value false.
func TestBugBooleanObjectIsTrue(t *testing.T) {
	vm := newVM(t)
	out, err := queueDeclareSig.parseErr(vm, jsArgs(t, vm, `'q', new Boolean(false)`))
	if err == nil && boolean(out[1], false) {
		t.Errorf("queue_declare('q', new Boolean(false)): passive = true; want a TypeError or false")
	}
}

// describe() names a BigInt by its Go type: basic_qos(10n) throws
// "basic_qos: parameter 'prefetch_size' must be an integer, got a *big.Int".
// Expected something a JS user reads, e.g. "got a bigint (10n)".
func TestBugDescribeBigIntShowsGoType(t *testing.T) {
	vm := newVM(t)
	_, err := basicQosSig.parseErr(vm, jsArgs(t, vm, `10n`))
	if err == nil {
		t.Fatal("basic_qos(10n): no error")
	}
	if strings.Contains(err.msg, "big.Int") || strings.Contains(err.msg, "*") {
		t.Errorf("basic_qos(10n): %q shows a Go type", err.msg)
	}
}

// runtime.BytesOf takes any object with a "buffer" property holding an
// ArrayBuffer for a byte view, and reads byteOffset/byteLength with
// o.Get(...).ToInteger(), which dereferences nil when they are missing:
//
//   - publish({ buffer: new ArrayBuffer(4) }, ”, 'q') panics (nil pointer
//     dereference in runtime.BytesOf) instead of a TypeError;
//   - a header { file: { buffer: ab } } panics the same way;
//   - a plain object { buffer, byteOffset, byteLength } is sent as bytes: as
//     a payload (docs/api.md §6 says TypeError) and inside a field table (where a
//     plain object is a nested table).
func TestBugPlainObjectWithBufferProperty(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{
		`({ buffer: new ArrayBuffer(4) })`,
		`({ buffer: new ArrayBuffer(4), byteOffset: 0, byteLength: 4 })`,
	} {
		v := jsEval(t, vm, src)
		var b []byte
		var perr error
		if err := catch(func() { b, perr = payloadBytes(vm, v) }); err != nil {
			t.Errorf("payloadBytes(%s): %v", src, err)
		} else if perr == nil {
			t.Errorf("payloadBytes(%s) = %x; want a TypeError (a plain object is not a payload)", src, b)
		}
	}
	for src, want := range map[string]string{
		`({ h: { buffer: new ArrayBuffer(1) } })`:                               `{"h":{"buffer":bytes(00)}}`,
		`({ h: { buffer: new ArrayBuffer(1), byteOffset: 0, byteLength: 1 } })`: `{"h":{"buffer":bytes(00),"byteLength":int8(1),"byteOffset":int8(0)}}`,
	} {
		v := jsEval(t, vm, src)
		var tbl amqp.Table
		var terr error
		if err := catch(func() { tbl, terr = tableFromJS(vm, v, "headers") }); err != nil {
			t.Errorf("tableFromJS(%s): %v", src, err)
		} else if terr != nil || showValue(map[string]any(tbl)) != want {
			t.Errorf("tableFromJS(%s) = %s, %v; want %s", src, showValue(map[string]any(tbl)), terr, want)
		}
	}
}

// The converters call Export() on every value before looking at its type.
// goja's Export of an array allocates a Go slice of the array's full length,
// so a sparse array costs memory in proportion to its length, not its
// contents: `a = []; a.length = 2**32 - 1` passed as a header, a string
// parameter or a payload makes the process die with "fatal error: out of
// memory" (64 GiB requested; seen with a 8 GB address-space limit), which no
// recover() can catch. fieldFromJS also make()s a slice of the full length
// before looking at the elements. Expected: a TypeError (or the per-element
// error) without allocating per unit of length. This test uses a length of
// 2^21 so that it stays cheap while the bug exists, and fails when a call
// allocates more than 8 MiB.
func TestBugSparseArrayAllocatesItsLength(t *testing.T) {
	vm := newVM(t)
	jsEval(t, vm, `globalThis.sparse = []; sparse.length = 2**21; sparse[0] = () => 1; null`)
	measure := func(name string, f func()) {
		var before, after goruntime.MemStats
		goruntime.GC()
		goruntime.ReadMemStats(&before)
		f()
		goruntime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
			t.Errorf("%s allocated %d MiB for a sparse array of one element", name, n>>20)
		}
	}
	measure("tableFromJS({ a: sparse })", func() {
		if _, err := tableFromJS(vm, jsEval(t, vm, `({ a: sparse })`), "h"); err == nil {
			t.Error("tableFromJS({ a: sparse }): no error")
		}
	})
	measure("queue_declare(sparse)", func() {
		if _, err := queueDeclareSig.parseErr(vm, jsArgs(t, vm, `sparse`)); err == nil {
			t.Error("queue_declare(sparse): no error")
		}
	})
	measure("payloadBytes(sparse)", func() {
		if _, err := payloadBytes(vm, jsEval(t, vm, `sparse`)); err == nil {
			t.Error("payloadBytes(sparse): no error")
		}
	})
}

// docs/api.md §6: "integer-valued number → the smallest signed integer type that
// holds it". fieldFromJS only does so up to |x| ≤ 2^53 and sends larger
// integer-valued numbers (2**60, -(2**62), 2**53 + 2), which int64 holds
// exactly, as doubles; RabbitMQ refuses a double for integer arguments such
// as x-max-length-bytes. Expected int64.
func TestBugIntegerNumberBeyond2p53SentAsDouble(t *testing.T) {
	vm := newVM(t)
	tbl, err := tableFromJS(vm, jsEval(t, vm, `({ a: 2**60, b: -(2**62), c: 2**53 + 2, d: -(2**63) })`), "h")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"a":int64(1152921504606846976),"b":int64(-4611686018427387904),"c":int64(9007199254740994),"d":int64(-9223372036854775808)}`
	if got := showValue(map[string]any(tbl)); got != want {
		t.Errorf("\n got  %s\n want %s", got, want)
	}
}

// propertiesFromJS checks that every short-string property is at most 255
// bytes (a synchronous RangeError, docs/api.md §2) except expiration given as a
// string: { expiration: '1'.repeat(256) } passes and only fails later, in
// the amqp encoder, as a rejected promise.
func TestBugExpirationLengthNotChecked(t *testing.T) {
	vm := newVM(t)
	var p amqp.Properties
	err := propertiesFromJS(vm, jsEval(t, vm, `({ expiration: '1'.repeat(256) })`).(*goja.Object), &p, "publish")
	if err == nil || !err.rangeErr {
		t.Errorf("expiration of 256 bytes: err %v; want a RangeError like the other string properties", err)
	}
}

// tableToJS builds the object with o.Set(k, v), which for the key
// "__proto__" calls the Object.prototype.__proto__ setter instead of
// creating a property. A received header named "__proto__" (any publisher
// can send one) therefore disappears from the headers object and, when its
// value is a table, becomes the object's prototype:
// tableToJS({"__proto__": {"isAdmin": true}, "a": 1}) gives an object with
// keys ["a"], v.isAdmin === true, and a prototype that is not
// Object.prototype. Expected: an own data property "__proto__" (as
// JSON.parse makes), the prototype left alone. The same applies to nested
// tables.
func TestBugTableToJSProtoKey(t *testing.T) {
	vm := newVM(t)
	v := tableToJS(vm, amqp.Table{"__proto__": amqp.Table{"isAdmin": true}, "a": int8(1), "n": amqp.Table{"__proto__": "s"}})
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getPrototypeOf(v) === Object.prototype && v.isAdmin === undefined`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.keys(v).sort().join() === '__proto__,a,n'`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getOwnPropertyDescriptor(v, '__proto__')?.value?.isAdmin === true`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getOwnPropertyDescriptor(v.n, '__proto__')?.value === 's'`)
}
