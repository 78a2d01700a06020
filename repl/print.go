package repl

import (
	"io"
	"regexp"
	"strings"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/runtime"
)

// Printing results and errors as Node's REPL does.

// showResult prints a value as Node's REPL does and keeps it in `_`. In a
// script (not a terminal) undefined is not printed. Loop only.
func (s *session) showResult(v goja.Value) {
	if v == nil {
		v = goja.Undefined()
	}
	_ = s.vm.Set("_", v)
	if !s.interactive && goja.IsUndefined(v) {
		return
	}
	s.println(s.out, s.rt.Inspect(v, s.color))
}

// showError prints a thrown value and keeps it in `_error`. Loop only.
func (s *session) showError(v goja.Value, prefix string) {
	if v == nil {
		v = goja.Undefined()
	}
	_ = s.vm.Set("_error", v)
	s.println(s.errw, prefix+s.describeError(v))
}

// replFrame matches the stack lines that say nothing to the person at the
// prompt: the top level of an entry (named functions defined at the REPL
// stay), the runtime's own files, Go functions.
var replFrame = regexp.MustCompile(`^\s+at (?:(?:async )?<anonymous> \()?(?:REPL\d*|<eval>)(?::\d+:\d+)?\)?$|^\s+at (?:.*[ (])?amqpjs:[^:)]*(?::\d+:\d+)?\)?$|^\s+at .*\(native\)$`)

// describeError renders a thrown value: for an Error its name and message,
// the stack lines outside the REPL, and its own properties (an AMQP code)
// — `ChannelClosed: NOT_FOUND - no queue 'x' { code: 404 }`. Loop only.
func (s *session) describeError(v goja.Value) string {
	o, ok := v.(*goja.Object)
	if !ok || !isError(s.vm, o) {
		return s.rt.Inspect(v, false)
	}
	stack := ""
	if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
		stack = st.String()
	}
	if stack == "" {
		stack = o.String()
	}
	// An error of the aioamqp module keeps the entry's own line: its stack
	// is the call that caused it (the entry's queue_declare), which may
	// have been several entries ago.
	// (The first such frame only: a later one is the REPL's own wrapper
	// of an entry that awaits.)
	keepEntry := isAioamqpError(o)
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(runtime.CleanStack(stack), "\n"), "\n") {
		if keepEntry && replEntryFrame.MatchString(l) {
			lines = append(lines, l)
			keepEntry = false
			continue
		}
		if !replFrame.MatchString(l) {
			lines = append(lines, l)
		}
	}
	text := strings.Join(lines, "\n")
	var extra []string
	props := s.vm.NewObject()
	for _, k := range o.Keys() {
		if k == "stack" || k == "message" {
			continue
		}
		extra = append(extra, k)
		_ = props.Set(k, o.Get(k))
	}
	if len(extra) > 0 {
		text += " " + s.rt.Inspect(props, false)
	}
	return text
}

// replEntryFrame matches the frame of an entry's top level, with its
// position ("at REPL4:1:10").
var replEntryFrame = regexp.MustCompile(`^\s+at (?:(?:async )?<anonymous> \()?REPL\d+:\d+:\d+\)?$`)

// isAioamqpError reports whether o is an instance of one of the aioamqp
// module's exception classes (AioamqpException and its subclasses).
func isAioamqpError(o *goja.Object) (is bool) {
	defer func() { _ = recover() }() // a hostile getter
	for p, n := o.Prototype(), 0; p != nil && n < 16; p, n = p.Prototype(), n+1 {
		if c, ok := p.Get("constructor").(*goja.Object); ok {
			if name := c.Get("name"); name != nil && name.String() == "AioamqpException" {
				return true
			}
		}
	}
	return false
}

func isError(vm *goja.Runtime, o *goja.Object) (is bool) {
	ctor, ok := vm.Get("Error").(*goja.Object)
	if !ok {
		return false
	}
	defer func() { _ = recover() }() // a hostile Symbol.hasInstance
	return vm.InstanceOf(o, ctor)
}

// println writes s and a newline in one write.
func (s *session) println(w io.Writer, text string) {
	_, _ = io.WriteString(w, text+"\n")
}
