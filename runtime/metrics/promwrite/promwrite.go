// Package promwrite is the Prometheus remote-write output of amqpjs's time
// series, `--out prometheus=URL`: every interval's points are converted to
// Prometheus series (protocol 1.0: a snappy-compressed prompb.WriteRequest,
// the Prometheus project's own types) and pushed every few seconds from a
// goroutine of its own, so that a slow or dead endpoint never holds up a
// run. See docs/prometheus.md for the series it writes.
//
// Importing the package registers the "prometheus" kind with
// [metrics.OpenOutput].
package promwrite

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

func init() {
	metrics.RegisterOutput("prometheus", func(arg string) (metrics.Output, error) {
		o, err := OptionsFromEnv(arg, os.Getenv)
		if err != nil {
			return nil, fmt.Errorf("--out prometheus: %w", err)
		}
		return New(o)
	})
}

// Options configure the Prometheus remote-write output. The zero value
// of a field means its default.
type Options struct {
	// URL of the remote-write endpoint, e.g. http://localhost:9090/api/v1/write.
	// User info in it (http://user:pass@host/…) is used for basic auth and
	// never printed.
	URL string
	// RunID is the run_id label of every series (default: the start time
	// and a random suffix, e.g. 20260101-120000-3fa2c1).
	RunID string
	// Instance is the instance label (default: host name and process id).
	Instance string
	// PushInterval is how often the buffered samples are sent (5s).
	PushInterval time.Duration
	// Timeout bounds one request, and the final push in Close (5s).
	Timeout time.Duration
	// MaxPending is the most samples kept while the endpoint does not take
	// them (100 000); older ones are dropped beyond it.
	MaxPending int
	// Basic auth (Username, Password) or BearerToken.
	Username, Password, BearerToken string
	// TLS: a CA bundle for the server's certificate, a client certificate
	// and key, or no verification at all.
	CAFile, CertFile, KeyFile string
	InsecureSkipVerify        bool
}

// OptionsFromEnv reads the options that are not in the URL from the
// environment: AMQPJS_RUN_ID, AMQPJS_PROMETHEUS_USERNAME,
// AMQPJS_PROMETHEUS_PASSWORD, AMQPJS_PROMETHEUS_BEARER_TOKEN,
// AMQPJS_PROMETHEUS_CA_FILE, AMQPJS_PROMETHEUS_CERT_FILE,
// AMQPJS_PROMETHEUS_KEY_FILE, AMQPJS_PROMETHEUS_INSECURE_SKIP_VERIFY (1 or
// true), AMQPJS_PROMETHEUS_PUSH_INTERVAL, AMQPJS_PROMETHEUS_TIMEOUT
// (durations such as 5s) and AMQPJS_PROMETHEUS_MAX_PENDING (samples).
func OptionsFromEnv(rawURL string, getenv func(string) string) (Options, error) {
	o := Options{
		URL:         rawURL,
		RunID:       getenv("AMQPJS_RUN_ID"),
		Username:    getenv("AMQPJS_PROMETHEUS_USERNAME"),
		Password:    getenv("AMQPJS_PROMETHEUS_PASSWORD"),
		BearerToken: getenv("AMQPJS_PROMETHEUS_BEARER_TOKEN"),
		CAFile:      getenv("AMQPJS_PROMETHEUS_CA_FILE"),
		CertFile:    getenv("AMQPJS_PROMETHEUS_CERT_FILE"),
		KeyFile:     getenv("AMQPJS_PROMETHEUS_KEY_FILE"),
	}
	if v := getenv("AMQPJS_PROMETHEUS_INSECURE_SKIP_VERIFY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("AMQPJS_PROMETHEUS_INSECURE_SKIP_VERIFY=%q: want true or false", v)
		}
		o.InsecureSkipVerify = b
	}
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"AMQPJS_PROMETHEUS_PUSH_INTERVAL", &o.PushInterval}, {"AMQPJS_PROMETHEUS_TIMEOUT", &o.Timeout}} {
		if v := getenv(d.name); v != "" {
			t, err := time.ParseDuration(v)
			if err != nil || t <= 0 {
				return o, fmt.Errorf("%s=%q: want a positive duration such as 5s", d.name, v)
			}
			*d.to = t
		}
	}
	if v := getenv("AMQPJS_PROMETHEUS_MAX_PENDING"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return o, fmt.Errorf("AMQPJS_PROMETHEUS_MAX_PENDING=%q: want a positive number of samples", v)
		}
		o.MaxPending = n
	}
	return o, nil
}

