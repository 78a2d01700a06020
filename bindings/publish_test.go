package bindings

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
)

// showProps renders the non-zero fields of p.
func showProps(p *amqp.Properties) string {
	var parts []string
	add := func(name string, v any, zero bool) {
		if !zero {
			parts = append(parts, name+"="+showValue(v))
		}
	}
	add("content_type", p.ContentType, p.ContentType == "")
	add("content_encoding", p.ContentEncoding, p.ContentEncoding == "")
	add("headers", map[string]any(p.Headers), p.Headers == nil)
	add("delivery_mode", p.DeliveryMode, p.DeliveryMode == 0)
	add("priority", p.Priority, p.Priority == 0)
	add("correlation_id", p.CorrelationID, p.CorrelationID == "")
	add("reply_to", p.ReplyTo, p.ReplyTo == "")
	add("expiration", p.Expiration, p.Expiration == "")
	add("message_id", p.MessageID, p.MessageID == "")
	add("timestamp", p.Timestamp, p.Timestamp.IsZero())
	add("type", p.Type, p.Type == "")
	add("user_id", p.UserID, p.UserID == "")
	add("app_id", p.AppID, p.AppID == "")
	add("cluster_id", p.ClusterID, p.ClusterID == "")
	return strings.Join(parts, " ")
}

