package runtime

import (
	"io"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/cpuusage"
)

func (r *Runtime) installConsole() {
	vm := r.vm
	console := vm.NewObject()
	printer := func(w io.Writer) func(goja.FunctionCall) goja.Value {
		return func(call goja.FunctionCall) goja.Value {
			r.writeLine(w, r.Format(call.Arguments...))
			return goja.Undefined()
		}
	}
	for _, name := range []string{"log", "info", "debug"} {
		must(console.Set(name, printer(r.stdout)))
	}
	for _, name := range []string{"warn", "error", "trace"} {
		must(console.Set(name, printer(r.stderr)))
	}
	must(console.Set("assert", func(call goja.FunctionCall) goja.Value {
		if !call.Argument(0).ToBoolean() {
			msg := "Assertion failed"
			if len(call.Arguments) > 1 {
				msg += ": " + r.Format(call.Arguments[1:]...)
			}
			r.writeLine(r.stderr, msg)
		}
		return goja.Undefined()
	}))
	timers := map[string]time.Time{}
	must(console.Set("time", func(call goja.FunctionCall) goja.Value {
		timers[labelOf(call)] = time.Now()
		return goja.Undefined()
	}))
	must(console.Set("timeEnd", func(call goja.FunctionCall) goja.Value {
		l := labelOf(call)
		if t, ok := timers[l]; ok {
			delete(timers, l)
			r.writeLine(r.stdout, l+": "+fmtMillis(time.Since(t)))
		}
		return goja.Undefined()
	}))
	must(console.Set("timeLog", func(call goja.FunctionCall) goja.Value {
		l := labelOf(call)
		if t, ok := timers[l]; ok {
			r.writeLine(r.stdout, l+": "+fmtMillis(time.Since(t)))
		}
		return goja.Undefined()
	}))
	must(console.Set("dir", func(call goja.FunctionCall) goja.Value {
		r.writeLine(r.stdout, r.Inspect(call.Argument(0), r.opts.Color))
		return goja.Undefined()
	}))
	must(vm.Set("console", console))
	r.RegisterModule("console", func(vm *goja.Runtime, m *goja.Object) { must(m.Set("exports", console)) })
}

func labelOf(call goja.FunctionCall) string {
	if a := call.Argument(0); !goja.IsUndefined(a) {
		return a.String()
	}
	return "default"
}

func fmtMillis(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(formatFloat(float64(d.Microseconds())/1000, 3), "0"), ".") + "ms"
}

// Format formats args like console.log does. Loop only.
func (r *Runtime) Format(args ...goja.Value) string {
	opts := r.vm.NewObject()
	if r.opts.Color {
		_ = opts.Set("colors", true)
	}
	all := make([]goja.Value, 0, len(args)+1)
	all = append(all, opts)
	all = append(all, args...)
	s, err := r.format(goja.Undefined(), all...)
	if err != nil {
		panic(err)
	}
	return s.String()
}

func (r *Runtime) writeLine(w io.Writer, s string) {
	buf := make([]byte, 0, len(s)+1)
	buf = append(buf, s...)
	buf = append(buf, '\n')
	_, _ = w.Write(buf)
}