// promOutput streams the time series to a Prometheus remote-write endpoint
// (protocol 1.0: a snappy-compressed prompb.WriteRequest). Write converts
// and queues, never blocks on the network; a goroutine pushes the queue
// every PushInterval; Close pushes what is left.
type promOutput struct {
	opts   Options
	target string // the URL without its password, for messages
	url    string
	client *http.Client
	base   []prompb.Label // job, instance, run_id

	// Conversion state: Write's goroutine only.
	series  map[string]*promSeries // by metric name + Tags.String()
	metrics map[string]*promMetric
	lastTS  int64
	written map[string]*written // every series written, for timestamps and the stale markers

	mu          sync.Mutex
	pending     []prompb.TimeSeries // oldest first
	pendingN    int                 // samples in pending
	sent        int64               // samples the endpoint took
	dropped     int64               // samples given up on
	lastErr     error
	warn        error // a warning for Write to return, once
	warned      bool
	closing     bool
	kick        chan struct{}
	done        chan struct{}
	ctx         context.Context
	cancel      context.CancelFunc
	closeOnce   sync.Once
	closeResult error
}

// promSeries is what the output keeps of one amqpjs series.
type promSeries struct {
	count int64   // samples so far (cumulative)
	sum   float64 // counter: sum; trend: sum of values; rate: non-zero samples
}

// written is a Prometheus series that the output wrote.
type written struct {
	labels []prompb.Label
	last   int64 // the timestamp of its last sample (ms)
}

// promMetric is what the output keeps of one metric: the totals of its
// tagged series, to tell the untagged samples from the root's aggregate.
type promMetric struct {
	tagged        promSeries
	untaggedCount int64 // the untagged series' last written totals (monotonic)
	untaggedSum   float64
	hasTagged     bool
}

