package metrics

import (
	"fmt"
	"math"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// SeriesData is a series' whole-run state as the JSON summary carries it
// (the "data" of each metric), enough for `amqpjs merge` to add up the
// series of several runs exactly: counts and sums, a rate's numerator and
// denominator, a gauge's last value, min and max, and a trend's
// HdrHistogram.
type SeriesData struct {
	// Count is the number of samples (a counter: of adds; a rate: the
	// denominator).
	Count int64 `json:"count"`
	// Sum is a counter's sum, or a trend's sum of values.
	Sum float64 `json:"sum,omitempty"`
	// NonZero is a rate's non-zero samples: its numerator.
	NonZero int64 `json:"nonzero,omitempty"`
	// Value is a gauge's last value.
	Value float64 `json:"value,omitempty"`
	// Min and Max are a gauge's or a trend's exact extremes (0 without
	// samples).
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
	// HDR is a trend's histogram in HdrHistogram's V2 compressed encoding,
	// base64 (as HdrHistogram's tools read it): the values as integers in
	// thousandths of the metric's unit (microseconds for a time trend),
	// 3 significant digits (see [HistogramScale]).
	HDR string `json:"hdr,omitempty"`
}

// HistogramScale is the factor from a trend's values to the integers of
// its histogram: a value v is recorded as round(v × HistogramScale).
const HistogramScale = histScale

// NewHistogram makes an empty histogram with the configuration of a
// trend's (1 to 1e12, 3 significant digits), to merge trends' histograms
// into.
func NewHistogram() *hdr.Histogram { return newHist() }

// DecodeHistogram reads a [SeriesData.HDR].
func DecodeHistogram(s string) (*hdr.Histogram, error) {
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("not an HdrHistogram in V2 compressed base64 encoding: %v", err)
	}
	return h, nil
}

// EncodeHistogram writes h as a [SeriesData.HDR].
func EncodeHistogram(h *hdr.Histogram) (string, error) {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	return string(b), err
}

// Data returns the series' whole-run state. Any goroutine.
func (s *Series) Data() (SeriesData, error) {
	st := s.Stats()
	d := SeriesData{Count: st.Count}
	switch st.Kind {
	case Counter:
		d.Sum = st.Sum
	case Rate:
		d.NonZero = st.NonZero
	case Gauge:
		d.Value, d.Min, d.Max = st.Value, st.Min, st.Max
	case Trend:
		d.Sum, d.Min, d.Max = st.Sum, st.Min, st.Max
		s.trend.mu.Lock()
		enc, err := EncodeHistogram(s.trend.all.h)
		s.trend.mu.Unlock()
		if err != nil {
			return d, fmt.Errorf("%s: encoding the histogram: %w", s.Name(), err)
		}
		d.HDR = enc
	}
	return d, nil
}

// Load sets the series' whole-run state to d, replacing what it recorded:
// for a registry made of merged data (`amqpjs merge`), which records
// nothing afterwards. h is a trend's histogram (nil for other kinds; nil
// for a trend is an empty one); the series keeps it. A root series that
// is loaded no longer adds its sub-series up when read: d is its total.
func (s *Series) Load(d SeriesData, h *hdr.Histogram) {
	switch s.Metric.Kind {
	case Counter:
		s.count.Store(d.Count)
		s.sum.Store(math.Float64bits(d.Sum))
	case Rate:
		s.count.Store(d.Count)
		s.nonzero.Store(d.NonZero)
	case Gauge:
		s.count.Store(d.Count)
		s.last.Store(math.Float64bits(d.Value))
		lo, hi := d.Min, d.Max
		if d.Count == 0 {
			lo, hi = math.Inf(1), math.Inf(-1)
		}
		s.min.Store(math.Float64bits(lo))
		s.max.Store(math.Float64bits(hi))
	case Trend:
		if h == nil {
			h = newHist()
		}
		s.trend.mu.Lock()
		a := &s.trend.all
		a.h, a.count, a.sum, a.min, a.max = h, d.Count, d.Sum, d.Min, d.Max
		if d.Count == 0 {
			a.min, a.max = math.Inf(1), math.Inf(-1)
		}
		s.trend.mu.Unlock()
	}
	s.loaded.Store(true)
}

// ParseKind is the inverse of [Kind.String].
func ParseKind(s string) (Kind, error) {
	for k := Counter; k <= Trend; k++ {
		if k.String() == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("unknown metric type %q (want counter, gauge, rate or trend)", s)
}

// ParseValueType is the inverse of [ValueType.String].
func ParseValueType(s string) (ValueType, error) {
	for _, t := range []ValueType{Default, Time, Data} {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown metric contents %q (want default, time or data)", s)
}
