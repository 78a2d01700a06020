package runtime

import (
	"sync/atomic"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// metricsHook is what a scenario run gives the native modules of a runtime:
// the run's metrics registry and the run's switches. Nil outside scenarios,
// so modules record nothing and pay one nil check.
type metricsHook struct {
	reg       atomic.Pointer[metrics.Registry]
	tags      atomic.Pointer[metrics.Tags]
	e2eHeader atomic.Bool
}

// SetMetrics makes native modules record into reg (nil: record nothing).
// Scenario runs call it for every VU's runtime and for the runtime that runs
// setup and teardown. Any goroutine.
func (r *Runtime) SetMetrics(reg *metrics.Registry) { r.mhook.reg.Store(reg) }

// Metrics returns the registry set with [Runtime.SetMetrics], or nil outside
// a scenario run. Any goroutine: the AMQP bindings read it on their own
// goroutines (confirms, deliveries).
func (r *Runtime) Metrics() *metrics.Registry { return r.mhook.reg.Load() }

// SetMetricTags sets the tags that every sample recorded by this runtime
// carries (a scenario run's VUs: scenario, and the scenario's tags).
// Native modules read them when they first record, so call it before the
// runtime runs. Any goroutine.
func (r *Runtime) SetMetricTags(tags metrics.Tags) { r.mhook.tags.Store(&tags) }

// MetricTags returns the tags set with [Runtime.SetMetricTags] (nil
// without). Any goroutine.
func (r *Runtime) MetricTags() metrics.Tags {
	if t := r.mhook.tags.Load(); t != nil {
		return *t
	}
	return nil
}

// SetE2EHeader turns on the end-to-end latency header that the AMQP
// bindings add to each publish and read on each delivery while metrics are
// set. Any goroutine.
func (r *Runtime) SetE2EHeader(on bool) { r.mhook.e2eHeader.Store(on) }

// E2EHeader reports whether metrics are set and the end-to-end latency
// header is on. Any goroutine.
func (r *Runtime) E2EHeader() bool { return r.mhook.e2eHeader.Load() && r.Metrics() != nil }
