package merge

import (
	"bytes"
	"compress/zlib"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// Histograms in HdrHistogram's V2 compressed encoding: base64 of a cookie
// (V2CompressedEncodingCookieBase | 0x10), the length of what follows, and
// zlib of a 40-byte header (cookie V2EncodingCookieBase | 0x10, payload
// length, normalizing index offset, significant digits, lowest and highest
// trackable values, integer-to-double ratio) and the counts, each a ZigZag
// LEB128 (at most 9 bytes) number: a count, or minus a run of empty
// counts.
//
// A trend's histogram is 250 KB of counts, most of them empty. Decoding each
// input into a histogram of its own to merge it would allocate and clear
// that for every series of every input; histAcc instead adds the counts of
// histograms of the trend's configuration straight into one array (the
// same indexes: merging is adding counts), and merges any other through the
// library.

// trendConf is the configuration of a trend's histogram.
var trendConf = sync.OnceValue(func() *hdr.Snapshot {
	s := metrics.NewHistogram().Export()
	s.Counts = make([]int64, len(s.Counts)) // the length only: never written
	return s
})

const (
	cookieMask       = ^int32(0xf0)
	headerSize       = 40
	compressedCookie = hdr.V2CompressedEncodingCookieBase
	plainCookie      = hdr.V2EncodingCookieBase
)

// histAcc adds up histograms.
type histAcc struct {
	counts []int64        // of the trend's configuration; nil before the first
	other  *hdr.Histogram // histograms of another configuration
	dec    *decoder       // shared by the accumulators of one merge
}

// decoder keeps the buffers of decoding between histograms.
type decoder struct {
	raw []byte
	zr  io.ReadCloser
	out bytes.Buffer
}

// add adds the histogram enc (base64).
func (a *histAcc) add(enc string) error {
	d := a.dec
	n := base64.StdEncoding.DecodedLen(len(enc))
	if cap(d.raw) < n {
		d.raw = make([]byte, n)
	}
	n, err := base64.StdEncoding.Decode(d.raw[:n], []byte(enc))
	if err != nil {
		return fmt.Errorf("histogram: not base64: %v", err)
	}
	raw := d.raw[:n]
	if len(raw) < 8 || int32(binary.BigEndian.Uint32(raw))&cookieMask != compressedCookie {
		return errors.New("histogram: not HdrHistogram's V2 compressed encoding")
	}
	clen := int(binary.BigEndian.Uint32(raw[4:]))
	if clen < 0 || 8+clen > len(raw) {
		return errors.New("histogram: truncated")
	}
	src := bytes.NewReader(raw[8 : 8+clen])
	if d.zr == nil {
		d.zr, err = zlib.NewReader(src)
	} else {
		err = d.zr.(zlib.Resetter).Reset(src, nil)
	}
	if err != nil {
		return fmt.Errorf("histogram: %v", err)
	}
	d.out.Reset()
	if _, err := d.out.ReadFrom(d.zr); err != nil {
		return fmt.Errorf("histogram: %v", err)
	}
	p := d.out.Bytes()
	if len(p) < headerSize || int32(binary.BigEndian.Uint32(p))&cookieMask != plainCookie ||
		int(binary.BigEndian.Uint32(p[4:])) != len(p)-headerSize {
		return errors.New("histogram: bad header")
	}
	// p[8:12] is the normalizing index offset, which hdrhistogram-go
	// writes as 1 and ignores when it decodes (as it is here).
	sig := int64(binary.BigEndian.Uint32(p[12:]))
	lo, hi := int64(binary.BigEndian.Uint64(p[16:])), int64(binary.BigEndian.Uint64(p[24:]))
	c := trendConf()
	if sig != c.SignificantFigures || lo != c.LowestTrackableValue || hi != c.HighestTrackableValue {
		h, err := hdr.Decode([]byte(enc))
		if err != nil {
			return fmt.Errorf("histogram: %v", err)
		}
		if a.other == nil {
			a.other = h
		} else if dropped := a.other.Merge(h); dropped > 0 {
			return fmt.Errorf("histogram: %d values out of range", dropped)
		}
		return nil
	}
	if a.counts == nil {
		a.counts = make([]int64, len(trendConf().Counts))
	}
	idx := 0
	for pos := headerSize; pos < len(p); {
		v, n := zigzag(p[pos:])
		if n == 0 {
			return errors.New("histogram: truncated counts")
		}
		pos += n
		if v < 0 {
			idx += int(-v)
			continue
		}
		if idx >= len(a.counts) {
			return errors.New("histogram: more counts than its configuration has")
		}
		a.counts[idx] += v
		idx++
	}
	return nil
}

// zigzag reads one ZigZag LEB128 number of at most 9 bytes (the ninth
// gives its 8 bits); n is 0 when b ends before it.
func zigzag(b []byte) (v int64, n int) {
	var u uint64
	for i := 0; i < 9; i++ {
		if i >= len(b) {
			return 0, 0
		}
		if i == 8 {
			u |= uint64(b[i]) << 56
			n = 9
			break
		}
		u |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			n = i + 1
			break
		}
	}
	return int64(u>>1) ^ -int64(u&1), n
}

// histogram is the sum of the histograms added (nil when none was).
func (a *histAcc) histogram() (*hdr.Histogram, error) {
	if a.counts == nil {
		return a.other, nil
	}
	c := trendConf()
	h := hdr.Import(&hdr.Snapshot{LowestTrackableValue: c.LowestTrackableValue, HighestTrackableValue: c.HighestTrackableValue,
		SignificantFigures: c.SignificantFigures, Counts: a.counts})
	if a.other != nil {
		if dropped := h.Merge(a.other); dropped > 0 {
			return nil, fmt.Errorf("histogram: %d values out of a trend's range", dropped)
		}
	}
	return h, nil
}
