package bindings

// Regression tests for bugs found while testing the bindings: each one says
// what docs/api.md asks for and the trap that made the code get it wrong.

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

// A symbol is not a string. goja exports a Symbol as its description
// string, so a converter that type-switches on Export() takes one for a
// string. docs/api.md §6: a symbol in a field table → TypeError naming the
// key; §2: wrong type → TypeError; §6: a payload that is not a
// string/Buffer/… → TypeError.
func TestBugSymbolTakenForString(t *testing.T) {
	vm := newVM(t)

	// tableFromJS({ a: Symbol('x') }), not the table {a: "x"}.
	tbl, err := tableFromJS(vm, jsEval(t, vm, `({ a: Symbol('x') })`), "h")
	if err == nil || !strings.Contains(err.Error(), "h.a") || !strings.Contains(err.Error(), "symbol") {
		t.Errorf("tableFromJS({ a: Symbol('x') }) = %s, %v; want an error naming h.a and saying symbol", showValue(map[string]any(tbl)), err)
	}

	// queue_declare(Symbol('q')), not the queue_name "q".
	out, aerr := queueDeclareSig.parseErr(vm, jsArgs(t, vm, `Symbol('q')`))
	if aerr == nil || aerr.rangeErr {
		t.Errorf("queue_declare(Symbol('q')) parsed as %s, err %v; want a TypeError", rendered(vm, queueDeclareSig, out), aerr)
	}

	// publish(Symbol('x'), …), not the payload []byte("x").
	b, _, err := payloadView(vm, jsEval(t, vm, `Symbol('x')`))
	if err == nil {
		t.Errorf("payloadView(Symbol('x')) = %q; want a TypeError", b)
	}
}

// queue_declare('q', new Boolean(false)) is a TypeError or passive=false. A
// Boolean object passes the kBool check (it exports as a Go bool), and
// ToBoolean of any object is true.
func TestBugBooleanObjectIsTrue(t *testing.T) {
	vm := newVM(t)
	out, err := queueDeclareSig.parseErr(vm, jsArgs(t, vm, `'q', new Boolean(false)`))
	if err == nil && boolean(out[1], false) {
		t.Errorf("queue_declare('q', new Boolean(false)): passive = true; want a TypeError or false")
	}
}

// describe() names a BigInt as a script author reads it ("got a bigint
// (10n)"), not by the Go type it exports as (*big.Int).
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

// A plain object with a "buffer" property holding an ArrayBuffer is not a
// byte view: as a payload it is a TypeError (docs/api.md §6), inside a field
// table a nested table, with or without byteOffset/byteLength, and never a
// Go panic. (Reading byteOffset/byteLength of an object that has none
// dereferences nil.)
func TestBugPlainObjectWithBufferProperty(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{
		`({ buffer: new ArrayBuffer(4) })`,
		`({ buffer: new ArrayBuffer(4), byteOffset: 0, byteLength: 4 })`,
	} {
		v := jsEval(t, vm, src)
		var b []byte
		var perr error
		if err := catch(func() { b, _, perr = payloadView(vm, v) }); err != nil {
			t.Errorf("payloadView(%s): %v", src, err)
		} else if perr == nil {
			t.Errorf("payloadView(%s) = %x; want a TypeError (a plain object is not a payload)", src, b)
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

// A sparse array costs the converters memory in proportion to its contents,
// not its length: a header, a string parameter or a payload of
// `a = []; a.length = 2**32 - 1` is a TypeError (or the per-element error),
// not a 64 GiB allocation ending the process with "fatal error: out of
// memory", which no recover() catches. The trap: goja's Export of an array
// allocates a Go slice of its full length, and so does a make() of the
// array's length before looking at its elements. The test uses a length of
// 2^21, cheap even when the converter allocates per element, and fails when
// a call allocates more than 8 MiB.
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
	measure("payloadView(sparse)", func() {
		if _, _, err := payloadView(vm, jsEval(t, vm, `sparse`)); err == nil {
			t.Error("payloadView(sparse): no error")
		}
	})
}

// docs/api.md §6: "integer-valued number → the smallest signed integer type
// that holds it", beyond 2^53 too: 2**60, -(2**62) and 2**53 + 2 are int64
// (int64 holds them exactly), not doubles, which RabbitMQ refuses for
// integer arguments such as x-max-length-bytes.
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

// Every short-string property is at most 255 bytes, a synchronous
// RangeError (docs/api.md §2): expiration given as a string too, which
// otherwise only fails later, in the amqp encoder, as a rejected promise.
func TestBugExpirationLengthNotChecked(t *testing.T) {
	vm := newVM(t)
	var p amqp.Properties
	err := propertiesFromJS(vm, jsEval(t, vm, `({ expiration: '1'.repeat(256) })`).(*goja.Object), &p, "publish")
	if err == nil || !err.rangeErr {
		t.Errorf("expiration of 256 bytes: err %v; want a RangeError like the other string properties", err)
	}
}

// A received header named "__proto__" (any publisher can send one) is an
// own data property "__proto__", as JSON.parse makes, in nested tables too;
// the object's prototype stays Object.prototype. The trap: o.Set(k, v) with
// the key "__proto__" calls the Object.prototype.__proto__ setter, so the
// header would vanish and, when its value is a table, become the object's
// prototype (v.isAdmin === true).
func TestBugTableToJSProtoKey(t *testing.T) {
	vm := newVM(t)
	v := tableToJS(vm, amqp.Table{"__proto__": amqp.Table{"isAdmin": true}, "a": int8(1), "n": amqp.Table{"__proto__": "s"}})
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getPrototypeOf(v) === Object.prototype && v.isAdmin === undefined`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.keys(v).sort().join() === '__proto__,a,n'`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getOwnPropertyDescriptor(v, '__proto__')?.value?.isAdmin === true`)
	jsTrue(t, vm, map[string]any{"v": v}, `Object.getOwnPropertyDescriptor(v.n, '__proto__')?.value === 's'`)
}
