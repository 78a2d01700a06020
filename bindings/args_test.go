package bindings

import (
	"strings"
	"testing"

	"github.com/dop251/goja"
)

// allKinds has one parameter of every kind: eight positional, then two
// options-only ones.
var allKinds = newSig("m",
	pReq(pStr("s")), pBool("b"), pInt("i", -5, 100),
	param{name: "t", kind: kTable}, param{name: "o", kind: kObject},
	param{name: "f", kind: kFunc}, param{name: "fn", kind: kFuncNull}, param{name: "any", kind: kAny},
	pOpt(pInt("big", 0, 1<<53-1)), pTimeout(),
)

// twoAny takes any two values positionally, so that what is or is not taken
// as the options object shows.
var twoAny = newSig("two", param{name: "x", kind: kAny}, param{name: "y", kind: kAny}, pTimeout())

type argCase struct {
	name     string
	sig      *sig
	args     string // JS argument list
	want     string // "name=value …" of the parameters given; "" for none
	err      string // exact message; "" when the call is valid
	rangeErr bool
	code     string // checked when not ""
}

// rendered renders the parameters that were given, in signature order.
func rendered(vm *goja.Runtime, s *sig, out []goja.Value) string {
	var parts []string
	for i, p := range s.params {
		if out[i] != nil {
			parts = append(parts, p.name+"="+show(vm, out[i]))
		}
	}
	return strings.Join(parts, " ")
}

func runArgCases(t *testing.T, cases []argCase) {
	t.Helper()
	vm := newVM(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := c.sig.parseErr(vm, jsArgs(t, vm, c.args))
			if c.err == "" {
				if err != nil {
					t.Fatalf("%s(%s): unexpected error %q", c.sig.method, c.args, err.msg)
				}
				if got := rendered(vm, c.sig, out); got != c.want {
					t.Fatalf("%s(%s):\n got  %s\n want %s", c.sig.method, c.args, got, c.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s(%s): no error, parsed %s; want %q", c.sig.method, c.args, rendered(vm, c.sig, out), c.err)
			}
			if out != nil {
				t.Errorf("values returned with an error")
			}
			if err.msg != c.err {
				t.Errorf("%s(%s):\n got  %q\n want %q", c.sig.method, c.args, err.msg, c.err)
			}
			if err.Error() != err.msg {
				t.Errorf("Error() = %q, msg = %q", err.Error(), err.msg)
			}
			if err.rangeErr != c.rangeErr {
				t.Errorf("rangeErr = %v, want %v", err.rangeErr, c.rangeErr)
			}
			if c.code != "" && err.code != c.code {
				t.Errorf("code = %q, want %q", err.code, c.code)
			}
		})
	}
}

