package bindings

import (
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/dop251/goja"
)

// kind is the accepted type of a parameter.
type kind uint8

const (
	kString   kind = iota
	kBool          // true/false only
	kInt           // integer number within [min, max]
	kSeconds       // non-negative number (timeout), null allowed
	kTable         // plain object or null: a field table
	kObject        // plain object (properties, ssl options)
	kFunc          // function
	kFuncNull      // function or null
	kAny           // anything (checked by the caller)
)

func (k kind) String() string {
	switch k {
	case kString:
		return "a string"
	case kBool:
		return "a boolean"
	case kInt:
		return "an integer"
	case kSeconds:
		return "a number of seconds"
	case kTable, kObject:
		return "a plain object"
	case kFunc:
		return "a function"
	case kFuncNull:
		return "a function or null"
	}
	return "a value"
}

// param describes one parameter. Positional parameters come in aioamqp's
// order; options-only ones (timeout, concurrency…) set optOnly.
type param struct {
	name     string
	kind     kind
	required bool
	optOnly  bool
	min, max int64 // for kInt
}

// sig is the signature of one method: docs/api.md §2's calling convention.
type sig struct {
	method string
	params []param
	names  string // "a, b, c" for error messages
	npos   int
}

func newSig(method string, params ...param) *sig {
	s := &sig{method: method, params: params}
	var names []string
	for _, p := range params {
		names = append(names, p.name)
		if !p.optOnly {
			s.npos++
		}
	}
	s.names = strings.Join(names, ", ")
	return s
}

func pInt(name string, min, max int64) param {
	return param{name: name, kind: kInt, min: min, max: max}
}
func pStr(name string) param  { return param{name: name, kind: kString} }
func pBool(name string) param { return param{name: name, kind: kBool} }
func pReq(p param) param      { p.required = true; return p }
func pOpt(p param) param      { p.optOnly = true; return p }
func pTimeout() param         { return param{name: "timeout", kind: kSeconds, optOnly: true} }

// argError is a TypeError or RangeError to throw with a Node-style code.
type argError struct {
	rangeErr bool
	code     string
	msg      string
}

func (e *argError) Error() string { return e.msg }

// parse applies the calling convention to call's arguments: positional
// values in order, then an optional trailing plain options object. It
// returns one value per param (nil where not given). Violations panic with
// a TypeError or RangeError (synchronous throw, nothing sent). Loop only.
func (s *sig) parse(vm *goja.Runtime, args []goja.Value) []goja.Value {
	out, err := s.parseErr(vm, args)
	if err != nil {
		panic(throwArg(vm, err))
	}
	return out
}

func (s *sig) parseErr(vm *goja.Runtime, args []goja.Value) ([]goja.Value, *argError) {
	out := make([]goja.Value, len(s.params))
	if err := s.parseInto(vm, args, out); err != nil {
		return nil, err
	}
	return out, nil
}

// parseInto is parseErr into out, len(s.params) values, all nil.
func (s *sig) parseInto(vm *goja.Runtime, args []goja.Value, out []goja.Value) *argError {
	n := len(args)
	var opts *goja.Object
	if n > 0 {
		// A trailing plain object is always the options object (docs/api.md §2):
		// no positional parameter of aioamqp's takes one.
		if o, ok := isPlainObject(vm, args[n-1]); ok {
			opts = o
			n--
		}
	}
	if n > s.npos {
		return &argError{code: "ERR_TOO_MANY_ARGS", msg: fmt.Sprintf("%s: too many positional arguments: got %d, accepts at most %d (%s); pass the rest by name in an options object", s.method, n, s.npos, s.positionalNames())}
	}
	pi := 0
	for i := range s.params {
		if s.params[i].optOnly {
			continue
		}
		if pi < n {
			if !goja.IsUndefined(args[pi]) {
				out[i] = args[pi]
			}
		}
		pi++
	}
	if opts != nil {
		for _, k := range opts.Keys() {
			idx := s.index(k)
			if idx < 0 {
				return &argError{code: "ERR_INVALID_ARG_VALUE", msg: fmt.Sprintf("%s: unknown option '%s' (expected one of: %s)", s.method, k, s.names)}
			}
			v := opts.Get(k)
			if goja.IsUndefined(v) {
				continue
			}
			if out[idx] != nil {
				return &argError{code: "ERR_INVALID_ARG_VALUE", msg: fmt.Sprintf("%s: parameter '%s' given both positionally and by name", s.method, k)}
			}
			out[idx] = v
		}
	}
	for i, p := range s.params {
		v := out[i]
		if v == nil {
			if p.required {
				return &argError{code: "ERR_MISSING_ARGS", msg: fmt.Sprintf("%s: missing required parameter '%s'", s.method, p.name)}
			}
			continue
		}
		if err := s.check(vm, p, v); err != nil {
			return err
		}
	}
	return nil
}

