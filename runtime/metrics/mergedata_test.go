package metrics

import (
	"encoding/json"
	"testing"
	"time"
)

// A series' Data, loaded into another registry, reads back as the same
// stats and percentiles; a loaded counter root is its data, not the sum of
// its sub-series again.
func TestSeriesDataRoundTrip(t *testing.T) {
	src := NewRegistry()
	c := src.MustNew("c", Counter, Data)
	r := src.MustNew("r", Rate, Default)
	g := src.MustNew("g", Gauge, Default)
	tr := src.MustNew("t", Trend, Time)
	sub := Tags{{"q", "a"}}
	for i := 1; i <= 1000; i++ {
		c.Series(sub).Add(float64(i))
		c.Add(1)
		r.Series(sub).Add(float64(i % 3))
		g.Add(float64(i % 17))
		tr.Series(sub).Add(float64(i) * 0.37)
	}
	dst := NewRegistry()
	for _, m := range src.Metrics() {
		dm := dst.MustNew(m.Name, m.Kind, m.Type)
		for _, se := range append([]*Series{m.Root()}, m.Sub()...) {
			d, err := se.Data()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(d) // as the export carries it
			var back SeriesData
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			var h = NewHistogram()
			if back.HDR != "" {
				if h, err = DecodeHistogram(back.HDR); err != nil {
					t.Fatal(err)
				}
			}
			dm.Series(se.Tags).Load(back, h)
		}
	}
	for _, m := range src.Metrics() {
		dm := dst.Get(m.Name)
		for _, se := range append([]*Series{m.Root()}, m.Sub()...) {
			want, got := se.Stats(), dm.Series(se.Tags).Stats()
			if want.Count != got.Count || want.Sum != got.Sum || want.NonZero != got.NonZero || want.Value != got.Value || want.Min != got.Min || want.Max != got.Max {
				t.Errorf("%s: loaded %+v, recorded %+v", se.Name(), got, want)
			}
			for _, p := range []float64{1, 50, 99.9} {
				if want.Percentile(p) != got.Percentile(p) {
					t.Errorf("%s p(%v): %v, want %v", se.Name(), p, got.Percentile(p), want.Percentile(p))
				}
			}
		}
	}
	if st := dst.Get("c").Root().Stats(); st.Sum != 1000+500500 || st.Count != 2000 {
		t.Errorf("counter root %+v", st)
	}
	// The summary of the loaded registry is the recorded one's.
	a, _ := json.Marshal(src.Summarize(time.Second).JSON().Metrics)
	b, _ := json.Marshal(dst.Summarize(time.Second).JSON().Metrics)
	if string(a) != string(b) {
		t.Errorf("summaries differ:\n%s\n%s", a, b)
	}
}

func TestParseKindAndValueType(t *testing.T) {
	for k := Counter; k <= Trend; k++ {
		if got, err := ParseKind(k.String()); got != k || err != nil {
			t.Errorf("%v: %v %v", k, got, err)
		}
	}
	for _, v := range []ValueType{Default, Time, Data} {
		if got, err := ParseValueType(v.String()); got != v || err != nil {
			t.Errorf("%v: %v %v", v, got, err)
		}
	}
	if _, err := ParseKind("histogram"); err == nil {
		t.Error("histogram is a kind")
	}
	if _, err := ParseValueType("bytes"); err == nil {
		t.Error("bytes is a value type")
	}
}
