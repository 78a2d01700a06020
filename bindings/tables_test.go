package bindings

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
)

// docs/api.md §6: how each JS value becomes a field-table value.
func TestTableFromJS(t *testing.T) {
	vm := newVM(t)
	cases := []struct{ name, src, want string }{
		{"empty", `{}`, `{}`},
		{"strings", `{ s: 'x', e: '', u: 'ключ ✓ 😀' }`, `{"e":"","s":"x","u":"ключ ✓ 😀"}`},
		{"booleans", `{ t: true, f: false }`, `{"f":bool(false),"t":bool(true)}`},
		{"zero", `{ z: 0, nz: -0 }`, `{"nz":int8(0),"z":int8(0)}`},
		{"int8 bounds", `{ a: 127, b: -128, c: 1, d: -1 }`, `{"a":int8(127),"b":int8(-128),"c":int8(1),"d":int8(-1)}`},
		{"int16 bounds", `{ a: 128, b: -129, c: 32767, d: -32768 }`, `{"a":int16(128),"b":int16(-129),"c":int16(32767),"d":int16(-32768)}`},
		{"int32 bounds", `{ a: 32768, b: -32769, c: 2147483647, d: -2147483648 }`,
			`{"a":int32(32768),"b":int32(-32769),"c":int32(2147483647),"d":int32(-2147483648)}`},
		{"int64", `{ a: 2147483648, b: -2147483649, c: 2**53 - 1, d: -(2**53 - 1) }`,
			`{"a":int64(2147483648),"b":int64(-2147483649),"c":int64(9007199254740991),"d":int64(-9007199254740991)}`},
		{"x-message-ttl and x-max-priority", `{ 'x-message-ttl': 2147483648, 'x-max-priority': 4 }`,
			`{"x-max-priority":int8(4),"x-message-ttl":int64(2147483648)}`},
		{"integral float literal", `{ a: 4.0, b: 1e3 }`, `{"a":int8(4),"b":int16(1000)}`},
		{"non-integers are doubles", `{ a: 1.5, b: -0.25, c: 0.1, d: 2147483647.5 }`,
			`{"a":float64(1.5),"b":float64(-0.25),"c":float64(0.1),"d":float64(2.1474836475e+09)}`},
		{"non-finite are doubles", `{ n: NaN, p: Infinity, m: -Infinity }`, `{"m":float64(-Inf),"n":float64(NaN),"p":float64(+Inf)}`},
		{"beyond int64 is a double", `{ a: 1e20, b: -1e300 }`, `{"a":float64(1e+20),"b":float64(-1e+300)}`},
		{"BigInt is int64", `{ a: 5n, b: -1n, c: 2n**63n - 1n, d: -(2n**63n) }`,
			`{"a":int64(5),"b":int64(-1),"c":int64(9223372036854775807),"d":int64(-9223372036854775808)}`},
		{"Date is a timestamp", `{ d: new Date(1700000000123), e: new Date(0) }`,
			`{"d":time(2023-11-14T22:13:20.123Z),"e":time(1970-01-01T00:00:00Z)}`},
		{"null is void", `{ n: null }`, `{"n":nil}`},
		{"arrays", `{ a: [1, 'a', null, [true, 300], { x: 1 }], e: [] }`,
			`{"a":[int8(1),"a",nil,[bool(true),int16(300)],{"x":int8(1)}],"e":[]}`},
		{"nested objects", `{ a: { b: { c: { d: 'deep' } }, n: 70000 } }`, `{"a":{"b":{"c":{"d":"deep"}},"n":int32(70000)}}`},
		{"null-prototype nested", `{ a: Object.assign(Object.create(null), { k: 1 }) }`, `{"a":{"k":int8(1)}}`},
		{"Uint8Array", `{ b: new Uint8Array([0, 1, 255]) }`, `{"b":bytes(0001ff)}`},
		{"Buffer", `{ b: Buffer.from('héllo') }`, `{"b":bytes(68c3a96c6c6f)}`},
		{"empty Buffer", `{ b: Buffer.alloc(0) }`, `{"b":bytes()}`},
		{"subarray keeps its offset", `{ b: new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 3) }`, `{"b":bytes(0203)}`},
		{"Buffer slice of a pooled buffer", `{ b: Buffer.from('xxabcxx').subarray(2, 5) }`, `{"b":bytes(616263)}`},
		{"ArrayBuffer", `{ b: new Uint8Array([9, 8]).buffer }`, `{"b":bytes(0908)}`},
		{"bytes inside an array", `{ a: [Buffer.from('A')] }`, `{"a":[bytes(41)]}`},
		{"key of 255 bytes", `{ ['k'.repeat(255)]: 1 }`, `{"` + strings.Repeat("k", 255) + `":int8(1)}`},
		{"empty key", `{ '': 1 }`, `{"":int8(1)}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl, err := tableFromJS(vm, jsEval(t, vm, "("+c.src+")"), "h")
			if err != nil {
				t.Fatalf("%s: %v", c.src, err)
			}
			if tbl == nil {
				t.Fatalf("%s: nil table", c.src)
			}
			if got := showValue(map[string]any(tbl)); got != c.want {
				t.Fatalf("%s:\n got  %s\n want %s", c.src, got, c.want)
			}
		})
	}
}

func TestTableFromJSAbsent(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{`undefined`, `null`} {
		tbl, err := tableFromJS(vm, jsEval(t, vm, src), "h")
		if err != nil || tbl != nil {
			t.Errorf("%s: got %v, %v; want nil, nil", src, tbl, err)
		}
	}
	if tbl, err := tableFromJS(vm, nil, "h"); err != nil || tbl != nil {
		t.Errorf("Go nil: got %v, %v; want nil, nil", tbl, err)
	}
}

// The copy of a byte array is taken when converting: later writes to the
// script's buffer do not change the table.
func TestTableFromJSCopiesBytes(t *testing.T) {
	vm := newVM(t)
	v := jsEval(t, vm, `globalThis.buf = Buffer.from('abc'); ({ b: buf, ab: buf.buffer })`)
	tbl, err := tableFromJS(vm, v, "h")
	if err != nil {
		t.Fatal(err)
	}
	before := showValue(tbl["b"])
	jsEval(t, vm, `buf.fill(0x7a)`)
	if after := showValue(tbl["b"]); after != before || after != "bytes(616263)" {
		t.Errorf("bytes changed with the buffer: before %s, after %s", before, after)
	}
}

func TestTableFromJSErrors(t *testing.T) {
	vm := newVM(t)
	cases := []struct{ name, src, want string }{
		{"undefined value", `{ a: undefined }`, `h.a is undefined: field tables cannot hold undefined (use null)`},
		{"nested undefined", `{ a: { b: { c: undefined } } }`, `h.a.b.c is undefined: field tables cannot hold undefined (use null)`},
		{"undefined in array", `{ a: [1, undefined] }`, `h.a[1] is undefined: field tables cannot hold undefined (use null)`},
		{"array hole", `{ a: [1, , 3] }`, `h.a[1] is undefined: field tables cannot hold undefined (use null)`},
		{"function", `{ f: () => 1 }`, `h.f is a function: field tables cannot hold functions`},
		{"class", `{ f: class {} }`, `h.f is a function: field tables cannot hold functions`},
		{"function deep in arrays", `{ a: { b: [[0, function () {}]] } }`, `h.a.b[0][1] is a function: field tables cannot hold functions`},
		{"BigInt too big", `{ n: 2n**63n }`, `h.n: BigInt 9223372036854775808 does not fit in a signed 64-bit integer`},
		{"BigInt too small", `{ n: -(2n**63n) - 1n }`, `h.n: BigInt -9223372036854775809 does not fit in a signed 64-bit integer`},
		{"key too long", `{ ['k'.repeat(256)]: 1 }`, `h: key 'kkkkkkkkkkkkkkkkkkkk…' is longer than 255 bytes`},
		{"nested key too long", `{ a: { ['é'.repeat(128)]: 1 } }`, `h.a: key 'éééééééééééééééééééé…' is longer than 255 bytes`},
		{"class instance", `{ c: new (class Foo {})() }`, `h.c has unsupported type an instance of Foo`},
		{"Map", `{ m: new Map() }`, `h.m has unsupported type an instance of Map`},
		{"RegExp", `{ r: /x/ }`, `h.r has unsupported type an instance of RegExp`},
		{"top level array", `[1]`, `h must be a plain object, got an array`},
		{"top level string", `'x'`, `h must be a plain object, got a string ("x")`},
		{"top level Buffer", `Buffer.from('x')`, `h must be a plain object, got a Buffer`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tbl, err := tableFromJS(vm, jsEval(t, vm, "("+c.src+")"), "h")
			if err == nil {
				t.Fatalf("%s: no error, got %s", c.src, showValue(map[string]any(tbl)))
			}
			if err.Error() != c.want {
				t.Fatalf("%s:\n got  %q\n want %q", c.src, err, c.want)
			}
		})
	}
}

// A cyclic object is an error, not a stack overflow or a hang.
func TestTableFromJSCycles(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{
		`(() => { const o = {}; o.self = o; return o })()`,
		`(() => { const o = { a: { b: {} } }; o.a.b.back = o; return o })()`,
		`(() => { const a = []; a.push(a); return { a } })()`,
		`(() => { const o = { list: [] }; o.list.push({ up: o }); return o })()`,
	} {
		v := jsEval(t, vm, src)
		done := make(chan error, 1)
		go func() {
			_, err := tableFromJS(vm, v, "h")
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s: no error", src)
			} else if !strings.Contains(err.Error(), "deeper than") {
				t.Errorf("%s: %v", src, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: no answer after 30s", src)
		}
	}
	// Deep but finite nesting (within what the wire encoder takes) is fine.
	v := jsEval(t, vm, `(() => { let o = { leaf: [1] }; for (let i = 0; i < 20; i++) o = { o }; return o })()`)
	if _, err := tableFromJS(vm, v, "h"); err != nil {
		t.Errorf("20 levels: %v", err)
	}
}

// docs/api.md §6, received tables: integers beyond ±2^53 are BigInts, other
// integers numbers; timestamps Dates; byte arrays Buffers; nested tables
// objects; void null.
func TestTableToJS(t *testing.T) {
	vm := newVM(t)
	ts := time.UnixMilli(1700000000123).UTC()
	tbl := amqp.Table{
		"s": "x", "t": true, "f": false, "void": nil,
		"i8": int8(-128), "i16": int16(32767), "i32": int32(-2147483648), "i64": int64(1 << 40),
		"safe": int64(1<<53 - 1), "nsafe": int64(-(1<<53 - 1)),
		"big": int64(1<<53 + 1), "nbig": int64(-(1<<53 + 1)), "max": int64(math.MaxInt64), "min": int64(math.MinInt64),
		"u8": uint8(255), "u16": uint16(65535), "u32": uint32(math.MaxUint32), "u64": uint64(math.MaxUint64), "u64small": uint64(7),
		"int": int(-5), "bigint": int(1 << 62),
		"f64": 1.5, "f32": float32(0.5), "nan": math.NaN(), "inf": math.Inf(-1),
		"ts":    ts,
		"bytes": []byte("hi"), "nobytes": []byte(nil),
		"arr":    []any{int32(1), "x", nil, []any{true}, amqp.Table{"k": int8(2)}},
		"nested": amqp.Table{"a": amqp.Table{"b": int64(1 << 60)}},
		"empty":  amqp.Table{},
	}
	v := tableToJS(vm, tbl)
	for _, expr := range []string{
		`v.s === 'x' && v.t === true && v.f === false && v.void === null`,
		`v.i8 === -128 && v.i16 === 32767 && v.i32 === -2147483648 && v.i64 === 2**40`,
		`v.safe === Number.MAX_SAFE_INTEGER && v.nsafe === Number.MIN_SAFE_INTEGER`,
		`typeof v.big === 'bigint' && v.big === 9007199254740993n`,
		`typeof v.nbig === 'bigint' && v.nbig === -9007199254740993n`,
		`v.max === 2n**63n - 1n && v.min === -(2n**63n)`,
		`v.u8 === 255 && v.u16 === 65535 && v.u32 === 4294967295 && v.u64small === 7`,
		`v.u64 === 2n**64n - 1n`,
		`v.int === -5 && v.bigint === 2n**62n`,
		`v.f64 === 1.5 && v.f32 === 0.5 && Number.isNaN(v.nan) && v.inf === -Infinity`,
		`v.ts instanceof Date && v.ts.getTime() === 1700000000123`,
		`Buffer.isBuffer(v.bytes) && v.bytes.toString() === 'hi'`,
		`Buffer.isBuffer(v.nobytes) && v.nobytes.length === 0`,
		`Array.isArray(v.arr) && v.arr.length === 5 && v.arr[0] === 1 && v.arr[1] === 'x' && v.arr[2] === null`,
		`Array.isArray(v.arr[3]) && v.arr[3][0] === true && v.arr[4].k === 2`,
		`Object.getPrototypeOf(v.nested) === Object.prototype && v.nested.a.b === 2n**60n`,
		`Object.keys(v.empty).length === 0`,
		`Object.keys(v).join() === Object.keys(v).sort().join()`,
		`Object.getPrototypeOf(v) === Object.prototype`,
	} {
		jsTrue(t, vm, map[string]any{"v": v}, expr)
	}
	if n := tableToJS(vm, nil); n == nil || !goja.IsNull(n) {
		t.Errorf("tableToJS(nil) = %v, want null", n)
	}
}

// JS → table → JS gives back the same data, with the JS types of docs/api.md §6.
func TestTableRoundTrip(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{
		`{}`,
		`{ s: 'x', b: true, n: null, i: 127, j: 128, k: -32769, l: 2147483648, m: -(2**53 - 1), f: 0.5 }`,
		`{ a: [1, [2, [3, { d: 'e' }]], null, 'z'], o: { p: { q: { r: false } } } }`,
		`{ big: 2n**62n, nbig: -(2n**63n), small: 3n, t: new Date(86400000), b: Buffer.from([0, 255]) }`,
		`{ 'x-dead-letter-exchange': 'dlx', 'x-message-ttl': 60000, 'x-max-length-bytes': 2**40 }`,
		`{ ['ü'.repeat(127)]: 'long key' }`,
	} {
		in := jsEval(t, vm, "("+src+")")
		tbl, err := tableFromJS(vm, in, "h")
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		out := tableToJS(vm, tbl)
		if err := sameJS(vm, in, out, "v"); err != nil {
			t.Errorf("%s: %v", src, err)
		}
		// A second trip gives an identical Go table (except that small
		// BigInts come back as numbers, see below).
		if strings.Contains(src, "3n") {
			continue
		}
		tbl2, err := tableFromJS(vm, out, "h")
		if err != nil {
			t.Errorf("%s: second trip: %v", src, err)
		} else if a, b := showValue(map[string]any(tbl)), showValue(map[string]any(tbl2)); a != b {
			t.Errorf("%s: second trip differs:\n %s\n %s", src, a, b)
		}
	}
	// Small BigInts come back as numbers (int64 within ±2^53), everything
	// else keeps its JS type.
	in := jsEval(t, vm, `({ small: 3n })`)
	tbl, _ := tableFromJS(vm, in, "h")
	jsTrue(t, vm, map[string]any{"v": tableToJS(vm, tbl)}, `v.small === 3`)
}
