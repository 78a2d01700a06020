package scenario

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	goruntime "runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// engine runs one scenario: its executor and its VUs. Made by the
// controller goroutine; the ticker reads its atomics.
type engine struct {
	s    *Scenario
	cfg  *Config // its share in the run's segment (the scenario itself without one)
	sh   *share
	tags metrics.Tags       // every sample of its VUs: scenario and the scenario's tags
	ctx  context.Context    // ends on the hard stop: interrupts iterations, stops VUs
	end  context.CancelFunc // ends ctx

	stopOnce sync.Once
	stopC    chan struct{} // closed: start no more iterations (its end, or the run's)
	hardOnce sync.Once
	hardC    chan struct{} // closed: interrupt iterations in flight
	over     chan struct{} // closed when the run is over (ends the forwarding of the run's stops)

	// the scenario's built-in series, tagged
	iterations, iterationDuration, errorsM, dropped *metrics.Series

	state     atomic.Int32 // a phase
	startedAt atomic.Int64 // unix ns when the executor started; 0 before
	endedAt   atomic.Int64 // unix ns when it ended
	active    atomic.Int64 // VUs iterating (arrival rates: iterations in flight)

	mu   sync.Mutex
	all  []*vu // every VU made, to stop them at the end
	made atomic.Int64
	busy atomic.Int64 // arrival rate: iterations in flight

	// ramping-vus
	target   atomic.Int64
	targetMu sync.Mutex
	targetC  chan struct{} // closed and replaced when target changes
}

// The phases of a scenario.
const (
	phaseInit     int32 = iota // making its VUs
	phaseWaiting               // waiting for its startTime
	phaseRunning               // iterating
	phaseStopping              // gracefulStop: the iterations in flight end
	phaseDone                  // its VUs are stopped
)

func phaseName(p int32) string {
	return [...]string{"init", "waiting", "running", "stopping", "done"}[p]
}

// newEngine makes the engine of a scenario's share, with a context from
// parent.
func (s *Scenario) newEngine(parent context.Context, sh *share) *engine {
	cfg := sh.cfg
	e := &engine{s: s, cfg: cfg, sh: sh, tags: cfg.SampleTags(), stopC: make(chan struct{}), hardC: make(chan struct{}), over: make(chan struct{})}
	e.ctx, e.end = context.WithCancel(parent)
	e.iterations = s.reg.Get(MetricIterations).Series(e.tags)
	e.iterationDuration = s.reg.Get(MetricIterationDuration).Series(e.tags)
	e.errorsM = s.reg.Get(MetricErrors).Series(e.tags)
	e.dropped = s.reg.Get(MetricDroppedIterations).Series(e.tags)
	go func() { // the run's stops stop the scenario
		select {
		case <-s.stopC:
			e.stop()
		case <-e.over:
			return
		}
		select {
		case <-s.hardC:
			e.hardStop()
		case <-e.over:
		}
	}()
	return e
}

func (e *engine) stop() { e.stopOnce.Do(func() { close(e.stopC) }) }

func (e *engine) hardStop() {
	e.hardOnce.Do(func() {
		close(e.hardC)
		e.end()
	})
}

// setActive sets the scenario's active VUs and the run's vus gauge.
func (e *engine) setActive(n int64) {
	e.active.Store(n)
	e.s.updateVUs()
}

// execute waits for the scenario's start time, runs the executor on pool,
// and stops the scenario's VUs.
func (e *engine) execute(pool []*vu) {
	defer func() {
		e.endedAt.Store(time.Now().UnixNano())
		e.stop()
		e.setActive(0)
		e.stopAll()
		e.state.Store(phaseDone)
	}()
	if e.sh.none {
		return // no share in the run's segment: the summary says so
	}
	if st := e.cfg.StartTime; st > 0 {
		e.state.Store(phaseWaiting)
		t := time.NewTimer(st)
		select {
		case <-t.C:
		case <-e.stopC:
			t.Stop()
			return
		}
	}
	e.startedAt.Store(time.Now().UnixNano())
	e.state.Store(phaseRunning)
	switch e.cfg.Executor {
	case ConstantVUs:
		e.looping(pool, e.cfg.Duration, func(int) bool { return true })
	case SharedIterations:
		var left atomic.Int64
		left.Store(int64(e.cfg.Iterations))
		e.looping(pool, e.cfg.Duration, func(int) bool { return left.Add(-1) >= 0 })
	case PerVUIterations:
		done := make([]atomic.Int64, len(pool))
		e.looping(pool, e.cfg.Duration, func(slot int) bool { return done[slot].Add(1) <= int64(e.cfg.Iterations) })
	case RampingVUs:
		e.ramping(pool)
	case ConstantArrivalRate, RampingArrivalRate:
		e.arrivalRate(pool, e.sh.global.arrivals())
	}
}

