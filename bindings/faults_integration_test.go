//go:build integration

package bindings

import (
	"bytes"
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
)

// Two runtimes sharing a FaultScope, as the VUs of a run do: one lists the
// other's connection with faults.connections() and cuts it; the owner's
// on_error and wait_closed see the loss, and a stall with the owner's
// promise pending settles when its connection ended. Run with -race: the
// scope and the connection are touched from both loops.
func TestFaultsAcrossRuntimes(t *testing.T) {
	url := os.Getenv("AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	defaults, err := DefaultsFromURL(url)
	if err != nil {
		t.Fatal(err)
	}
	scope := NewFaultScope()
	newRT := func(out *bytes.Buffer) *runtime.Runtime {
		rt := runtime.New(runtime.Options{Stdout: out, Stderr: out})
		Register(rt, Options{Defaults: defaults, Faults: scope})
		return rt
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var victimOut, chaosOut bytes.Buffer
	victim, chaos := newRT(&victimOut), newRT(&chaosOut)
	var wg sync.WaitGroup
	var victimErr, chaosErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, victimErr = victim.RunSource(ctx, "victim.js", `
const aioamqp = require('aioamqp');
(async () => {
  let seen = [];
  const [, p] = await aioamqp.connect({ on_error: (e) => seen.push(e.constructor.name + ' ' + e.code + ' ' + e.message) });
  const ch = await p.channel();
  console.log('victim: open');
  await p.wait_closed();
  console.log('victim: closed; on_error ' + seen.length + ': ' + seen[0]);
})();`)
	}()
	go func() {
		defer wg.Done()
		_, chaosErr = chaos.RunSource(ctx, "chaos.js", `
const faults = require('amqpjs/faults');
const { setTimeout: sleep } = require('timers/promises');
(async () => {
  let list = [];
  for (let i = 0; i < 500 && list.length === 0; i++) { list = faults.connections(); await sleep(10); }
  if (list.length !== 1) throw new Error('listed ' + list.length);
  await sleep(50);
  const st = faults.stall(list[0], '1h');
  console.log('chaos: cut ' + faults.cut(list[0]));
  await st; // the connection ended: the stall settles
  console.log('chaos: stall settled; listed now ' + faults.connections().length);
})();`)
	}()
	wg.Wait()
	if victimErr != nil || chaosErr != nil {
		t.Fatalf("victim: %v\n%s\nchaos: %v\n%s", victimErr, victimOut.String(), chaosErr, chaosOut.String())
	}
	v, c := victimOut.String(), chaosOut.String()
	if !strings.Contains(v, "victim: closed; on_error 1: AmqpClosedConnection 0 connection lost:") || !strings.Contains(v, "connection reset by peer") {
		t.Errorf("victim:\n%s", v)
	}
	if !strings.Contains(c, "chaos: cut true\n") || !strings.Contains(c, "chaos: stall settled; listed now 0\n") {
		t.Errorf("chaos:\n%s", c)
	}
}
