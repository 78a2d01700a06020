package scenario

import (
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/amqpjs/amqpjs/runtime/scenario/segment"
)

// An instance of a distributed run (--execution-segment, --instance) runs
// its share of every scenario; the shares of the segments of any split add
// up to exactly the whole:
//
//   - constant-vus: its share of the VUs (segment.Scale).
//   - per-vu-iterations: its share of the VUs, each running the scenario's
//     iterations.
//   - shared-iterations: its share of the VUs, and of the iterations the
//     share the VUs' range has of them (ceilings over the VUs' range), so
//     that each VU has about as many iterations in every instance and an
//     instance without VUs has no iterations.
//   - ramping-vus: at every moment, its share of the stages' target (Scale
//     of the target the whole run would have then).
//   - constant- and ramping-arrival-rate: the iterations of the whole run's
//     schedule that it owns (segment.Owns), at the schedule's times; its
//     share of preAllocatedVUs and maxVUs, at least 1 of each where it has
//     iterations.
//
// VU ids (__VU) are numbered over the whole run: every scenario has a block
// of ids for the VUs it makes before the start (its VUs, ramping-vus' most
// VUs, arrival rates' preAllocatedVUs), in declaration order, and an
// instance takes its share of each block (segment.Offset). VUs beyond the
// blocks (an arrival rate's pool growing, the "at least 1" VU of a share
// that has work) take ids after all blocks from a stream the instances
// share out with Owns. Without a segment, this is the numbering of a single
// process: 1..n in scenario order, then the order VUs are made in.

// share is one scenario's part in a segment.
type share struct {
	global *Config // the scenario as the script gives it
	cfg    *Config // its part: the VU counts and iterations of this segment
	seg    segment.Segment
	ids    []int          // ids of the VUs made before the start, from the scenario's block
	extra  int            // VUs made before the start beyond ids (ids from the stream)
	owns   segment.Stream // arrival rates: the iterations of the schedule this segment runs
	none   bool           // nothing to run in this segment
}

// initial is the number of VUs made before the start.
func (sh *share) initial() int { return len(sh.ids) + sh.extra }

// target is the number of VUs a ramping-vus share runs when the whole run
// runs n.
func (sh *share) target(n int) int { return int(sh.seg.Scale(int64(n))) }

// blockSize is the number of ids a scenario's block has: the VUs the whole
// run makes for it before the start.
func blockSize(c *Config) int {
	switch c.Executor {
	case RampingVUs:
		return c.MaxActiveVUs()
	case ConstantArrivalRate, RampingArrivalRate:
		return c.PreAllocatedVUs
	}
	return c.VUs
}

// shares splits the plan's scenarios for seg. base is where the stream of
// further ids starts (the sum of the blocks).
func (p *Plan) shares(seg segment.Segment) (out []*share, base int) {
	for _, c := range p.Scenarios {
		sh := c.share(seg, base)
		out = append(out, sh)
		base += blockSize(c)
	}
	return out, base
}