// started is when the executor started (zero before).
func (e *engine) started() time.Time {
	if n := e.startedAt.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// makeVUs makes the share's VUs of before the start in parallel (a few at
// a time: init runs the script's top level and, for a .ts or ES module, a
// transform), with their ids in slot order.
func (e *engine) makeVUs() ([]*vu, error) {
	ids := append([]int(nil), e.sh.ids...)
	for range e.sh.extra {
		ids = append(ids, e.s.ids.next())
	}
	n := len(ids)
	vus := make([]*vu, n)
	errs := make([]error, n)
	sem := make(chan struct{}, max(2, goruntime.GOMAXPROCS(0)*2))
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			vus[i], errs[i] = e.newVU(ids[i])
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return vus, nil
}

// newVU starts VU id and registers it for the final stop.
func (e *engine) newVU(id int) (*vu, error) {
	v, err := e.s.startVU(e.ctx, e, id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.all = append(e.all, v)
	e.mu.Unlock()
	e.made.Add(1)
	e.s.vusMax.Add(float64(e.s.made.Add(1)))
	return v, nil
}

// stopAll stops every VU (in parallel) and waits for them.
func (e *engine) stopAll() {
	e.mu.Lock()
	all := e.all
	e.all = nil
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, v := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v.stop()
		}()
	}
	wg.Wait()
}

// replace reports a dead VU and makes a new one with the same id; nil when
// that fails or the run is stopping.
func (e *engine) replace(v *vu) *vu {
	e.errorsM.Add(1)
	var ie *runtime.InternalError
	if errors.As(v.err, &ie) {
		e.s.defective(v.id, ie) // a defect of amqpjs: the run ends
		return nil
	}
	if msg := v.deathError(); msg != "" {
		e.s.errs.print(fmt.Sprintf("%sVU %d: %s (the VU is restarted)", e.label(), v.id, msg))
	}
	select {
	case <-e.stopC:
		return nil
	default:
	}
	nv, err := e.newVU(v.id)
	if err != nil {
		if e.ctx.Err() == nil {
			e.s.errs.print(fmt.Sprintf("%sVU %d: restart failed: %v", e.label(), v.id, err))
		}
		return nil
	}
	return nv
}

// drive runs iterations on v while next allows; it replaces v when it
// dies. next(slot, true) may wait (a ramping slot above the target);
// next(slot, false) answers at once and is asked on the VU's loop between
// back-to-back iterations.
func (e *engine) drive(slot int, v *vu, next func(slot int, wait bool) bool) {
	more := func() bool { return next(slot, false) }
	for next(slot, true) {
		err := v.run(e.ctx, more)
		switch {
		case err == nil:
		case errors.Is(err, errVUDead):
			if v = e.replace(v); v == nil {
				return
			}
		default:
			return // hard stop
		}
	}
}

// endAfter stops the run after d (or when it is stopped otherwise), then
// gives the iterations in flight GracefulStop before the hard stop, unless
// drained closes first. It returns when drained is closed or after the hard
// stop.
func (e *engine) endAfter(d time.Duration, drained <-chan struct{}) {
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-e.stopC:
	case <-drained:
		t.Stop()
		return
	}
	t.Stop()
	e.stop()
	e.state.Store(phaseStopping)
	g := time.NewTimer(e.cfg.GracefulStop)
	defer g.Stop()
	select {
	case <-drained:
	case <-g.C:
		e.hardStop()
		<-drained
	case <-e.hardC:
		<-drained
	}
}

// looping is constant-vus and shared-iterations: every VU iterates while
// next says so, until d.
func (e *engine) looping(pool []*vu, d time.Duration, next func(int) bool) {
	e.setActive(int64(len(pool)))
	drained := make(chan struct{})
	var wg sync.WaitGroup
	for i, v := range pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.drive(i, v, func(slot int, _ bool) bool {
				select {
				case <-e.stopC:
					return false
				default:
				}
				return next(slot)
			})
		}()
	}
	go func() {
		wg.Wait()
		close(drained)
	}()
	e.endAfter(d, drained)
}

// rampTarget is the number of VUs the stages ask for at elapsed.
func rampTarget(start int, stages []Stage, elapsed time.Duration) int {
	from := float64(start)
	for _, st := range stages {
		if elapsed < st.Duration {
			frac := float64(elapsed) / float64(st.Duration)
			return int(from + (float64(st.Target)-from)*frac + 0.5)
		}
		elapsed -= st.Duration
		from = float64(st.Target)
	}
	return int(from)
}

func (e *engine) setTarget(n int) {
	e.targetMu.Lock()
	defer e.targetMu.Unlock()
	if int(e.target.Load()) == n {
		return
	}
	e.target.Store(int64(n))
	close(e.targetC)
	e.targetC = make(chan struct{})
	e.setActive(int64(n))
}

func (e *engine) targetChanged() <-chan struct{} {
	e.targetMu.Lock()
	defer e.targetMu.Unlock()
	return e.targetC
}