func TestParseArgsConvention(t *testing.T) {
	runArgCases(t, []argCase{
		{name: "positional only", sig: allKinds, args: `'q', true, 5`, want: `s="q" b=true i=5`},
		{name: "all positional", sig: allKinds, args: `'q', false, -5, null, {}, () => 1, null, 42`,
			// {} is not last, so it is the positional 'o'.
			want: `s="q" b=false i=-5 t=null o={} f=function fn=null any=42`},
		{name: "all positional and options", sig: allKinds, args: `'q', false, -5, null, {}, () => 1, null, 42, { big: 1, timeout: 2 }`,
			want: `s="q" b=false i=-5 t=null o={} f=function fn=null any=42 big=1 timeout=2`},
		{name: "options only", sig: allKinds, args: `{ s: 'q', b: false, timeout: 1.5, big: 7 }`, want: `s="q" b=false big=7 timeout=1.5`},
		{name: "mixed", sig: allKinds, args: `'q', { i: 100, t: { 'x-max-priority': 4 } }`, want: `s="q" i=100 t={"x-max-priority":4}`},
		{name: "mixed, positional then rest by name", sig: allKinds, args: `'q', true, { fn: null, any: [1] }`, want: `s="q" b=true fn=null any=[1]`},
		{name: "empty options object", sig: allKinds, args: `'q', {}`, want: `s="q"`},
		{name: "null-prototype options object", sig: allKinds, args: `'q', Object.assign(Object.create(null), { b: true })`, want: `s="q" b=true`},
		{name: "trailing plain object is always options", sig: allKinds, args: `'q', true, 5, { 'x-max-priority': 4 }`,
			err: `m: unknown option 'x-max-priority' (expected one of: s, b, i, t, o, f, fn, any, big, timeout)`, code: "ERR_INVALID_ARG_VALUE"},
		{name: "plain object not last is positional", sig: twoAny, args: `{ a: 1 }, 2`, want: `x={"a":1} y=2`},
		{name: "only the last object is options", sig: twoAny, args: `{ a: 1 }, { y: 2 }`, want: `x={"a":1} y=2`},

		{name: "undefined positional is not given", sig: allKinds, args: `'q', undefined, undefined, undefined`, want: `s="q"`},
		{name: "undefined positional then by name", sig: allKinds, args: `undefined, { s: 'r' }`, want: `s="r"`},
		{name: "undefined option is not given", sig: allKinds, args: `'q', { b: undefined, timeout: undefined }`, want: `s="q"`},
		{name: "undefined option does not clash", sig: allKinds, args: `'q', { s: undefined }`, want: `s="q"`},
		{name: "undefined unknown option still unknown", sig: allKinds, args: `'q', { nope: undefined }`,
			err: `m: unknown option 'nope' (expected one of: s, b, i, t, o, f, fn, any, big, timeout)`},
		{name: "hole is undefined", sig: allKinds, args: `'q', , 3`, want: `s="q" i=3`},

		{name: "given both ways", sig: allKinds, args: `'q', { s: 'r' }`,
			err: `m: parameter 's' given both positionally and by name`, code: "ERR_INVALID_ARG_VALUE"},
		{name: "given both ways, null positional", sig: allKinds, args: `'q', true, 1, null, { t: {} }`,
			err: `m: parameter 't' given both positionally and by name`},
		{name: "too many positional", sig: twoAny, args: `1, 2, 3`,
			err: `two: too many positional arguments: got 3, accepts at most 2 (x, y); pass the rest by name in an options object`, code: "ERR_TOO_MANY_ARGS"},
		{name: "too many positional before options", sig: twoAny, args: `1, 2, 3, { timeout: 1 }`,
			err: `two: too many positional arguments: got 3, accepts at most 2 (x, y); pass the rest by name in an options object`},
		{name: "trailing undefined still counts", sig: twoAny, args: `1, 2, undefined`,
			err: `two: too many positional arguments: got 3, accepts at most 2 (x, y); pass the rest by name in an options object`},
		{name: "missing required", sig: allKinds, args: ``, err: `m: missing required parameter 's'`, code: "ERR_MISSING_ARGS"},
		{name: "missing required, options given", sig: allKinds, args: `{ b: true }`, err: `m: missing required parameter 's'`},
		{name: "missing required, undefined", sig: allKinds, args: `undefined`, err: `m: missing required parameter 's'`},
		{name: "missing required, undefined by name", sig: allKinds, args: `{ s: undefined }`, err: `m: missing required parameter 's'`},
		{name: "positional given again by name", sig: twoAny, args: `1, 2, { x: 3 }`,
			err: `two: parameter 'x' given both positionally and by name`},
		{name: "unknown option is checked before types", sig: allKinds, args: `5, { zzz: 1 }`,
			err: `m: unknown option 'zzz' (expected one of: s, b, i, t, o, f, fn, any, big, timeout)`},
	})
}

