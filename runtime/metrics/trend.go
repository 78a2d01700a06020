package metrics

import (
	"math"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Trend values are kept in an HdrHistogram of integers: a value v is stored
// as round(v × histScale), so values are resolved to 1/1000 of their unit
// (a microsecond for the millisecond trends), with 3 significant digits, up
// to histMax / histScale (1e9: 11.5 days in milliseconds). A value below 0
// counts as 0 in the histogram and one above the top as the top; count, sum,
// min and max stay exact. The histogram's size is fixed when it is made
// (about 250 KB), whatever the number of samples.
const (
	histScale   = 1000
	histMax     = 1e12
	histSigFigs = 3
)

func newHist() *hdr.Histogram { return hdr.New(1, histMax, histSigFigs) }

// trend is the state of one trend series. mu guards everything.
type trend struct {
	mu    sync.Mutex
	all   agg
	win   agg // the current interval; used only when windowed
	winOn bool
}

type agg struct {
	h        *hdr.Histogram
	count    int64
	sum      float64
	min, max float64
}

func (a *agg) reset() {
	if a.h != nil && a.count > 0 { // an empty one is clear already: spare the 250 KB clear
		a.h.Reset()
	}
	a.count, a.sum, a.min, a.max = 0, 0, math.Inf(1), math.Inf(-1)
}

func (a *agg) add(v float64) {
	a.count++
	a.sum += v
	if v < a.min {
		a.min = v
	}
	if v > a.max {
		a.max = v
	}
	x := math.Round(v * histScale)
	switch {
	case x < 0:
		x = 0
	case x > histMax:
		x = histMax
	}
	if a.h == nil {
		a.h = newHist() // a window's histogram: made on its first sample
	}
	_ = a.h.RecordValue(int64(x))
}

func newTrend(windowed bool) *trend {
	t := &trend{all: agg{h: newHist()}, winOn: windowed}
	t.all.reset()
	if windowed {
		t.win.reset()
	}
	return t
}

// enableWindow makes the trend keep its per-interval histogram from now on.
func (t *trend) enableWindow() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.winOn {
		t.win.reset()
		t.winOn = true
	}
}

func (t *trend) add(v float64) {
	t.mu.Lock()
	t.all.add(v)
	if t.winOn {
		t.win.add(v)
	}
	t.mu.Unlock()
}

// trendView is a copy of a trend's aggregate with the percentiles it can
// answer. A copy of the histogram is not taken: percentiles needed later
// are computed at view time (the common ones) or by locking again.
type trendView struct {
	t         *trend
	window    bool
	count     int64
	sum       float64
	min, max  float64
	quantiles map[float64]float64
}

// commonPercentiles are computed with every view, in one pass.
var commonPercentiles = []float64{50, 90, 95, 99}

func (t *trend) view(window bool) *trendView {
	t.mu.Lock()
	defer t.mu.Unlock()
	a := &t.all
	if window {
		a = &t.win
	}
	v := &trendView{t: t, window: window, count: a.count, sum: a.sum, min: a.min, max: a.max}
	if a.count == 0 {
		v.min, v.max = 0, 0
	}
	v.quantiles = make(map[float64]float64, len(commonPercentiles))
	if a.count > 0 {
		for p, x := range a.h.ValueAtPercentiles(commonPercentiles) {
			v.quantiles[p] = v.clamp(float64(x) / histScale)
		}
	}
	if window {
		a.reset()
	}
	return v
}

func (v *trendView) clamp(x float64) float64 {
	return math.Max(v.min, math.Min(v.max, x))
}

// percentile answers from the view's precomputed values, else from the
// live histogram (a whole-run view only).
func (v *trendView) percentile(p float64) float64 {
	if v.count == 0 {
		return 0
	}
	if x, ok := v.quantiles[p]; ok {
		return x
	}
	if v.window {
		return 0
	}
	v.t.mu.Lock()
	x := float64(v.t.all.h.ValueAtPercentile(p)) / histScale
	v.t.mu.Unlock()
	return v.clamp(x)
}
