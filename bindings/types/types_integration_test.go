//go:build integration

package types_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/bindings"
	"github.com/amqpjs/amqpjs/internal/testutil"
	"github.com/amqpjs/amqpjs/runtime"
)

// TestLiveObjects checks the objects a script gets from a live broker —
// transport, protocol, channel, results, envelopes, properties, messages,
// iterators — against aioamqp.d.ts and docs/reference, name for name.
func TestLiveObjects(t *testing.T) {
	f, m := defs(t)
	vm := runLive(t, `
const got = {}
const aioamqp = require('aioamqp')
const [transport, protocol] = await aioamqp.connect()
Object.assign(got, { transport, protocol })
const ch = await protocol.channel()
got.channel = ch
got.queueDeclare = await ch.queue_declare('', { exclusive: true })
const q = got.queueDeclare.queue
await ch.confirm_select()
const returned = new Promise(resolve => { ch.return_callback = (body, env) => { got.returnEnvelope = env; resolve() } })
await ch.publish('lost', 'amq.direct', 'nowhere.' + q, { mandatory: true })
await returned
await ch.publish('a', '', q, { properties: { content_type: 'text/plain' } })
got.get = await ch.basic_get(q, { no_ack: true })
await ch.publish('b', '', q)
let delivered
const d = new Promise(resolve => { delivered = resolve })
got.consume = await ch.basic_consume((body, env) => { got.envelope = env; delivered() }, q, { no_ack: true })
await d
got.cancel = await ch.basic_cancel(got.consume.consumer_tag)
await ch.publish('c', '', q)
got.iterator = await ch.consume(q)
for await (const msg of got.iterator) { got.message = msg; await msg.ack(); break }
got.purge = await ch.queue_purge(q)
try { got.flow = await ch.flow(true) } catch (e) { got.flowError = String(e) }
await protocol.close()
globalThis.got = got
`)
	rc := newRefChecker(t)
	got := vm.Get("got").ToObject(vm)
	checks := map[string]string{
		"transport":          "Transport",
		"protocol":           "Protocol",
		"channel":            "Channel",
		"queueDeclare":       "QueueDeclareResult",
		"returnEnvelope":     "ReturnEnvelope",
		"get":                "BasicGetResult",
		"envelope":           "Envelope",
		"consume":            "ConsumerTagResult",
		"cancel":             "ConsumerTagResult",
		"iterator":           "ConsumeIterator",
		"message":            "Message",
		"purge":              "QueuePurgeResult",
		"flow":               "FlowResult",
		"get.properties":     "ReceivedProperties",
		"message.envelope":   "Envelope",
		"message.properties": "ReceivedProperties",
	}
	for path, iface := range checks {
		v, err := vm.RunString("got." + path)
		if err != nil || v == nil || v.Export() == nil {
			if path == "flow" {
				t.Logf("channel.flow not available on this broker (%v): FlowResult not checked live", got.Get("flowError"))
				continue
			}
			t.Errorf("got.%s: %v", path, err)
			continue
		}
		same(t, "live "+path, ownNames(vm, v.ToObject(vm)), members(t, f, m, iface))
		if doc, ok := liveDocs[path]; ok {
			rc.check(doc[0], doc[1], ownNames(vm, v.ToObject(vm)))
		}
	}
}

// liveDocs maps the live objects to their reference sections.
var liveDocs = map[string][2]string{
	"transport":          {"transport.md", "Transport"},
	"protocol":           {"protocol.md", "Protocol"},
	"channel":            {"channel.md", "Channel"},
	"returnEnvelope":     {"message.md", "ReturnEnvelope"},
	"envelope":           {"message.md", "Envelope"},
	"iterator":           {"message.md", "ConsumeIterator"},
	"message":            {"message.md", "Message"},
	"get.properties":     {"message.md", "properties"},
	"message.envelope":   {"message.md", "Envelope"},
	"message.properties": {"message.md", "properties"},
}

// runLive runs src (a script that leaves its findings in globalThis.got)
// against the broker at $AMQP_URL and returns the VM that holds them.
func runLive(t *testing.T, src string) *goja.Runtime {
	t.Helper()
	defaults, err := bindings.DefaultsFromURL(os.Getenv("AMQP_URL"))
	if err != nil {
		t.Fatal(err)
	}
	var stderr testutil.SyncBuffer
	rt := runtime.New(runtime.Options{Stderr: &stderr})
	bindings.Register(rt, bindings.Options{Defaults: defaults})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := rt.RunSource(ctx, "live.js", src); err != nil {
		t.Fatalf("%s\n%s", rt.FormatError(err), stderr.String())
	}
	return rt.VM()
}