// New opens the remote-write output described by o.
func New(o Options) (metrics.Output, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("prometheus=%s: want an http:// or https:// URL such as http://localhost:9090/api/v1/write", redactURL(o.URL))
	}
	if u.User != nil {
		if o.Username == "" {
			o.Username = u.User.Username()
			o.Password, _ = u.User.Password()
		}
		u.User = nil
	}
	if o.Username != "" && o.BearerToken != "" {
		return nil, fmt.Errorf("prometheus=%s: basic auth and a bearer token both given; choose one", u)
	}
	if o.PushInterval <= 0 {
		o.PushInterval = 5 * time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 100_000
	}
	if o.RunID == "" {
		o.RunID = NewRunID(time.Now())
	}
	if o.Instance == "" {
		h, _ := os.Hostname()
		o.Instance = fmt.Sprintf("%s-%d", h, os.Getpid())
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if u.Scheme == "https" {
		tc := &tls.Config{InsecureSkipVerify: o.InsecureSkipVerify} //nolint:gosec // the user asked for it
		if o.CAFile != "" {
			pem, err := os.ReadFile(o.CAFile)
			if err != nil {
				return nil, fmt.Errorf("prometheus: CA file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("prometheus: CA file %s: no PEM certificate in it", o.CAFile)
			}
			tc.RootCAs = pool
		}
		if o.CertFile != "" || o.KeyFile != "" {
			cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("prometheus: client certificate: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		tr.TLSClientConfig = tc
	}
	p := &promOutput{
		opts:    o,
		target:  u.String(),
		url:     u.String(),
		client:  &http.Client{Transport: tr, Timeout: o.Timeout},
		series:  map[string]*promSeries{},
		metrics: map[string]*promMetric{},
		written: map[string]*written{},
		kick:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	p.base = []prompb.Label{{Name: "instance", Value: o.Instance}, {Name: "job", Value: "amqpjs"}, {Name: "run_id", Value: o.RunID}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.loop()
	return p, nil
}

// NewRunID makes a run id: the UTC time and 6 random hex digits.
func NewRunID(t time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// RunID returns the run_id label that the output writes.
func (p *promOutput) RunID() string { return p.opts.RunID }

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(an invalid URL)"
	}
	return u.Redacted()
}

// PromName returns the Prometheus name of an amqpjs metric and the factor
// its values are multiplied by: times become seconds (_seconds), data
// bytes (_bytes). Counters then get _total.
func Name(name string, vt metrics.ValueType) (string, float64) {
	f := 1.0
	switch vt {
	case metrics.Time:
		f = 0.001
		if !strings.HasSuffix(name, "_seconds") {
			name += "_seconds"
		}
	case metrics.Data:
		if !strings.HasSuffix(name, "_bytes") {
			name += "_bytes"
		}
	}
	return name, f
}

// MetricNames returns the Prometheus metric names that an amqpjs metric
// becomes: counter NAME_total; gauge NAME; rate NAME_passes_total and
// NAME_fails_total; trend NAME (with a stat label), NAME_count and
// NAME_sum; NAME with the unit suffix of [Name].
func MetricNames(name string, kind metrics.Kind, vt metrics.ValueType) []string {
	n, _ := Name(name, vt)
	switch kind {
	case metrics.Counter:
		return []string{n + "_total"}
	case metrics.Gauge:
		return []string{n}
	case metrics.Rate:
		return []string{n + "_passes_total", n + "_fails_total"}
	case metrics.Trend:
		return []string{n, n + "_count", n + "_sum"}
	}
	return nil
}

// TrendStats are the values of a trend's stat label, per interval.
var TrendStats = []string{"avg", "min", "max", "p50", "p90", "p95", "p99"}

// promLabelName makes a tag key a valid label name that does not clash
// with the output's own labels.
func promLabelName(k string) string {
	var b strings.Builder
	for i, r := range k {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	switch {
	case s == "":
		return "tag_"
	case strings.HasPrefix(s, "__"):
		return "tag" + s
	case s == "job" || s == "instance" || s == "run_id" || s == "stat":
		return "exported_" + s
	}
	return s
}

// labels returns the label set of name with tags (and stat when not ""),
// sorted by name as the protocol wants.
func (p *promOutput) labels(name string, tags metrics.Tags, stat string) []prompb.Label {
	ls := make([]prompb.Label, 0, len(p.base)+len(tags)+2)
	ls = append(ls, prompb.Label{Name: "__name__", Value: name})
	ls = append(ls, p.base...)
	for _, t := range tags {
		if t.Value == "" {
			continue // an empty label is no label in Prometheus
		}
		ls = append(ls, prompb.Label{Name: promLabelName(t.Key), Value: strings.ToValidUTF8(t.Value, "\uFFFD")})
	}
	if stat != "" {
		ls = append(ls, prompb.Label{Name: "stat", Value: stat})
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].Name < ls[j].Name })
	// Two tag keys made the same label name: keep the first.
	out := ls[:0]
	for i, l := range ls {
		if i > 0 && l.Name == out[len(out)-1].Name {
			continue
		}
		out = append(out, l)
	}
	return out
}

func labelKey(ls []prompb.Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0)
		b.WriteString(l.Value)
		b.WriteByte(0)
	}
	return b.String()
}

// Write converts the points of one interval and queues them. It never
// waits for the endpoint; it returns an error once, the first time samples
// could not be delivered.
func (p *promOutput) Write(pts []metrics.Point) error {
	ts := p.convert(pts)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.enqueue(ts, false)
	w := p.warn
	p.warn = nil
	return w
}

// convert turns points into one-sample time series. Each Prometheus series
// holds the samples of exactly one tag set, so that sum() over a metric's
// series adds up: the root series of a metric that also has tagged series
// is written as its untagged remainder (counts), or not at all (trend
// statistics, gauges without untagged samples).
func (p *promOutput) convert(pts []metrics.Point) []prompb.TimeSeries {
	var out []prompb.TimeSeries
	add := func(name string, tags metrics.Tags, stat string, v float64, ts int64) {
		ls := p.labels(name, tags, stat)
		k := labelKey(ls)
		w := p.written[k]
		if w == nil {
			w = &written{labels: ls}
			p.written[k] = w
		} else if ts <= w.last {
			// Two ticks in one millisecond (the last regular one and the
			// run's end): Prometheus refuses a second sample at the same
			// time, and a whole request with it.
			ts = w.last + 1
		}
		w.last = ts
		out = append(out, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Value: v, Timestamp: ts}}})
	}
	// The end of the previous interval: where a new counter starts from 0.
	prev := p.lastTS
	// Tagged series first, so that the roots see their metric's tagged totals.
	sorted := make([]metrics.Point, len(pts))
	copy(sorted, pts)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].Tags) > 0 && len(sorted[j].Tags) == 0 })
	for _, pt := range sorted {
		ts := pt.Time.UnixMilli()
		if ts > p.lastTS {
			p.lastTS = ts
		}
		key := pt.Metric + pt.Tags.String()
		se := p.series[key]
		if se == nil {
			se = &promSeries{}
			p.series[key] = se
		}
		m := p.metrics[pt.Metric]
		if m == nil {
			m = &promMetric{}
			p.metrics[pt.Metric] = m
		}
		name, f := Name(pt.Metric, pt.Type)
		// This interval's totals of the series.
		var dSum float64
		switch pt.Kind {
		case metrics.Counter:
			dSum = pt.Value
		case metrics.Rate:
			dSum = math.Round(pt.Value * float64(pt.Count))
		case metrics.Trend:
			dSum = pt.Value * float64(pt.Count)
		}
		se.count += pt.Count
		se.sum += dSum
		tagged := len(pt.Tags) > 0
		if tagged {
			m.hasTagged = true
			m.tagged.count += pt.Count
			m.tagged.sum += dSum
		}
		// What this series contributes as a leaf: its own totals, or for
		// the root the samples that had no tags.
		count, sum := se.count, se.sum
		if !tagged && m.hasTagged {
			count, sum = se.count-m.tagged.count, se.sum-m.tagged.sum
			if count <= m.untaggedCount {
				continue // nothing recorded without tags since
			}
			if sum < m.untaggedSum {
				sum = m.untaggedSum
			}
			m.untaggedCount, m.untaggedSum = count, sum
		} else if !tagged {
			m.untaggedCount, m.untaggedSum = count, sum
		}
		var tags metrics.Tags
		if tagged {
			tags = pt.Tags
		}
		switch pt.Kind {
		case metrics.Counter:
			n := name + "_total"
			if se.count == pt.Count && (tagged || !m.hasTagged) {
				// A new series: a zero at the interval's start, so
				// that increase() and rate() count its first interval.
				start := prev
				if start == 0 || start >= ts {
					start = ts - int64(pt.Elapsed*1000)
				}
				if start >= ts {
					start = ts - 1
				}
				add(n, tags, "", 0, start)
			}
			add(n, tags, "", sum*f, ts)
		case metrics.Gauge:
			add(name, tags, "", pt.Value*f, ts)
		case metrics.Rate:
			add(name+"_passes_total", tags, "", sum, ts)
			add(name+"_fails_total", tags, "", float64(count)-sum, ts)
		case metrics.Trend:
			add(name+"_count", tags, "", float64(count), ts)
			add(name+"_sum", tags, "", sum*f, ts)
			if pt.Percentiles && (tagged || !m.hasTagged) {
				for _, st := range TrendStats {
					var v float64
					switch st {
					case "avg":
						v = pt.Value
					case "min":
						v = pt.Min
					case "max":
						v = pt.Max
					case "p50":
						v = pt.P50
					case "p90":
						v = pt.P90
					case "p95":
						v = pt.P95
					case "p99":
						v = pt.P99
					}
					add(name, tags, st, v*f, ts)
				}
			}
		}
	}
	return out
}