func TestParseArgsTypes(t *testing.T) {
	typeErr := func(name, args, msg string) argCase {
		return argCase{name: name, sig: allKinds, args: args, err: "m: " + msg, code: "ERR_INVALID_ARG_TYPE"}
	}
	rangeErr := func(name, args, msg string) argCase {
		return argCase{name: name, sig: allKinds, args: args, err: "m: " + msg, rangeErr: true, code: "ERR_OUT_OF_RANGE"}
	}
	ok := func(name, args, want string) argCase {
		return argCase{name: name, sig: allKinds, args: args, want: want}
	}
	runArgCases(t, []argCase{
		// string
		typeErr("string: number", `5`, `parameter 's' must be a string, got a number (5)`),
		typeErr("string: fraction", `{ s: 1.5 }`, `parameter 's' must be a string, got a number (1.5)`),
		typeErr("string: null", `null`, `parameter 's' must be a string, got null`),
		typeErr("string: boolean", `true`, `parameter 's' must be a string, got a boolean (true)`),
		typeErr("string: array", `['q']`, `parameter 's' must be a string, got an array`),
		typeErr("string: function", `{ s: () => 1 }`, `parameter 's' must be a string, got a function`),
		ok("string: empty", `''`, `s=""`),
		ok("string: unicode", `'ключ ✓'`, `s="ключ ✓"`),

		// bool
		typeErr("bool: number", `'q', 1`, `parameter 'b' must be a boolean, got a number (1)`),
		typeErr("bool: string", `'q', 'true'`, `parameter 'b' must be a boolean, got a string ("true")`),
		typeErr("bool: null", `'q', null`, `parameter 'b' must be a boolean, got null`),
		ok("bool: false", `'q', false`, `s="q" b=false`),

		// int
		typeErr("int: string", `'q', true, '5'`, `parameter 'i' must be an integer, got a string ("5")`),
		typeErr("int: null", `'q', { i: null }`, `parameter 'i' must be an integer, got null`),
		typeErr("int: boolean", `'q', { i: true }`, `parameter 'i' must be an integer, got a boolean (true)`),
		rangeErr("int: above max", `'q', { i: 101 }`, `parameter 'i' must be an integer from -5 to 100, got 101`),
		rangeErr("int: below min", `'q', { i: -6 }`, `parameter 'i' must be an integer from -5 to 100, got -6`),
		rangeErr("int: non-integer", `'q', { i: 1.5 }`, `parameter 'i' must be an integer from -5 to 100, got 1.5`),
		rangeErr("int: NaN", `'q', { i: NaN }`, `parameter 'i' must be an integer from -5 to 100, got NaN`),
		rangeErr("int: Infinity", `'q', { i: Infinity }`, `parameter 'i' must be an integer from -5 to 100, got Infinity`),
		rangeErr("int: -Infinity", `'q', { i: -Infinity }`, `parameter 'i' must be an integer from -5 to 100, got -Infinity`),
		ok("int: max", `'q', { i: 100 }`, `s="q" i=100`),
		ok("int: min", `'q', { i: -5 }`, `s="q" i=-5`),
		ok("int: integral float", `'q', { i: 4.0 }`, `s="q" i=4`),
		ok("int: negative zero", `'q', { i: -0 }`, `s="q" i=0`),
		ok("int: 2^53-1", `'q', { big: 2**53 - 1 }`, `s="q" big=9007199254740991`),
		rangeErr("int: 2^53", `'q', { big: 2**53 }`, `parameter 'big' must be an integer from 0 to 9007199254740991, got 9007199254740992`),
		rangeErr("int: tiny fraction", `'q', { big: 0.5 }`, `parameter 'big' must be an integer from 0 to 9007199254740991, got 0.5`),

		// seconds
		ok("seconds: null timeout", `'q', { timeout: null }`, `s="q" timeout=null`),
		ok("seconds: zero", `'q', { timeout: 0 }`, `s="q" timeout=0`),
		ok("seconds: fraction", `'q', { timeout: 0.25 }`, `s="q" timeout=0.25`),
		ok("seconds: large", `'q', { timeout: 1e9 }`, `s="q" timeout=1000000000`),
		typeErr("seconds: string", `'q', { timeout: '5' }`, `parameter 'timeout' must be a number of seconds, got a string ("5")`),
		typeErr("seconds: boolean", `'q', { timeout: true }`, `parameter 'timeout' must be a number of seconds, got a boolean (true)`),
		rangeErr("seconds: negative", `'q', { timeout: -1 }`, `parameter 'timeout' must be a finite number of seconds ≥ 0, got -1`),
		rangeErr("seconds: NaN", `'q', { timeout: NaN }`, `parameter 'timeout' must be a finite number of seconds ≥ 0, got NaN`),
		rangeErr("seconds: Infinity", `'q', { timeout: Infinity }`, `parameter 'timeout' must be a finite number of seconds ≥ 0, got Infinity`),

		// table
		ok("table: null", `'q', true, 1, null`, `s="q" b=true i=1 t=null`),
		ok("table: object", `'q', { t: { a: 1, b: { c: [] } } }`, `s="q" t={"a":1,"b":{"c":[]}}`),
		typeErr("table: array", `'q', { t: [1] }`, `parameter 't' must be a plain object, got an array`),
		typeErr("table: string", `'q', { t: 'x' }`, `parameter 't' must be a plain object, got a string ("x")`),
		typeErr("table: Date", `'q', { t: new Date(0) }`, `parameter 't' must be a plain object, got an instance of Date`),
		typeErr("table: class instance", `'q', { t: new (class Foo {})() }`, `parameter 't' must be a plain object, got an instance of Foo`),

		// object
		ok("object: plain", `'q', { o: { content_type: 'x' } }`, `s="q" o={"content_type":"x"}`),
		typeErr("object: null", `'q', { o: null }`, `parameter 'o' must be a plain object, got null`),
		typeErr("object: number", `'q', { o: 3 }`, `parameter 'o' must be a plain object, got a number (3)`),
		typeErr("object: array", `'q', { o: [] }`, `parameter 'o' must be a plain object, got an array`),

		// func
		ok("func: arrow", `'q', { f: () => 1 }`, `s="q" f=function`),
		ok("func: async", `'q', { f: async function () {} }`, `s="q" f=function`),
		typeErr("func: null", `'q', { f: null }`, `parameter 'f' must be a function, got null`),
		typeErr("func: string", `'q', { f: 'cb' }`, `parameter 'f' must be a function, got a string ("cb")`),
		typeErr("func: object", `'q', { f: {} }`, `parameter 'f' must be a function, got an object`),

		// funcNull
		ok("funcNull: null", `'q', { fn: null }`, `s="q" fn=null`),
		ok("funcNull: function", `'q', { fn: function () {} }`, `s="q" fn=function`),
		typeErr("funcNull: number", `'q', { fn: 1 }`, `parameter 'fn' must be a function or null, got a number (1)`),
		typeErr("funcNull: false", `'q', { fn: false }`, `parameter 'fn' must be a function or null, got a boolean (false)`),

		// any takes anything, null and objects included
		ok("any: null", `'q', { any: null }`, `s="q" any=null`),
		ok("any: Date", `'q', { any: new Date(0) }`, `s="q" any="1970-01-01T00:00:00.000Z"`),
	})
}

