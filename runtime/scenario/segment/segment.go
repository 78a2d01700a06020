// Package segment splits a run's work between instances that do not talk to
// each other: an execution segment is a part [From, To) of the interval
// [0, 1), written as k6 writes it ("0:1/3", "1/3:2/3", "50%:100%"), and every
// amount of work a scenario has (VUs, iterations, an arrival rate, a stage's
// target) is shared out by the same rule, so the segments of any split add
// up to exactly the whole.
//
// Counts are shared with ceilings: a segment [a, b) of n units gets
// ceil(n*b) - ceil(n*a) of them, the units numbered from ceil(n*a). Ten VUs
// over thirds are 4+3+3, VUs 1–4, 5–7 and 8–10, whatever the order in which
// the instances start. A stream of units with no known end (the iterations
// of an arrival-rate schedule) is shared by Owns, which gives each unit of
// the stream to exactly one segment of any split.
package segment

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"sort"
	"strconv"
	"strings"
)

// Segment is the part [From, To) of the whole. The zero Segment is the whole.
type Segment struct {
	from, to *big.Rat // nil means 0 and 1
}

var (
	zero = big.NewRat(0, 1)
	one  = big.NewRat(1, 1)
)

// Whole is the segment 0:1, which a run without --execution-segment has.
func Whole() Segment { return Segment{} }

// New returns [from, to); it fails unless 0 <= from < to <= 1.
func New(from, to *big.Rat) (Segment, error) {
	if from.Cmp(zero) < 0 || to.Cmp(one) > 0 || from.Cmp(to) >= 0 {
		return Segment{}, fmt.Errorf("execution segment %s:%s: want 0 <= start < end <= 1", ratString(from), ratString(to))
	}
	return Segment{from: new(big.Rat).Set(from), to: new(big.Rat).Set(to)}, nil
}

// Parse reads "a:b" where a and b are fractions ("1/3"), decimals ("0.5")
// or percentages ("50%"). A lone value "b" means "0:b".
func Parse(s string) (Segment, error) {
	s = strings.TrimSpace(s)
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		a, b = "0", s
	}
	from, err := parseValue(a)
	if err != nil {
		return Segment{}, fmt.Errorf("execution segment %q: %v", s, err)
	}
	to, err := parseValue(b)
	if err != nil {
		return Segment{}, fmt.Errorf("execution segment %q: %v", s, err)
	}
	return New(from, to)
}

func parseValue(v string) (*big.Rat, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, errors.New("empty bound")
	}
	if p, ok := strings.CutSuffix(v, "%"); ok {
		r, ok := new(big.Rat).SetString(p)
		if !ok {
			return nil, fmt.Errorf("%q is not a percentage", v)
		}
		return r.Quo(r, big.NewRat(100, 1)), nil
	}
	r, ok := new(big.Rat).SetString(v) // "1/3", "0.25", "1"
	if !ok {
		return nil, fmt.Errorf("%q is not a fraction, a decimal or a percentage", v)
	}
	return r, nil
}

// Instance returns the segment of instance i of n: i/n:(i+1)/n. spec is
// "I/N" with 0 <= I < N (Kubernetes' JOB_COMPLETION_INDEX counts from 0).
func Instance(spec string) (Segment, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(spec), "/")
	if !ok {
		return Segment{}, fmt.Errorf("instance %q: want I/N, e.g. 0/3", spec)
	}
	i, err1 := strconv.Atoi(strings.TrimSpace(is))
	n, err2 := strconv.Atoi(strings.TrimSpace(ns))
	if err1 != nil || err2 != nil {
		return Segment{}, fmt.Errorf("instance %q: want I/N with whole numbers, e.g. 0/3", spec)
	}
	if n < 1 || i < 0 || i >= n {
		return Segment{}, fmt.Errorf("instance %q: want 0 <= I < N", spec)
	}
	return New(big.NewRat(int64(i), int64(n)), big.NewRat(int64(i+1), int64(n)))
}

// From and To are the segment's bounds (copies).
func (s Segment) From() *big.Rat {
	if s.from == nil {
		return new(big.Rat)
	}
	return new(big.Rat).Set(s.from)
}

func (s Segment) To() *big.Rat {
	if s.to == nil {
		return big.NewRat(1, 1)
	}
	return new(big.Rat).Set(s.to)
}

// IsWhole reports whether the segment is 0:1.
func (s Segment) IsWhole() bool {
	return s.From().Sign() == 0 && s.To().Cmp(one) == 0
}

// String is the segment in the form Parse reads: "1/3:2/3", "0:1".
func (s Segment) String() string { return ratString(s.From()) + ":" + ratString(s.To()) }

func ratString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	return r.String()
}

// Fraction is To - From as a float64 (for rates).
func (s Segment) Fraction() float64 {
	f, _ := new(big.Rat).Sub(s.To(), s.From()).Float64()
	return f
}

