package scenario

import (
	"fmt"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// ticker runs every Tick: the time series to the outputs, the thresholds
// with abortOnFail, and the progress line.
func (s *Scenario) ticker(stop <-chan struct{}) {
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	sampler := metrics.NewSampler(s.reg, s.started)
	var prevPub, prevCons float64
	var outErr bool
	last := s.started
	tick := func(now time.Time, final bool) {
		if len(s.opts.Outputs) > 0 {
			pts := sampler.Sample(now)
			evs := s.reg.TakeEvents() // faults injected by the script (amqpjs/faults)
			for _, o := range s.opts.Outputs {
				err := o.Write(pts)
				if eo, ok := o.(metrics.EventOutput); ok && len(evs) > 0 && err == nil {
					err = eo.WriteEvents(evs)
				}
				if err != nil && !outErr {
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
		s.errs.progress(s.progressLine(now, pubRate, consRate, final), final)
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

// progressLine is one line for the whole run: with the shorthand options,
//
//	running [1.0s/3.0s] 120 iterations, 4/4 VUs, 200 published/s, 190 consumed/s, 0 errors
//
// and with options.scenarios the run's totals, then each scenario's phase,
// time, iterations and VUs:
//
//	running [1.0s/3.0s] 120 iterations, 6/6 VUs, ... | producers running 1.0s/3.0s 100 it 2/2 VUs | consumers waiting
func (s *Scenario) progressLine(now time.Time, pubRate, consRate float64, final bool) string {
	var b strings.Builder
	state := "running"
	if final {
		state = "done"
	}
	elapsed := now.Sub(s.started)
	fmt.Fprintf(&b, "%s [%s", state, fmtSeconds(elapsed))
	if c := s.engines[0].cfg; !s.plan.Named && c.Executor == SharedIterations {
		fmt.Fprintf(&b, ", %d/%d iterations]", int64(s.iterations.Stats().Sum), c.Iterations)
	} else {
		fmt.Fprintf(&b, "/%s]", fmtSeconds(s.plan.Total()))
		fmt.Fprintf(&b, " %d iterations", int64(s.iterations.Stats().Sum))
	}
	fmt.Fprintf(&b, ", %d/%d VUs, %s published/s, %s consumed/s, %d errors",
		int64(s.vus.Stats().Value), s.made.Load(), metrics.FormatValue(pubRate, metrics.Default), metrics.FormatValue(consRate, metrics.Default), int64(s.errorsM.Stats().Sum))
	if seg := s.opts.Segment; !seg.IsWhole() {
		fmt.Fprintf(&b, ", segment %s", seg)
	}
	if s.plan.Named {
		for _, e := range s.engines {
			fmt.Fprintf(&b, " | %s %s", e.cfg.Name, e.status(now))
		}
	}
	return b.String()
}

// status is the scenario's phase, and once started its time, iterations
// and VUs: "running 1.0s/3.0s, 100 iterations, 2/4 VUs".
func (e *engine) status(now time.Time) string {
	p := e.state.Load()
	st := e.started()
	if e.sh.none {
		return "no share in this segment"
	}
	if st.IsZero() {
		if p == phaseDone {
			return "stopped before its start"
		}
		return phaseName(p)
	}
	if p == phaseDone {
		now = time.Unix(0, e.endedAt.Load())
	}
	its := int64(e.iterations.Stats().Sum)
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", phaseName(p), fmtSeconds(now.Sub(st)))
	switch e.cfg.Executor {
	case SharedIterations:
		fmt.Fprintf(&b, ", %d/%d iterations", its, e.cfg.Iterations)
	case PerVUIterations:
		fmt.Fprintf(&b, ", %d/%d iterations", its, e.cfg.Iterations*e.cfg.VUs)
	default:
		fmt.Fprintf(&b, "/%s, %d iterations", fmtSeconds(e.cfg.Total()), its)
	}
	fmt.Fprintf(&b, ", %d/%d VUs", e.active.Load(), e.made.Load())
	return b.String()
}

// label prefixes a scenario's messages: "" with the shorthand options,
// else "scenario NAME: ".
func (e *engine) label() string {
	if !e.s.plan.Named {
		return ""
	}
	return "scenario " + e.cfg.Name + ": "
}

func fmtSeconds(d time.Duration) string {
	return fmt.Sprintf("%.1fs", d.Seconds())
}

// holdUntil holds the start until at (--start-at), with the VUs made and
// setup done, showing the wait in the progress; it returns false when the
// run was stopped meanwhile (Ctrl-C). An instance that comes to the hold
// after at starts at once and says how late it is. Controller goroutine.
func (s *Scenario) holdUntil(at time.Time) bool {
	when := at.UTC().Format("2006-01-02T15:04:05.000Z07:00")
	if late := time.Since(at); late >= 0 {
		s.errs.always(fmt.Sprintf("--start-at %s: this instance is %s late; it starts now, its load shifted by as much", when, late.Round(time.Millisecond)))
		return true
	}
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	tick := time.NewTicker(s.opts.Tick)
	defer tick.Stop()
	show := func() {
		if s.opts.Progress == ProgressNone {
			return
		}
		line := fmt.Sprintf("waiting for the start at %s: %s, %d VUs ready", when, fmtSeconds(max(0, time.Until(at))), s.made.Load())
		if seg := s.opts.Segment; !seg.IsWhole() {
			line += fmt.Sprintf(", segment %s", seg)
		}
		s.errs.progress(line, false)
	}
	show()
	for {
		select {
		case <-timer.C:
			return true
		case <-tick.C:
			show()
		case <-s.stopC:
			return false
		}
	}
}