func TestPropertiesFromJS(t *testing.T) {
	vm := newVM(t)
	cases := []struct{ name, src, want string }{
		{"empty", `{}`, ``},
		{"strings", `{ content_type: 'text/plain', content_encoding: 'gzip', correlation_id: 'c1', reply_to: 'amq.rabbitmq.reply-to',
			message_id: 'm1', type: 'order.created', user_id: 'guest', app_id: 'amqpjs', cluster_id: 'c' }`,
			`content_type="text/plain" content_encoding="gzip" correlation_id="c1" reply_to="amq.rabbitmq.reply-to" message_id="m1" type="order.created" user_id="guest" app_id="amqpjs" cluster_id="c"`},
		{"string of 255 bytes", `{ message_id: 'm'.repeat(255) }`, `message_id="` + strings.Repeat("m", 255) + `"`},
		{"headers", `{ headers: { a: 1, b: 'x', c: { d: [true] } } }`, `headers={"a":int8(1),"b":"x","c":{"d":[bool(true)]}}`},
		{"empty headers", `{ headers: {} }`, `headers={}`},
		{"delivery_mode 1", `{ delivery_mode: 1 }`, `delivery_mode=uint8(1)`},
		{"delivery_mode 2", `{ delivery_mode: 2 }`, `delivery_mode=uint8(2)`},
		{"priority 9", `{ priority: 9 }`, `priority=uint8(9)`},
		{"priority 255", `{ priority: 255 }`, `priority=uint8(255)`},
		{"priority 0", `{ priority: 0 }`, ``},
		{"expiration string", `{ expiration: '60000' }`, `expiration="60000"`},
		{"expiration number", `{ expiration: 60000 }`, `expiration="60000"`},
		{"expiration zero", `{ expiration: 0 }`, `expiration="0"`},
		{"expiration integral float", `{ expiration: 1.0 }`, `expiration="1"`},
		{"expiration large", `{ expiration: 2**53 }`, `expiration="9007199254740992"`},
		{"timestamp", `{ timestamp: new Date(1700000000000) }`, `timestamp=time(2023-11-14T22:13:20Z)`},
		{"null and undefined are not given", `{ content_type: null, priority: undefined, timestamp: null, headers: null, delivery_mode: null }`, ``},
		{"null-prototype object", `Object.assign(Object.create(null), { app_id: 'a' })`, `app_id="a"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p amqp.Properties
			if err := propertiesFromJS(vm, jsEval(t, vm, "("+c.src+")").(*goja.Object), &p, "publish"); err != nil {
				t.Fatalf("%s: %s", c.src, err.msg)
			}
			if got := showProps(&p); got != c.want {
				t.Fatalf("%s:\n got  %s\n want %s", c.src, got, c.want)
			}
		})
	}
}

func TestPropertiesFromJSErrors(t *testing.T) {
	vm := newVM(t)
	const names = "content_type, content_encoding, headers, delivery_mode, priority, correlation_id, reply_to, expiration, message_id, timestamp, type, user_id, app_id, cluster_id"
	cases := []struct {
		name, src string
		rangeErr  bool
		want      string
	}{
		{"unknown property", `{ contentType: 'x' }`, false, `publish: unknown property 'contentType' (expected one of: ` + names + `)`},
		{"unknown property, valid first", `{ content_type: 'x', deliveryMode: 2 }`, false, `publish: unknown property 'deliveryMode' (expected one of: ` + names + `)`},
		{"string property number", `{ content_type: 1 }`, false, `publish: property 'content_type' must be a string, got a number (1)`},
		{"string property boolean", `{ reply_to: true }`, false, `publish: property 'reply_to' must be a string, got a boolean (true)`},
		{"string property object", `{ app_id: {} }`, false, `publish: property 'app_id' must be a string, got an object`},
		{"string property too long", `{ correlation_id: 'c'.repeat(256) }`, true, `publish: property 'correlation_id' is longer than 255 bytes`},
		{"string property too long in bytes", `{ type: 'é'.repeat(128) }`, true, `publish: property 'type' is longer than 255 bytes`},
		{"delivery_mode 3", `{ delivery_mode: 3 }`, true, `publish: property 'delivery_mode' must be 1 (transient) or 2 (persistent), got 3`},
		{"delivery_mode 0", `{ delivery_mode: 0 }`, true, `publish: property 'delivery_mode' must be 1 (transient) or 2 (persistent), got 0`},
		{"delivery_mode 1.5", `{ delivery_mode: 1.5 }`, true, `publish: property 'delivery_mode' must be 1 (transient) or 2 (persistent), got 1.5`},
		{"delivery_mode string", `{ delivery_mode: '2' }`, false, `publish: property 'delivery_mode' must be 1 or 2, got a string ("2")`},
		{"delivery_mode boolean", `{ delivery_mode: true }`, false, `publish: property 'delivery_mode' must be 1 or 2, got a boolean (true)`},
		{"priority 256", `{ priority: 256 }`, true, `publish: property 'priority' must be an integer from 0 to 255, got 256`},
		{"priority -1", `{ priority: -1 }`, true, `publish: property 'priority' must be an integer from 0 to 255, got -1`},
		{"priority 1.5", `{ priority: 1.5 }`, true, `publish: property 'priority' must be an integer from 0 to 255, got 1.5`},
		{"priority NaN", `{ priority: NaN }`, true, `publish: property 'priority' must be an integer from 0 to 255, got NaN`},
		{"priority string", `{ priority: '5' }`, false, `publish: property 'priority' must be an integer from 0 to 255, got a string ("5")`},
		{"expiration negative", `{ expiration: -1 }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got -1`},
		{"expiration fraction", `{ expiration: 1.5 }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got 1.5`},
		{"expiration negative fraction", `{ expiration: -0.5 }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got -0.5`},
		{"expiration NaN", `{ expiration: NaN }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got NaN`},
		{"expiration Infinity", `{ expiration: Infinity }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got Infinity`},
		{"expiration beyond 2^53", `{ expiration: 2**54 }`, true, `publish: property 'expiration' must be a non-negative integer of milliseconds, got 18014398509481984`},
		{"expiration boolean", `{ expiration: true }`, false, `publish: property 'expiration' must be a string or a non-negative integer (milliseconds), got a boolean (true)`},
		{"expiration Date", `{ expiration: new Date(0) }`, false, `publish: property 'expiration' must be a string or a non-negative integer (milliseconds), got an instance of Date`},
		{"timestamp number", `{ timestamp: 1700000000 }`, false, `publish: property 'timestamp' must be a Date, got a number (1700000000)`},
		{"timestamp string", `{ timestamp: '2024-01-01' }`, false, `publish: property 'timestamp' must be a Date, got a string ("2024-01-01")`},
		{"timestamp invalid Date", `{ timestamp: new Date(NaN) }`, false, `publish: property 'timestamp' must be a Date, got an instance of Date`},
		{"headers array", `{ headers: [1] }`, false, `publish: properties.headers must be a plain object, got an array`},
		{"headers undefined value", `{ headers: { a: { b: undefined } } }`, false, `publish: properties.headers.a.b is undefined: field tables cannot hold undefined (use null)`},
		{"headers function", `{ headers: { cb: () => 1 } }`, false, `publish: properties.headers.cb is a function: field tables cannot hold functions`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var p amqp.Properties
			err := propertiesFromJS(vm, jsEval(t, vm, "("+c.src+")").(*goja.Object), &p, "publish")
			if err == nil {
				t.Fatalf("%s: no error, got %s", c.src, showProps(&p))
			}
			if err.msg != c.want {
				t.Errorf("%s:\n got  %q\n want %q", c.src, err.msg, c.want)
			}
			if err.rangeErr != c.rangeErr {
				t.Errorf("%s: rangeErr = %v, want %v", c.src, err.rangeErr, c.rangeErr)
			}
			wantCode := "ERR_INVALID_ARG_TYPE"
			if c.rangeErr {
				wantCode = "ERR_OUT_OF_RANGE"
			} else if strings.Contains(c.want, "unknown property") {
				wantCode = "ERR_INVALID_ARG_VALUE"
			}
			if err.code != wantCode {
				t.Errorf("%s: code %q, want %q", c.src, err.code, wantCode)
			}
		})
	}
}

// docs/api.md §6: on received messages every field is present, absent ones null.
func TestPropertiesToJS(t *testing.T) {
	vm := newVM(t)
	names := []string{"content_type", "content_encoding", "headers", "delivery_mode", "priority", "correlation_id", "reply_to",
		"expiration", "message_id", "timestamp", "type", "user_id", "app_id", "cluster_id"}

	empty := propertiesToJS(vm, &amqp.Properties{})
	keys := empty.Keys()
	if strings.Join(keys, ",") != strings.Join(names, ",") {
		t.Errorf("keys %v, want %v", keys, names)
	}
	for _, n := range names {
		if v := empty.Get(n); v == nil || !goja.IsNull(v) {
			t.Errorf("absent %s = %v, want null", n, v)
		}
	}

	full := propertiesToJS(vm, &amqp.Properties{
		ContentType: "application/json", ContentEncoding: "utf-8",
		Headers:      amqp.Table{"x-retry": int64(3), "big": int64(1 << 62), "bin": []byte{1}, "at": time.UnixMilli(1000).UTC()},
		DeliveryMode: 2, Priority: 7, CorrelationID: "c", ReplyTo: "r", Expiration: "60000", MessageID: "m",
		Timestamp: time.Unix(1700000000, 0).UTC(), Type: "t", UserID: "u", AppID: "a", ClusterID: "cl",
	})
	g := map[string]any{"p": full}
	for _, expr := range []string{
		`p.content_type === 'application/json' && p.content_encoding === 'utf-8'`,
		`p.headers['x-retry'] === 3 && p.headers.big === 2n**62n && Buffer.isBuffer(p.headers.bin) && p.headers.at.getTime() === 1000`,
		`p.delivery_mode === 2 && p.priority === 7`,
		`p.correlation_id === 'c' && p.reply_to === 'r' && p.message_id === 'm' && p.type === 't'`,
		`p.expiration === '60000'`,
		`p.timestamp instanceof Date && p.timestamp.getTime() === 1700000000000`,
		`p.user_id === 'u' && p.app_id === 'a' && p.cluster_id === 'cl'`,
	} {
		jsTrue(t, vm, g, expr)
	}
	// An empty (non-nil) header table is an object, not null.
	jsTrue(t, vm, map[string]any{"p": propertiesToJS(vm, &amqp.Properties{Headers: amqp.Table{}})},
		`p.headers !== null && Object.keys(p.headers).length === 0`)
	// The Unix epoch is a timestamp, not "absent".
	jsTrue(t, vm, map[string]any{"p": propertiesToJS(vm, &amqp.Properties{Timestamp: time.Unix(0, 0)})},
		`p.timestamp instanceof Date && p.timestamp.getTime() === 0`)
}

// The properties of a received message behave as a plain object: assigned
// and added keys, delete, Object.keys and JSON, headers the same object on
// every read.
func TestPropertiesView(t *testing.T) {
	vm := newVM(t)
	p := propertiesToJS(vm, &amqp.Properties{ContentType: "text/plain", Headers: amqp.Table{"a": int64(1)}})
	g := map[string]any{"p": p}
	for _, expr := range []string{
		`p.headers === p.headers && 'headers' in p && p.hasOwnProperty('priority')`,
		`(p.headers.b = 2, p.headers.b === 2)`,
		`(p.content_type = 'changed', p.extra = 1, delete p.priority, delete p.extra, p.added = true, true)`,
		`p.content_type === 'changed' && p.priority === undefined && !('priority' in p) && !('extra' in p)`,
		`Object.keys(p).join() === 'content_type,content_encoding,headers,delivery_mode,correlation_id,reply_to,expiration,message_id,timestamp,type,user_id,app_id,cluster_id,added'`,
		`JSON.stringify({ ...p }).startsWith('{"content_type":"changed","content_encoding":null,"headers":{"a":1,"b":2},')`,
		`(p.priority = 5, p.priority === 5 && Object.keys(p).includes('priority'))`,
		`(delete p.headers, p.headers === undefined && !Object.keys(p).includes('headers'))`,
	} {
		jsTrue(t, vm, g, expr)
	}
}

// What a script publishes comes back the same when received.
func TestPropertiesRoundTrip(t *testing.T) {
	vm := newVM(t)
	src := `({ content_type: 'text/plain', content_encoding: 'gzip', headers: { a: 1, b: [null, 'x'], n: { m: 2n**60n } },
		delivery_mode: 2, priority: 5, correlation_id: 'c', reply_to: 'r', expiration: '1000', message_id: 'm',
		timestamp: new Date(1700000000000), type: 'ty', user_id: 'u', app_id: 'ap', cluster_id: 'cl' })`
	in := jsEval(t, vm, src).(*goja.Object)
	var p amqp.Properties
	if err := propertiesFromJS(vm, in, &p, "publish"); err != nil {
		t.Fatal(err.msg)
	}
	out := propertiesToJS(vm, &p)
	if err := sameJS(vm, in, out, "properties"); err != nil {
		t.Error(err)
	}
}

// docs/api.md §6 payloads: the bytes of a string (UTF-8), Buffer, Uint8Array,
// ArrayBuffer or DataView.
func TestPayloadView(t *testing.T) {
	vm := newVM(t)
	cases := []struct{ src, want string }{
		{`'hello'`, "68656c6c6f"},
		{`''`, ""},
		{`'héllo ✓ 😀'`, fmt.Sprintf("%x", "héllo ✓ 😀")},
		{`'\u0000\u007f\u0080'`, "007fc280"},
		{`'\ud800'`, "efbfbd"}, // a lone surrogate becomes U+FFFD, as Node's Buffer.from does
		{`Buffer.from([1, 2, 3])`, "010203"},
		{`Buffer.alloc(0)`, ""},
		{`Buffer.from('xxhixx').subarray(2, 4)`, "6869"},
		{`new Uint8Array([0, 255])`, "00ff"},
		{`new Uint8Array([1, 2, 3, 4, 5]).subarray(1, 4)`, "020304"},
		{`new Uint8Array(new Uint8Array([1, 2, 3, 4, 5]).buffer, 3)`, "0405"},
		{`new Uint8Array([9, 8, 7]).buffer`, "090807"},
		{`new ArrayBuffer(0)`, ""},
		{`new DataView(new Uint8Array([1, 2, 3, 4]).buffer)`, "01020304"},
		{`new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)`, "0203"},
		{`new Int16Array([1, 258])`, "01000201"},
		{`new TextEncoder().encode('ok')`, "6f6b"},
	}
	for _, c := range cases {
		b, _, err := payloadView(vm, jsEval(t, vm, "("+c.src+")"))
		if err != nil {
			t.Errorf("%s: %v", c.src, err)
			continue
		}
		if b == nil {
			t.Errorf("%s: nil slice", c.src)
		}
		if got := fmt.Sprintf("%x", b); got != c.want {
			t.Errorf("%s: got %s, want %s", c.src, got, c.want)
		}
	}
}

func TestPayloadViewErrors(t *testing.T) {
	vm := newVM(t)
	const prefix = "parameter 'payload' must be a string, Buffer, Uint8Array, ArrayBuffer or DataView, got "
	for src, got := range map[string]string{
		`5`:               "a number (5)",
		`true`:            "a boolean (true)",
		`null`:            "null",
		`undefined`:       "undefined",
		`({})`:            "an object",
		`({ length: 2 })`: "an object",
		`[1, 2]`:          "an array",
		`new Date(0)`:     "an instance of Date",
		`() => 1`:         "a function",
		`new String('s')`: "an instance of String",
	} {
		_, _, err := payloadView(vm, jsEval(t, vm, "("+src+")"))
		if err == nil {
			t.Errorf("%s: no error", src)
		} else if err.Error() != prefix+got {
			t.Errorf("%s:\n got  %q\n want %q", src, err, prefix+got)
		}
	}
}

// A payload's bytes are owned (publish keeps them without a copy) only when
// changing the script's buffer cannot change them; a Buffer, typed array,
// ArrayBuffer or DataView is a view of the script's memory, not a copy (a
// fast publish writes it at once). The message staying intact when the
// script reuses its buffer is tested end to end by
// tests/testdata/aioamqp/publish_consume.js.
func TestPayloadViewOwned(t *testing.T) {
	vm := newVM(t)
	b, owned, err := payloadView(vm, jsEval(t, vm, `'abc'`))
	if err != nil || !owned || string(b) != "abc" {
		t.Errorf("'abc': %q, owned %v, %v; want \"abc\", owned", b, owned, err)
	}
	for _, src := range []string{
		`globalThis.src = Buffer.from('abc'); src`,
		`globalThis.src = new Uint8Array([0x61, 0x62, 0x63]); src`,
		`globalThis.src = new Uint8Array([0x61, 0x62, 0x63]); src.buffer`,
		`globalThis.src = new Uint8Array([0x61, 0x62, 0x63]); new DataView(src.buffer)`,
		`globalThis.src = new Uint8Array([0, 0x61, 0x62, 0x63, 0]); src.subarray(1, 4)`,
	} {
		b, owned, err := payloadView(vm, jsEval(t, vm, src))
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if string(b) != "abc" {
			t.Errorf("%s: payload %q", src, b)
		}
		jsEval(t, vm, `src.fill(0x7a)`)
		if owned {
			t.Errorf("%s: owned; want a view of the script's bytes", src)
		} else if string(b) != "zzz" {
			t.Errorf("%s: payload %q after the source changed; want a view (zzz)", src, b)
		}
	}
}
