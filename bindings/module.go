// Package bindings is the JavaScript API of amqpjs: the "aioamqp" module of
// docs/api.md, over the Go session layer in package amqp.
//
// # Concurrency
//
// Every goja value is touched only on the runtime's loop goroutine. Calls
// into package amqp return at once; their completion callbacks run on amqp's
// goroutines and only enqueue a task on the loop (through a
// [runtime.Resolver] or [runtime.Loop.RunOnLoop]), where results and errors
// become JS values. Consumer pumps in amqp never wait for JavaScript:
// deliveries are queued on the loop side, per consumer.
package bindings

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime"
)

// ModuleName is the name scripts require/import.
const ModuleName = "aioamqp"

//go:embed js/exceptions.js
var exceptionsJS string

//go:embed js/prelude.js
var preludeJS string

var (
	exceptionsPrg = goja.MustCompile("amqpjs:aioamqp/exceptions.js", exceptionsJS, true)
	preludePrg    = goja.MustCompile("amqpjs:aioamqp/prelude.js", preludeJS, true)
)

// Options configure the module for one runtime.
type Options struct {
	// Defaults from --url / AMQP_URL; nil means aioamqp's defaults.
	Defaults *ConnectDefaults

	// Dial, when not nil, opens the transport of every connect() and
	// from_url() of the runtime instead of a net.Dialer (it becomes
	// amqp.Config.Dial): a proxy, an SSH tunnel, an in-memory pipe, a fault
	// injector. It is called on a goroutine of its own, never on the loop,
	// with the connect timeout in ctx and the "host:port" the script asked
	// for; it may block until ctx ends. When the script asks for TLS, TLS
	// runs over the connection it returns.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Logger, when not nil, receives the module's warnings (a returned
	// message without a return_callback, a failing cancellation callback)
	// as slog records at level Warn, instead of the "amqpjs: warning: …"
	// lines written to the runtime's stderr. It is called on the loop
	// goroutine.
	Logger *slog.Logger

	// ManagementURL is the RabbitMQ management API of the amqpjs/rabbitmq
	// module (--management-url), e.g. "http://admin:pw@broker:15672"; ""
	// derives it from Defaults: http://HOST:15672 with the AMQP URL's host,
	// user and password (see ManagementConfig).
	ManagementURL string

	// Faults, when not nil, is the set of connections that the
	// amqpjs/faults module's connections() lists: give every runtime of a
	// run the same one so that a VU can inject faults into the connections
	// of the others. Nil: each runtime lists only its own.
	Faults *FaultScope
}

// Register installs the aioamqp module in rt. Call before rt runs.
func Register(rt *runtime.Runtime, opts Options) {
	m := &module{rt: rt, loop: rt.Loop(), opts: opts, conns: map[*connection]struct{}{}}
	// Connects still dialling when the run ends are cancelled, and a
	// connection dialled but not yet handed to the script is dropped (see
	// connect), so no socket outlives the runtime.
	m.runCtx, m.endRun = context.WithCancel(context.Background())
	rt.Loop().OnShutdown(m.endRun)
	rt.RegisterModule(ModuleName, m.load)
	rt.RegisterModule("node:"+ModuleName, m.load)
	registerRabbitMQ(m)
	rt.RegisterModule(FaultsModuleName, m.loadFaults) // faults.go
}

// module is the per-runtime state of the aioamqp module. loop-owned.
type module struct {
	rt       *runtime.Runtime
	loop     *runtime.Loop
	opts     Options
	exports  *goja.Object
	exc      map[string]*goja.Object // exception constructors by name
	prelude  *goja.Object
	conns    map[*connection]struct{}
	hooked   bool
	runCtx   context.Context // cancelled when the loop shuts down
	endRun   context.CancelFunc
	mx       moduleMetrics     // metrics.go
	siteBuf  []goja.StackFrame // scratch of site (callsite.go)
	lastSite callSite          // the last capture, shared by calls from its place

	faultsExports *goja.Object // amqpjs/faults (faults.go)
}

// cachedExports gives a module loaded again the exports of its first load
// (*cache) and reports true; on the first load it caches the module's
// exports object in *cache and returns it to be filled.
func cachedExports(module *goja.Object, cache **goja.Object) (*goja.Object, bool) {
	if *cache != nil {
		_ = module.Set("exports", *cache)
		return nil, true
	}
	ex := module.Get("exports").(*goja.Object)
	*cache = ex
	return ex, false
}

// runFactory runs one of the binary's own compiled programs, whose value is
// a function, and returns what calling that function with args gives. They
// are compiled in, so an error is a bug and panics.
func runFactory(vm *goja.Runtime, prg *goja.Program, args ...goja.Value) goja.Value {
	f, err := vm.RunProgram(prg)
	if err != nil {
		panic(err)
	}
	fn, _ := goja.AssertFunction(f)
	v, err := fn(goja.Undefined(), args...)
	if err != nil {
		panic(err)
	}
	return v
}

