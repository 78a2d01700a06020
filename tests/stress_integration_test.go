//go:build integration

package tests

// The end-of-run stress matrix (issue [1/6]): scenarios that publish flat
// out while one VU consumes, ended in every way a run ends, through the
// binary against RabbitMQ. A run's end stops VUs while deliveries keep
// arriving on their loops — where amqpjs once died of a Go panic. Every
// cell must give its documented exit code, a summary, no panic text and no
// goroutine left behind (the test-hooks build checks that at exit).

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// stressShapes are the executors, as options (D is replaced by the run's
// duration).
var stressShapes = []struct{ name, options string }{
	{"constant-vus", `vus: 3, duration: D`},
	{"ramping-vus", `stages: [{ duration: D, target: 3 }, { duration: D, target: 1 }]`},
	{"constant-arrival-rate", `rate: 4000, duration: D, preAllocatedVUs: 3, maxVUs: 3`},
}

// stressConsumers start VU 1's consumer on ch for data.q.
var stressConsumers = []struct{ name, start string }{
	{"async-ack", `await ch.basic_consume(async (body, env) => { await ch.basic_client_ack(env.delivery_tag); }, { queue_name: data.q });`},
	{"sync-ack", `await ch.basic_consume((body, env, props, c) => { c.basic_client_ack(env.delivery_tag); }, { queue_name: data.q });`},
	{"concurrency-8", `await ch.basic_consume(async (body, env) => { await ch.basic_client_ack(env.delivery_tag); }, { queue_name: data.q, concurrency: 8 });`},
	{"iterator", `const it = await ch.consume(data.q); (async () => { for await (const m of it) await m.ack(); })();`},
	{"no-ack", `await ch.basic_consume(() => {}, { queue_name: data.q, no_ack: true });`},
}

// stressEndings are the ways a run ends: extra options, flags, whether the
// test sends SIGINT, and the exit code docs/api.md documents for it.
var stressEndings = []struct {
	name     string
	options  string
	duration string
	flags    []string
	sigint   bool
	code     int
}{
	{name: "duration", duration: "'600ms'", code: 0},
	// Iterations that sleep are still running when the duration ends and
	// are cut at gracefulStop.
	{name: "graceful-stop-cut", options: `gracefulStop: '50ms',`, duration: "'600ms'", code: 0},
	{name: "abort-on-fail", options: `thresholds: { amqp_published: [{ threshold: 'count<200', abortOnFail: true }] },`, duration: "'30s'", code: 99},
	// --timeout counts from the start, setup included (slow on a loaded
	// broker): long enough for the consumer to be running.
	{name: "timeout", duration: "'30s'", flags: []string{"--timeout", "3s"}, code: 1},
	{name: "sigint", duration: "'30s'", sigint: true, code: 130},
}

func stressScript(shape, consumer, ending string, endingOptions, duration string) string {
	opts := strings.ReplaceAll(shape, "D", duration)
	return `import * as aioamqp from 'aioamqp';
import { setTimeout as sleep } from 'timers/promises';
// ` + consumer + ` / ` + ending + `
export const options = { ` + opts + `, ` + endingOptions + ` };
export async function setup() {
  const [, p] = await aioamqp.connect();
  const ch = await p.channel();
  const q = (await ch.queue_declare('', { arguments: { 'x-expires': 120000 } })).queue;
  // A backlog from the start: the consumer always has thousands of
  // deliveries queued on its loop when the run ends.
  const body = 'x'.repeat(100);
  for (let i = 0; i < 5000; i++) ch.basic_publish(body, '', q);
  await ch.queue_declare(q, { passive: true });
  await p.close();
  return { q };
}
let ch = null;
export default async function (data) {
  if (!ch) {
    const [, p] = await aioamqp.connect();
    ch = await p.channel();
    if (__VU === 1) {
      ` + consumer + `
      console.log('consuming');
    }
  }
  await ch.publish('x'.repeat(100), '', data.q);
  if (__ITER % 200 === 199) await sleep(1000);
}
export async function teardown(data) {
  const [, p] = await aioamqp.connect();
  const c = await p.channel();
  await c.queue_delete(data.q);
  await p.close();
}
`
}

// panicText is what a Go panic or a goroutine dump prints.
var panicText = regexp.MustCompile(`(?m)^panic: |^goroutine \d+ \[|\[recovered\]|fatal error: |DATA RACE`)

