package report

import (
	"math"
	"math/rand"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// OneHour calls add with the points of a synthetic one-hour run at 10 000
// messages per second, as --out json=FILE would write them: two scenarios
// (tag scenario: "publishers" with confirms, "consumers"), every built-in
// metric per second in the whole run and per scenario, RPCs at the start, a
// few errors and a slow minute. For the tests and the measurements of the
// report's size and rendering time (docs/report.md); the same every time.
func OneHour(add func(metrics.JSONPoint)) {
	start := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewSource(1))
	fp := func(v float64) *float64 { return &v }
	for i := 1; i <= 3600; i++ {
		at := start.Add(time.Duration(i) * time.Second)
		pt := func(metric, kind string, scen string, count int64, value float64) metrics.JSONPoint {
			tags := map[string]string{}
			if scen != "" {
				tags["scenario"] = scen
			}
			p := metrics.JSONPoint{Time: at, Elapsed: float64(i), Metric: metric, Type: kind, Tags: tags, Count: count, Value: value}
			if kind == "counter" {
				p.Rate = fp(value)
			}
			return p
		}
		trend := func(metric, scen string, count int64, base float64) metrics.JSONPoint {
			p := pt(metric, "trend", scen, count, base*1.1)
			p.Min, p.P50, p.P90 = fp(base*0.3), fp(base), fp(base*1.8)
			p.P95, p.P99, p.Max = fp(base*2.4), fp(base*4), fp(base*9)
			return p
		}
		gauge := func(metric, scen string, v float64) metrics.JSONPoint {
			p := pt(metric, "gauge", scen, 1, v)
			p.Min, p.Max = fp(v), fp(v)
			return p
		}
		slow := 1.0
		if i > 1800 && i <= 1860 {
			slow = 6 // a slow minute
		}
		msgs := math.Round(10000 * (1 + 0.03*rng.NormFloat64()) / math.Sqrt(slow))
		lat := 2.5 * slow * (1 + 0.1*rng.NormFloat64())
		e2e := lat * 1.4
		for _, scen := range []string{"", "publishers", "consumers"} {
			if scen != "consumers" {
				add(pt("amqp_published", "counter", scen, int64(msgs), msgs))
				add(pt("amqp_publish_bytes", "counter", scen, int64(msgs), msgs*512))
				add(pt("amqp_confirmed", "counter", scen, int64(msgs), msgs))
				add(trend("amqp_confirm_latency", scen, int64(msgs), lat))
			}
			if scen != "publishers" {
				add(pt("amqp_consumed", "counter", scen, int64(msgs), msgs))
				add(pt("amqp_consume_bytes", "counter", scen, int64(msgs), msgs*512))
				add(trend("amqp_e2e_latency", scen, int64(msgs), e2e))
			}
			vus := 20.0
			if scen != "" {
				vus = 10
			}
			add(pt("iterations", "counter", scen, int64(msgs/10), msgs/10))
			add(trend("iteration_duration", scen, int64(msgs/10), lat*10))
			add(gauge("vus", scen, vus))
			add(gauge("vus_max", scen, vus))
			add(pt("checks", "rate", scen, int64(msgs/10), 1))
			if i%600 == 0 {
				add(pt("errors", "counter", scen, 3, 3))
			}
		}
		if i <= 2 {
			for _, m := range []string{"queue_declare", "confirm_select", "basic_qos", "basic_consume"} {
				add(trend("amqp_rpc_duration", "", 10, 1.5))
				add(trend("amqp_rpc_duration", "publishers", 10, 1.5))
				p := trend("amqp_rpc_duration", "publishers", 10, 1.5)
				p.Tags["method"] = m
				add(p)
			}
		}
	}
}
