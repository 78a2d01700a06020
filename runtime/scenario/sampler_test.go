package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// depthSampler records a fixed depth into a gauge, as a broker sampler
// would, and counts its calls.
type depthSampler struct {
	depth   float64
	fail    error
	samples atomic.Int64
	closed  atomic.Int64
}

func (d *depthSampler) Interval() time.Duration { return 20 * time.Millisecond }
func (d *depthSampler) Sample(_ context.Context, reg *metrics.Registry) error {
	d.samples.Add(1)
	if d.fail != nil {
		return d.fail
	}
	reg.Get("ext_depth").Series(metrics.NewTags(map[string]string{"queue": "jobs"})).Add(d.depth)
	return nil
}
func (d *depthSampler) Close() error { d.closed.Add(1); return nil }

// withSampler plugs a sampler reading options.ext; got receives the JSON
// it was given.
func withSampler(d *depthSampler, got *string, newErr error) func(*Options) {
	return func(o *Options) {
		o.Samplers = []SamplerOption{{Key: "ext", New: func(raw json.RawMessage, reg *metrics.Registry) (Sampler, error) {
			*got = string(raw)
			if newErr != nil {
				return nil, newErr
			}
			reg.MustNew("ext_depth", metrics.Gauge, metrics.Default)
			return d, nil
		}}}
	}
}

func TestSamplerGaugeFailsAThreshold(t *testing.T) {
	t.Parallel()
	d := &depthSampler{depth: 500}
	var got string
	r := run(t, `
export const options = {
  iterations: 3,
  ext: { queues: ['jobs', /^load\./i], interval: '1s' },
  thresholds: { 'ext_depth{queue:jobs}': ['max<100'], iterations: ['count>0'] },
};
export default async function () { await new Promise((r) => setTimeout(r, 30)); }
`, withSampler(d, &got, nil), nil)
	if r.code != ExitThresholds {
		t.Fatalf("exit %d, want %d (the sampled depth 500 breaks max<100)\n%s", r.code, ExitThresholds, r.stderr)
	}
	if want := `{"queues":["jobs","/^load\\./i"],"interval":"1s"}`; got != want {
		t.Errorf("the sampler got %s, want %s (a RegExp as /source/flags)", got, want)
	}
	if d.samples.Load() < 1 || d.closed.Load() != 1 {
		t.Errorf("%d samples, closed %d times; want at least 1 and once", d.samples.Load(), d.closed.Load())
	}
	if !strings.Contains(r.stderr, "ext_depth") || !strings.Contains(r.stderr, "queue:jobs") {
		t.Errorf("the summary lacks the sampled gauge:\n%s", r.stderr)
	}
	// The other options keep their meaning and order.
	ths := r.reg.Thresholds()
	if len(ths) != 2 || ths[0].Selector != "ext_depth{queue:jobs}" || ths[1].Selector != "iterations" {
		t.Errorf("thresholds %v, want ext_depth{queue:jobs} then iterations", ths)
	}
}

func TestSamplerPassingThreshold(t *testing.T) {
	t.Parallel()
	d := &depthSampler{depth: 5}
	var got string
	r := run(t, `
export const options = { iterations: 1, ext: {}, thresholds: { 'ext_depth{queue:jobs}': ['max<100'] } };
export default function () {}
`, withSampler(d, &got, nil), nil)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", r.code, r.stderr)
	}
	if st := r.reg.Get("ext_depth").Series(metrics.NewTags(map[string]string{"queue": "jobs"})).Stats(); st.Max != 5 {
		t.Errorf("ext_depth{queue:jobs} max %v, want 5", st.Max)
	}
}

func TestSamplerOptionErrorIsAConfigError(t *testing.T) {
	t.Parallel()
	var got string
	r := run(t, `
export const options = { iterations: 1, ext: { queues: 5 } };
export default function () {}
`, withSampler(&depthSampler{}, &got, errors.New("queues: must be an array")), nil)
	if r.code != 2 || !strings.Contains(r.stderr, "options: ext: queues: must be an array") {
		t.Errorf("exit %d, want 2 with the key named\n%s", r.code, r.stderr)
	}
}

func TestSamplerFailureWarnsOnce(t *testing.T) {
	t.Parallel()
	d := &depthSampler{fail: errors.New("broker unreachable")}
	var got string
	r := run(t, `
export const options = { iterations: 1, ext: {} };
export default async function () { await new Promise((r) => setTimeout(r, 150)); }
`, withSampler(d, &got, nil), nil)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (a failing sampler does not fail the run)\n%s", r.code, r.stderr)
	}
	if n := strings.Count(r.stderr, "broker unreachable"); n != 1 {
		t.Errorf("the warning appears %d times, want once:\n%s", n, r.stderr)
	}
	if !strings.Contains(r.stderr, "warning: options.ext: broker unreachable") {
		t.Errorf("stderr lacks the warning naming the option:\n%s", r.stderr)
	}
}

// Without the sampler's key, it is still asked (a flag may turn it on) and
// the key stays unknown to scripts of hosts that do not plug it in.
func TestSamplerKeyUnknownWithoutSampler(t *testing.T) {
	t.Parallel()
	r := run(t, `
export const options = { iterations: 1, ext: {} };
export default function () {}
`, nil, nil)
	if r.code != 2 || !strings.Contains(r.stderr, `unknown option "ext"`) {
		t.Errorf("exit %d, want 2 for an unknown option\n%s", r.code, r.stderr)
	}
}
