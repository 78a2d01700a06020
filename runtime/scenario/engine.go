package scenario

import (
	"context"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// engine runs one executor. Made and used by the controller goroutine.
type engine struct {
	s   *Scenario
	cfg *Config
	ctx context.Context // ends on the hard stop: interrupts iterations, stops VUs

	mu   sync.Mutex
	all  []*vu // every VU made, to stop them at the end
	made atomic.Int64
	busy atomic.Int64 // arrival rate: iterations in flight

	// ramping-vus
	target   atomic.Int64
	targetMu sync.Mutex
	targetC  chan struct{} // closed and replaced when target changes
}

// run makes the VUs, runs the executor, and stops every VU. It returns an
// error only when a VU's init failed before the start.
func (e *engine) run() error {
	s := e.s
	n := e.cfg.VUs
	switch e.cfg.Executor {
	case RampingVUs:
		n = e.cfg.MaxActiveVUs()
	case ConstantArrivalRate:
		n = e.cfg.PreAllocatedVUs
	}
	pool, err := e.makeVUs(n)
	if err != nil {
		e.stopAll()
		return err
	}
	select {
	case <-s.stopC: // interrupted during init
		e.stopAll()
		return nil
	default:
	}

	s.started = time.Now()
	s.reg.Start(s.started)
	s.ran = true
	tickDone := make(chan struct{})
	tickStop := make(chan struct{})
	go func() {
		defer close(tickDone)
		e.ticker(tickStop)
	}()

	switch e.cfg.Executor {
	case ConstantVUs:
		e.looping(pool, e.cfg.Duration, func(int) bool { return true })
	case SharedIterations:
		var left atomic.Int64
		left.Store(int64(e.cfg.Iterations))
		e.looping(pool, e.cfg.Duration, func(int) bool { return left.Add(-1) >= 0 })
	case RampingVUs:
		e.ramping(pool)
	case ConstantArrivalRate:
		e.arrivalRate(pool)
	}
	s.ended = time.Now()
	close(tickStop)
	<-tickDone
	e.stopAll()
	return nil
}

// makeVUs makes n VUs in parallel (a few at a time: init runs the script's
// top level and, for a .ts or ES module, a transform).
func (e *engine) makeVUs(n int) ([]*vu, error) {
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
			vus[i], errs[i] = e.newVU(i + 1)
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
	v, err := e.s.startVU(e.ctx, id)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.all = append(e.all, v)
	e.mu.Unlock()
	e.s.vusMax.Add(float64(e.made.Add(1)))
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
	e.s.errorsM.Add(1)
	var ie *runtime.InternalError
	if errors.As(v.err, &ie) {
		e.s.defective(v.id, ie) // a defect of amqpjs: the run ends
		return nil
	}
	if msg := v.deathError(); msg != "" {
		e.s.errs.print(fmt.Sprintf("VU %d: %s (the VU is restarted)", v.id, msg))
	}
	select {
	case <-e.s.stopC:
		return nil
	default:
	}
	nv, err := e.newVU(v.id)
	if err != nil {
		if e.ctx.Err() == nil {
			e.s.errs.print(fmt.Sprintf("VU %d: restart failed: %v", v.id, err))
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
	s := e.s
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-s.stopC:
	case <-drained:
		t.Stop()
		return
	}
	t.Stop()
	s.stop()
	g := time.NewTimer(e.cfg.GracefulStop)
	defer g.Stop()
	select {
	case <-drained:
	case <-g.C:
		s.hardStop()
		<-drained
	case <-s.hardC:
		<-drained
	}
}

// looping is constant-vus and shared-iterations: every VU iterates while
// next says so, until d.
func (e *engine) looping(pool []*vu, d time.Duration, next func(int) bool) {
	s := e.s
	s.vus.Add(float64(len(pool)))
	drained := make(chan struct{})
	var wg sync.WaitGroup
	for i, v := range pool {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.drive(i, v, func(slot int, _ bool) bool {
				select {
				case <-s.stopC:
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
	e.s.vus.Add(float64(n))
}

func (e *engine) targetChanged() <-chan struct{} {
	e.targetMu.Lock()
	defer e.targetMu.Unlock()
	return e.targetC
}

// ramping is ramping-vus: slot i iterates while i < the stages' target; a
// slot above the target finishes its iteration and waits.
func (e *engine) ramping(pool []*vu) {
	s := e.s
	e.targetC = make(chan struct{})
	e.target.Store(-1)
	e.setTarget(min(e.cfg.VUs, len(pool)))
	total := e.cfg.Total()
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
					case <-s.stopC:
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
					case <-s.stopC:
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
		for {
			el := time.Since(s.started)
			if el >= total {
				return
			}
			e.setTarget(min(rampTarget(e.cfg.VUs, e.cfg.Stages, el), len(pool)))
			select {
			case <-t.C:
			case <-s.stopC:
				return
			}
		}
	}()
	e.endAfter(total, drained)
	<-rampDone
}

// arrivalRate is constant-arrival-rate: an iteration starts every
// TimeUnit/Rate on an idle VU of the pool; with none idle, the iteration is
// dropped (counted) and a VU is made in the background while fewer than
// MaxVUs exist.
func (e *engine) arrivalRate(pool []*vu) {
	s := e.s
	idle := make(chan *vu, e.cfg.MaxVUs)
	for _, v := range pool {
		idle <- v
	}
	interval := time.Duration(float64(e.cfg.TimeUnit) / e.cfg.Rate)
	var inflight sync.WaitGroup
	var creating atomic.Bool
	start := s.started
	end := start.Add(e.cfg.Duration)
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	s.vus.Add(0)
	stopped := false
	for i := int64(0); !stopped; i++ {
		due := start.Add(time.Duration(i) * interval)
		if !due.Before(end) {
			break
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-s.stopC:
				stopped = true
				continue
			}
		} else {
			select {
			case <-s.stopC:
				stopped = true
				continue
			default:
			}
		}
		select {
		case v := <-idle:
			inflight.Add(1)
			s.vus.Add(float64(e.busy.Add(1)))
			go func() {
				defer inflight.Done()
				err := v.iterate(e.ctx)
				s.vus.Add(float64(e.busy.Add(-1)))
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
			s.dropped.Add(1)
			if e.made.Load() < int64(e.cfg.MaxVUs) && creating.CompareAndSwap(false, true) {
				inflight.Add(1)
				go func() {
					defer inflight.Done()
					defer creating.Store(false)
					if v, err := e.newVU(int(e.made.Load()) + 1); err == nil {
						idle <- v
					} else if e.ctx.Err() == nil {
						s.errs.print(fmt.Sprintf("a new VU failed to start: %v", err))
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
	s.stop()
	e.endAfter(0, drained)
}

// ticker runs every Tick: the time series to the outputs, the thresholds
// with abortOnFail, and the progress line.
func (e *engine) ticker(stop <-chan struct{}) {
	s := e.s
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	sampler := metrics.NewSampler(s.reg, s.started)
	var prevPub, prevCons float64
	var outErr bool
	last := s.started
	tick := func(now time.Time, final bool) {
		if len(s.opts.Outputs) > 0 {
			pts := sampler.Sample(now)
			for _, o := range s.opts.Outputs {
				if err := o.Write(pts); err != nil && !outErr {
					outErr = true
					s.errs.print(fmt.Sprintf("--out: %v", err))
				}
			}
		}
		elapsed := now.Sub(s.started)
		if !final && len(s.reg.Thresholds()) > 0 {
			if _, abort := s.reg.EvalThresholds(elapsed); abort && !s.aborted.Swap(true) {
				var names []string
				for _, th := range s.reg.Thresholds() {
					if !th.OK && th.AbortOnFail {
						names = append(names, th.Selector+" "+th.Source)
					}
				}
				s.errs.always("threshold crossed, aborting the run: " + strings.Join(names, ", "))
				s.stop()
				s.hardStop()
			}
		}
		if s.opts.Progress == ProgressNone {
			return
		}
		dt := now.Sub(last).Seconds()
		last = now
		pub, cons := counterSum(s.reg, "amqp_published"), counterSum(s.reg, "amqp_consumed")
		var pubRate, consRate float64
		if dt > 0 {
			pubRate, consRate = (pub-prevPub)/dt, (cons-prevCons)/dt
		}
		prevPub, prevCons = pub, cons
		s.errs.progress(e.progressLine(elapsed, pubRate, consRate, final), final)
	}
	for {
		select {
		case now := <-t.C:
			tick(now, false)
		case <-stop:
			tick(s.ended, true)
			return
		}
	}
}

func counterSum(reg *metrics.Registry, name string) float64 {
	if m := reg.Get(name); m != nil {
		return m.Root().Stats().Sum
	}
	return 0
}

func (e *engine) progressLine(elapsed time.Duration, pubRate, consRate float64, final bool) string {
	s := e.s
	var b strings.Builder
	state := "running"
	if final {
		state = "done"
	}
	fmt.Fprintf(&b, "%s [%s", state, fmtSeconds(elapsed))
	if e.cfg.Executor == SharedIterations {
		fmt.Fprintf(&b, ", %d/%d iterations]", int64(s.iterations.Stats().Sum), e.cfg.Iterations)
	} else {
		fmt.Fprintf(&b, "/%s]", fmtSeconds(e.cfg.Total()))
		fmt.Fprintf(&b, " %d iterations", int64(s.iterations.Stats().Sum))
	}
	fmt.Fprintf(&b, ", %d/%d VUs, %s published/s, %s consumed/s, %d errors",
		int64(s.vus.Stats().Value), e.made.Load(), metrics.FormatValue(pubRate, metrics.Default), metrics.FormatValue(consRate, metrics.Default), int64(s.errorsM.Stats().Sum))
	return b.String()
}

func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func writeFile(path, content string) error {
	return os.WriteFile(path, []byte(content), 0o644)
}
