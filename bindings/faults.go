package bindings

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// FaultsModuleName is the module of faults on cue (docs/api.md, "The
// amqpjs/faults module"): the script makes its own connections misbehave.
const FaultsModuleName = "amqpjs/faults"

// FaultScope is the set of open connections that faults.connections()
// lists. A run shares one between its VUs (Options.Faults), so that a chaos
// scenario can reach the connections of the others; with none, each
// runtime sees its own. Safe for concurrent use.
type FaultScope struct {
	mu    sync.Mutex
	seq   int64
	conns map[*faultTarget]struct{}
}

// NewFaultScope makes an empty scope.
func NewFaultScope() *FaultScope {
	return &FaultScope{conns: map[*faultTarget]struct{}{}}
}

// faultTarget is one connection as the faults module knows it. Its fields
// are set once; conn's methods are safe from any goroutine.
type faultTarget struct {
	conn     *amqp.Conn
	scenario string // the scenario of the VU that opened it ("" outside scenarios)
	vu       int64  // that VU's __VU (0 outside scenarios)
	local    string // local address: the broker's name for it
	seq      int64
}

// faultKey holds a protocol's (or a handle's) *faultTarget, out of the
// script's way.
var faultKey = goja.NewSymbol("amqpjs.faults.target")

// faultsOpened registers a connection the script just opened. Loop only.
func (m *module) faultsOpened(c *connection, proto *goja.Object) {
	vm := m.rt.VM()
	t := &faultTarget{conn: c.conn, local: c.conn.LocalAddr()}
	if v := vm.Get("__VU"); v != nil && goja.IsNumber(v) {
		t.vu = v.ToInteger()
	}
	if s, ok := m.rt.MetricTags().Get("scenario"); ok {
		t.scenario = s
	}
	_ = proto.DefineDataPropertySymbol(faultKey, vm.ToValue(t), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	sc := m.faultScope()
	sc.mu.Lock()
	sc.seq++
	t.seq = sc.seq
	sc.conns[t] = struct{}{}
	sc.mu.Unlock()
	c.conn.OnClose(func(*amqp.Error) {
		sc.mu.Lock()
		delete(sc.conns, t)
		sc.mu.Unlock()
	})
}

func (m *module) faultScope() *FaultScope {
	if m.opts.Faults == nil {
		m.opts.Faults = NewFaultScope()
	}
	return m.opts.Faults
}

var faultsParamNote = "a protocol returned by aioamqp.connect() or a connection from faults.connections()"

// faultTargetOf returns the connection behind v, or throws a TypeError
// naming the parameter. Loop only.
func (m *module) faultTargetOf(vm *goja.Runtime, fn string, v goja.Value) *faultTarget {
	if o, ok := v.(*goja.Object); ok {
		if tv := o.GetSymbol(faultKey); tv != nil {
			if t, ok := tv.Export().(*faultTarget); ok {
				return t
			}
		}
	}
	panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults." + fn + ": parameter 'protocol' must be " + faultsParamNote + ", got " + describe(v)}))
}

// loadFaults is the amqpjs/faults module's loader.
func (m *module) loadFaults(vm *goja.Runtime, module *goja.Object) {
	ex, cached := cachedExports(module, &m.faultsExports)
	if cached {
		return
	}
	setMethod(vm, ex, "cut", m.jsFaultCut)
	setMethod(vm, ex, "stall", m.jsFaultStall)
	setMethod(vm, ex, "latency", m.jsFaultLatency)
	setMethod(vm, ex, "bandwidth", m.jsFaultBandwidth)
	setMethod(vm, ex, "clear", m.jsFaultClear)
	setMethod(vm, ex, "connections", m.jsFaultConnections)
	_ = ex.Set("default", ex)
}

// faultEvent records the fault as an event of the run (--out json=…):
// tagged with the calling VU's tags, the target's scenario and VU, its
// local address and extra (the fault's argument). Loop only.
func (m *module) faultEvent(name string, t *faultTarget, extra map[string]string) {
	reg := m.rt.Metrics()
	if reg == nil {
		return
	}
	tags := map[string]string{"connection": t.local}
	for _, tg := range m.rt.MetricTags() {
		tags[tg.Key] = tg.Value
	}
	if t.scenario != "" {
		tags["target_scenario"] = t.scenario
	}
	if t.vu != 0 {
		tags["target_vu"] = strconv.FormatInt(t.vu, 10)
	}
	for k, v := range extra {
		tags[k] = v
	}
	reg.RecordEvent(metrics.Event{Name: "fault." + name, Tags: metrics.NewTags(tags)})
}

// faults.cut(protocol) → boolean
func (m *module) jsFaultCut(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	t := m.faultTargetOf(vm, "cut", call.Argument(0))
	ok := t.conn.Cut()
	if ok {
		m.faultEvent("cut", t, nil)
	}
	return vm.ToValue(ok)
}

// faults.stall(protocol, duration) → Promise<void>, settled when the stall
// is over (or the connection ended first).
func (m *module) jsFaultStall(call goja.FunctionCall) goja.Value {
	t, d := m.durationFault(call, "stall", false, (*amqp.Conn).Stall)
	p, res := m.loop.NewPromise()
	go func() {
		tm := time.NewTimer(d)
		defer tm.Stop()
		select {
		case <-tm.C:
		case <-t.conn.Done():
		case <-m.runCtx.Done():
		}
		res.Resolve(nil)
	}()
	return m.rt.VM().ToValue(p)
}

// faults.latency(protocol, duration)
func (m *module) jsFaultLatency(call goja.FunctionCall) goja.Value {
	m.durationFault(call, "latency", true, (*amqp.Conn).SetLatency)
	return goja.Undefined()
}

// durationFault reads the call's protocol and duration (zeroOK as
// faultDuration), sets the fault on the connection with apply and records
// it as an event. Loop only.
func (m *module) durationFault(call goja.FunctionCall, name string, zeroOK bool, apply func(*amqp.Conn, time.Duration)) (*faultTarget, time.Duration) {
	vm := m.rt.VM()
	t := m.faultTargetOf(vm, name, call.Argument(0))
	d := faultDuration(vm, name, call.Argument(1), zeroOK)
	apply(t.conn, d)
	m.faultEvent(name, t, map[string]string{"duration": d.String()})
	return t, d
}

// faults.bandwidth(protocol, size)
func (m *module) jsFaultBandwidth(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	t := m.faultTargetOf(vm, "bandwidth", call.Argument(0))
	n := faultSize(vm, "bandwidth", call.Argument(1))
	t.conn.SetBandwidth(n)
	m.faultEvent("bandwidth", t, map[string]string{"bytes_per_second": strconv.FormatInt(n, 10)})
	return goja.Undefined()
}

// faults.clear(protocol)
func (m *module) jsFaultClear(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	t := m.faultTargetOf(vm, "clear", call.Argument(0))
	t.conn.ClearFaults()
	m.faultEvent("clear", t, nil)
	return goja.Undefined()
}

// faults.connections({ scenario, vu }?) → [{ scenario, vu, local_address }]:
// the open connections of the run (of every VU in a scenario run), oldest
// first, each usable as the protocol parameter.
func (m *module) jsFaultConnections(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	var scenario *string
	var vu *int64
	if f := call.Argument(0); !goja.IsUndefined(f) && !goja.IsNull(f) {
		o, ok := isPlainObject(vm, f)
		if !ok {
			panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults.connections: parameter 'filter' must be a plain object { scenario, vu }, got " + describe(f)}))
		}
		for _, k := range o.Keys() {
			v := o.Get(k)
			switch k {
			case "scenario":
				if !goja.IsString(v) {
					panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults.connections: filter.scenario must be a string, got " + describe(v)}))
				}
				s := v.String()
				scenario = &s
			case "vu":
				n, ok := number(v)
				if !ok || n != math.Trunc(n) || n < 0 {
					panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults.connections: filter.vu must be a non-negative integer, got " + describe(v)}))
				}
				i := int64(n)
				vu = &i
			default:
				panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_VALUE", msg: "faults.connections: unknown filter key '" + k + "' (expected scenario, vu)"}))
			}
		}
	}
	sc := m.faultScope()
	sc.mu.Lock()
	list := make([]*faultTarget, 0, len(sc.conns))
	for t := range sc.conns {
		if (scenario == nil || t.scenario == *scenario) && (vu == nil || t.vu == *vu) {
			list = append(list, t)
		}
	}
	sc.mu.Unlock()
	slices.SortFunc(list, func(a, b *faultTarget) int { return cmp.Compare(a.seq, b.seq) })
	out := make([]any, 0, len(list))
	for _, t := range list {
		h := vm.NewObject()
		_ = h.Set("scenario", t.scenario)
		_ = h.Set("vu", t.vu)
		_ = h.Set("local_address", t.local)
		_ = h.DefineDataPropertySymbol(faultKey, vm.ToValue(t), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
		out = append(out, h)
	}
	return vm.NewArray(out...)
}

// faultDuration reads a duration: a string such as "10s", "1m30s", "500ms",
// or a number of milliseconds. zeroOK allows 0 (no latency). Loop only.
func faultDuration(vm *goja.Runtime, fn string, v goja.Value, zeroOK bool) time.Duration {
	bad := func() {
		panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults." + fn + ": parameter 'duration' must be a duration such as '10s' or '500ms' (or a number of milliseconds), got " + describe(v)}))
	}
	var d time.Duration
	switch {
	case goja.IsString(v):
		var err error
		if d, err = time.ParseDuration(strings.TrimSpace(v.String())); err != nil {
			bad()
		}
	case goja.IsNumber(v):
		ms := v.ToFloat()
		if math.IsNaN(ms) || math.IsInf(ms, 0) || ms > float64(math.MaxInt64/int64(time.Millisecond)) {
			bad()
		}
		d = time.Duration(ms * float64(time.Millisecond))
	default:
		bad()
	}
	if d < 0 || (d == 0 && !zeroOK) {
		want := "positive"
		if zeroOK {
			want = "0 or more"
		}
		panic(throwArg(vm, &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: "faults." + fn + ": parameter 'duration' must be " + want + ", got " + v.String()}))
	}
	return d
}

// sizeUnits are the units faultSize accepts (case-insensitive).
var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"kb": 1e3, "mb": 1e6, "gb": 1e9,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30,
}

// faultSize reads a number of bytes per second: a number, or a string such
// as "1MB" (10^6), "512KiB" (2^10), "2.5mb". Loop only.
func faultSize(vm *goja.Runtime, fn string, v goja.Value) int64 {
	bad := func() {
		panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: "faults." + fn + ": parameter 'size' must be bytes per second, a number or a string such as '1MB', '512KiB', got " + describe(v)}))
	}
	var n float64
	switch {
	case goja.IsString(v):
		s := strings.TrimSpace(v.String())
		i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
		if i < 0 {
			i = len(s)
		}
		unit, ok := sizeUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
		f, err := strconv.ParseFloat(s[:i], 64)
		if !ok || err != nil {
			bad()
		}
		n = f * unit
	case goja.IsNumber(v):
		n = v.ToFloat()
		if math.IsNaN(n) || math.IsInf(n, 0) {
			bad()
		}
	default:
		bad()
	}
	if n < 1 || n > math.MaxInt64/2 {
		panic(throwArg(vm, &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: "faults." + fn + ": parameter 'size' must be at least 1 byte per second, got " + v.String()}))
	}
	return int64(n)
}
