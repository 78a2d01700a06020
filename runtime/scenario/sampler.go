package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// A Sampler records values that come from outside the VUs — a broker's
// queue depths — into the run's registry while the scenarios run. This
// package knows metrics, not sockets: samplers are plugged in by the host
// through [Options.Samplers].
type Sampler interface {
	// Interval is the time between two samples (at least 10ms).
	Interval() time.Duration
	// Sample records the current values into reg. It is called on a
	// goroutine of the sampler's own, never concurrently with itself: as
	// the scenarios start, then every Interval until they end. ctx ends
	// with the run. An error is printed once, as a warning, and sampling
	// goes on: a sampler never fails a run (its thresholds may).
	Sample(ctx context.Context, reg *metrics.Registry) error
	// Close releases the sampler once the run is over. A non-nil error is
	// printed as a warning before the summary.
	Close() error
}

// SamplerOption reads one key of the script's `options` (options.rabbitmq)
// into a Sampler.
type SamplerOption struct {
	// Key is the option's name; the options accept it besides their own.
	Key string
	// New makes the sampler from the option's value, as JSON (a RegExp of
	// the script's is the string "/source/flags"); raw is nil when the
	// script does not set the key (a command-line flag may still ask for a
	// sampler). It returns nil, nil for none. It creates its metrics in reg,
	// so that thresholds on them are valid. An error is a configuration
	// error (exit 2), reported as "options: KEY: error".
	New func(raw json.RawMessage, reg *metrics.Registry) (Sampler, error)
}

// takeSamplerOptions removes the samplers' keys from the options JSON (an
// object; anything else is left for Resolve to reject) and returns their
// values by key. The other keys keep their order (thresholds are reported
// in declaration order).
func takeSamplerOptions(optionsJSON []byte, samplers []SamplerOption) ([]byte, map[string]json.RawMessage) {
	if len(samplers) == 0 {
		return optionsJSON, nil
	}
	keys, values, err := orderedObject(optionsJSON)
	if err != nil || keys == nil {
		return optionsJSON, nil
	}
	taken := map[string]json.RawMessage{}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		isSampler := false
		for _, so := range samplers {
			if so.Key == k {
				isSampler = true
			}
		}
		if isSampler {
			if raw := bytes.TrimSpace(values[i]); string(raw) != "null" {
				taken[k] = values[i]
			}
			continue
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(k))
		b.WriteByte(':')
		b.Write(values[i])
	}
	b.WriteByte('}')
	return b.Bytes(), taken
}

// makeSamplers makes the samplers of the run from their options. Loop of
// the main runtime (the hook).
func (s *Scenario) makeSamplers(raw map[string]json.RawMessage) error {
	for _, so := range s.opts.Samplers {
		sm, err := so.New(raw[so.Key], s.reg)
		if err != nil {
			s.closeSamplers()
			return configErr("%s: %v", so.Key, err)
		}
		if sm != nil {
			s.samplers = append(s.samplers, namedSampler{key: so.Key, Sampler: sm})
		}
	}
	return nil
}

type namedSampler struct {
	key string
	Sampler
}

// startSamplers runs each sampler on a goroutine until the returned stop is
// called; stop waits for them. Controller goroutine.
func (s *Scenario) startSamplers(ctx context.Context) (stop func()) {
	if len(s.samplers) == 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, sm := range s.samplers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			every := max(sm.Interval(), 10*time.Millisecond)
			t := time.NewTicker(every)
			defer t.Stop()
			warned := false
			for {
				if err := sm.Sample(ctx, s.reg); err != nil && ctx.Err() == nil && !warned {
					warned = true
					s.errs.always(fmt.Sprintf("warning: options.%s: %v (sampling goes on; this warning is not repeated)", sm.key, err))
				}
				select {
				case <-t.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// closeSamplers closes the samplers and prints what they have to say.
func (s *Scenario) closeSamplers() {
	for _, sm := range s.samplers {
		if err := sm.Close(); err != nil {
			fmt.Fprintf(s.opts.Stderr, "amqpjs: warning: options.%s: %v\n", sm.key, err)
		}
	}
	s.samplers = nil
}

// optionsReplacer is the JSON.stringify replacer of the options export: a
// RegExp (a queue pattern of options.rabbitmq) becomes "/source/flags"
// instead of {}.
const optionsReplacer = `(function (k, v) { return v instanceof RegExp ? '/' + v.source + '/' + v.flags : v; })`

// stringifyOptions is JSON.stringify(options) with RegExps kept as
// "/source/flags". "" for undefined. Loop only.
func stringifyOptions(vm *goja.Runtime, v goja.Value) (string, error) {
	if v == nil || goja.IsUndefined(v) {
		return "", nil
	}
	rep, err := vm.RunString(optionsReplacer)
	if err != nil {
		return "", err
	}
	f, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("stringify"))
	r, err := f(goja.Undefined(), v, rep)
	if err != nil {
		return "", err
	}
	if goja.IsUndefined(r) {
		return "", nil
	}
	return r.String(), nil
}