// Values that are objects but not plain objects are never taken as the
// options object: they are positional arguments.
func TestParseArgsNotOptions(t *testing.T) {
	vm := newVM(t)
	for _, src := range []string{
		`new (class Opts { constructor() { this.timeout = 1 } })()`,
		`[1, 2]`, `Buffer.from('ab')`, `new Uint8Array(2)`, `new Uint8Array(4).subarray(1)`, `new ArrayBuffer(2)`,
		`new DataView(new ArrayBuffer(2))`, `new Date(0)`, `new Map([['timeout', 1]])`, `new Set()`,
		`/re/`, `new Error('e')`, `() => 1`, `Promise.resolve(1)`, `new String('s')`, `Object.create({ timeout: 1 })`,
		`(function () { return arguments })(1)`,
	} {
		args := jsArgs(t, vm, `'x', `+src)
		out, err := twoAny.parseErr(vm, args)
		if err != nil {
			t.Errorf("two('x', %s): %s", src, err.msg)
			continue
		}
		if out[1] == nil || out[1] != args[1] {
			t.Errorf("two('x', %s): not the positional y: %s", src, rendered(vm, twoAny, out))
		}
		// A third one is one too many: it is not swallowed as options.
		if _, err := twoAny.parseErr(vm, jsArgs(t, vm, `'x', 'y', `+src)); err == nil || err.code != "ERR_TOO_MANY_ARGS" {
			t.Errorf("two('x', 'y', %s): err %v, want too many positional", src, err)
		}
	}
	for _, src := range []string{`{}`, `{ timeout: 1 }`, `Object.create(null)`, `new Object()`, `JSON.parse('{"timeout":1}')`} {
		out, err := twoAny.parseErr(vm, jsArgs(t, vm, `'x', 'y', `+src))
		if err != nil {
			t.Errorf("two('x', 'y', %s): %s", src, err.msg)
			continue
		}
		if got := rendered(vm, twoAny, out); !strings.HasPrefix(got, `x="x" y="y"`) {
			t.Errorf("two('x', 'y', %s) = %s", src, got)
		}
	}
}

