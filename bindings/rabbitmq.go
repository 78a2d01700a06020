//go:build !wasm

package bindings

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/internal/mgmt"
	"github.com/amqpjs/amqpjs/runtime"
)

//go:embed js/rabbitmq.js
var rabbitmqJS string

var rabbitmqPrg = goja.MustCompile("amqpjs:amqpjs/rabbitmq.js", rabbitmqJS, true)

// ManagementConfig is where the management API is for the AMQP defaults d
// (nil: aioamqp's) and rawURL (--management-url; "" derives it from d):
// http://HOST:15672 with d's host, and d's user, password and vhost. A user
// and password in rawURL win over d's.
func ManagementConfig(d *ConnectDefaults, rawURL string) mgmt.Config {
	def := builtinDefaults()
	if d != nil {
		def = *d
	}
	cfg := mgmt.Config{URL: rawURL, User: def.Login, Password: def.Password, Vhost: def.Vhost}
	if cfg.URL == "" {
		cfg.URL = "http://" + net.JoinHostPort(def.Host, strconv.Itoa(mgmt.DefaultPort))
	}
	return cfg
}

// rabbitmqModule is the per-runtime state of amqpjs/rabbitmq. loop-owned.
type rabbitmqModule struct {
	m       *module // the aioamqp module of the runtime: call sites, run context
	cfg     mgmt.Config
	client  *mgmt.Client // made on first use, remade by configure
	exports *goja.Object
	errCtor *goja.Object // ManagementError
	parse   goja.Callable
}

var (
	rmqQueueSig       = newSig("rabbitmq.queue", pReq(pStr("name")), pOpt(pStr("vhost")), pTimeout())
	rmqQueuesSig      = newSig("rabbitmq.queues", pOpt(pStr("vhost")), pTimeout())
	rmqOverviewSig    = newSig("rabbitmq.overview", pTimeout())
	rmqNodesSig       = newSig("rabbitmq.nodes", pTimeout())
	rmqConnectionsSig = newSig("rabbitmq.connections", pTimeout())
	rmqCloseSig       = newSig("rabbitmq.closeConnection", pReq(pStr("name")), pStr("reason"), pTimeout())
	rmqConfigureSig   = newSig("rabbitmq.configure", pOpt(pStr("url")), pOpt(pStr("user")), pOpt(pStr("password")), pOpt(pStr("vhost")), pTimeout())
)

// registerRabbitMQ installs amqpjs/rabbitmq (and node:amqpjs/rabbitmq) in
// the runtime of m.
func registerRabbitMQ(m *module) {
	r := &rabbitmqModule{m: m, cfg: ManagementConfig(m.opts.Defaults, m.opts.ManagementURL)}
	m.loop.OnShutdown(func() {
		if r.client != nil {
			r.client.Close()
		}
	})
	m.rt.RegisterModule(RabbitMQModuleName, r.load)
	m.rt.RegisterModule("node:"+RabbitMQModuleName, r.load)
}

func (r *rabbitmqModule) load(vm *goja.Runtime, module *goja.Object) {
	exports, cached := cachedExports(module, &r.exports)
	if cached {
		return
	}
	r.errCtor = runFactory(vm, rabbitmqPrg).ToObject(vm)
	r.parse, _ = goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	_ = exports.Set("ManagementError", r.errCtor)
	setMethod(vm, exports, "configure", r.jsConfigure)
	setMethod(vm, exports, "overview", r.jsOverview)
	setMethod(vm, exports, "nodes", r.jsNodes)
	setMethod(vm, exports, "queue", r.jsQueue)
	setMethod(vm, exports, "queues", r.jsQueues)
	setMethod(vm, exports, "connections", r.jsConnections)
	setMethod(vm, exports, "closeConnection", r.jsCloseConnection)
	_ = exports.Set("default", exports)
}

