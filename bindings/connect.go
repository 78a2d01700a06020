package bindings

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime"
)

// Connection states (aioamqp.protocol).
const (
	stateConnecting = iota
	stateOpen
	stateClosing
	stateClosed
)

var connectSig = newSig("connect",
	pStr("host"), pInt("port", 1, 65535), pStr("login"), pStr("password"), pStr("virtualhost"),
	param{name: "ssl", kind: kAny}, pStr("login_method"), pBool("insist"),
	pOpt(pBool("verify_ssl")),
	pOpt(pInt("heartbeat", 0, 65535)), pOpt(pInt("channel_max", 0, 65535)), pOpt(pInt("frame_max", 0, 1<<32-1)),
	pOpt(param{name: "client_properties", kind: kTable}),
	pOpt(param{name: "on_error", kind: kFuncNull}),
	pOpt(param{name: "on_blocked", kind: kFuncNull}), pOpt(param{name: "on_unblocked", kind: kFuncNull}),
	pTimeout(),
	pOpt(param{name: "loop", kind: kAny}), pOpt(param{name: "protocol_factory", kind: kAny}),
)

const (
	cHost = iota
	cPort
	cLogin
	cPassword
	cVhost
	cSSL
	cLoginMethod
	cInsist
	cVerifySSL
	cHeartbeat
	cChannelMax
	cFrameMax
	cClientProps
	cOnError
	cOnBlocked
	cOnUnblocked
	cTimeout
	cLoop
	cProtocolFactory
)

var fromURLSig = newSig("from_url", pReq(pStr("url")),
	pOpt(pStr("login_method")), pOpt(pBool("insist")), pOpt(param{name: "ssl", kind: kAny}), pOpt(pBool("verify_ssl")),
	pOpt(pInt("heartbeat", 0, 65535)), pOpt(pInt("channel_max", 0, 65535)), pOpt(pInt("frame_max", 0, 1<<32-1)),
	pOpt(param{name: "client_properties", kind: kTable}),
	pOpt(param{name: "on_error", kind: kFuncNull}),
	pOpt(param{name: "on_blocked", kind: kFuncNull}), pOpt(param{name: "on_unblocked", kind: kFuncNull}),
	pTimeout(),
	pOpt(param{name: "loop", kind: kAny}), pOpt(param{name: "protocol_factory", kind: kAny}),
)

func (m *module) defaults() ConnectDefaults {
	if m.opts.Defaults != nil {
		return *m.opts.Defaults
	}
	return builtinDefaults()
}

// jsConnect is aioamqp.connect(options?) / connect(host, port, …).
func (m *module) jsConnect(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	a := connectSig.parse(vm, call.Arguments)
	d := m.defaults()
	return m.connect(vm, "connect", d, a)
}

// jsFromURL is aioamqp.from_url(url, options?).
func (m *module) jsFromURL(call goja.FunctionCall) goja.Value {
	vm := m.rt.VM()
	a := fromURLSig.parse(vm, call.Arguments)
	d, err := amqp.ParseURL(a[0].String())
	if err != nil {
		panic(newJSError(vm, "TypeError", "from_url: "+err.Error(), "ERR_INVALID_URL"))
	}
	// Map from_url's parsed values onto connect's parameter slots.
	c := make([]goja.Value, len(connectSig.params))
	for i, p := range fromURLSig.params[1:] {
		c[connectSig.index(p.name)] = a[i+1]
	}
	return m.connect(vm, "from_url", d, c)
}