// The real signatures follow docs/api.md §2 and §5: positional order, the
// options object, and the exact message of the documented example.
func TestParseArgsMethodSignatures(t *testing.T) {
	runArgCases(t, []argCase{
		{name: "documented unknown option", sig: queueDeclareSig, args: `'jobs', { durabel: true }`,
			err: `queue_declare: unknown option 'durabel' (expected one of: queue_name, passive, durable, exclusive, auto_delete, no_wait, arguments, timeout)`},
		{name: "queue_declare options", sig: queueDeclareSig, args: `'jobs', { durable: true }`, want: `queue_name="jobs" durable=true`},
		{name: "queue_declare all by name", sig: queueDeclareSig, args: `{ queue_name: '', durable: true, arguments: { 'x-max-priority': 4 } }`,
			want: `queue_name="" durable=true arguments={"x-max-priority":4}`},
		{name: "queue_declare no args", sig: queueDeclareSig, args: ``, want: ``},
		{name: "queue_declare positional", sig: queueDeclareSig, args: `'q', false, true, false, true, false, null`,
			want: `queue_name="q" passive=false durable=true exclusive=false auto_delete=true no_wait=false arguments=null`},
		{name: "queue_bind positional", sig: queueBindSig, args: `'jobs', 'work', 'jobs.*'`, want: `queue_name="jobs" exchange_name="work" routing_key="jobs.*"`},
		{name: "queue_bind routing key by name", sig: queueBindSig, args: `'jobs', 'work', { routing_key: 'jobs.*' }`,
			want: `queue_name="jobs" exchange_name="work" routing_key="jobs.*"`},
		{name: "queue_bind missing routing key", sig: queueBindSig, args: `'jobs', 'work'`, err: `queue_bind: missing required parameter 'routing_key'`},
		{name: "publish with properties", sig: publishSig, args: `'hello', '', 'jobs', { properties: { content_type: 'text/plain' } }`,
			want: `payload="hello" exchange_name="" routing_key="jobs" properties={"content_type":"text/plain"}`},
		{name: "publish properties positional dict is options", sig: publishSig, args: `'hello', '', 'jobs', { content_type: 'text/plain' }`,
			err: `publish: unknown option 'content_type' (expected one of: payload, exchange_name, routing_key, properties, mandatory, immediate, timeout)`},
		{name: "publish Buffer payload", sig: publishSig, args: `Buffer.from('x'), 'ex', 'rk', { mandatory: true }`,
			want: `payload={"0":120} exchange_name="ex" routing_key="rk" mandatory=true`},
		{name: "basic_qos prefetch_count 70000", sig: basicQosSig, args: `0, 70000`, rangeErr: true,
			err: `basic_qos: parameter 'prefetch_count' must be an integer from 0 to 65535, got 70000`},
		{name: "basic_qos by name", sig: basicQosSig, args: `{ prefetch_count: 10, connection_global: true }`, want: `prefetch_count=10 connection_global=true`},
		{name: "connect port 99999", sig: connectSig, args: `'h', 99999`, rangeErr: true,
			err: `connect: parameter 'port' must be an integer from 1 to 65535, got 99999`},
		{name: "connect host first", sig: connectSig, args: `'rabbit', 5673, { heartbeat: 0 }`, want: `host="rabbit" port=5673 heartbeat=0`},
		{name: "connect on_error null", sig: connectSig, args: `{ on_error: null }`, want: `on_error=null`},
		{name: "basic_consume concurrency 0", sig: basicConsumeSig, args: `() => {}, 'q', { concurrency: 0 }`, rangeErr: true,
			err: `basic_consume: parameter 'concurrency' must be an integer from 1 to 1048576, got 0`},
		{name: "basic_consume callback required", sig: basicConsumeSig, args: `{ queue_name: 'q' }`, err: `basic_consume: missing required parameter 'callback'`},
		{name: "consume takes only the queue positionally", sig: consumeSig, args: `'q', true`,
			err: `consume: too many positional arguments: got 2, accepts at most 1 (queue_name); pass the rest by name in an options object`},
		{name: "basic_client_ack tag", sig: basicAckSig, args: `2**53 - 1, true`, want: `delivery_tag=9007199254740991 multiple=true`},
		{name: "basic_client_ack negative tag", sig: basicAckSig, args: `-1`, rangeErr: true,
			err: `basic_client_ack: parameter 'delivery_tag' must be an integer from 0 to 9007199254740991, got -1`},
		{name: "close reply_code", sig: channelCloseSig, args: `200, 'bye', { timeout: null }`, want: `reply_code=200 reply_text="bye" timeout=null`},
		{name: "flow active required", sig: flowSig, args: `{ timeout: 1 }`, err: `flow: missing required parameter 'active'`},
	})
}