// enqueue appends ts to the queue (or puts it back in front, after a
// failed push), dropping the oldest samples beyond MaxPending. mu held.
func (p *promOutput) enqueue(ts []prompb.TimeSeries, front bool) {
	if len(ts) == 0 {
		return
	}
	n := 0
	for _, s := range ts {
		n += len(s.Samples)
	}
	if front {
		p.pending = append(ts, p.pending...)
	} else {
		p.pending = append(p.pending, ts...)
	}
	p.pendingN += n
	if p.pendingN > p.opts.MaxPending {
		drop := 0
		for p.pendingN > p.opts.MaxPending {
			k := len(p.pending[drop].Samples)
			p.pendingN -= k
			p.dropped += int64(k)
			drop++
		}
		p.pending = append([]prompb.TimeSeries(nil), p.pending[drop:]...)
		p.warnOnce(fmt.Errorf("prometheus %s: more than %d samples waiting, dropping the oldest (the run goes on)", p.target, p.opts.MaxPending))
	}
}

// warnOnce sets the warning that the next Write returns. mu held.
func (p *promOutput) warnOnce(err error) {
	if !p.warned {
		p.warned = true
		p.warn = err
	}
}

// loop pushes the queue every PushInterval until Close.
func (p *promOutput) loop() {
	defer close(p.done)
	t := time.NewTicker(p.opts.PushInterval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.kick:
		}
		p.mu.Lock()
		closing := p.closing
		p.mu.Unlock()
		p.push(closing)
		if closing {
			return
		}
	}
}

// maxBatch is the most series in one request.
const maxBatch = 5000

