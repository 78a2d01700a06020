package segment

import (
	"strings"
	"testing"
)

func mustParse(t *testing.T, s string) Segment {
	t.Helper()
	seg, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return seg
}

func TestParseForms(t *testing.T) {
	for in, want := range map[string]string{
		"0:1/3": "0:1/3", "1/3:2/3": "1/3:2/3", "2/3:1": "2/3:1",
		"50%:100%": "1/2:1", "0.25:0.5": "1/4:1/2", "1/2": "0:1/2", "0:1": "0:1",
	} {
		if got := mustParse(t, in).String(); got != want {
			t.Errorf("Parse(%q) = %s, want %s", in, got, want)
		}
	}
	for _, bad := range []string{"", "1:0", "0:2", "-1:1", "a:b", "1/3:1/3", "0:"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q) did not fail", bad)
		}
	}
}

func TestInstance(t *testing.T) {
	s, err := Instance("1/3")
	if err != nil || s.String() != "1/3:2/3" {
		t.Fatalf("Instance(1/3) = %v, %v", s, err)
	}
	for _, bad := range []string{"3/3", "-1/3", "0/0", "x/3", "1"} {
		if _, err := Instance(bad); err == nil {
			t.Errorf("Instance(%q) did not fail", bad)
		}
	}
}

func TestScaleTenOverThree(t *testing.T) {
	var got []int64
	var offs []int64
	for i := 0; i < 3; i++ {
		s, _ := Instance(string(rune('0'+i)) + "/3")
		got = append(got, s.Scale(10))
		offs = append(offs, s.Offset(10))
	}
	if got[0] != 4 || got[1] != 3 || got[2] != 3 {
		t.Fatalf("10 over thirds = %v, want [4 3 3]", got)
	}
	if offs[0] != 0 || offs[1] != 4 || offs[2] != 7 {
		t.Fatalf("offsets = %v, want [0 4 7]", offs)
	}
}

// Any split adds up to the whole, for every n, and the units' ranges tile.
func TestScaleAddsUp(t *testing.T) {
	splits := [][]string{
		{"0:1/3", "1/3:2/3", "2/3:1"},
		{"0:0.1", "0.1:0.15", "0.15:1/2", "1/2:1"},
		{"0:1/7", "1/7:3/7", "3/7:0.9", "0.9:1"},
		{"0:1"},
	}
	for _, split := range splits {
		var segs []Segment
		for _, s := range split {
			segs = append(segs, mustParse(t, s))
		}
		if err := Cover(segs); err != nil {
			t.Fatalf("%v: %v", split, err)
		}
		for n := int64(0); n < 500; n++ {
			var sum, next int64
			for _, s := range segs {
				if s.Offset(n) != next && s.Scale(n) > 0 {
					t.Fatalf("%v n=%d: %s starts at %d, want %d", split, n, s, s.Offset(n), next)
				}
				sum += s.Scale(n)
				next += s.Scale(n)
			}
			if sum != n {
				t.Fatalf("%v n=%d: shares add up to %d", split, n, sum)
			}
		}
	}
}

func TestOwnsExactlyOne(t *testing.T) {
	segs := []Segment{mustParse(t, "0:1/3"), mustParse(t, "1/3:2/3"), mustParse(t, "2/3:1")}
	counts := make([]int, 3)
	const n = 30000
	for k := int64(0); k < n; k++ {
		owners := 0
		for i, s := range segs {
			if s.Owns(k) {
				owners++
				counts[i]++
			}
		}
		if owners != 1 {
			t.Fatalf("unit %d has %d owners", k, owners)
		}
	}
	for i, c := range counts {
		if d := float64(c) - n/3.0; d > 20 || d < -20 {
			t.Errorf("segment %d owns %d of %d units", i, c, n)
		}
	}
	if !Whole().Owns(12345) {
		t.Error("the whole does not own a unit")
	}
}

func TestCoverErrors(t *testing.T) {
	gap := []Segment{mustParse(t, "0:1/3"), mustParse(t, "2/3:1")}
	if err := Cover(gap); err == nil || !strings.Contains(err.Error(), "1/3:2/3 uncovered") {
		t.Errorf("gap: %v", err)
	}
	over := []Segment{mustParse(t, "0:1/2"), mustParse(t, "1/3:1")}
	if err := Cover(over); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("overlap: %v", err)
	}
	short := []Segment{mustParse(t, "0:1/2")}
	if err := Cover(short); err == nil || !strings.Contains(err.Error(), "1/2:1 uncovered") {
		t.Errorf("short: %v", err)
	}
}

// The stream owner agrees with Owns, unit by unit, for whole, thirds,
// uneven, dyadic and tiny segments.
func TestStreamAgreesWithOwns(t *testing.T) {
	for _, spec := range []string{"0:1", "0:1/3", "1/3:2/3", "2/3:1", "0.1:0.15", "1/2:3/4", "3/7:0.9", "0:1/1000000", "999999/1000000:1"} {
		s := mustParse(t, spec)
		st := s.Stream()
		for k := int64(0); k < 5000; k++ {
			if st.Owns(k) != s.Owns(k) {
				t.Fatalf("%s unit %d: Stream.Owns %v, Owns %v", spec, k, st.Owns(k), s.Owns(k))
			}
		}
		for _, k := range []int64{1 << 40, 1<<62 + 12345, 1<<63 - 1} {
			if st.Owns(k) != s.Owns(k) {
				t.Fatalf("%s unit %d: Stream.Owns %v, Owns %v", spec, k, st.Owns(k), s.Owns(k))
			}
		}
	}
}

func BenchmarkStreamOwns(b *testing.B) {
	st := mustParse(&testing.T{}, "1/3:2/3").Stream()
	n := 0
	for i := 0; i < b.N; i++ {
		if st.Owns(int64(i)) {
			n++
		}
	}
	_ = n
}
