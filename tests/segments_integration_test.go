//go:build integration

package tests

// A run split between three processes (--instance i/3 and a common
// --start-at) against RabbitMQ does what one process does: the iteration
// totals add up exactly, the arrivals are the same schedule, every VU id is
// used once, and the broker got every message.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// queueSetupJS is the setup of the distributed and segment test scripts:
// it declares the queue __ENV.QUEUE names (expiring 2 minutes after its
// last use); then the VU's channel variable, opened by its first iteration.
const queueSetupJS = `export async function setup() {
  const [transport, protocol] = await aioamqp.connect();
  const channel = await protocol.channel();
  await channel.queue_declare(queue, { arguments: { 'x-expires': 120000 } });
  await protocol.close();
  transport.close();
}
let channel;
`

const segmentsScript = `
import * as aioamqp from 'aioamqp';
import { Counter } from 'amqpjs/metrics';
const perVU = new Counter('per_vu');
const queue = __ENV.QUEUE;
export const options = {
  setupOnce: true,
  scenarios: {
    shared: { executor: 'shared-iterations', vus: 5, iterations: 200, exec: 'publish' },
    producers: { executor: 'constant-arrival-rate', rate: 100, duration: '3s', preAllocatedVUs: 12, maxVUs: 30, exec: 'publish' },
  },
  thresholds: { errors: ['count==0'] },
};
` + queueSetupJS + `export async function publish() {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
  }
  await channel.publish('m', '', queue);
  perVU.add(1, { vu: String(__VU) });
}
`

// depth returns the messages in queue, and deletes it.
func depth(t *testing.T, queue string) int {
	t.Helper()
	path := WriteScript(t, "depth.js", `
import * as aioamqp from 'aioamqp';
const [transport, protocol] = await aioamqp.connect();
const channel = await protocol.channel();
const { message_count } = await channel.queue_declare(process.env.QUEUE, { passive: true });
await channel.queue_delete(process.env.QUEUE);
console.log(message_count);
await protocol.close();
transport.close();
`)
	res := Run(t, Opts{Args: []string{"run", path}, Env: []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + queue}})
	var n int
	if _, err := fmt.Sscan(res.Stdout, &n); res.Code != 0 || err != nil {
		t.Fatalf("queue %s: %s", queue, res)
	}
	return n
}

func TestIntegrationSegmentsAddUp(t *testing.T) {
	path := WriteScript(t, "split.js", segmentsScript)
	dir := t.TempDir()
	stamp := time.Now().UnixNano()

	type totals struct {
		shared, producers, dropped, published float64
		vus                                   map[string]bool
	}
	add := func(tot *totals, file string) {
		s := readExport(t, file)
		v := func(m, k string) float64 { return s.Metrics[m].Values[k] }
		tot.shared += v("iterations{scenario:shared}", "count")
		tot.producers += v("iterations{scenario:producers}", "count")
		tot.dropped += v("dropped_iterations{scenario:producers}", "count")
		tot.published += v("amqp_published", "count")
		for name := range s.Metrics {
			if rest, ok := strings.CutPrefix(name, "per_vu{"); ok {
				vu := rest[strings.Index(rest, "vu:")+3 : len(rest)-1]
				if tot.vus[vu] {
					t.Errorf("__VU %s used by two instances (%s)", vu, file)
				}
				tot.vus[vu] = true
			}
		}
	}
	env := func(queue string) []string { return []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + queue} }

	// One process.
	oneQ := fmt.Sprintf("amqpjs-segments-one-%d", stamp)
	one := totals{vus: map[string]bool{}}
	sum := filepath.Join(dir, "one.json")
	res := Run(t, Opts{Args: []string{"run", "--quiet", "--summary-export", sum, path}, Env: env(oneQ), Timeout: 2 * time.Minute})
	if res.Code != 0 {
		t.Fatalf("one process: %s", res)
	}
	add(&one, sum)
	oneDepth := depth(t, oneQ)

	// Three processes, one start.
	splitQ := fmt.Sprintf("amqpjs-segments-split-%d", stamp)
	split := totals{vus: map[string]bool{}}
	at := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	var procs []*Proc
	for i := range 3 {
		procs = append(procs, Start(t, Opts{Args: []string{"run", "--quiet", "--instance", fmt.Sprintf("%d/3", i), "--start-at", at,
			"--summary-export", filepath.Join(dir, fmt.Sprintf("i%d.json", i)), path}, Env: env(splitQ), Timeout: 2 * time.Minute}))
	}
	for i, p := range procs {
		res := p.Wait()
		if res.Code != 0 {
			t.Fatalf("instance %d/3: %s", i, res)
		}
		if want := []string{"segment 0:1/3", "segment 1/3:2/3", "segment 2/3:1"}[i]; !strings.Contains(res.Stderr, want) {
			t.Errorf("instance %d/3: the summary does not say %q\n%s", i, want, res.Stderr)
		}
		if strings.Contains(res.Stderr, "late;") {
			t.Logf("instance %d/3 started late (a slow machine): %s", i, res.Stderr[:strings.Index(res.Stderr, "\n")])
		}
		add(&split, filepath.Join(dir, fmt.Sprintf("i%d.json", i)))
	}
	splitDepth := depth(t, splitQ)

	for _, c := range []struct {
		name string
		tot  totals
	}{{"one process", one}, {"three processes", split}} {
		t.Logf("%s: %v shared iterations, %v arrivals run, %v dropped, %v published, %d VU ids", c.name, c.tot.shared, c.tot.producers, c.tot.dropped, c.tot.published, len(c.tot.vus))
	}
	t.Logf("queues: %d, %d", oneDepth, splitDepth)
	for _, c := range []struct {
		name string
		tot  totals
		qlen int
	}{{"one process", one, oneDepth}, {"three processes", split, splitDepth}} {
		// Iteration-bound: exactly the whole. Arrivals: the schedule's 300
		// (100/s for 3s), each started or dropped (no idle VU) by exactly
		// one instance. How many were dropped depends on how fast this
		// machine is (the instances' VUs connect on their first iteration,
		// all at once): most must have run.
		if c.tot.shared != 200 {
			t.Errorf("%s: %v shared iterations, want 200", c.name, c.tot.shared)
		}
		if c.tot.producers+c.tot.dropped != 300 || c.tot.producers < 240 {
			t.Errorf("%s: %v arrivals run and %v dropped, want 300 in all, most of them run", c.name, c.tot.producers, c.tot.dropped)
		}
		if c.tot.published != c.tot.shared+c.tot.producers || float64(c.qlen) != c.tot.published {
			t.Errorf("%s: %v published, %d in the queue, for %v iterations", c.name, c.tot.published, c.qlen, c.tot.shared+c.tot.producers)
		}
	}
	if len(split.vus) == 0 || len(one.vus) == 0 {
		t.Errorf("no per-VU counts: %v, %v", one.vus, split.vus)
	}
}
