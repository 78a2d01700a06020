//go:build integration

package tests

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestErrorPositions runs failing scripts through the binary against
// RabbitMQ: what the script prints for an error of the aioamqp module names
// the script's own line and column of the call that caused it (and its
// callers, async ones included), never a frame of amqpjs's own JS
// (amqpjs:aioamqp/…). docs/api-notes.md, "Where an error points".
func TestErrorPositions(t *testing.T) {
	t.Parallel()
	id := fmt.Sprintf("%08x", rand.Uint32())
	cases := []struct {
		name   string
		script string
		want   []string // lines of the printed stack, in this order
	}{{
		name: "passive declare of a missing queue",
		script: `const aioamqp = require('aioamqp');
async function declareAll(ch) {
  await null;
  await ch.queue_declare('errpos-missing-` + id + `', { passive: true });
}
async function main() {
  const [, protocol] = await aioamqp.connect();
  const ch = await protocol.channel();
  await declareAll(ch);
}
main();
`,
		want: []string{
			"Uncaught (in promise) ChannelClosed: NOT_FOUND - no queue 'errpos-missing-" + id + "'",
			"    at declareAll (@:4:12)",
			"    at main (@:9:9)",
		},
	}, {
		name: "publish to a missing exchange with confirms",
		script: `const aioamqp = require('aioamqp');
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
await ch.confirm_select();
const send = (body) => ch.publish(body, 'errpos-no-exchange-` + id + `', 'k');
await send('a');
`,
		want: []string{
			"Uncaught ChannelClosed: NOT_FOUND - no exchange 'errpos-no-exchange-" + id + "'",
			"    at send (@:5:27)",
			"    at @:6:7",
		},
	}, {
		name: "basic_consume on a missing queue",
		script: `const aioamqp = require('aioamqp');
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
function subscribe() {
  return ch.basic_consume(() => {}, { queue_name: 'errpos-missing-` + id + `' });
}
await subscribe();
`,
		want: []string{
			"Uncaught ChannelClosed: NOT_FOUND - no queue 'errpos-missing-" + id + "'",
			"    at subscribe (@:5:13)",
			"    at @:7:7",
		},
	}, {
		name: "a later call on a channel the broker closed",
		script: `const aioamqp = require('aioamqp');
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const first = ch.queue_declare('errpos-missing-` + id + `', { passive: true }).catch((e) => e);
const e = await first;
if (Object.keys(e).join() !== 'code' || !/e\.js:4:17\(/.test(e.stack)) throw new Error('keys ' + Object.keys(e) + ', stack ' + e.stack);
await ch.basic_get('errpos-missing-` + id + `');
`,
		want: []string{
			"Uncaught ChannelClosed: ",
			"    at @:7:10",
			"    (the broker closed the channel on queue_declare at @:4:18)",
		},
	}, {
		name: "a broker-closed connection (on_error)",
		script: `const aioamqp = require('aioamqp');
function open() {
  return aioamqp.connect({
    client_properties: { connection_name: 'errpos-conn-` + id + `' },
    on_error: (e) => { throw e; },
  });
}
const [, protocol] = await open();
await protocol.channel();
console.log('@@close-connection errpos-conn-` + id + `');
await new Promise(() => setTimeout(() => {}, 30000));
`,
		want: []string{
			"Uncaught AmqpClosedConnection: CONNECTION_FORCED",
			"    at open (@:3:18)",
			"    at @:8:28",
		},
	}, {
		name: "a throwing consumer callback",
		script: `const aioamqp = require('aioamqp');
const [, protocol] = await aioamqp.connect();
const ch = await protocol.channel();
const { queue } = await ch.queue_declare('', { exclusive: true });
async function listen() {
  await ch.basic_consume(function onMessage(body) {
    throw new Error('bad message ' + body);
  }, { queue_name: queue });
}
await listen();
await ch.publish('m1', '', queue);
`,
		want: []string{
			"Uncaught Error: bad message m1",
			"    at onMessage (@:7:11)",
			"    at listen (@:6:12)",
			"    at @:10:7",
		},
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			script := filepath.Join(dir, "e.js")
			if err := os.WriteFile(script, []byte(tc.script), 0o644); err != nil {
				t.Fatal(err)
			}
			res := runAmqpjs(t, script, nil, 60*time.Second)
			if res.exit != 1 {
				t.Fatalf("exit code %d, want 1\nstdout:\n%s\nstderr:\n%s", res.exit, res.stdout, res.stderr)
			}
			if strings.Contains(res.stderr, "amqpjs:") {
				t.Errorf("an internal frame or message in stderr:\n%s", res.stderr)
			}
			// Each wanted line, in order, "@" standing for the script's path.
			rest := res.stderr
			for _, w := range tc.want {
				w = strings.ReplaceAll(w, "@", script)
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("stderr lacks %q (after the lines before it):\n%s", w, res.stderr)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
