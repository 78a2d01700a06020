//go:build integration && unix

package tests

// `amqpjs repl` against RabbitMQ (AMQP_URL, default
// amqp://guest:guest@127.0.0.1:5672/): in a pseudo-terminal (see
// repl_test.go for Term) and piped.
//
//	go test -tags integration -run TestREPL ./tests/ -count=1

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestREPLTermBroker(t *testing.T) {
	t.Parallel()
	tm := StartTerm(t, []string{"AMQP_URL=" + aioamqpURL()})
	tm.Prompt()
	tm.Eval("const [transport, protocol] = await aioamqp.connect()", "undefined")
	tm.Prompt()
	tm.Eval("const channel = await protocol.channel()", "undefined")
	tm.Prompt()

	// Completion of the API's names on a channel and a protocol.
	tm.Send("channel.que\t")
	tm.Expect("channel.queue_")
	tm.Send("\t")
	tm.ExpectRe(`queue_bind\s+queue_declare\s+queue_delete\s+queue_purge\s+queue_unbind`)
	tm.Send("decl\t")
	tm.Expect("channel.queue_declare")
	tm.Send("\r")
	tm.Expect("[Function")
	tm.Prompt()
	tm.Send("protocol.wait_cl\t")
	tm.Expect("protocol.wait_closed")
	tm.Send("\r")
	tm.Expect("[Function")
	tm.Prompt()

	tm.Eval("const { queue } = await channel.queue_declare('', { exclusive: true })", "undefined")
	tm.Prompt()
	tm.Eval("queue.startsWith('amq.gen-')", "true")
	tm.Prompt()
	tm.Eval("await channel.basic_consume((body, envelope) => console.log('received:', body.toString(), envelope.routing_key === queue), { queue_name: queue, no_ack: true })", "{ consumer_tag: 'ctag")
	tm.Prompt()
	tm.Eval("await channel.publish('hello-now', '', queue)", "null")
	tm.Expect("received: hello-now true")
	// The delivery may come before the prompt is drawn, while the editor
	// waits, or in between, when the editor does not redraw it: an empty
	// entry gives a prompt in every case.
	tm.Send("\r")
	tm.Prompt()

	// Deliveries while the prompt waits, half a line typed: the callback's
	// output goes above the line, which is drawn again. The publishing
	// repeats, so that a delivery comes after the typing whatever the
	// timing.
	tm.Eval("const pub = setInterval(() => channel.publish('hello-later', '', queue), 100), armed = 'armed'; armed", "'armed'")
	tm.Prompt()
	tm.Send("'typed")
	tm.Expect("'typed")
	tm.Expect("received: hello-later true\n")
	tm.Expect("> 'typed")
	tm.Send(" line'\r")
	tm.Expect("'typed line'")
	tm.Prompt()
	tm.Eval("clearInterval(pub)", "undefined")
	tm.Prompt()

	// A channel error: name, message, the entry of the call, AMQP code; the
	// session goes on.
	tm.Eval("await channel.queue_declare('amqpjs-repl-no-such-queue', { passive: true })",
		"Uncaught ChannelClosed: NOT_FOUND - no queue 'amqpjs-repl-no-such-queue'")
	tm.ExpectRe(`at REPL\d+:1:\d+`)
	tm.Expect("{ code: 404 }")
	tm.Prompt()
	tm.Eval("_error.code", "404")
	tm.Prompt()
	tm.Eval("channel.is_open", "false")
	tm.Prompt()
	tm.Eval("protocol.state === aioamqp.OPEN", "true")
	tm.Prompt()

	// A connection error, with the same shape.
	tm.Eval("await aioamqp.connect({ port: 1 })", "Uncaught AmqpClosedConnection: ")
	tm.Prompt()

	// Ctrl-D closes the open connection and exits 0.
	tm.Send("\x04")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("exit code after Ctrl-D: got %d, want 0\n%s", code, tm.Output())
	}
}

func TestREPLPipedBroker(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(filepath.Join(repoRoot, "tests", "testdata", "repl", "pubsub.txt"))
	if err != nil {
		t.Fatal(err)
	}
	res := Run(t, Opts{Args: []string{"repl"}, Stdin: string(script), Env: []string{"AMQP_URL=" + aioamqpURL()}, Timeout: 30 * time.Second})
	if res.Code != 0 {
		t.Fatalf("exit code %d\n%s", res.Code, res)
	}
	want := strings.Join([]string{
		"true",
		"{ message_count: 0, consumer_count: 0 }",
		"received one",
		"received two",
		"[ 'one', 'two' ]",
		"404",
	}, "\n") + "\n"
	if res.Stdout != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", res.Stdout, want)
	}
	if !strings.HasPrefix(res.Stderr, "Uncaught ChannelClosed: NOT_FOUND - no queue 'amqpjs-repl-no-such-queue'") ||
		!strings.Contains(res.Stderr, "{ code: 404 }") {
		t.Errorf("stderr: %q", res.Stderr)
	}
}

// The entry of issue 15 that the top-level await rewrite rejected
// (`SyntaxError: … Unexpected token )`, and q undefined after it): a
// parenthesised await in a declaration, against RabbitMQ.
func TestREPLPipedAwaitInParentheses(t *testing.T) {
	t.Parallel()
	script := strings.Join([]string{
		"const [, p] = await aioamqp.connect()",
		"const ch = await p.channel()",
		"const q = (await ch.queue_declare('', {exclusive: true})).queue",
		"q.startsWith('amq.gen-')",
		"(await ch.queue_declare(q, { passive: true })).queue === q",
	}, "\n") + "\n"
	res := Run(t, Opts{Args: []string{"repl"}, Stdin: script, Env: []string{"AMQP_URL=" + aioamqpURL()}, Timeout: 30 * time.Second})
	if res.Code != 0 || res.Stdout != "true\ntrue\n" || res.Stderr != "" {
		t.Fatalf("want stdout true, true and no error\n%s", res)
	}
}