// ramping is ramping-vus: slot i iterates while i < the stages' target (in
// a segment, the segment's share of the whole run's target); a slot above
// the target finishes its iteration and waits.
func (e *engine) ramping(pool []*vu) {
	g := e.sh.global
	e.targetC = make(chan struct{})
	e.target.Store(-1)
	e.setTarget(min(e.sh.target(g.VUs), len(pool)))
	total := g.Total()
	drained := make(chan struct{})
	var wg sync.WaitGroup
	for i, v := range pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.drive(i, v, func(slot int, wait bool) bool {
				for {
					ch := e.targetChanged()
					select {
					case <-e.stopC:
						return false
					default:
					}
					if int64(slot) < e.target.Load() {
						return true
					}
					if !wait {
						return false
					}
					select {
					case <-ch:
					case <-e.stopC:
						return false
					}
				}
			})
		}()
	}
	go func() {
		wg.Wait()
		close(drained)
	}()
	rampDone := make(chan struct{})
	go func() {
		defer close(rampDone)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		started := e.started()
		for {
			el := time.Since(started)
			if el >= total {
				return
			}
			e.setTarget(min(e.sh.target(rampTarget(g.VUs, g.Stages, el)), len(pool)))
			select {
			case <-t.C:
			case <-e.stopC:
				return
			}
		}
	}()
	e.endAfter(total, drained)
	<-rampDone
}

// arrivalRate is constant- and ramping-arrival-rate: iteration i starts at
// due(i) after the start (while due says so) on an idle VU of the pool,
// when the run's segment owns it (every iteration without a segment);
// with none idle, the iteration is dropped (counted) and a VU is made in
// the background while fewer than MaxVUs exist.
func (e *engine) arrivalRate(pool []*vu, due func(i int64) (time.Duration, bool)) {
	s := e.s
	idle := make(chan *vu, e.cfg.MaxVUs)
	for _, v := range pool {
		idle <- v
	}
	var inflight sync.WaitGroup
	var creating atomic.Bool
	start := e.started()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	e.setActive(0)
	stopped := false
	for i := int64(0); !stopped; i++ {
		at, ok := due(i)
		if !ok {
			break
		}
		if !e.sh.owns.Owns(i) {
			continue // another instance's
		}
		if wait := time.Until(start.Add(at)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-e.stopC:
				stopped = true
				continue
			}
		} else {
			select {
			case <-e.stopC:
				stopped = true
				continue
			default:
			}
		}
		select {
		case v := <-idle:
			inflight.Add(1)
			e.setActive(e.busy.Add(1))
			go func() {
				defer inflight.Done()
				err := v.iterate(e.ctx)
				e.setActive(e.busy.Add(-1))
				if errors.Is(err, errVUDead) {
					v = e.replace(v)
				} else if err != nil {
					return
				}
				if v != nil {
					idle <- v
				}
			}()
		default:
			e.dropped.Add(1)
			if e.made.Load() < int64(e.cfg.MaxVUs) && creating.CompareAndSwap(false, true) {
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					defer creating.Store(false)
					if v, err := e.newVU(s.ids.next()); err == nil {
						idle <- v
					} else if e.ctx.Err() == nil {
						s.errs.print(fmt.Sprintf("%sa new VU failed to start: %v", e.label(), err))
					}
				}()
			}
		}
	}
	drained := make(chan struct{})
	go func() {
		inflight.Wait()
		close(drained)
	}()
	e.stop()
	e.endAfter(0, drained)
}

// rampingArrivals is the schedule of ramping-arrival-rate: the rate (per
// timeUnit) goes linearly from startRate through each stage's target. The
// schedule's count N(t) is the integral of the rate; iteration i starts
// when N(t) = i + ½ (the middle of its share), so a stage at a constant rate
// r for d starts r·d iterations and a stretch at rate 0 starts none.
func rampingArrivals(startRate float64, stages []Stage, timeUnit time.Duration) func(i int64) (time.Duration, bool) {
	type seg struct {
		from time.Duration // offset of the segment's start
		d    float64       // its length, seconds
		r0   float64       // rate at its start, per second
		r1   float64       // at its end
		n0   float64       // N at its start
	}
	perSec := 1 / timeUnit.Seconds()
	var segs []seg
	var at time.Duration
	r, n := startRate*perSec, 0.0
	for _, st := range stages {
		r1 := float64(st.Target) * perSec
		d := st.Duration.Seconds()
		segs = append(segs, seg{from: at, d: d, r0: r, r1: r1, n0: n})
		n += (r + r1) / 2 * d
		at += st.Duration
		r = r1
	}
	k := 0 // segment of the previous iteration: i only grows
	return func(i int64) (time.Duration, bool) {
		want := float64(i) + 0.5
		for ; k < len(segs); k++ {
			sg := segs[k]
			area := (sg.r0 + sg.r1) / 2 * sg.d
			left := want - sg.n0
			if left > area || sg.d == 0 || area == 0 {
				continue
			}
			// Solve r0·τ + (r1−r0)/(2d)·τ² = left for τ in [0, d], in the
			// form that is stable when r1 = r0.
			a := (sg.r1 - sg.r0) / (2 * sg.d)
			tau := 2 * left / (sg.r0 + math.Sqrt(max(0, sg.r0*sg.r0+4*a*left)))
			return sg.from + time.Duration(min(tau, sg.d)*float64(time.Second)), true
		}
		return 0, false
	}
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