// clientFor returns the module's client, made on first use. Loop only. A
// bad URL throws a TypeError naming it.
func (r *rabbitmqModule) clientFor(vm *goja.Runtime, method string) *mgmt.Client {
	if r.client == nil {
		c, err := mgmt.New(r.cfg)
		if err != nil {
			panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_VALUE", msg: method + ": " + err.Error()}))
		}
		r.client = c
	}
	return r.client
}

// jsConfigure is configure({url, user, password, vhost, timeout}): the
// management API of the calls that follow, in this runtime (VU). What is
// not given keeps its value; url "" goes back to the one derived from the
// AMQP URL.
func (r *rabbitmqModule) jsConfigure(call goja.FunctionCall) goja.Value {
	vm := r.m.rt.VM()
	a := rmqConfigureSig.parse(vm, call.Arguments)
	cfg := r.cfg
	if a[0] != nil {
		cfg.URL = a[0].String()
		if cfg.URL == "" {
			cfg.URL = ManagementConfig(r.m.opts.Defaults, r.m.opts.ManagementURL).URL
		}
	}
	if a[1] != nil {
		cfg.User = a[1].String()
	}
	if a[2] != nil {
		cfg.Password = a[2].String()
	}
	if a[3] != nil {
		cfg.Vhost = a[3].String()
	}
	if a[4] != nil && !goja.IsNull(a[4]) {
		cfg.Timeout = secondsDuration(a[4])
	}
	c, err := mgmt.New(cfg)
	if err != nil {
		panic(throwArg(vm, &argError{code: "ERR_INVALID_ARG_VALUE", msg: "rabbitmq.configure: parameter 'url': " + err.Error()}))
	}
	if r.client != nil {
		r.client.Close()
	}
	r.cfg, r.client = cfg, c
	return goja.Undefined()
}

