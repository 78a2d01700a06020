package bindings

import (
	"bytes"
	"slices"
	"strings"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// Call sites (docs/api-notes.md, "Where an error points"): an error that a binding
// produces carries the script position of the call that caused it, even when
// it arrives much later (a rejection settled by a broker reply, a channel
// closed by the broker, on_error). Its stack is the script's frames at the
// time of the call — those of the async functions awaiting it included, the
// way V8's async stack traces read — as if the call had been synchronous.
// Internal frames (Go functions, amqpjs:… files) are left out.
//
// Capturing is cheap and lazy: the frames are copied as goja keeps them (a
// program pointer and a program counter each); positions and text are only
// worked out when an error is built. Calls repeated from one place share
// their capture. The fast paths that settle at once (an unconfirmed
// publish, an ack) capture nothing unless they fail.

// maxSiteFrames bounds the frames kept, as V8's Error.stackTraceLimit (10).
const maxSiteFrames = 10

// callSite is where the script made a call: f[0] is the binding's own
// (native) frame, which names its method (zero when there was none), f[1:]
// the script's frames, most recent first. The zero callSite is no position
// (a call from Go). A value, so that capturing costs one allocation (the
// frames); immutable.
type callSite struct {
	f []goja.StackFrame
}

// known reports whether s has a position.
func (s callSite) known() bool { return len(s.f) > 1 }

// same reports whether s and o are the same capture (or calls made from the
// same place, see site).
func (s callSite) same(o callSite) bool { return s.known() && o.known() && &s.f[0] == &o.f[0] }

// method is the name of the binding's method called ("queue_declare").
func (s callSite) method() string {
	if len(s.f) > 0 {
		if n := s.f[0].FuncName(); n != "<native>" {
			return n
		}
	}
	return "a call"
}

// site captures the script's frames of the current call. Loop only, inside a
// call from JS.
//
// A call made from the same place as the previous capture (a publish in a
// loop: same frames, same program counters) gets the same callSite: no
// allocation. Otherwise the frames are copied into one new slice.
func (m *module) site() callSite {
	if siteCaptureOff {
		return callSite{}
	}
	buf := m.rt.VM().CaptureCallStack(0, m.siteBuf[:0])
	m.siteBuf = buf
	var call goja.StackFrame
	if len(buf) > 0 && buf[0].SrcName() == "<native>" {
		call = buf[0]
	}
	n := 0
	for i := range buf {
		if n == maxSiteFrames {
			break
		}
		if userFrame(&buf[i]) {
			buf[n] = buf[i]
			n++
		}
	}
	if n == 0 {
		return callSite{}
	}
	user := buf[:n]
	if last := m.lastSite.f; len(last) == n+1 && last[0] == call && slices.Equal(last[1:], user) {
		return m.lastSite
	}
	f := make([]goja.StackFrame, n+1)
	f[0] = call
	copy(f[1:], user)
	m.lastSite = callSite{f: f}
	return m.lastSite
}

// siteCaptureOff turns capturing off (benchmarks comparing its cost).
var siteCaptureOff = false

// userFrame reports whether f is a frame of the script's own code.
func userFrame(f *goja.StackFrame) bool {
	name := f.SrcName()
	return name != "<native>" && !strings.HasPrefix(name, "amqpjs:")
}

// writeFrames writes the frames as goja's stack lines ("\tat f (file:1:2(3))"),
// which runtime.CleanStack renders as Node's.
func (s callSite) writeFrames(b *bytes.Buffer) {
	for i := 1; i < len(s.f); i++ {
		b.WriteString("\tat ")
		s.f[i].Write(b)
		b.WriteByte('\n')
	}
}

// where is the top frame's position as "file:line:col" (1-based column, as
// printed), or "".
func (s callSite) where() string {
	if !s.known() {
		return ""
	}
	var b bytes.Buffer
	s.f[1].Write(&b)
	line := "\tat " + b.String() + "\n"
	line = strings.TrimSpace(runtime.CleanStack(line))
	line = strings.TrimPrefix(line, "at ")
	if i := strings.LastIndexByte(line, '('); i >= 0 && strings.HasSuffix(line, ")") {
		line = line[i+1 : len(line)-1]
	}
	return line
}

// stamp makes v's stack the one of the call at s: "Name: message" and the
// call's frames, then, when note is not "", a line saying more (which call
// closed the channel). v is left alone when it is not an object or s is
// not known and note is "". Loop only.
func stamp(vm *goja.Runtime, v goja.Value, s callSite, note string) {
	o, ok := v.(*goja.Object)
	if !ok || (!s.known() && note == "") {
		return
	}
	defer func() { _ = recover() }() // a value of the script's, hostile
	var b bytes.Buffer
	b.WriteString(o.String())
	b.WriteByte('\n')
	s.writeFrames(&b)
	if note != "" {
		b.WriteString("    ")
		b.WriteString(note)
		b.WriteByte('\n')
	}
	setStack(vm, o, b.String())
}

// appendSite adds the frames of s under the stack of a value thrown by a
// callback (a consumer's): where the callback was registered. Loop only.
func appendSite(vm *goja.Runtime, v goja.Value, s callSite) {
	o, ok := v.(*goja.Object)
	if !ok || !s.known() {
		return
	}
	defer func() { _ = recover() }() // the script's value: a getter may throw
	st := o.Get("stack")
	if st == nil || goja.IsUndefined(st) {
		return
	}
	if _, isStr := st.Export().(string); !isStr {
		return
	}
	var b bytes.Buffer
	b.WriteString(strings.TrimRight(st.String(), "\n"))
	b.WriteByte('\n')
	s.writeFrames(&b)
	setStack(vm, o, b.String())
}

// setStack sets o's stack as an Error's own: writable, configurable, not
// enumerable. Loop only.
func setStack(vm *goja.Runtime, o *goja.Object, stack string) {
	_ = o.DefineDataProperty("stack", vm.ToValue(stack), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE)
}