func (m *module) connect(vm *goja.Runtime, method string, d ConnectDefaults, a []goja.Value) goja.Value {
	for _, i := range []int{cLoop, cProtocolFactory} {
		if a[i] != nil {
			panic(newJSError(vm, "TypeError", method+": option '"+connectSig.params[i].name+"' is Python-only (asyncio); amqpjs runs every script on its own event loop", "ERR_INVALID_ARG_VALUE"))
		}
	}
	cfg := amqp.Config{
		Host: d.Host, Port: d.Port, Login: d.Login, Password: d.Password, Vhost: d.Vhost,
		LoginMethod: "PLAIN", Heartbeat: d.Heartbeat, FrameMax: d.FrameMax, ChannelMax: d.ChannelMax,
		ConnectTimeout: d.ConnectTimeout, Dial: m.opts.Dial,
	}
	tlsOn := d.SSL
	var tlsOpts amqp.TLSOptions
	if v := a[cHost]; v != nil {
		cfg.Host = v.String()
	}
	if v := a[cLogin]; v != nil {
		cfg.Login = v.String()
	}
	if v := a[cPassword]; v != nil {
		cfg.Password = v.String()
	}
	if v := a[cVhost]; v != nil {
		cfg.Vhost = v.String()
	}
	if v := a[cSSL]; v != nil && !goja.IsNull(v) {
		switch x := v.Export().(type) {
		case bool:
			tlsOn = x
		default:
			o, ok := isPlainObject(vm, v)
			if !ok {
				panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: method + ": parameter 'ssl' must be a boolean or an object { ca_file, cert_file, key_file, server_name }, got " + describe(v)}))
			}
			tlsOn = true
			for _, k := range o.Keys() {
				fv := o.Get(k)
				s, isStr := fv.Export().(string)
				if !isStr && !goja.IsUndefined(fv) {
					panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_TYPE", msg: method + ": ssl." + k + " must be a string, got " + describe(fv)}))
				}
				switch k {
				case "ca_file":
					tlsOpts.CAFile = s
				case "cert_file":
					tlsOpts.CertFile = s
				case "key_file":
					tlsOpts.KeyFile = s
				case "server_name":
					tlsOpts.ServerName = s
				default:
					panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_VALUE", msg: method + ": unknown ssl option '" + k + "' (expected one of: ca_file, cert_file, key_file, server_name)"}))
				}
			}
		}
	}
	if tlsOn {
		tlsOpts.SkipVerify = !boolean(a[cVerifySSL], true)
		cfg.TLS = &tlsOpts
	}
	if v := a[cPort]; v != nil {
		cfg.Port = int(v.ToInteger())
	}
	if cfg.Port == 0 {
		cfg.Port = 5672
		if tlsOn {
			cfg.Port = 5671
		}
	}
	if v := a[cLoginMethod]; v != nil {
		switch lm := v.String(); lm {
		case "PLAIN", "AMQPLAIN", "EXTERNAL":
			cfg.LoginMethod = lm
		default:
			panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_VALUE", msg: method + ": parameter 'login_method' must be one of 'PLAIN', 'AMQPLAIN', 'EXTERNAL', got '" + lm + "'"}))
		}
	}
	tuning := vm.NewObject()
	intPtr := func(i int) *int {
		v := a[i]
		if v == nil {
			return nil
		}
		n := int(v.ToInteger())
		_ = tuning.Set(connectSig.params[i].name, n)
		return &n
	}
	if p := intPtr(cHeartbeat); p != nil {
		cfg.Heartbeat = p
	}
	if p := intPtr(cChannelMax); p != nil {
		cfg.ChannelMax = p
	}
	if p := intPtr(cFrameMax); p != nil {
		if *p != 0 && *p < 4096 {
			panic(throwArg(vm, &argError{rangeErr: true, code: "ERR_OUT_OF_RANGE", msg: method + ": parameter 'frame_max' must be 0 (no limit) or at least 4096 (AMQP's minimum), got " + a[cFrameMax].String()}))
		}
		cfg.FrameMax = p
	}
	clientProps := vm.NewObject()
	if v := a[cClientProps]; v != nil && !goja.IsNull(v) {
		t, err := tableFromJS(vm, v, method+": client_properties")
		if err != nil {
			panic(newJSError(vm, "TypeError", err.Error(), "ERR_INVALID_ARG_TYPE"))
		}
		cfg.ClientProperties = t
		clientProps = v.ToObject(vm)
	}
	if t := seconds(a[cTimeout]); t > 0 {
		cfg.ConnectTimeout = time.Duration(t * float64(time.Second))
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	var onError, onBlocked, onUnblocked goja.Callable
	if v := a[cOnError]; v != nil && !goja.IsNull(v) {
		onError, _ = goja.AssertFunction(v)
	}
	if v := a[cOnBlocked]; v != nil && !goja.IsNull(v) {
		onBlocked, _ = goja.AssertFunction(v)
	}
	if v := a[cOnUnblocked]; v != nil && !goja.IsNull(v) {
		onUnblocked, _ = goja.AssertFunction(v)
	}
	c := &connection{m: m, onError: onError, clientProps: clientProps, tuning: tuning, site: m.site()}
	if onBlocked != nil {
		cfg.OnBlocked = func(reason string) {
			m.loop.RunOnLoop(func(vm *goja.Runtime) { c.callUser(onBlocked, vm.ToValue(reason)) })
		}
	}
	if onUnblocked != nil {
		cfg.OnUnblocked = func() {
			m.loop.RunOnLoop(func(vm *goja.Runtime) { c.callUser(onUnblocked) })
		}
	}

	p, res := m.loop.NewPromise()
	go func() {
		conn, err := amqp.Dial(m.runCtx, cfg)
		var drop func() bool // until the loop adopts conn, the run's end aborts it
		if err == nil {
			drop = context.AfterFunc(m.runCtx, conn.Abort)
		}
		res.Settle(func(vm *goja.Runtime) (any, error) {
			if err != nil {
				return nil, m.rejectionAt(withStartHint(err), seconds(a[cTimeout]), c.site)
			}
			if !drop() {
				return nil, m.rejectionAt(&amqp.Error{Kind: amqp.KindConnectionClosed, Reason: "connect cancelled"}, 0, c.site)
			}
			return c.open(vm, conn), nil
		})
	}()
	return vm.ToValue(p)
}

