//go:build integration

package amqpjs_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// brokerAddr is the host:port of AMQP_URL (default 127.0.0.1:5672).
func brokerAddr(t *testing.T) string {
	t.Helper()
	raw := os.Getenv("AMQP_URL")
	if raw == "" {
		return "127.0.0.1:5672"
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("AMQP_URL: %v", err)
	}
	port := u.Port()
	if port == "" {
		port = "5672"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// proxy forwards TCP connections to the broker and counts them.
type proxy struct {
	ln             net.Listener
	active, total  atomic.Int32
	wg             sync.WaitGroup
	upstream, name string
}

func startProxy(t *testing.T) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: brokerAddr(t)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.active.Add(1)
			p.total.Add(1)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				done := make(chan struct{}, 2)
				pipe := func(dst, src net.Conn) {
					_, _ = io.Copy(dst, src)
					_ = dst.Close()
					_ = src.Close()
					done <- struct{}{}
				}
				go pipe(up, c)
				go pipe(c, up)
				<-done
				<-done
				p.active.Add(-1)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

// dial is an Options.Dial through the proxy, recording the addresses asked.
func (p *proxy) dial(asked *[]string, mu *sync.Mutex) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		*asked = append(*asked, addr)
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, p.ln.Addr().String())
	}
}

// waitActive waits until the proxy has n open connections.
func (p *proxy) waitActive(t *testing.T, n int32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for p.active.Load() != n {
		if time.Now().After(deadline) {
			t.Fatalf("proxy: %d connections open, want %d", p.active.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestExampleDialRuns(t *testing.T) {
	if brokerAddr(t) != "127.0.0.1:5672" {
		t.Skip("the example dials 127.0.0.1:5672")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	func() {
		defer func() { os.Stdout = stdout }()
		ExampleOptions_dial()
	}()
	w.Close()
	got, _ := io.ReadAll(r)
	want := "dialling broker.internal:5672\nconnected to RabbitMQ\nexit code: 0\n"
	if string(got) != want {
		t.Errorf("ExampleOptions_dial printed %q, want %q", got, want)
	}
}

// Cancelling a run closes every connection it opened, consumers and all.
func TestCancelClosesConnections(t *testing.T) {
	p := startProxy(t)
	var asked []string
	var mu sync.Mutex
	var o out
	rt := newRuntime(t, &o, amqpjs.Options{URL: "amqp://guest:guest@rabbit.example:5672/", Dial: p.dial(&asked, &mu)})
	ready := make(chan struct{})
	_ = rt.RegisterModule("harness", func(m *amqpjs.Module) error {
		return m.Func("ready", func(*amqpjs.Call) (any, error) { close(ready); return nil, nil })
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-ready:
			p.waitActive(t, 2)
			cancel()
		case <-time.After(safety):
			cancel()
		}
	}()
	err := rt.RunSource(ctx, "main.js", `
const aioamqp = require('aioamqp')
const [, a] = await aioamqp.connect()
const [, b] = await aioamqp.connect({ heartbeat: 5 })
const ch = await a.channel()
const { queue } = await ch.queue_declare('', { exclusive: true })
await ch.basic_consume(() => {}, queue)
setInterval(() => ch.publish('tick', '', queue), 5)
require('harness').ready()
`)
	if !strings.Contains(fmt.Sprint(err), "interrupted") || amqpjs.ExitCode(err) != amqpjs.ExitInterrupted {
		t.Fatalf("got %v (stderr %q)", err, o.stderr.String())
	}
	p.waitActive(t, 0)
	if p.total.Load() != 2 {
		t.Errorf("%d connections made, want 2", p.total.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) != 2 || asked[0] != "rabbit.example:5672" {
		t.Errorf("dialled %q", asked)
	}
}

// With a Logger, the module's warnings are slog records, not stderr lines.
func TestLoggerReceivesWarnings(t *testing.T) {
	var logs bytes.Buffer
	var lmu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		lmu.Lock()
		defer lmu.Unlock()
		return logs.Write(b)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	var o out
	rt := newRuntime(t, &o, amqpjs.Options{URL: os.Getenv("AMQP_URL"), Logger: logger})
	err := rt.RunSource(context.Background(), "main.js", `
const [, protocol] = await require('aioamqp').connect()
const ch = await protocol.channel()
await ch.confirm_select()
await ch.publish('lost', 'amq.direct', 'no-such-queue-anywhere', { mandatory: true })
await new Promise(r => setTimeout(r, 100))
await protocol.close()
`)
	if err != nil {
		t.Fatal(err)
	}
	lmu.Lock()
	text := logs.String()
	lmu.Unlock()
	for _, want := range []string{"level=WARN", "message returned by the broker: 312 NO_ROUTE", "module=aioamqp", "level=DEBUG", "run ended", "exit_code=0"} {
		if !strings.Contains(text, want) {
			t.Errorf("log lacks %q:\n%s", want, text)
		}
	}
	if s := o.stderr.String(); s != "" {
		t.Errorf("stderr %q, want nothing", s)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// A live runtime keeps its connections across Evals; Close closes them.
func TestLiveRuntimeWithBroker(t *testing.T) {
	p := startProxy(t)
	var asked []string
	var mu sync.Mutex
	rt := startLive(t, nil, amqpjs.Options{Dial: p.dial(&asked, &mu)})
	eval(t, rt, "const aioamqp = require('aioamqp'); let protocol, ch")
	eval(t, rt, "[, protocol] = await aioamqp.connect(); ch = await protocol.channel(); return ch.channel_id")
	q := eval(t, rt, "(await ch.queue_declare('', { exclusive: true })).queue").(string)
	if !strings.HasPrefix(q, "amq.gen-") {
		t.Errorf("queue %q", q)
	}
	eval(t, rt, fmt.Sprintf("ch.publish('payload', '', %q)", q))
	got := eval(t, rt, fmt.Sprintf("const m = await ch.basic_get(%q, { no_ack: true }); return m.message.toString()", q))
	if got != "payload" {
		t.Errorf("basic_get: %#v", got)
	}
	if p.active.Load() != 1 {
		t.Errorf("%d connections open", p.active.Load())
	}
	if err := rt.Close(); err != nil {
		t.Fatal(err)
	}
	p.waitActive(t, 0)
}

// Runtimes side by side, each with its own connection, queue and dialer,
// publish and consume concurrently (run with -race).
func TestConcurrentRuntimesWithBroker(t *testing.T) {
	p := startProxy(t)
	runEach(t, 6, func(i int, o *out) func() error {
		var asked []string
		var mu sync.Mutex
		rt := newRuntime(t, o, amqpjs.Options{Dial: p.dial(&asked, &mu), Env: map[string]string{"ID": fmt.Sprint(i)}})
		return func() error {
			ctx, cancel := context.WithTimeout(context.Background(), safety)
			defer cancel()
			return rt.RunSource(ctx, "main.js", `
const id = process.env.ID
const [, protocol] = await require('aioamqp').connect()
const ch = await protocol.channel()
await ch.confirm_select()
const { queue } = await ch.queue_declare('', { exclusive: true })
let got = 0
const done = new Promise(resolve => ch.basic_consume(async (body, env) => {
  if (body.toString() !== id + ':' + got) throw new Error('out of order: ' + body)
  await ch.basic_client_ack(env.delivery_tag)
  if (++got === 200) resolve()
}, queue))
for (let k = 0; k < 200; k++) ch.publish(id + ':' + k, '', queue)
await done
await protocol.close()
console.log(id, got)
`)
		}
	}, func(i int) string { return fmt.Sprintf("%d 200\n", i) })
	p.waitActive(t, 0)
}

// TestScriptErrorPositionOfCall: the ScriptError of a call the broker
// refused carries the script position of that call, which a host reads
// without parsing the text.
func TestScriptErrorPositionOfCall(t *testing.T) {
	q := fmt.Sprintf("amqpjs-pkg-errpos-missing-%d", time.Now().UnixNano())
	src := "const aioamqp = require('aioamqp');\n" +
		"const [, p] = await aioamqp.connect();\n" +
		"const ch = await p.channel();\n" +
		"await ch.queue_declare('" + q + "', { passive: true });\n"
	err, _ := runSource(t, src, amqpjs.Options{})
	var se *amqpjs.ScriptError
	if !errors.As(err, &se) || se.Name != "ChannelClosed" {
		t.Fatalf("got %T %v", err, err)
	}
	if pos := se.Position; filepath.Base(pos.File) != "main.js" || pos.Line != 4 || pos.Column != 10 {
		t.Errorf("Position %+v, want main.js:4:10\n%s", pos, se.Stack)
	}
	if strings.Contains(se.Stack, "amqpjs:") {
		t.Errorf("an internal frame in the stack:\n%s", se.Stack)
	}
}
