//go:build integration

package tests

// The "done when" of splitting a run (issue #18), against RabbitMQ: one
// scenario — producers at a constant arrival rate, consumers as constant
// VUs, a shared-iterations batch, thresholds — run as one process and as
// three processes (--instance i/3, one absolute --start-at) merged by
// `amqpjs merge`, gives the same totals, the same arrival schedule, the same
// threshold verdicts, and merged percentiles that are those of all the
// instances' samples.

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

const (
	distRate     = 100 // producers: arrivals per second
	distDuration = 5   // seconds
	distBatch    = 300 // shared iterations
)

var distScript = fmt.Sprintf(`
import * as aioamqp from 'aioamqp';
import { check } from 'amqpjs/metrics';
const queue = __ENV.QUEUE;
export const options = {
  setupOnce: true,
  scenarios: {
    producers: { executor: 'constant-arrival-rate', exec: 'produce', rate: %d, timeUnit: '1s', duration: '%ds', preAllocatedVUs: 15, maxVUs: 45 },
    consumers: { executor: 'constant-vus', exec: 'consume', vus: 3, duration: '%ds' },
    batch: { executor: 'shared-iterations', exec: 'produce', vus: 5, iterations: %d, maxDuration: '30s' },
  },
  thresholds: {
    checks: ['rate==1'],
    errors: ['count==0'],
    amqp_nacked: ['count==0'],
    amqp_e2e_latency: ['p(95)<3000'],
    amqp_confirm_latency: ['p(99)<5000'],
    'iterations{scenario:batch}': ['count==%d'], // a share of it fails alone
  },
};
`+queueSetupJS+`export async function produce() {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.confirm_select();
  }
  check(await channel.publish('m', '', queue), { confirmed: (r) => r === null });
}
export async function consume() {
  if (!channel) {
    const [, protocol] = await aioamqp.connect();
    channel = await protocol.channel();
    await channel.basic_qos({ prefetch_count: 100 });
    await channel.basic_consume(async (body, envelope, properties, ch) => {
      check(body, { intact: (b) => b.toString() === 'm' });
      await ch.basic_client_ack(envelope.delivery_tag);
    }, { queue_name: queue });
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
}
`, distRate, distDuration, distDuration+3, distBatch, distBatch)