// push sends the queue in batches. A batch that fails for a reason worth
// retrying (a network error, 5xx, 429) goes back to the queue, unless
// final; one that the endpoint refuses (other 4xx) is dropped.
func (p *promOutput) push(final bool) {
	p.mu.Lock()
	q := p.pending
	p.pending, p.pendingN = nil, 0
	p.mu.Unlock()
	for len(q) > 0 {
		n := min(len(q), maxBatch)
		batch := q[:n]
		samples := 0
		for _, s := range batch {
			samples += len(s.Samples)
		}
		retry, err := p.send(batch)
		p.mu.Lock()
		switch {
		case err == nil:
			p.sent += int64(samples)
			q = q[n:]
		case retry && !final:
			p.lastErr = err
			p.warnOnce(fmt.Errorf("%v; keeping up to %d samples and retrying every %s (the run goes on)", err, p.opts.MaxPending, p.opts.PushInterval))
			p.enqueue(q, true)
			q = nil
		default:
			p.lastErr = err
			p.warnOnce(fmt.Errorf("%v; dropping samples (the run goes on)", err))
			if retry { // final: the whole rest is lost
				n = len(q)
				samples = 0
				for _, s := range q {
					samples += len(s.Samples)
				}
			}
			p.dropped += int64(samples)
			q = q[n:]
		}
		p.mu.Unlock()
	}
}

// send makes one remote-write request: it reports whether a failure is
// worth retrying.
func (p *promOutput) send(ts []prompb.TimeSeries) (retry bool, err error) {
	req := &prompb.WriteRequest{Timeseries: ts}
	raw, err := req.Marshal()
	if err != nil {
		return false, fmt.Errorf("prometheus %s: encoding: %w", p.target, err)
	}
	body := snappy.Encode(nil, raw)
	hr, err := http.NewRequestWithContext(p.ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return false, fmt.Errorf("prometheus %s: %w", p.target, err)
	}
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("User-Agent", "amqpjs")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	switch {
	case p.opts.Username != "":
		hr.SetBasicAuth(p.opts.Username, p.opts.Password)
	case p.opts.BearerToken != "":
		hr.Header.Set("Authorization", "Bearer "+p.opts.BearerToken)
	}
	resp, err := p.client.Do(hr)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in our own message
		}
		return true, fmt.Errorf("prometheus %s: %v", p.target, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 == 2 {
		return false, nil
	}
	err = fmt.Errorf("prometheus %s: %s: %s", p.target, resp.Status, strings.TrimSpace(string(msg)))
	return resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests, err
}

// Close pushes what is left, with stale markers that end the run's series
// in Prometheus, waiting at most Timeout. It returns an error that counts
// the samples not delivered, if any (the run's result is not affected).
func (p *promOutput) Close() error {
	p.closeOnce.Do(func() {
		// Stale markers: the series end here, instead of lingering for
		// Prometheus's lookback (5 minutes) in graphs.
		if len(p.written) > 0 {
			now := time.Now().UnixMilli()
			stale := make([]prompb.TimeSeries, 0, len(p.written))
			for _, w := range p.written {
				ts := max(w.last+1, now)
				stale = append(stale, prompb.TimeSeries{Labels: w.labels, Samples: []prompb.Sample{{Value: math.Float64frombits(value.StaleNaN), Timestamp: ts}}})
			}
			p.mu.Lock()
			p.enqueue(stale, false)
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.closing = true
		p.mu.Unlock()
		stop := time.AfterFunc(p.opts.Timeout, p.cancel) // the final push, and one in flight, end by then
		select {
		case p.kick <- struct{}{}:
		default:
		}
		<-p.done
		stop.Stop()
		p.cancel()
		p.client.CloseIdleConnections()
		p.mu.Lock()
		defer p.mu.Unlock()
		p.dropped += int64(p.pendingN)
		p.pending, p.pendingN = nil, 0
		if p.dropped > 0 {
			last := ""
			if p.lastErr != nil {
				last = " (last error: " + strings.TrimPrefix(p.lastErr.Error(), "prometheus "+p.target+": ") + ")"
			}
			p.closeResult = fmt.Errorf("prometheus %s: %d of %d samples not delivered%s", p.target, p.dropped, p.dropped+p.sent, last)
		}
	})
	return p.closeResult
}

// Stats returns the samples an output of [New] delivered and
// dropped so far (zero for other outputs).
func Stats(o metrics.Output) (sent, dropped int64) {
	p, ok := o.(*promOutput)
	if !ok {
		return 0, 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent, p.dropped
}