func (r *Runtime) installProcess() {
	vm := r.vm
	p := vm.NewObject()
	env := vm.NewObject()
	if r.opts.Env != nil {
		for k, v := range r.opts.Env {
			must(env.Set(k, v))
		}
	}
	must(p.Set("env", env))
	must(p.Set("argv", []any{r.argv0()}))
	must(p.Set("platform", goosName()))
	must(p.Set("version", "v"+Version))
	must(p.Set("versions", map[string]any{"amqpjs": Version}))
	must(p.Set("pid", os.Getpid()))
	must(p.Set("exitCode", goja.Undefined()))
	must(p.Set("exit", func(call goja.FunctionCall) goja.Value {
		code := r.ExitCode()
		if a := call.Argument(0); !goja.IsUndefined(a) && !goja.IsNull(a) {
			code = int(a.ToInteger())
		}
		e := &ExitError{Code: code}
		r.loop.Fail(e)
		vm.Interrupt(e)
		return goja.Undefined()
	}))
	must(p.Set("cwd", func(goja.FunctionCall) goja.Value {
		wd, _ := os.Getwd()
		return vm.ToValue(wd)
	}))
	must(p.Set("nextTick", func(call goja.FunctionCall) goja.Value {
		fn, ok := goja.AssertFunction(call.Argument(0))
		if !ok {
			panic(vm.NewTypeError("process.nextTick: parameter 'callback' must be a function, got %s", typeOf(call.Argument(0))))
		}
		args := append([]goja.Value(nil), call.Arguments[1:]...)
		qm, _ := goja.AssertFunction(vm.Get("queueMicrotask"))
		_, err := qm(goja.Undefined(), vm.ToValue(func(goja.FunctionCall) goja.Value {
			if _, err := fn(goja.Undefined(), args...); err != nil {
				panic(err)
			}
			return goja.Undefined()
		}))
		if err != nil {
			panic(err)
		}
		return goja.Undefined()
	}))
	start := time.Now()
	hr := func(call goja.FunctionCall) goja.Value {
		d := time.Since(start)
		return vm.ToValue([]any{int64(d / time.Second), int64(d % time.Second)})
	}
	hrObj := vm.ToValue(hr).ToObject(vm)
	must(hrObj.Set("bigint", func(goja.FunctionCall) goja.Value {
		v, err := vm.RunString(formatInt(time.Since(start).Nanoseconds()) + "n")
		if err != nil {
			panic(err)
		}
		return v
	}))
	must(p.Set("hrtime", hrObj))
	must(p.Set("memoryUsage", func(goja.FunctionCall) goja.Value {
		return vm.ToValue(memoryUsage())
	}))
	must(p.Set("cpuUsage", func(call goja.FunctionCall) goja.Value {
		// Node's process.cpuUsage([previousValue]): microseconds of user
		// and system CPU time, the difference from previousValue if given.
		user, system := cpuusage.Self()
		u, s := user.Microseconds(), system.Microseconds()
		if prev, ok := call.Argument(0).(*goja.Object); ok {
			if v := prev.Get("user"); v != nil {
				u -= v.ToInteger()
			}
			if v := prev.Get("system"); v != nil {
				s -= v.ToInteger()
			}
		}
		o := vm.NewObject()
		must(o.Set("user", u))
		must(o.Set("system", s))
		return o
	}))
	stream := func(w io.Writer) *goja.Object {
		o := vm.NewObject()
		must(o.Set("write", func(call goja.FunctionCall) goja.Value {
			a := call.Argument(0)
			if b, ok := a.Export().([]byte); ok {
				_, _ = w.Write(b)
			} else {
				_, _ = io.WriteString(w, a.String())
			}
			return vm.ToValue(true)
		}))
		return o
	}
	must(p.Set("stdout", stream(r.stdout)))
	must(p.Set("stderr", stream(r.stderr)))
	r.process = p
	must(vm.Set("process", p))
	r.RegisterModule("process", func(vm *goja.Runtime, m *goja.Object) { must(m.Set("exports", p)) })
}