// share is c's part in seg; its block of ids starts after base.
func (c *Config) share(seg segment.Segment, base int) *share {
	local := *c
	sh := &share{global: c, cfg: &local, seg: seg, owns: seg.Stream()}
	block := int64(blockSize(c))
	first := base + int(seg.Offset(block)) + 1
	mine := int(seg.Scale(block))
	ids := func(n int) {
		for i := range n {
			sh.ids = append(sh.ids, first+i)
		}
	}
	switch c.Executor {
	case ConstantVUs, PerVUIterations:
		local.VUs = mine
		ids(mine)
		sh.none = mine == 0
	case SharedIterations:
		local.VUs = mine
		local.Iterations = 0
		if mine > 0 {
			// The iterations of the VUs' range [Offset, Offset+Scale) of VUs.
			off := seg.Offset(block)
			vs, _ := segment.New(big.NewRat(off, block), big.NewRat(off+int64(mine), block))
			local.Iterations = int(vs.Scale(int64(c.Iterations)))
		}
		ids(mine)
		sh.none = local.Iterations == 0
	case RampingVUs:
		// Scale is not monotonic in n: the most VUs the share runs may be
		// one more than its share of the stages' most.
		top := mine
		f := seg.Fraction()
		for n := int(block) - 1; n >= 0 && float64(n)*f > float64(mine)-1e-9; n-- {
			top = max(top, sh.target(n))
		}
		local.VUs = sh.target(c.VUs)
		local.Stages = make([]Stage, len(c.Stages))
		for i, st := range c.Stages {
			local.Stages[i] = Stage{Duration: st.Duration, Target: sh.target(st.Target)}
		}
		ids(mine)
		sh.extra = top - mine
		sh.none = top == 0
	case ConstantArrivalRate, RampingArrivalRate:
		sh.none = !sh.hasArrivals()
		pre, maxVUs := mine, int(seg.Scale(int64(c.MaxVUs)))
		if !sh.none {
			if c.PreAllocatedVUs > 0 {
				pre = max(pre, 1)
			}
			maxVUs = max(maxVUs, pre, 1)
		} else {
			pre, maxVUs, mine = 0, 0, 0
		}
		local.PreAllocatedVUs, local.MaxVUs, local.VUs = pre, maxVUs, pre
		ids(mine)
		sh.extra = pre - mine
	}
	return sh
}

// arrivals is the schedule of an arrival-rate scenario: iteration i of the
// whole run starts at due(i) after the start, while ok. A new function
// each call (ramping-arrival-rate's keeps its place).
func (c *Config) arrivals() func(i int64) (at time.Duration, ok bool) {
	if c.Executor == RampingArrivalRate {
		return rampingArrivals(c.StartRate, c.Stages, c.TimeUnit)
	}
	// i·timeUnit/rate in one step: a whole interval rounded to nanoseconds
	// first would fit one iteration too many (60/s for 1s: 61).
	return func(i int64) (time.Duration, bool) {
		d := time.Duration(float64(i) * float64(c.TimeUnit) / c.Rate)
		return d, d < c.Duration
	}
}

// hasArrivals reports whether the segment owns an iteration of the
// schedule: the first iteration it owns is due.
func (sh *share) hasArrivals() bool {
	due := sh.global.arrivals()
	for i := int64(0); ; i++ {
		if _, ok := due(i); !ok {
			return false
		}
		if sh.owns.Owns(i) {
			return true
		}
	}
}

// idStream gives the ids of VUs beyond the scenarios' blocks: base+1+k for
// the units k of the stream the segment owns. Any goroutine.
type idStream struct {
	mu   sync.Mutex
	base int
	k    int64
	own  segment.Stream
}

func (st *idStream) next() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	for !st.own.Owns(st.k) {
		st.k++
	}
	id := st.base + 1 + int(st.k)
	st.k++
	return id
}

// shareLine says what a share runs, for the summary: "4 of 10 VUs".
func (sh *share) shareLine() string {
	g, l := sh.global, sh.cfg
	if sh.none {
		return "no share in this segment (nothing to run)"
	}
	switch g.Executor {
	case ConstantVUs, PerVUIterations:
		return fmt.Sprintf("%d of %d VUs", l.VUs, g.VUs)
	case SharedIterations:
		return fmt.Sprintf("%d of %d iterations, %d of %d VUs", l.Iterations, g.Iterations, l.VUs, g.VUs)
	case RampingVUs:
		return fmt.Sprintf("its share of the stages' VUs, at most %d of %d", sh.initial(), g.MaxActiveVUs())
	}
	frac := new(big.Rat).Sub(sh.seg.To(), sh.seg.From())
	return fmt.Sprintf("the iterations of the schedule it owns (about %s of them), VUs: %d pre-allocated, max %d", frac.RatString(), l.PreAllocatedVUs, l.MaxVUs)
}