// secondsDuration is a timeout parameter (seconds, checked ≥ 0) as a
// duration; 0 for none, and for one too long to mean anything (over 30
// years, which would overflow).
func secondsDuration(v goja.Value) time.Duration {
	s := seconds(v)
	if s <= 0 || s > 1e9 {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}

// call runs fn on a goroutine of its own and returns a promise settled
// with fn's value as JSON (parsed on the loop), or rejected with a
// ManagementError pointing at the script's call. Loop only.
func (r *rabbitmqModule) call(method string, timeout goja.Value, fn func(ctx context.Context, c *mgmt.Client) (any, error)) goja.Value {
	vm := r.m.rt.VM()
	c := r.clientFor(vm, method)
	site := r.m.site()
	p, res := r.m.loop.NewPromise()
	ctx := r.m.runCtx
	var cancel context.CancelFunc = func() {}
	if d := secondsDuration(timeout); d > 0 {
		ctx, cancel = context.WithTimeout(ctx, d)
	}
	go func() {
		defer cancel()
		v, err := fn(ctx, c)
		var js []byte
		if err == nil && v != nil {
			js, err = json.Marshal(v)
		}
		res.Settle(func(vm *goja.Runtime) (any, error) {
			if err != nil {
				e := r.jsError(vm, err)
				stamp(vm, e, site, "")
				return nil, &runtime.Rejection{Value: e}
			}
			if js == nil {
				return goja.Undefined(), nil
			}
			return r.parse(goja.Undefined(), vm.ToValue(string(js)))
		})
	}()
	return vm.ToValue(p)
}

// jsError is the ManagementError for err. Loop only.
func (r *rabbitmqModule) jsError(vm *goja.Runtime, err error) goja.Value {
	var me *mgmt.Error
	if !errors.As(err, &me) {
		me = &mgmt.Error{Err: err}
	}
	msg := me.Error()
	if me.Status == 0 && errors.Is(me.Err, context.Canceled) {
		msg = "the run ended before the management API answered"
	}
	o, cerr := vm.New(r.errCtor, vm.ToValue(msg), vm.ToValue(me.Status), vm.ToValue(me.URL), vm.ToValue(me.Method), vm.ToValue(me.Reason))
	if cerr != nil {
		return vm.ToValue(msg)
	}
	return o
}

// The objects the promises resolve to (docs/api.md): the broker's field
// names, snake_case, and raw, the API's whole object.

type jsRates struct {
	Publish    float64  `json:"publish"`
	Deliver    float64  `json:"deliver"`
	Ack        float64  `json:"ack"`
	Redeliver  float64  `json:"redeliver"`
	Confirm    *float64 `json:"confirm,omitempty"`
	Unroutable *float64 `json:"unroutable,omitempty"`
}

func queueRates(r mgmt.Rates) jsRates {
	return jsRates{Publish: r.Publish, Deliver: r.Deliver, Ack: r.Ack, Redeliver: r.Redeliver}
}

type jsQueue struct {
	Name           string          `json:"name"`
	Vhost          string          `json:"vhost"`
	Type           string          `json:"type"`
	State          string          `json:"state"`
	Durable        bool            `json:"durable"`
	AutoDelete     bool            `json:"auto_delete"`
	Exclusive      bool            `json:"exclusive"`
	Messages       int64           `json:"messages"`
	Ready          int64           `json:"ready"`
	Unacknowledged int64           `json:"unacknowledged"`
	Consumers      int64           `json:"consumers"`
	Memory         int64           `json:"memory"`
	Rates          jsRates         `json:"rates"`
	HasStats       bool            `json:"has_stats"`
	Raw            json.RawMessage `json:"raw"`
}

func toJSQueue(q *mgmt.Queue) jsQueue {
	return jsQueue{
		Name: q.Name, Vhost: q.Vhost, Type: q.Type, State: q.State, Durable: q.Durable, AutoDelete: q.AutoDelete,
		Exclusive: q.Exclusive, Messages: q.Messages, Ready: q.Ready, Unacknowledged: q.Unacknowledged,
		Consumers: q.Consumers, Memory: q.Memory, Rates: queueRates(q.Rates), HasStats: q.HasStats, Raw: q.Raw,
	}
}

// mgmtGet is the r.call function of a read-only API call: fetch's result
// (fetch has the shape of a method expression such as
// (*mgmt.Client).Nodes), or its error, with conv turning the result into
// what the script gets.
func mgmtGet[T, R any](fetch func(*mgmt.Client, context.Context) (T, error), conv func(T) R) func(context.Context, *mgmt.Client) (any, error) {
	return func(ctx context.Context, c *mgmt.Client) (any, error) {
		v, err := fetch(c, ctx)
		if err != nil {
			return nil, err
		}
		return conv(v), nil
	}
}

func (r *rabbitmqModule) jsQueue(call goja.FunctionCall) goja.Value {
	a := rmqQueueSig.parse(r.m.rt.VM(), call.Arguments)
	name, vhost := a[0].String(), str(a[1], "")
	return r.call(rmqQueueSig.method, a[2], mgmtGet(func(c *mgmt.Client, ctx context.Context) (*mgmt.Queue, error) {
		return c.Queue(ctx, vhost, name)
	}, toJSQueue))
}

func (r *rabbitmqModule) jsQueues(call goja.FunctionCall) goja.Value {
	a := rmqQueuesSig.parse(r.m.rt.VM(), call.Arguments)
	vhost := str(a[0], "")
	return r.call(rmqQueuesSig.method, a[1], mgmtGet(func(c *mgmt.Client, ctx context.Context) ([]mgmt.Queue, error) {
		return c.Queues(ctx, vhost, false)
	}, func(qs []mgmt.Queue) []jsQueue {
		out := make([]jsQueue, len(qs))
		for i := range qs {
			out[i] = toJSQueue(&qs[i])
		}
		return out
	}))
}

type jsOverview struct {
	RabbitMQVersion string  `json:"rabbitmq_version"`
	ErlangVersion   string  `json:"erlang_version"`
	ClusterName     string  `json:"cluster_name"`
	Node            string  `json:"node"`
	Messages        int64   `json:"messages"`
	Ready           int64   `json:"ready"`
	Unacknowledged  int64   `json:"unacknowledged"`
	Rates           jsRates `json:"rates"`
	ObjectTotals    struct {
		Connections int64 `json:"connections"`
		Channels    int64 `json:"channels"`
		Queues      int64 `json:"queues"`
		Consumers   int64 `json:"consumers"`
		Exchanges   int64 `json:"exchanges"`
	} `json:"object_totals"`
	Raw json.RawMessage `json:"raw"`
}

func (r *rabbitmqModule) jsOverview(call goja.FunctionCall) goja.Value {
	a := rmqOverviewSig.parse(r.m.rt.VM(), call.Arguments)
	return r.call(rmqOverviewSig.method, a[0], mgmtGet((*mgmt.Client).Overview, func(o *mgmt.Overview) jsOverview {
		confirm, unroutable := o.Rates.Confirm, o.Rates.Unroutable
		v := jsOverview{
			RabbitMQVersion: o.RabbitMQVersion, ErlangVersion: o.ErlangVersion, ClusterName: o.ClusterName, Node: o.Node,
			Messages: o.Messages, Ready: o.Ready, Unacknowledged: o.Unacknowledged, Raw: o.Raw,
			Rates: jsRates{Publish: o.Rates.Publish, Deliver: o.Rates.Deliver, Ack: o.Rates.Ack, Redeliver: o.Rates.Redeliver, Confirm: &confirm, Unroutable: &unroutable},
		}
		v.ObjectTotals.Connections, v.ObjectTotals.Channels, v.ObjectTotals.Queues = o.Connections, o.Channels, o.Queues
		v.ObjectTotals.Consumers, v.ObjectTotals.Exchanges = o.Consumers, o.Exchanges
		return v
	}))
}

func (r *rabbitmqModule) jsNodes(call goja.FunctionCall) goja.Value {
	a := rmqNodesSig.parse(r.m.rt.VM(), call.Arguments)
	// mgmt.Node's JSON names are the API's
	return r.call(rmqNodesSig.method, a[0], mgmtGet((*mgmt.Client).Nodes, func(nodes []mgmt.Node) []mgmt.Node { return nodes }))
}

type jsConnection struct {
	Name             string          `json:"name"`
	ConnectionName   string          `json:"connection_name"`
	User             string          `json:"user"`
	Vhost            string          `json:"vhost"`
	State            string          `json:"state"`
	PeerHost         string          `json:"peer_host"`
	PeerPort         int             `json:"peer_port"`
	Channels         int64           `json:"channels"`
	ConnectedAt      int64           `json:"connected_at"`
	ClientProperties json.RawMessage `json:"client_properties"`
	Raw              json.RawMessage `json:"raw"`
}

func (r *rabbitmqModule) jsConnections(call goja.FunctionCall) goja.Value {
	a := rmqConnectionsSig.parse(r.m.rt.VM(), call.Arguments)
	return r.call(rmqConnectionsSig.method, a[0], mgmtGet((*mgmt.Client).Connections, func(cs []mgmt.Connection) []jsConnection {
		out := make([]jsConnection, len(cs))
		for i, cn := range cs {
			props := cn.ClientProperties
			if len(props) == 0 {
				props = json.RawMessage("{}")
			}
			out[i] = jsConnection{
				Name: cn.Name, ConnectionName: cn.ConnectionName, User: cn.User, Vhost: cn.Vhost, State: cn.State,
				PeerHost: cn.PeerHost, PeerPort: cn.PeerPort, Channels: cn.Channels, ConnectedAt: cn.ConnectedAt,
				ClientProperties: props, Raw: cn.Raw,
			}
		}
		return out
	}))
}

func (r *rabbitmqModule) jsCloseConnection(call goja.FunctionCall) goja.Value {
	a := rmqCloseSig.parse(r.m.rt.VM(), call.Arguments)
	name, reason := a[0].String(), str(a[1], "closed by amqpjs")
	return r.call(rmqCloseSig.method, a[2], func(ctx context.Context, c *mgmt.Client) (any, error) {
		return nil, c.CloseConnection(ctx, name, reason)
	})
}