func TestDistributedOneVersusThreeMerged(t *testing.T) {
	path := WriteScript(t, "distributed.js", distScript)
	dir := t.TempDir()
	stamp := time.Now().UnixNano()
	env := func(queue string) []string { return []string{"AMQP_URL=" + aioamqpURL(), "QUEUE=" + queue} }

	// (a) One process.
	oneQ := fmt.Sprintf("amqpjs-dist-one-%d", stamp)
	oneFile := filepath.Join(dir, "one.json")
	res := Run(t, Opts{Args: []string{"run", "--quiet", "--summary-export", oneFile, path}, Env: env(oneQ), Timeout: 2 * time.Minute})
	if res.Code != 0 {
		t.Fatalf("one process: want exit 0\n%s", res)
	}
	oneDepth := depth(t, oneQ)
	one := readExport(t, oneFile)

	// (b) Three processes, one absolute start, then the merge.
	splitQ := fmt.Sprintf("amqpjs-dist-split-%d", stamp)
	at := time.Now().Add(5 * time.Second).UTC().Format(time.RFC3339Nano)
	var procs []*Proc
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("instance%d.json", i))
		files = append(files, f)
		procs = append(procs, Start(t, Opts{Args: []string{"run", "--quiet", "--instance", fmt.Sprintf("%d/3", i), "--start-at", at,
			"--summary-export", f, path}, Env: env(splitQ), Timeout: 2 * time.Minute}))
	}
	for i, p := range procs {
		res := p.Wait()
		// Alone, an instance has a third of the batch: its count==300 fails.
		if res.Code != 99 || !strings.Contains(res.Stderr, "✗ iterations{scenario:batch}") {
			t.Fatalf("instance %d/3: want exit 99 on the batch's count alone\n%s", i, res)
		}
		if strings.Contains(res.Stderr, "late;") {
			t.Logf("instance %d/3 started late (a loaded machine): %s", i, res.Stderr[:strings.Index(res.Stderr, "\n")])
		}
	}
	mergedFile := filepath.Join(dir, "merged.json")
	mres := RunArgs(t, append([]string{"merge", "--summary-export", mergedFile}, files...)...)
	if mres.Code != 0 {
		t.Fatalf("merge: want exit 0, as the one process\n%s", mres)
	}
	splitDepth := depth(t, splitQ)
	merged := readExport(t, mergedFile)
	var parts []exportDoc
	for _, f := range files {
		parts = append(parts, readExport(t, f))
	}

	count := func(d exportDoc, metric string) float64 { return d.Metrics[metric].Values["count"] }
	for _, c := range []struct {
		name  string
		d     exportDoc
		depth int
	}{{"one process", one, oneDepth}, {"three merged", merged, splitDepth}} {
		batch, run, dropped := count(c.d, "iterations{scenario:batch}"), count(c.d, "iterations{scenario:producers}"), count(c.d, "dropped_iterations{scenario:producers}")
		pub, con := count(c.d, "amqp_published"), count(c.d, "amqp_consumed")
		t.Logf("%s: batch %v, arrivals %v run + %v dropped, %v published, %v consumed, %d left in the queue, e2e p95 %.2f ms",
			c.name, batch, run, dropped, pub, con, c.depth, c.d.Metrics["amqp_e2e_latency"].Values["p(95)"])
		// Iteration-bound: exactly the whole.
		if batch != distBatch {
			t.Errorf("%s: %v batch iterations, want %d", c.name, batch, distBatch)
		}
		// Arrivals: the one schedule, each run or dropped exactly once.
		if run+dropped != distRate*distDuration {
			t.Errorf("%s: %v arrivals run + %v dropped, want %d scheduled", c.name, run, dropped, distRate*distDuration)
		}
		// Nothing lost: every publish confirmed was consumed, none left over.
		if pub != batch+run || con != pub || c.depth != 0 {
			t.Errorf("%s: %v published for %v iterations, %v consumed, %d left in the queue", c.name, pub, batch+run, con, c.depth)
		}
	}
	// The merged run reached its target rate (within 2%).
	if run, dropped := count(merged, "iterations{scenario:producers}"), count(merged, "dropped_iterations{scenario:producers}"); run < 0.98*distRate*distDuration {
		t.Errorf("three merged: %v of %d arrivals run, %v dropped (more than 2%%: VUs too few for this machine's latency at the time)", run, distRate*distDuration, dropped)
	}

	// The merge's counts are the instances' sums.
	for _, key := range []string{"iterations{scenario:batch}", "iterations{scenario:producers}", "dropped_iterations{scenario:producers}", "amqp_published", "amqp_consumed", "checks"} {
		var n, nonzero int64
		for _, p := range parts {
			n += p.Metrics[key].Data.Count
			nonzero += p.Metrics[key].Data.NonZero
		}
		if got := merged.Metrics[key].Data; got.Count != n || got.NonZero != nonzero {
			t.Errorf("%s: merged %+v, the instances add up to count %d, nonzero %d", key, got, n, nonzero)
		}
	}

	// The same verdicts: every threshold passes in both.
	verdicts := func(d exportDoc) string {
		var v []string
		for _, th := range d.Thresholds {
			v = append(v, fmt.Sprintf("%s %s %v", th.Metric, th.Threshold, th.OK))
		}
		sort.Strings(v)
		return strings.Join(v, "\n")
	}
	if verdicts(one) != verdicts(merged) || one.ThresholdsFailed || merged.ThresholdsFailed || len(one.Thresholds) != 6 {
		t.Errorf("verdicts differ:\none process:\n%s\nthree merged:\n%s", verdicts(one), verdicts(merged))
	}

	// Every merged trend's percentiles are those of one histogram of all the
	// instances' samples (their exported HdrHistograms, microseconds),
	// within the samples' min and max.
	trends, compared := 0, 0
	for key, mm := range merged.Metrics {
		if mm.Data.HDR == "" {
			continue
		}
		trends++
		all := hdr.New(1, 1e12, 3)
		lo, hi := math.Inf(1), math.Inf(-1)
		var n int64
		for i, p := range parts {
			d, ok := p.Metrics[key]
			if !ok || d.Data.HDR == "" {
				continue
			}
			h, err := hdr.Decode([]byte(d.Data.HDR))
			if err != nil {
				t.Fatalf("instance %d, %s: %v", i, key, err)
			}
			all.Merge(h)
			lo, hi, n = math.Min(lo, d.Data.Min), math.Max(hi, d.Data.Max), n+d.Data.Count
		}
		if mm.Data.Count != n || mm.Data.Min != lo || mm.Data.Max != hi {
			t.Errorf("%s: merged count %d min %v max %v, the instances %d, %v, %v", key, mm.Data.Count, mm.Data.Min, mm.Data.Max, n, lo, hi)
		}
		for name, got := range mm.Values {
			pc := 0.0
			if name == "med" {
				pc = 50
			} else if _, err := fmt.Sscanf(name, "p(%g)", &pc); err != nil {
				continue
			}
			compared++
			if want := math.Max(lo, math.Min(hi, float64(all.ValueAtPercentile(pc))/1000)); got != want {
				t.Errorf("%s %s: merged %v, all samples %v", key, name, got, want)
			}
		}
	}
	if trends < 3 || compared < 3*trends {
		t.Errorf("only %d trends with histograms in the merge, %d percentiles compared", trends, compared)
	}
	t.Logf("%d percentiles of %d trends: those of all the instances' samples", compared, trends)
}