// installTextCoding adds TextEncoder and TextDecoder (UTF-8 only).
func installTextCoding(vm *goja.Runtime) {
	u8, _ := goja.AssertConstructor(vm.Get("Uint8Array"))
	must(vm.Set("TextEncoder", func(call goja.ConstructorCall) *goja.Object {
		o := call.This
		must(o.Set("encoding", "utf-8"))
		must(o.Set("encode", func(c goja.FunctionCall) goja.Value {
			s := ""
			if a := c.Argument(0); !goja.IsUndefined(a) {
				s = a.String()
			}
			arr, err := u8(nil, vm.ToValue(vm.NewArrayBuffer([]byte(s))))
			if err != nil {
				panic(err)
			}
			return arr
		}))
		return nil
	}))
	must(vm.Set("TextDecoder", func(call goja.ConstructorCall) *goja.Object {
		label := "utf-8"
		if a := call.Argument(0); !goja.IsUndefined(a) {
			label = strings.ToLower(a.String())
		}
		if label != "utf-8" && label != "utf8" {
			panic(NewRangeError(vm, "TextDecoder: only 'utf-8' is supported, got '"+label+"'"))
		}
		o := call.This
		must(o.Set("encoding", "utf-8"))
		must(o.Set("decode", func(c goja.FunctionCall) goja.Value {
			a := c.Argument(0)
			if goja.IsUndefined(a) {
				return vm.ToValue("")
			}
			b, ok := BytesOf(vm, a)
			if !ok {
				panic(vm.NewTypeError("TextDecoder.decode: parameter 'input' must be an ArrayBuffer or a view of one, got %s", typeOf(a)))
			}
			if utf8.Valid(b) {
				return vm.ToValue(string(b))
			}
			return vm.ToValue(strings.ToValidUTF8(string(b), "\uFFFD"))
		}))
		return nil
	}))
}

// NewRangeError makes a JS RangeError with message msg. Loop only.
func NewRangeError(vm *goja.Runtime, msg string) *goja.Object {
	c, _ := goja.AssertConstructor(vm.Get("RangeError"))
	o, err := c(nil, vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	return o
}

// BytesOf returns the bytes of an ArrayBuffer, a typed array (Buffer,
// Uint8Array, …) or a DataView, without copying. Loop only.
func BytesOf(vm *goja.Runtime, v goja.Value) ([]byte, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	// ExportType is cheap: unlike Export it converts nothing, so an object
	// holding a huge array costs nothing here.
	switch o.ExportType() {
	case typeBytes:
		b, ok := o.Export().([]byte)
		return b, ok
	case typeArrayBuffer:
		ab, ok := o.Export().(goja.ArrayBuffer)
		return ab.Bytes(), ok
	}
	if !isArrayBufferView(vm, o) {
		return nil, false
	}
	bufV, offV, lenV := o.Get("buffer"), o.Get("byteOffset"), o.Get("byteLength")
	if bufV == nil || offV == nil || lenV == nil {
		return nil, false
	}
	bo, ok := bufV.(*goja.Object)
	if !ok || bo.ExportType() != typeArrayBuffer {
		return nil, false
	}
	ab, _ := bo.Export().(goja.ArrayBuffer)
	off, n := offV.ToInteger(), lenV.ToInteger()
	b := ab.Bytes()
	if off < 0 || n < 0 || off+n > int64(len(b)) {
		return nil, false
	}
	return b[off : off+n], true
}

var (
	typeBytes       = reflect.TypeOf([]byte(nil))
	typeArrayBuffer = reflect.TypeOf(goja.ArrayBuffer{})
)

// isArrayBufferView reports whether o is a typed array or a DataView (its
// prototype chain reaches %TypedArray%.prototype or DataView.prototype).
func isArrayBufferView(vm *goja.Runtime, o *goja.Object) bool {
	var protos []*goja.Object
	if u8, ok := vm.Get("Uint8Array").(*goja.Object); ok {
		if p, ok := u8.Get("prototype").(*goja.Object); ok && p.Prototype() != nil {
			protos = append(protos, p.Prototype())
		}
	}
	if dv, ok := vm.Get("DataView").(*goja.Object); ok {
		if p, ok := dv.Get("prototype").(*goja.Object); ok {
			protos = append(protos, p)
		}
	}
	p := o.Prototype()
	for depth := 0; p != nil && depth < 16; depth++ {
		for _, want := range protos {
			if p.SameAs(want) {
				return true
			}
		}
		p = p.Prototype()
	}
	return false
}

// typeOf names a value's type for error messages ("a string", "null", …).
func typeOf(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	}
	switch v.ExportType().Kind().String() {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int64", "float64":
		return "a number"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "a function"
	}
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Array" {
			return "an array"
		}
		return "an object"
	}
	return v.ExportType().String()
}

// TypeOf is typeOf for other packages' error messages. Loop only.
func TypeOf(v goja.Value) string { return typeOf(v) }
