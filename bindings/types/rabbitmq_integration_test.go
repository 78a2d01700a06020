//go:build integration

package types_test

import "testing"

// TestRabbitMQLiveObjects checks what amqpjs/rabbitmq resolves to against
// a live broker's management API, name for name with rabbitmq.d.ts and
// docs/reference/rabbitmq.md.
func TestRabbitMQLiveObjects(t *testing.T) {
	f, m := rabbitmqDefs(t)
	vm := runLive(t, `
const got = {}
const aioamqp = require('aioamqp')
const rabbitmq = require('amqpjs/rabbitmq')
const [, protocol] = await aioamqp.connect({ client_properties: { connection_name: 'amqpjs-types-live' } })
const ch = await protocol.channel()
const { queue } = await ch.queue_declare('', { exclusive: true })
got.queue = await rabbitmq.queue(queue)
got.queues = (await rabbitmq.queues())[0]
got.overview = await rabbitmq.overview()
got.node = (await rabbitmq.nodes())[0]
for (let i = 0; i < 200 && !got.connection; i++) {
  got.connection = (await rabbitmq.connections()).find((c) => c.connection_name === 'amqpjs-types-live')
  if (!got.connection) await new Promise((r) => setTimeout(r, 250))
}
await protocol.close()
globalThis.got = got
`)
	rc := rabbitmqRef(t)
	for path, iface := range map[string]string{
		"queue":                  "Queue",
		"queues":                 "Queue",
		"queue.rates":            "Rates",
		"overview":               "Overview",
		"overview.rates":         "OverviewRates",
		"overview.object_totals": "ObjectTotals",
		"node":                   "Node",
		"connection":             "Connection",
	} {
		v, err := vm.RunString("got." + path)
		if err != nil || v == nil || v.Export() == nil {
			t.Errorf("got.%s: %v", path, err)
			continue
		}
		names := ownNames(vm, v.ToObject(vm))
		same(t, "live "+path, names, members(t, f, m, iface))
		rc.check("rabbitmq.md", iface, names)
	}
}