// parse throws the argError synchronously as a TypeError or RangeError with
// its code (docs/api.md §2).
func TestParseThrows(t *testing.T) {
	vm := newVM(t)
	_ = vm.Set("call", func(call goja.FunctionCall) goja.Value {
		out := allKinds.parse(vm, call.Arguments)
		return vm.ToValue(rendered(vm, allKinds, out))
	})
	for _, c := range []struct{ args, ctor, code, msg string }{
		{`'q', { durabel: 1 }`, "TypeError", "ERR_INVALID_ARG_VALUE", `m: unknown option 'durabel' (expected one of: s, b, i, t, o, f, fn, any, big, timeout)`},
		{`1`, "TypeError", "ERR_INVALID_ARG_TYPE", `m: parameter 's' must be a string, got a number (1)`},
		{``, "TypeError", "ERR_MISSING_ARGS", `m: missing required parameter 's'`},
		{`'q', { i: 1000 }`, "RangeError", "ERR_OUT_OF_RANGE", `m: parameter 'i' must be an integer from -5 to 100, got 1000`},
		{`'q', { timeout: -0.5 }`, "RangeError", "ERR_OUT_OF_RANGE", `m: parameter 'timeout' must be a finite number of seconds ≥ 0, got -0.5`},
	} {
		_ = vm.Set("want", c.msg)
		v := jsEval(t, vm, `(() => {
			let thrown = null
			try { call(`+c.args+`) } catch (e) { thrown = e }
			if (thrown === null) return 'no throw'
			return [thrown.constructor.name, thrown instanceof Error, thrown.code, thrown.message === want ? 'ok' : thrown.message].join('|')
		})()`)
		want := c.ctor + "|true|" + c.code + "|ok"
		if v.String() != want {
			t.Errorf("call(%s): got %s, want %s", c.args, v, want)
		}
	}
	if v := jsEval(t, vm, `call('q', { b: true })`); v.String() != `s="q" b=true` {
		t.Errorf("valid call returned %s", v)
	}
}
