package metrics

import (
	"testing"
	"time"
)

// TestEnableWindowsAfterTrendsExist: the built-in trends are made before a
// run knows it has --out outputs; EnableWindows still gives them (and their
// sub-series and threshold filters) per-interval percentiles.
func TestEnableWindowsAfterTrendsExist(t *testing.T) {
	reg := NewRegistry()
	m := reg.MustNew("lat", Trend, Time)
	sub := m.Series(Tags{{"k", "v"}})
	filter := m.Filter(Tags{{"k", "v"}})
	start := time.Unix(1000, 0)
	reg.Start(start)
	reg.EnableWindows()
	for i := 1; i <= 100; i++ {
		sub.Add(float64(i))
	}
	pts := NewSampler(reg, start).Sample(start.Add(time.Second))
	seen := 0
	for _, p := range pts {
		if p.Metric != "lat" {
			continue
		}
		seen++
		if !p.Percentiles || p.Count != 100 || p.Max != 100 || p.P50 < 49 || p.P50 > 51 {
			t.Errorf("point %s%s: percentiles %v count %d max %v p50 %v; want per-interval percentiles of 1..100", p.Metric, p.Tags, p.Percentiles, p.Count, p.Max, p.P50)
		}
	}
	if seen != 2 {
		t.Errorf("%d points of lat, want 2 (root and {k:v})", seen)
	}
	if v := filter.trend.view(true); v.count != 100 {
		t.Errorf("filter window count %d, want 100", v.count)
	}
}

// BenchmarkSampleWindows: one interval of a scenario with time-series
// outputs: 3 busy trends and 18 idle ones (the rpc methods).
func BenchmarkSampleWindows(b *testing.B) {
	reg := NewRegistry()
	start := time.Unix(1000, 0)
	reg.Start(start)
	reg.EnableWindows()
	var busy []*Series
	for _, n := range []string{"a", "b", "c"} {
		busy = append(busy, reg.MustNew(n, Trend, Time).Root())
	}
	rpc := reg.MustNew("rpc", Trend, Time)
	for i := range 18 {
		rpc.Series(Tags{{"method", string(rune('a' + i))}}).Add(1)
	}
	s := NewSampler(reg, start)
	b.ResetTimer()
	for i := range b.N {
		for _, se := range busy {
			for v := range 100 {
				se.Add(float64(v))
			}
		}
		s.Sample(start.Add(time.Duration(i+1) * time.Second))
	}
}
