package bindings

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// The AMQP metrics that the bindings record in scenario runs (when the
// runtime has a registry, see runtime.Runtime.SetMetrics), without any
// change to the script. Times are in milliseconds.
const (
	MetricPublished      = "amqp_published"       // counter: publish/basic_publish calls
	MetricPublishBytes   = "amqp_publish_bytes"   // counter: their payload bytes
	MetricConfirmed      = "amqp_confirmed"       // counter: publishes acked by the broker (confirm mode)
	MetricNacked         = "amqp_nacked"          // counter: publishes nacked by the broker
	MetricReturned       = "amqp_returned"        // counter: messages returned (basic.return)
	MetricConsumed       = "amqp_consumed"        // counter: deliveries to consumers and basic_get messages
	MetricConsumeBytes   = "amqp_consume_bytes"   // counter: their payload bytes
	MetricConfirmLatency = "amqp_confirm_latency" // trend: publish call → broker ack
	MetricRPCDuration    = "amqp_rpc_duration"    // trend, tag method: call → reply
	MetricE2ELatency     = "amqp_e2e_latency"     // trend: E2EHeader's time → delivery
)

// E2EHeader is the header that publishes carry in scenario runs (unless
// --no-e2e-header): the publish time as Unix nanoseconds (an AMQP long,
// int64). A delivery that carries it records now − that time into
// amqp_e2e_latency; across hosts this needs synchronised clocks. A header of
// that name that the script sets itself is kept as it is.
const E2EHeader = "x-amqpjs-sent-at"

// rpcMethods are the channel methods timed into amqp_rpc_duration{method}.
var rpcMethods = []string{
	"queue_declare", "queue_delete", "queue_bind", "queue_unbind", "queue_purge",
	"exchange_declare", "exchange_delete", "exchange_bind", "exchange_unbind",
	"confirm_select", "basic_qos", "basic_consume", "consume", "basic_cancel", "basic_get",
	"basic_recover", "flow", "close",
}

// RegisterMetrics creates the AMQP metrics in reg, so that thresholds on
// them are valid before anything was recorded.
func RegisterMetrics(reg *metrics.Registry) {
	for _, name := range []string{MetricPublished, MetricConfirmed, MetricNacked, MetricReturned, MetricConsumed} {
		reg.MustNew(name, metrics.Counter, metrics.Default)
	}
	reg.MustNew(MetricPublishBytes, metrics.Counter, metrics.Data)
	reg.MustNew(MetricConsumeBytes, metrics.Counter, metrics.Data)
	for _, name := range []string{MetricConfirmLatency, MetricRPCDuration, MetricE2ELatency} {
		reg.MustNew(name, metrics.Trend, metrics.Time)
	}
}

// amqpMetrics holds resolved series handles for one registry. Immutable
// once made; safe for any goroutine.
type amqpMetrics struct {
	reg                         *metrics.Registry
	published, publishBytes     *metrics.Series
	confirmed, nacked, returned *metrics.Series
	consumed, consumeBytes      *metrics.Series
	confirmLatency, e2eLatency  *metrics.Series
	rpc                         map[string]*metrics.Series // by method; read-only once made
	rtE2E                       func() bool                // the runtime's E2EHeader switch
	rtNow                       func() time.Time
}

// newAMQPMetrics resolves the handles of reg's series with tags (the
// runtime's metric tags: a scenario run's scenario).
func newAMQPMetrics(reg *metrics.Registry, tags metrics.Tags, e2e func() bool) *amqpMetrics {
	RegisterMetrics(reg)
	s := func(name string) *metrics.Series { return reg.Get(name).Series(tags) }
	am := &amqpMetrics{
		reg: reg, published: s(MetricPublished), publishBytes: s(MetricPublishBytes),
		confirmed: s(MetricConfirmed), nacked: s(MetricNacked), returned: s(MetricReturned),
		consumed: s(MetricConsumed), consumeBytes: s(MetricConsumeBytes),
		confirmLatency: s(MetricConfirmLatency), e2eLatency: s(MetricE2ELatency),
		rpc: map[string]*metrics.Series{}, rtE2E: e2e, rtNow: time.Now,
	}
	rpc := reg.Get(MetricRPCDuration)
	for _, m := range rpcMethods {
		am.rpc[m] = rpc.Series(tags.Merge(metrics.Tags{{Key: "method", Value: m}}))
	}
	return am
}

