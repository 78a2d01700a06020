package merge

import (
	"encoding/base64"
	"math/rand/v2"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// Adding the counts of encoded histograms of the trend configuration gives
// exactly the histogram that recorded every value; with a histogram of
// another configuration, the sum is what the library's own decode and
// merge make.
func TestHistAccAddsHistograms(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	whole := metrics.NewHistogram()
	acc := histAcc{dec: &decoder{}}
	var encs []string
	for part := 0; part < 4; part++ {
		h := metrics.NewHistogram()
		for i := 0; i < 3000; i++ {
			v := int64(rng.ExpFloat64()*float64(1000*(part+1))) + 1
			_ = h.RecordValue(v)
			_ = whole.RecordValue(v)
		}
		if part == 2 { // near the top: 9-byte numbers in the encoding
			_ = h.RecordValue(999_999_999_999)
			_ = whole.RecordValue(999_999_999_999)
		}
		enc, err := metrics.EncodeHistogram(h)
		if err != nil {
			t.Fatal(err)
		}
		encs = append(encs, enc)
		if err := acc.add(enc); err != nil {
			t.Fatalf("part %d: %v", part, err)
		}
	}
	got, err := acc.histogram()
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(whole) || got.TotalCount() != 12001 {
		t.Fatalf("sum of the counts: %d values, max %d; want %d, %d", got.TotalCount(), got.Max(), whole.TotalCount(), whole.Max())
	}

	other := hdr.New(1, 1e7, 2)
	for i := 0; i < 500; i++ {
		_ = other.RecordValue(int64(rng.IntN(1e6)) + 1)
	}
	enc, _ := metrics.EncodeHistogram(other)
	encs = append(encs, enc)
	if err := acc.add(enc); err != nil {
		t.Fatal(err)
	}
	lib := metrics.NewHistogram()
	for _, e := range encs {
		h, err := hdr.Decode([]byte(e))
		if err != nil {
			t.Fatal(err)
		}
		lib.Merge(h)
	}
	if got, err = acc.histogram(); err != nil || !got.Equals(lib) {
		t.Fatalf("with another configuration: %v, %d values, want %d", err, got.TotalCount(), lib.TotalCount())
	}

	raw, _ := base64.StdEncoding.DecodeString(encs[0])
	for enc, want := range map[string]string{
		"%%%":  "not base64",
		"AAAA": "not HdrHistogram",
		base64.StdEncoding.EncodeToString(raw[:len(raw)-5]): "truncated",
	} {
		if err := (&histAcc{dec: &decoder{}}).add(enc); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%.20q: %v, want %q", enc, err, want)
		}
	}
}