func (s *sig) positionalNames() string {
	var names []string
	for _, p := range s.params {
		if !p.optOnly {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, ", ")
}

func (s *sig) index(name string) int {
	for i := range s.params {
		if s.params[i].name == name {
			return i
		}
	}
	return -1
}

func (s *sig) check(vm *goja.Runtime, p param, v goja.Value) *argError {
	bad := func() *argError {
		return &argError{code: "ERR_INVALID_ARG_TYPE", msg: fmt.Sprintf("%s: parameter '%s' must be %s, got %s", s.method, p.name, p.kind, describe(v))}
	}
	switch p.kind {
	case kString:
		if !goja.IsString(v) {
			return bad()
		}
		if shortStrings[p.name] {
			if n := len(v.String()); n > 255 {
				return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: parameter '%s' must be at most 255 bytes long (an AMQP short string), got %d bytes", s.method, p.name, n)}
			}
		}
	case kBool:
		if !isBool(v) {
			return bad()
		}
	case kInt:
		f, ok := number(v)
		if !ok {
			return bad()
		}
		if f != math.Trunc(f) || f < float64(p.min) || f > float64(p.max) {
			return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: parameter '%s' must be an integer from %d to %d, got %s", s.method, p.name, p.min, p.max, vm.ToValue(v).String())}
		}
	case kSeconds:
		if goja.IsNull(v) {
			return nil
		}
		f, ok := number(v)
		if !ok {
			return bad()
		}
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: fmt.Sprintf("%s: parameter '%s' must be a finite number of seconds ≥ 0, got %s", s.method, p.name, v.String())}
		}
	case kTable:
		if goja.IsNull(v) {
			return nil
		}
		if _, ok := isPlainObject(vm, v); !ok {
			return bad()
		}
	case kObject:
		if _, ok := isPlainObject(vm, v); !ok {
			return bad()
		}
	case kFunc:
		if _, ok := goja.AssertFunction(v); !ok {
			return bad()
		}
	case kFuncNull:
		if goja.IsNull(v) {
			return nil
		}
		if _, ok := goja.AssertFunction(v); !ok {
			return bad()
		}
	}
	return nil
}

// shortStrings are the string parameters that AMQP sends as short strings
// (at most 255 bytes): longer ones are a RangeError at the call, like any
// other argument AMQP cannot encode, instead of a rejection later.
var shortStrings = map[string]bool{
	"queue_name": true, "exchange_name": true, "routing_key": true, "exchange_destination": true,
	"exchange_source": true, "type_name": true, "consumer_tag": true, "reply_text": true, "virtualhost": true,
}

// number returns a primitive number's value (not a Number object, not a
// BigInt).
func number(v goja.Value) (float64, bool) {
	if !goja.IsNumber(v) {
		return 0, false
	}
	return v.ToFloat(), true
}

// isBool reports whether v is a primitive boolean (a Boolean object is not:
// every object is truthy, so new Boolean(false) would read as true).
func isBool(v goja.Value) bool {
	if v == nil {
		return false
	}
	if _, isObj := v.(*goja.Object); isObj {
		return false
	}
	return v.ExportType() == typeBool
}

var typeBool = reflect.TypeOf(true)

// isPlainObject reports whether v is an object literal (prototype
// Object.prototype or null), not an array, function, buffer, date…
func isPlainObject(vm *goja.Runtime, v goja.Value) (*goja.Object, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return nil, false
	}
	if o.ClassName() != "Object" {
		return nil, false
	}
	proto := o.Prototype()
	if proto == nil {
		return o, true
	}
	objProto := vm.Get("Object").ToObject(vm).Get("prototype").(*goja.Object)
	if proto.SameAs(objProto) {
		return o, true
	}
	return nil, false
}

// describe names v's type (and a short value) for error messages. It never
// exports v: an object holding a huge array costs nothing.
func describe(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsString(v):
		x := v.String()
		if len(x) > 40 {
			x = x[:40] + "…"
		}
		return fmt.Sprintf("a string (%q)", x)
	case goja.IsNumber(v):
		return fmt.Sprintf("a number (%s)", v.String())
	case goja.IsBigInt(v):
		return fmt.Sprintf("a bigint (%sn)", v.String())
	case isBool(v):
		return fmt.Sprintf("a boolean (%s)", v.String())
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "a symbol"
	}
	if _, ok := goja.AssertFunction(v); ok {
		return "a function"
	}
	if o, ok := v.(*goja.Object); ok {
		switch o.ClassName() {
		case "Array":
			return "an array"
		case "Object":
			if c, ok := o.Get("constructor").(*goja.Object); ok {
				if n := c.Get("name"); n != nil && goja.IsString(n) && n.String() != "Object" && n.String() != "" {
					name := n.String()
					if strings.Contains(name, "buffer.(*Buffer)") {
						return "a Buffer"
					}
					if !strings.ContainsAny(name, "/(*") {
						return "an instance of " + name
					}
				}
			}
			return "an object"
		}
		return "an instance of " + o.ClassName()
	}
	return "a value of type " + v.ExportType().String()
}

// throwArg builds the JS error for e. Loop only.
func throwArg(vm *goja.Runtime, e *argError) *goja.Object {
	ctorName := "TypeError"
	if e.rangeErr {
		ctorName = "RangeError"
	}
	return newJSError(vm, ctorName, e.msg, e.code)
}

func newJSError(vm *goja.Runtime, ctorName, msg, code string) *goja.Object {
	c, _ := goja.AssertConstructor(vm.Get(ctorName))
	o, err := c(nil, vm.ToValue(msg))
	if err != nil {
		panic(err)
	}
	if code != "" {
		_ = o.Set("code", code)
	}
	return o
}

// Accessors for parsed values; v may be nil (not given).

func str(v goja.Value, def string) string {
	if v == nil {
		return def
	}
	return v.String()
}

func boolean(v goja.Value, def bool) bool {
	if v == nil {
		return def
	}
	return v.ToBoolean()
}

func integer(v goja.Value, def int64) int64 {
	if v == nil {
		return def
	}
	return v.ToInteger()
}

func seconds(v goja.Value) float64 {
	if v == nil || goja.IsNull(v) {
		return 0
	}
	return v.ToFloat()
}