// ceilMul is ceil(n*r) for n >= 0.
func ceilMul(n int64, r *big.Rat) int64 {
	p := new(big.Int).Mul(big.NewInt(n), r.Num())
	q, m := new(big.Int).QuoRem(p, r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// Scale is the segment's share of n units: ceil(n*To) - ceil(n*From). The
// shares of the segments of any split of [0, 1) add up to n.
func (s Segment) Scale(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return ceilMul(n, s.To()) - ceilMul(n, s.From())
}

// Offset is the number of units of n that come before the segment's share:
// its units are Offset(n) .. Offset(n)+Scale(n)-1 (0-based), so a VU
// numbered from 1 is Offset(n)+1 .. Offset(n)+Scale(n).
func (s Segment) Offset(n int64) int64 {
	if n <= 0 {
		return 0
	}
	return ceilMul(n, s.From())
}

// ScaleRate is the segment's part of a rate: r * (To - From).
func (s Segment) ScaleRate(r float64) float64 { return r * s.Fraction() }

// Owns reports whether unit k (0-based) of an unbounded stream belongs to
// the segment. The point of unit k is the bit-reversal of k (the van der
// Corput sequence in base 2), a point of [0, 1) that spreads evenly: every
// unit belongs to exactly one segment of any split, and among the first n
// units a segment owns its fraction of them within O(log n).
func (s Segment) Owns(k int64) bool {
	if k < 0 {
		return false
	}
	if s.from == nil && s.to == nil {
		return true
	}
	// point = rev64(k) / 2^64, compared exactly with the bounds.
	num := new(big.Int).SetUint64(bits.Reverse64(uint64(k)))
	den := new(big.Int).Lsh(big.NewInt(1), 64)
	p := new(big.Rat).SetFrac(num, den)
	return p.Cmp(s.From()) >= 0 && p.Cmp(s.To()) < 0
}

// Cover checks that segs split [0, 1) exactly: no gap, no overlap. The error
// names the first gap or overlap it finds.
func Cover(segs []Segment) error {
	if len(segs) == 0 {
		return errors.New("no segments")
	}
	sorted := append([]Segment(nil), segs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].From().Cmp(sorted[j].From()) < 0 })
	at := new(big.Rat)
	for _, s := range sorted {
		switch c := s.From().Cmp(at); {
		case c > 0:
			return fmt.Errorf("segments leave %s:%s uncovered", ratString(at), ratString(s.From()))
		case c < 0:
			return fmt.Errorf("segment %s overlaps the one before it (which ends at %s)", s, ratString(at))
		}
		at = s.To()
	}
	if at.Cmp(one) != 0 {
		return fmt.Errorf("segments leave %s:1 uncovered", ratString(at))
	}
	return nil
}

// Stream is the segment's [Segment.Owns] made cheap for a hot loop (an
// arrival-rate schedule asks it for every iteration): the bounds are
// precomputed as 64-bit integers, so a call does no allocation.
type Stream struct {
	all  bool   // the whole: every unit
	none bool   // no 64-bit point lies in the segment (a tiny segment near 1)
	lo   uint64 // first point owned: ceil(From·2^64)
	hi   uint64 // first point not owned: ceil(To·2^64), unless end
	end  bool   // To is 1: no upper bound
}

// Stream returns the segment's stream owner; its Owns agrees with the
// segment's Owns for every unit.
func (s Segment) Stream() Stream {
	if s.IsWhole() {
		return Stream{all: true}
	}
	two64 := new(big.Int).Lsh(big.NewInt(1), 64)
	ceil64 := func(r *big.Rat) *big.Int {
		p := new(big.Int).Mul(r.Num(), two64)
		q, m := new(big.Int).QuoRem(p, r.Denom(), new(big.Int))
		if m.Sign() > 0 {
			q.Add(q, big.NewInt(1))
		}
		return q
	}
	st := Stream{end: s.To().Cmp(one) == 0}
	lo := ceil64(s.From())
	if lo.Cmp(two64) >= 0 {
		return Stream{none: true}
	}
	st.lo = lo.Uint64()
	if !st.end {
		// ceil(To·2^64) is 2^64 when To > 1-2^-64: no upper bound then.
		if hi := ceil64(s.To()); hi.Cmp(two64) >= 0 {
			st.end = true
		} else {
			st.hi = hi.Uint64()
		}
	}
	return st
}

// Owns reports whether unit k of the stream belongs to the segment, as
// [Segment.Owns].
func (t Stream) Owns(k int64) bool {
	switch {
	case k < 0 || t.none:
		return false
	case t.all:
		return true
	}
	p := bits.Reverse64(uint64(k))
	return p >= t.lo && (t.end || p < t.hi)
}