// moduleMetrics is the module's metrics state.
type moduleMetrics struct {
	cur       atomic.Pointer[amqpMetrics]
	rpcMethod string // loop-owned: the RPC method being called, for op
}

// meter returns the handles of the runtime's registry, or nil outside
// scenario runs. Any goroutine.
func (m *module) meter() *amqpMetrics {
	reg := m.rt.Metrics()
	if reg == nil {
		return nil
	}
	if am := m.mx.cur.Load(); am != nil && am.reg == reg {
		return am
	}
	am := newAMQPMetrics(reg, m.rt.MetricTags(), m.rt.E2EHeader)
	m.mx.cur.Store(am)
	return am
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// publishing records a publish about to be made (count, bytes, and the
// end-to-end latency header when enabled) and returns the time it was
// made, for confirming. Loop only (pub is the binding's).
func (am *amqpMetrics) publishing(pub *amqp.Publishing) time.Time {
	now := am.rtNow()
	am.published.Add(1)
	am.publishBytes.Add(float64(len(pub.Body)))
	if am.rtE2E() {
		if pub.Properties.Headers == nil {
			pub.Properties.Headers = amqp.Table{}
		}
		if _, mine := pub.Properties.Headers[E2EHeader]; !mine {
			pub.Properties.Headers[E2EHeader] = now.UnixNano()
		}
	}
	return now
}

// confirming wraps the done of a publish made at sent that waits for its
// confirm: it counts the confirm (and its latency) or the nack.
func (am *amqpMetrics) confirming(sent time.Time, done func(error)) func(error) {
	return func(err error) {
		var ae *amqp.Error
		switch {
		case err == nil:
			am.confirmed.Add(1)
			am.confirmLatency.Add(millis(time.Since(sent)))
		case errors.As(err, &ae) && ae.Kind == amqp.KindPublishNacked:
			am.nacked.Add(1)
		}
		done(err)
	}
}

// delivered records a message received (consumer or basic_get) and its
// end-to-end latency when it carries the header. Any goroutine.
func (am *amqpMetrics) delivered(body []byte, headers amqp.Table) {
	am.consumed.Add(1)
	am.consumeBytes.Add(float64(len(body)))
	var sent int64
	switch v := headers[E2EHeader].(type) {
	case int64:
		sent = v
	case float64:
		sent = int64(v)
	default:
		return
	}
	if sent > 0 {
		am.e2eLatency.Add(millis(am.rtNow().Sub(time.Unix(0, sent))))
	}
}

// recordDelivery is consume.go's and basic_get's hook. Any goroutine.
func (m *module) recordDelivery(d *amqp.Delivery) {
	if am := m.meter(); am != nil {
		am.delivered(d.Body, d.Properties.Headers)
	}
}

// recordReturn is the basic.return hook. Any goroutine.
func (m *module) recordReturn() {
	if am := m.meter(); am != nil {
		am.returned.Add(1)
	}
}

// timed wraps a channel method so that the op it starts is timed into
// amqp_rpc_duration{method:name} in scenario runs. Methods that are not
// RPCs are returned unchanged. Loop only.
func (m *module) timed(name string, fn func(goja.FunctionCall) goja.Value) func(goja.FunctionCall) goja.Value {
	if !isRPC(name) {
		return fn
	}
	return func(call goja.FunctionCall) goja.Value {
		if m.rt.Metrics() == nil {
			return fn(call)
		}
		prev := m.mx.rpcMethod
		m.mx.rpcMethod = name
		defer func() { m.mx.rpcMethod = prev }()
		return fn(call)
	}
}

func isRPC(name string) bool {
	for _, m := range rpcMethods {
		if m == name {
			return true
		}
	}
	return false
}

// rpcStart is called by channel.op: inside a timed method it starts the
// clock and returns the function that records the duration when the op
// completes (any goroutine); otherwise nil. Loop only.
func (m *module) rpcStart() func() {
	name := m.mx.rpcMethod
	if name == "" {
		return nil
	}
	m.mx.rpcMethod = "" // one op per call
	am := m.meter()
	if am == nil {
		return nil
	}
	s := am.rpc[name]
	start := time.Now()
	return func() { s.Add(millis(time.Since(start))) }
}