type stressCell struct {
	shape, consumer, ending int
}

func (c stressCell) name() string {
	return stressShapes[c.shape].name + "/" + stressConsumers[c.consumer].name + "/" + stressEndings[c.ending].name
}

// runStressCell runs one cell once with bin and checks its outcome.
func runStressCell(t *testing.T, bin string, c stressCell, rep int) {
	t.Helper()
	sh, co, en := stressShapes[c.shape], stressConsumers[c.consumer], stressEndings[c.ending]
	src := stressScript(sh.options, co.start, co.name+"/"+en.name, en.options, en.duration)
	path := WriteScript(t, fmt.Sprintf("stress-%d.js", rep), src)
	flags := en.flags
	var res Result
	for try := 1; ; try++ {
		args := append([]string{"run", "--quiet"}, flags...)
		args = append(args, path)
		p := Start(t, Opts{Bin: bin, Args: args, Env: []string{"AMQPJS_TEST_LEAKS=1", "GOMAXPROCS=2"}, Timeout: 90 * time.Second})
		if en.sigint {
			p.WaitFor("the consumer", func() bool { return strings.Contains(p.Stdout(), "consuming") })
			time.Sleep(400 * time.Millisecond) // publishing flat out, deliveries arriving
			p.Signal(os.Interrupt)
		}
		res = p.Wait()
		// --timeout counts from the process start: on a loaded machine it
		// can end the run before setup() is done, when this cell tests
		// nothing. Then it runs again with twice the time.
		if en.name != "timeout" || res.Code != 1 || strings.Contains(res.Stderr, "scenario: ") || try == 3 {
			break
		}
		d, _ := time.ParseDuration(flags[len(flags)-1])
		flags = []string{"--timeout", (2 * d).String()}
		t.Logf("%s (run %d): --timeout %s ended the run before setup() was done; again with %s", c.name(), rep, d, 2*d)
	}
	if m := panicText.FindString(res.Stderr); m != "" {
		t.Fatalf("%s (run %d): %q in the output\n%s", c.name(), rep, m, res)
	}
	if res.Code != en.code {
		t.Fatalf("%s (run %d): exit code %d, want %d\n%s", c.name(), rep, res.Code, en.code, res)
	}
	if !strings.Contains(res.Stderr, "scenario: ") || !strings.Contains(res.Stderr, "METRIC") {
		t.Fatalf("%s (run %d): no summary\n%s", c.name(), rep, res)
	}
}

// TestStressRunEnds runs the whole matrix, each cell twice
// ($AMQPJS_STRESS_REPS times when set), a few runs at a time: 3 executors
// × 5 consumer styles × 5 ways to end.
func TestStressRunEnds(t *testing.T) {
	if testing.Short() {
		t.Skip("stress matrix: not in -short")
	}
	bin := hookBinary(t, false)
	var cells []stressCell
	for s := range stressShapes {
		for c := range stressConsumers {
			for e := range stressEndings {
				cells = append(cells, stressCell{s, c, e})
			}
		}
	}
	reps := 2
	if n, err := strconv.Atoi(os.Getenv("AMQPJS_STRESS_REPS")); err == nil && n > 0 {
		reps = n
	}
	start := time.Now()
	sem := make(chan struct{}, 3)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for _, c := range cells {
		for rep := range reps {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				ok := t.Run(fmt.Sprintf("%s/%d", c.name(), rep), func(t *testing.T) { runStressCell(t, bin, c, rep) })
				if !ok {
					mu.Lock()
					failures = append(failures, c.name())
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	t.Logf("stress matrix: %d cells × %d runs in %s; %d failed", len(cells), reps, time.Since(start).Round(time.Second), len(failures))
}

// TestStressRunEndsRace runs a subset of the matrix on a build with the
// race detector: each consumer style once, across executors and endings.
func TestStressRunEndsRace(t *testing.T) {
	if testing.Short() {
		t.Skip("stress matrix: not in -short")
	}
	bin := hookBinary(t, true)
	for i := range stressConsumers {
		c := stressCell{shape: i % len(stressShapes), consumer: i, ending: i % len(stressEndings)}
		t.Run(c.name(), func(t *testing.T) { runStressCell(t, bin, c, 0) })
	}
}