// connection is one AMQP connection as the script sees it: the protocol and
// transport objects. loop-owned.
type connection struct {
	m           *module
	conn        *amqp.Conn
	state       int
	byScript    bool // the script closed it (protocol.close; not transport.close, which is a loss)
	onError     goja.Callable
	clientProps *goja.Object
	tuning      *goja.Object
	ref         *runtime.Ref
	waiters     []*runtime.Resolver // wait_closed
	protocol    *goja.Object
	channels    map[*channel]struct{}
	closeErr    *amqp.Error
	cutShort    bool     // transport.close() during protocol.close(): the close resolves
	site        callSite // where connect() was called: on_error's stack
}

// open makes the [transport, protocol] pair once connected. Loop only.
func (c *connection) open(vm *goja.Runtime, conn *amqp.Conn) goja.Value {
	m := c.m
	c.conn = conn
	c.state = stateOpen
	m.noteBroker(conn)
	c.channels = map[*channel]struct{}{}
	c.ref = m.loop.Ref()
	m.conns[c] = struct{}{}
	if !m.hooked {
		m.hooked = true
		m.loop.OnShutdown(m.closeAll)
	}
	conn.OnClose(func(err *amqp.Error) {
		c.ref.Enqueue(func(vm *goja.Runtime) error { return c.closed(vm, err) })
		c.ref.Close()
	})

	proto := vm.NewObject()
	c.protocol = proto
	setMethod(vm, proto, "channel", c.jsChannel)
	setMethod(vm, proto, "close", c.jsClose)
	setMethod(vm, proto, "wait_closed", c.jsWaitClosed)
	getter := func(name string, fn func() any) {
		_ = proto.DefineAccessorProperty(name, vm.ToValue(func(goja.FunctionCall) goja.Value { return vm.ToValue(fn()) }), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	getter("state", func() any { return c.state })
	serverProps := tableToJS(vm, conn.ServerProperties())
	_ = proto.Set("server_properties", serverProps)
	chMax, frameMax, hb := conn.Tuning()
	_ = proto.Set("server_channel_max", chMax)
	_ = proto.Set("server_frame_max", frameMax)
	_ = proto.Set("server_heartbeat", hb)
	_ = proto.Set("client_properties", c.clientProps)
	_ = proto.Set("connection_tunning", c.tuning)
	getter("channels_ids_count", func() any { return conn.ChannelsInUse() })
	m.faultsOpened(c, proto) // amqpjs/faults can act on it (faults.go)

	transport := vm.NewObject()
	setMethod(vm, transport, "close", func(goja.FunctionCall) goja.Value {
		c.closeTransport()
		return goja.Undefined()
	})
	_ = transport.Set("local_address", conn.LocalAddr())
	_ = transport.Set("remote_address", conn.RemoteAddr())
	return vm.NewArray(transport, proto)
}

// closeTransport is transport.close(): the socket is closed at once, without
// the closing handshake. On an open connection that is an abrupt loss, as in
// aioamqp's own tests (test_connection_lost.py): the connection ends as on
// any socket loss, so on_error is called once, pending calls reject and
// consumers stop. After protocol.close() (closing or closed by the script)
// it stays the script's own close: it cuts a close handshake still under way
// short, silently. Once the connection is lost or closed it does nothing.
// Loop only.
func (c *connection) closeTransport() {
	switch {
	case c.state == stateOpen:
		c.state = stateClosing
		c.conn.Drop()
	case c.state == stateClosing && c.byScript:
		c.cutShort = true
		c.conn.Abort()
	}
}

// closed runs on the loop when the connection has ended for any reason.
func (c *connection) closed(vm *goja.Runtime, err *amqp.Error) error {
	if c.state == stateClosed {
		return nil
	}
	c.state = stateClosed
	c.closeErr = err
	delete(c.m.conns, c)
	for ch := range c.channels {
		ch.connectionClosed(err)
	}
	for _, w := range c.waiters {
		w.Resolve(nil)
	}
	c.waiters = nil
	if err != nil && !c.byScript {
		if c.onError != nil {
			exc := c.m.jsErrorAt(err, 0, c.site)
			c.callUser(c.onError, exc)
		}
	}
	return nil
}

// callUser calls a user callback; a throw or a rejected promise is an
// uncaught error (docs/api.md §7). Loop only.
func (c *connection) callUser(fn goja.Callable, args ...goja.Value) {
	callUser(c.m, fn, goja.Undefined(), args...)
}

func callUser(m *module, fn goja.Callable, this goja.Value, args ...goja.Value) {
	ret, err := fn(this, args...)
	if err != nil {
		m.loop.Fail(err)
		return
	}
	m.failOnRejection(ret)
}

// failOnRejection makes a rejection of ret (if it is a thenable) an uncaught
// error. Loop only.
func (m *module) failOnRejection(ret goja.Value) {
	o, ok := ret.(*goja.Object)
	if !ok {
		return
	}
	then, ok := goja.AssertFunction(o.Get("then"))
	if !ok {
		return
	}
	vm := m.rt.VM()
	_, _ = then(o, goja.Undefined(), vm.ToValue(func(call goja.FunctionCall) goja.Value {
		m.loop.Fail(&runtime.UncaughtError{Value: call.Argument(0)})
		return goja.Undefined()
	}))
}

// shutdown closes the connection when the run ends. Loop only.
func (c *connection) shutdown() {
	if c.state == stateClosed || (c.state == stateClosing && !c.byScript) {
		return // ended, or going down after transport.close()
	}
	c.byScript = true
	c.state = stateClosing
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.conn.Close(ctx, false); err != nil {
		c.conn.Abort()
	}
}

var channelOpenSig = newSig("channel", pOpt(param{name: "return_callback", kind: kFuncNull}), pTimeout())
var protoCloseSig = newSig("close", pOpt(pBool("no_wait")), pTimeout())
var waitClosedSig = newSig("wait_closed", pTimeout())

func (c *connection) closedError() error {
	if c.closeErr != nil {
		return &amqp.Error{Kind: amqp.KindConnectionClosed, Code: c.closeErr.Code, Reason: c.closeErr.Reason}
	}
	return &amqp.Error{Kind: amqp.KindConnectionClosed, Reason: "connection is closed"}
}

// openCall is the start shared by the connection's methods: it parses the
// arguments against sig (the timeout is the last one) and makes the promise
// the method returns. When the connection is no longer open that promise is
// already rejected and ok is false.
func (c *connection) openCall(sig *sig, call goja.FunctionCall) (vm *goja.Runtime, site callSite, a []goja.Value, timeout float64, p *goja.Promise, res *runtime.Resolver, ok bool) {
	vm = c.m.rt.VM()
	site = c.m.site()
	a = sig.parse(vm, call.Arguments)
	timeout = seconds(a[len(a)-1])
	p, res = c.m.loop.NewPromise()
	if c.state != stateOpen {
		_ = res.SettleOnLoop(vm, nil, c.m.jsErrorAt(c.closedError(), 0, site))
		return vm, site, a, timeout, p, res, false
	}
	return vm, site, a, timeout, p, res, true
}

func (c *connection) jsChannel(call goja.FunctionCall) goja.Value {
	vm, site, a, timeout, p, res, ok := c.openCall(channelOpenSig, call)
	if !ok {
		return vm.ToValue(p)
	}
	var retCB goja.Value
	if a[0] != nil && !goja.IsNull(a[0]) {
		retCB = a[0]
	}
	ctx, cancel := callContext(timeout)
	go func() {
		ch, err := c.conn.OpenChannel(ctx)
		cancel()
		res.Settle(func(vm *goja.Runtime) (any, error) {
			if err != nil {
				return nil, c.m.rejectionAt(err, timeout, site)
			}
			return c.newChannel(vm, ch, retCB), nil
		})
	}()
	return vm.ToValue(p)
}

func (c *connection) jsClose(call goja.FunctionCall) goja.Value {
	vm, site, a, timeout, p, res, ok := c.openCall(protoCloseSig, call)
	if !ok {
		return vm.ToValue(p)
	}
	c.byScript = true
	c.state = stateClosing
	ctx, cancel := callContext(timeout)
	noWait := boolean(a[0], false)
	go func() {
		err := c.conn.Close(ctx, noWait)
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = &amqp.Error{Kind: amqp.KindTimeout, Op: "close"}
		}
		cancel()
		res.Settle(func(vm *goja.Runtime) (any, error) {
			if err != nil && !c.cutShort {
				return nil, c.m.rejectionAt(err, timeout, site)
			}
			// transport.close() cut the handshake short: the connection is
			// closed, as asked (aioamqp's close() waits for the end too).
			return nil, nil
		})
	}()
	return vm.ToValue(p)
}

func (c *connection) jsWaitClosed(call goja.FunctionCall) goja.Value {
	vm := c.m.rt.VM()
	site := c.m.site()
	a := waitClosedSig.parse(vm, call.Arguments)
	timeout := seconds(a[0])
	p, res := c.m.loop.NewPromise()
	if c.state == stateClosed {
		_ = res.SettleOnLoop(vm, nil, nil)
		return vm.ToValue(p)
	}
	c.waiters = append(c.waiters, res)
	if timeout > 0 {
		t := time.AfterFunc(time.Duration(timeout*float64(time.Second)), func() {
			res.Settle(func(vm *goja.Runtime) (any, error) {
				return nil, c.m.rejectionAt(&amqp.Error{Kind: amqp.KindTimeout, Op: "wait_closed"}, timeout, site)
			})
		})
		_ = t
	}
	return vm.ToValue(p)
}

// withStartHint adds to a refused connection how to start a broker, and
// to a certificate that could not be verified what the script can do.
func withStartHint(err error) error {
	var ae *amqp.Error
	if errors.As(err, &ae) && ae.Kind == amqp.KindConnectionClosed && strings.HasPrefix(ae.Reason, "connection refused to ") {
		cp := *ae
		cp.Reason += " — is RabbitMQ running? Start it with 'rabbitmq-server -detached' (or run tests/broker.sh, which also installs it)"
		return &cp
	}
	if errors.As(err, &ae) && ae.Kind == amqp.KindConnectionClosed && strings.Contains(ae.Reason, "certificate could not be verified") {
		cp := *ae
		if strings.Contains(ae.Reason, "certificate is valid for") {
			cp.Reason += " — connect with a name the certificate holds, or give it as ssl: { server_name }"
		} else {
			cp.Reason += " — give the CA that signed it with ssl: { ca_file: 'ca.pem' } (verify_ssl: false skips the check: insecure)"
		}
		return &cp
	}
	return err
}

// callContext returns a context with the call's timeout (seconds; 0 = none).
func callContext(timeout float64) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), time.Duration(timeout*float64(time.Second)))
}