func (m *module) load(vm *goja.Runtime, module *goja.Object) {
	exports, cached := cachedExports(module, &m.exports)
	if cached {
		return
	}
	excObj := runFactory(vm, exceptionsPrg).ToObject(vm)
	m.exc = map[string]*goja.Object{}
	exceptions := vm.NewObject()
	for _, name := range excObj.Keys() {
		c := excObj.Get(name).ToObject(vm)
		m.exc[name] = c
		_ = exports.Set(name, c)
		_ = exceptions.Set(name, c)
	}
	_ = exports.Set("exceptions", exceptions)
	m.prelude = runFactory(vm, preludePrg, excObj).ToObject(vm)

	_ = exports.Set("version", runtime.Version)
	for i, name := range []string{"CONNECTING", "OPEN", "CLOSING", "CLOSED"} {
		_ = exports.Set(name, i)
	}
	setMethod(vm, exports, "connect", m.jsConnect)
	setMethod(vm, exports, "from_url", m.jsFromURL)
	_ = exports.Set("default", exports)
}

// newError builds an instance of the exception class name with args. Loop
// only.
func (m *module) newError(name string, args ...any) *goja.Object {
	vm := m.rt.VM()
	c := m.exc[name]
	vals := make([]goja.Value, len(args))
	for i, a := range args {
		vals[i] = vm.ToValue(a)
	}
	o, err := vm.New(c, vals...)
	if err != nil {
		panic(err)
	}
	return o
}

// jsError maps a Go error from package amqp to an instance of the §8
// classes. timeout is the call's timeout in seconds (for TimeoutError).
// A bare Go error never reaches a script. Loop only.
func (m *module) jsError(err error, timeout float64) goja.Value {
	var rj *runtime.Rejection
	if errors.As(err, &rj) {
		return rj.Value
	}
	var lr *lazyRejection
	if errors.As(err, &lr) {
		return lr.build(m.rt.VM())
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		return m.newError("AioamqpException", err.Error())
	}
	msg := ae.Reason
	if msg == "" {
		msg = ae.Error()
	}
	switch ae.Kind {
	case amqp.KindConnectionClosed:
		return m.newError("AmqpClosedConnection", msg, ae.Code)
	case amqp.KindChannelClosed:
		return m.newError("ChannelClosed", ae.Code, msg)
	case amqp.KindNoChannel:
		return m.newError("NoChannelAvailable", msg)
	case amqp.KindTimeout:
		return m.newError("TimeoutError", timeout, fmt.Sprintf("%s: timed out after %v s", ae.Op, timeout))
	case amqp.KindSync:
		return m.newError("SynchronizationError", msg)
	case amqp.KindPublishNacked:
		return m.newError("PublishFailed", ae.DeliveryTag)
	case amqp.KindDuplicateConsumer:
		return m.newError("DuplicateConsumerTag", ae.ConsumerTag)
	case amqp.KindConsumerCancelled:
		return m.newError("ConsumerCancelled", ae.ConsumerTag)
	}
	e := m.newError("AioamqpException", msg)
	if ae.Code != 0 {
		_ = e.Set("code", ae.Code)
	}
	return e
}

// rejection wraps jsError for a Resolver.
func (m *module) rejection(err error, timeout float64) error {
	return &runtime.Rejection{Value: m.jsError(err, timeout)}
}

// jsErrorAt is jsError with the stack of the call at site (callsite.go).
// Loop only.
func (m *module) jsErrorAt(err error, timeout float64, site callSite) goja.Value {
	v := m.jsError(err, timeout)
	stamp(m.rt.VM(), v, site, "")
	return v
}

// rejectionAt is rejection with the stack of the call at site.
func (m *module) rejectionAt(err error, timeout float64, site callSite) error {
	return &runtime.Rejection{Value: m.jsErrorAt(err, timeout, site)}
}

// setMethod sets obj[name] to fn as a function whose name is name (goja
// would otherwise name it after the Go symbol, which stack traces and
// util.inspect show). Loop only.
func setMethod(vm *goja.Runtime, obj *goja.Object, name string, fn func(goja.FunctionCall) goja.Value) {
	f := vm.ToValue(fn).(*goja.Object)
	_ = f.DefineDataProperty("name", vm.ToValue(name), goja.FLAG_FALSE, goja.FLAG_TRUE, goja.FLAG_FALSE)
	_ = obj.Set(name, f)
}

func uncaught(v goja.Value) error { return &runtime.UncaughtError{Value: v} }

func newBuffer(vm *goja.Runtime, b []byte) goja.Value {
	if b == nil {
		b = []byte{}
	}
	return buffer.WrapBytes(vm, b)
}

// warn prints a warning on stderr, or logs it to Options.Logger. Loop only.
func (m *module) warn(format string, args ...any) {
	if m.opts.Logger != nil {
		m.opts.Logger.Warn(fmt.Sprintf(format, args...), "module", ModuleName)
		return
	}
	_, _ = fmt.Fprintf(m.rt.Stderr(), "amqpjs: warning: "+format+"\n", args...)
}

// closeAll closes every open connection when the run ends (normally, on an
// error, or on Ctrl-C), so no socket is left half-open. Loop only.
func (m *module) closeAll() {
	for c := range m.conns {
		c.shutdown()
	}
}
