package bindings

import (
	"context"
	"errors"
	"math"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/runtime"
)

// channel is an AMQP channel as the script sees it. loop-owned.
type channel struct {
	m         *module
	c         *connection
	ch        *amqp.Channel
	obj       *goja.Object
	returnCB  goja.Value // function or nil
	cancelCBs []goja.Callable
	consumers map[string]*consumer
	confirmOn bool // confirm_select was called
	closed    bool
	fast      fastState // see fastpath.go
	pubBuf    pubScratch
	// closedBy is the call the broker closed the channel on (the first one
	// rejected with the broker's close; zero when unknown), once closeSeen.
	closedBy  callSite
	closeSeen bool
}

const maxTag = 1<<53 - 1

var (
	queueDeclareSig = newSig("queue_declare", pStr("queue_name"), pBool("passive"), pBool("durable"), pBool("exclusive"),
		pBool("auto_delete"), pBool("no_wait"), param{name: "arguments", kind: kTable}, pTimeout())
	queueDeleteSig = newSig("queue_delete", pReq(pStr("queue_name")), pBool("if_unused"), pBool("if_empty"), pBool("no_wait"), pTimeout())
	queueBindSig   = newSig("queue_bind", pReq(pStr("queue_name")), pReq(pStr("exchange_name")), pReq(pStr("routing_key")),
		pBool("no_wait"), param{name: "arguments", kind: kTable}, pTimeout())
	queueUnbindSig = newSig("queue_unbind", pReq(pStr("queue_name")), pReq(pStr("exchange_name")), pReq(pStr("routing_key")),
		param{name: "arguments", kind: kTable}, pTimeout())
	queuePurgeSig      = newSig("queue_purge", pReq(pStr("queue_name")), pBool("no_wait"), pTimeout())
	exchangeDeclareSig = newSig("exchange_declare", pReq(pStr("exchange_name")), pStr("type_name"), pBool("passive"), pBool("durable"),
		pBool("auto_delete"), pBool("no_wait"), param{name: "arguments", kind: kTable}, pTimeout())
	exchangeDeleteSig = newSig("exchange_delete", pReq(pStr("exchange_name")), pBool("if_unused"), pBool("no_wait"), pTimeout())
	exchangeBindSig   = newSig("exchange_bind", pReq(pStr("exchange_destination")), pReq(pStr("exchange_source")), pReq(pStr("routing_key")),
		pBool("no_wait"), param{name: "arguments", kind: kTable}, pTimeout())
	exchangeUnbindSig = newSig("exchange_unbind", pReq(pStr("exchange_destination")), pReq(pStr("exchange_source")), pReq(pStr("routing_key")),
		pBool("no_wait"), param{name: "arguments", kind: kTable}, pTimeout())
	publishSig = newSig("publish", pReq(param{name: "payload", kind: kAny}), pReq(pStr("exchange_name")), pReq(pStr("routing_key")),
		param{name: "properties", kind: kTable}, pBool("mandatory"), pBool("immediate"), pTimeout())
	basicPublishSig  = newSig("basic_publish", publishSig.params...)
	confirmSelectSig = newSig("confirm_select", pBool("no_wait"), pTimeout())
	basicQosSig      = newSig("basic_qos", pInt("prefetch_size", 0, math.MaxUint32), pInt("prefetch_count", 0, math.MaxUint16), pBool("connection_global"), pTimeout())
	basicConsumeSig  = newSig("basic_consume", pReq(param{name: "callback", kind: kFunc}), pStr("queue_name"), pStr("consumer_tag"),
		pBool("no_local"), pBool("no_ack"), pBool("exclusive"), pBool("no_wait"), param{name: "arguments", kind: kTable},
		pOpt(pInt("concurrency", 1, 1<<20)), pTimeout(), pOpt(pInt("no_ack_window", 0, 65535)))
	consumeSig = newSig("consume", pReq(pStr("queue_name")), pOpt(pStr("consumer_tag")),
		pOpt(pBool("no_local")), pOpt(pBool("no_ack")), pOpt(pBool("exclusive")), pOpt(pBool("no_wait")), pOpt(param{name: "arguments", kind: kTable}),
		pOpt(pInt("concurrency", 1, 1<<20)), pTimeout(), pOpt(pInt("no_ack_window", 0, 65535)))
	basicCancelSig       = newSig("basic_cancel", pReq(pStr("consumer_tag")), pBool("no_wait"), pTimeout())
	basicGetSig          = newSig("basic_get", pStr("queue_name"), pBool("no_ack"), pTimeout())
	basicAckSig          = newSig("basic_client_ack", pReq(pInt("delivery_tag", 0, maxTag)), pBool("multiple"))
	basicNackSig         = newSig("basic_client_nack", pReq(pInt("delivery_tag", 0, maxTag)), pBool("multiple"), pBool("requeue"))
	basicRejectSig       = newSig("basic_reject", pReq(pInt("delivery_tag", 0, maxTag)), pBool("requeue"))
	basicRecoverSig      = newSig("basic_recover", pBool("requeue"), pTimeout())
	basicRecoverAsyncSig = newSig("basic_recover_async", pBool("requeue"))
	flowSig              = newSig("flow", pReq(pBool("active")), pTimeout())
	channelCloseSig      = newSig("close", pInt("reply_code", 0, 65535), pStr("reply_text"), pTimeout())
)

// newChannel wraps ch in its JS object. Loop only.
func (c *connection) newChannel(vm *goja.Runtime, ch *amqp.Channel, returnCB goja.Value) goja.Value {
	x := &channel{m: c.m, c: c, ch: ch, returnCB: returnCB, consumers: map[string]*consumer{}}
	c.channels[x] = struct{}{}
	o := vm.NewObject()
	x.obj = o
	methods := map[string]func(goja.FunctionCall) goja.Value{
		"queue_declare":             x.queueDeclare,
		"queue_delete":              x.queueDelete,
		"queue_bind":                x.queueBind,
		"queue_unbind":              x.queueUnbind,
		"queue_purge":               x.queuePurge,
		"exchange_declare":          x.exchangeDeclare,
		"exchange_delete":           x.exchangeDelete,
		"exchange_bind":             x.exchangeBind,
		"exchange_unbind":           x.exchangeUnbind,
		"publish":                   func(call goja.FunctionCall) goja.Value { return x.publish(call, publishSig, true) },
		"basic_publish":             func(call goja.FunctionCall) goja.Value { return x.publish(call, basicPublishSig, false) },
		"confirm_select":            x.confirmSelect,
		"basic_qos":                 x.basicQos,
		"basic_consume":             x.basicConsume,
		"basic_cancel":              x.basicCancel,
		"basic_get":                 x.basicGet,
		"basic_client_ack":          x.basicAck,
		"basic_client_nack":         x.basicNack,
		"basic_reject":              x.basicReject,
		"basic_recover":             x.basicRecover,
		"basic_recover_async":       x.basicRecoverAsync,
		"flow":                      x.flow,
		"close":                     x.close,
		"add_cancellation_callback": x.addCancellationCallback,
		"consume":                   x.consume,
	}
	for _, name := range channelMethodNames {
		setMethod(vm, o, name, c.m.timed(name, methods[name]))
	}
	getter := func(name string, fn func() goja.Value, setter func(goja.FunctionCall) goja.Value) {
		var s goja.Value
		if setter != nil {
			s = vm.ToValue(setter)
		}
		_ = o.DefineAccessorProperty(name, vm.ToValue(func(goja.FunctionCall) goja.Value { return fn() }), s, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	_ = o.Set("channel_id", ch.ID())
	_ = o.Set("protocol", c.protocol)
	getter("is_open", func() goja.Value { return vm.ToValue(!x.closed && ch.IsOpen()) }, nil)
	getter("publisher_confirms", func() goja.Value { return vm.ToValue(x.confirmOn && ch.Confirming()) }, nil)
	getter("consumer_tags", func() goja.Value {
		tags := make([]any, 0, len(x.consumers))
		for _, t := range ch.ConsumerTags() {
			tags = append(tags, t)
		}
		return vm.NewArray(tags...)
	}, nil)
	getter("return_callback", func() goja.Value {
		if x.returnCB == nil {
			return goja.Null()
		}
		return x.returnCB
	}, func(call goja.FunctionCall) goja.Value {
		v := call.Argument(0)
		if goja.IsNull(v) || goja.IsUndefined(v) {
			x.returnCB = nil
			return goja.Undefined()
		}
		if _, ok := goja.AssertFunction(v); !ok {
			panic(newJSError(vm, "TypeError", "return_callback must be a function or null, got "+describe(v), "ERR_INVALID_ARG_TYPE"))
		}
		x.returnCB = v
		return goja.Undefined()
	})
	ch.OnReturn(func(r *amqp.Return) {
		c.m.loop.RunOnLoop(func(vm *goja.Runtime) { x.returned(vm, r) })
	})
	ch.OnClose(func(err *amqp.Error) {
		c.m.loop.RunOnLoop(func(vm *goja.Runtime) { x.closed = true })
	})
	return o
}

// channelMethodNames lists the channel's methods, in docs/api.md §5's order.
var channelMethodNames = []string{
	"queue_declare", "queue_delete", "queue_bind", "queue_unbind", "queue_purge",
	"exchange_declare", "exchange_delete", "exchange_bind", "exchange_unbind",
	"publish", "basic_publish", "confirm_select", "basic_qos", "basic_consume", "basic_cancel", "basic_get",
	"basic_client_ack", "basic_client_nack", "basic_reject", "basic_recover", "basic_recover_async",
	"flow", "close", "add_cancellation_callback", "consume",
}

func (x *channel) connectionClosed(err *amqp.Error) { x.closed = true }

// op starts an asynchronous call: it returns the promise, the call's
// context and the function that settles it from any goroutine (build runs
// on the loop and makes the resolved value).
func (x *channel) op(timeout float64) (goja.Value, context.Context, func(err error, build func(vm *goja.Runtime) any)) {
	p, _, ctx, done := x.opRes(timeout, true)
	return p, ctx, done
}

// opRes is op that also returns the resolver (for settling on the loop at
// once, see fastpath.go). counted ops hold back the fast path until they
// are settled on the loop.
func (x *channel) opRes(timeout float64, counted bool) (goja.Value, *runtime.Resolver, context.Context, func(err error, build func(vm *goja.Runtime) any)) {
	p, res := x.m.loop.NewPromise()
	ctx, cancel := callContext(timeout)
	m := x.m
	site := m.site()
	rpc := m.rpcStart()
	if counted {
		x.fast.unsettled++
	}
	return x.m.rt.VM().ToValue(p), res, ctx, func(err error, build func(vm *goja.Runtime) any) {
		cancel()
		if rpc != nil {
			rpc()
		}
		res.Settle(func(vm *goja.Runtime) (any, error) {
			if counted {
				x.fast.unsettled--
			}
			if err != nil {
				return nil, &runtime.Rejection{Value: x.errorAt(err, timeout, site)}
			}
			if build == nil {
				return nil, nil
			}
			return build(vm), nil
		})
	}
}

// errorAt is jsError for a call of the channel made at site: its stack is
// the call's, and a ChannelClosed of a channel the broker closed on an
// earlier call says which call that was and where. The first call rejected
// with the broker's close is taken as the one it closed the channel on (the
// executor runs one call at a time, in call order, and it is the one that
// was running). Loop only.
func (x *channel) errorAt(err error, timeout float64, site callSite) goja.Value {
	v := x.m.jsError(err, timeout)
	stamp(x.m.rt.VM(), v, site, x.closedNote(err, site, true))
	return v
}

// closedNote is the line errorAt adds to a ChannelClosed ("" for none).
// claim: the error is a call's, which may be the one the broker closed the
// channel on (a consumer's end is not).
func (x *channel) closedNote(err error, site callSite, claim bool) string {
	var ae *amqp.Error
	if !errors.As(err, &ae) || ae.Kind != amqp.KindChannelClosed {
		return ""
	}
	if claim && ae.Code != 0 && !x.closeSeen {
		x.closeSeen = true
		x.closedBy = site
		return ""
	}
	if !x.closedBy.known() || x.closedBy.same(site) {
		return ""
	}
	return "(the broker closed the channel on " + x.closedBy.method() + " at " + x.closedBy.where() + ")"
}

func resTrue(*goja.Runtime) any { return true }

// okOrNull resolves true, or null with no_wait (docs/api.md §2).
func okOrNull(noWait bool) func(*goja.Runtime) any {
	if noWait {
		return nil
	}
	return resTrue
}

func (x *channel) table(vm *goja.Runtime, v goja.Value, what string) amqp.Table {
	t, err := tableFromJS(vm, v, what)
	if err != nil {
		panic(newJSError(vm, "TypeError", err.Error(), "ERR_INVALID_ARG_TYPE"))
	}
	return t
}

func (x *channel) queueDeclare(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := queueDeclareSig.parse(vm, call.Arguments)
	args := amqp.QueueDeclareArgs{
		Name: str(a[0], ""), Passive: boolean(a[1], false), Durable: boolean(a[2], false), Exclusive: boolean(a[3], false),
		AutoDelete: boolean(a[4], false), NoWait: boolean(a[5], false), Args: x.table(vm, a[6], "queue_declare: arguments"),
	}
	p, ctx, done := x.op(seconds(a[7]))
	x.ch.QueueDeclare(ctx, args, func(q amqp.QueueInfo, err error) {
		done(err, func(vm *goja.Runtime) any {
			if args.NoWait {
				return nil
			}
			o := vm.NewObject()
			_ = o.Set("queue", q.Name)
			_ = o.Set("message_count", q.MessageCount)
			_ = o.Set("consumer_count", q.ConsumerCount)
			return o
		})
	})
	return p
}

func (x *channel) queueDelete(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := queueDeleteSig.parse(vm, call.Arguments)
	noWait := boolean(a[3], false)
	p, ctx, done := x.op(seconds(a[4]))
	x.ch.QueueDelete(ctx, a[0].String(), boolean(a[1], false), boolean(a[2], false), noWait, func(err error) { done(err, okOrNull(noWait)) })
	return p
}

func (x *channel) queueBind(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := queueBindSig.parse(vm, call.Arguments)
	noWait := boolean(a[3], false)
	t := x.table(vm, a[4], "queue_bind: arguments")
	p, ctx, done := x.op(seconds(a[5]))
	x.ch.QueueBind(ctx, a[0].String(), a[1].String(), a[2].String(), noWait, t, func(err error) { done(err, okOrNull(noWait)) })
	return p
}

func (x *channel) queueUnbind(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := queueUnbindSig.parse(vm, call.Arguments)
	t := x.table(vm, a[3], "queue_unbind: arguments")
	p, ctx, done := x.op(seconds(a[4]))
	x.ch.QueueUnbind(ctx, a[0].String(), a[1].String(), a[2].String(), t, func(err error) { done(err, resTrue) })
	return p
}

func (x *channel) queuePurge(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := queuePurgeSig.parse(vm, call.Arguments)
	noWait := boolean(a[1], false)
	p, ctx, done := x.op(seconds(a[2]))
	x.ch.QueuePurge(ctx, a[0].String(), noWait, func(n int, err error) {
		done(err, func(vm *goja.Runtime) any {
			if noWait {
				return nil
			}
			o := vm.NewObject()
			_ = o.Set("message_count", n)
			return o
		})
	})
	return p
}

func (x *channel) exchangeDeclare(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := exchangeDeclareSig.parse(vm, call.Arguments)
	args := amqp.ExchangeDeclareArgs{
		Name: a[0].String(), Kind: str(a[1], "direct"), Passive: boolean(a[2], false), Durable: boolean(a[3], false),
		AutoDelete: boolean(a[4], false), NoWait: boolean(a[5], false), Args: x.table(vm, a[6], "exchange_declare: arguments"),
	}
	p, ctx, done := x.op(seconds(a[7]))
	x.ch.ExchangeDeclare(ctx, args, func(err error) { done(err, okOrNull(args.NoWait)) })
	return p
}

func (x *channel) exchangeDelete(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := exchangeDeleteSig.parse(vm, call.Arguments)
	noWait := boolean(a[2], false)
	p, ctx, done := x.op(seconds(a[3]))
	x.ch.ExchangeDelete(ctx, a[0].String(), boolean(a[1], false), noWait, func(err error) { done(err, okOrNull(noWait)) })
	return p
}

func (x *channel) exchangeBind(call goja.FunctionCall) goja.Value {
	return x.exchangeBinding(call, exchangeBindSig, x.ch.ExchangeBind)
}

func (x *channel) exchangeUnbind(call goja.FunctionCall) goja.Value {
	return x.exchangeBinding(call, exchangeUnbindSig, x.ch.ExchangeUnbind)
}

func (x *channel) exchangeBinding(call goja.FunctionCall, s *sig, fn func(ctx context.Context, dest, src, key string, noWait bool, args amqp.Table, done func(error))) goja.Value {
	vm := x.m.rt.VM()
	a := s.parse(vm, call.Arguments)
	noWait := boolean(a[3], false)
	t := x.table(vm, a[4], s.method+": arguments")
	p, ctx, done := x.op(seconds(a[5]))
	fn(ctx, a[0].String(), a[1].String(), a[2].String(), noWait, t, func(err error) { done(err, okOrNull(noWait)) })
	return p
}

func (x *channel) confirmSelect(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := confirmSelectSig.parse(vm, call.Arguments)
	noWait := boolean(a[0], false)
	p, ctx, done := x.op(seconds(a[1]))
	if x.confirmOn {
		done(&runtime.Rejection{Value: newJSError(vm, "TypeError", "publisher confirms already enabled", "ERR_INVALID_STATE")}, nil)
		return p
	}
	x.confirmOn = true
	x.ch.Confirm(ctx, noWait, func(err error) { done(err, okOrNull(noWait)) })
	return p
}

func (x *channel) basicQos(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicQosSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(seconds(a[3]))
	x.ch.Qos(ctx, int(integer(a[0], 0)), int(integer(a[1], 0)), boolean(a[2], false), func(err error) { done(err, resTrue) })
	return p
}

func (x *channel) basicCancel(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicCancelSig.parse(vm, call.Arguments)
	tag := a[0].String()
	noWait := boolean(a[1], false)
	p, ctx, done := x.op(seconds(a[2]))
	x.ch.Cancel(ctx, tag, noWait, func(err error) {
		done(err, func(vm *goja.Runtime) any {
			// The tag is free again as soon as basic_cancel resolves
			// (deliveries already received are still dispatched).
			delete(x.consumers, tag)
			if noWait {
				return nil
			}
			o := vm.NewObject()
			_ = o.Set("consumer_tag", tag)
			return o
		})
	})
	return p
}

func (x *channel) basicGet(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicGetSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(seconds(a[2]))
	m := x.m
	x.ch.Get(ctx, str(a[0], ""), boolean(a[1], false), func(d *amqp.Delivery, ok bool, err error) {
		if err == nil && !ok {
			done(&lazyRejection{build: func(vm *goja.Runtime) goja.Value { return m.newError("EmptyQueue") }}, nil)
			return
		}
		if err == nil {
			m.recordDelivery(d)
		}
		done(err, func(vm *goja.Runtime) any {
			o := vm.NewObject()
			_ = o.Set("delivery_tag", d.DeliveryTag)
			_ = o.Set("redelivered", d.Redelivered)
			_ = o.Set("exchange_name", d.Exchange)
			_ = o.Set("routing_key", d.RoutingKey)
			_ = o.Set("message_count", d.MessageCount)
			_ = o.Set("message", newBuffer(vm, d.Body))
			_ = o.Set("properties", propertiesToJS(vm, &d.Properties))
			return o
		})
	})
	return p
}

// lazyRejection is an error whose JS value is built on the loop.
type lazyRejection struct {
	build func(vm *goja.Runtime) goja.Value
}

func (e *lazyRejection) Error() string { return "rejection" }

func (x *channel) basicAck(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicAckSig.parse(vm, call.Arguments)
	return x.ack(ackAck, uint64(a[0].ToInteger()), boolean(a[1], false), false)
}

func (x *channel) basicNack(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicNackSig.parse(vm, call.Arguments)
	return x.ack(ackNack, uint64(a[0].ToInteger()), boolean(a[1], false), boolean(a[2], true))
}

func (x *channel) basicReject(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicRejectSig.parse(vm, call.Arguments)
	return x.ack(ackReject, uint64(a[0].ToInteger()), false, boolean(a[1], false))
}

func (x *channel) basicRecover(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicRecoverSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(seconds(a[1]))
	x.ch.Recover(ctx, boolean(a[0], true), func(err error) { done(err, resTrue) })
	return p
}

func (x *channel) basicRecoverAsync(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicRecoverAsyncSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(0)
	x.ch.Recover(ctx, boolean(a[0], true), func(err error) { done(err, nil) })
	return p
}

func (x *channel) flow(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := flowSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(seconds(a[1]))
	x.ch.Flow(ctx, a[0].ToBoolean(), func(active bool, err error) {
		done(err, func(vm *goja.Runtime) any {
			o := vm.NewObject()
			_ = o.Set("active", active)
			return o
		})
	})
	return p
}

func (x *channel) close(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := channelCloseSig.parse(vm, call.Arguments)
	p, ctx, done := x.op(seconds(a[2]))
	x.ch.Close(ctx, int(integer(a[0], 200)), str(a[1], "Normal Shutdown"), func(err error) { done(err, resTrue) })
	return p
}

func (x *channel) addCancellationCallback(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	fn, ok := goja.AssertFunction(call.Argument(0))
	if !ok {
		panic(newJSError(vm, "TypeError", "add_cancellation_callback: parameter 'callback' must be a function, got "+describe(call.Argument(0)), "ERR_INVALID_ARG_TYPE"))
	}
	x.cancelCBs = append(x.cancelCBs, fn)
	return goja.Undefined()
}

// returned handles a basic.return on the loop.
func (x *channel) returned(vm *goja.Runtime, r *amqp.Return) {
	x.m.recordReturn()
	if x.returnCB == nil {
		x.m.warn("message returned by the broker: %d %s (exchange '%s', routing key '%s'); set channel.return_callback to handle returned messages",
			r.ReplyCode, r.ReplyText, r.Exchange, r.RoutingKey)
		return
	}
	fn, _ := goja.AssertFunction(x.returnCB)
	env := vm.NewObject()
	_ = env.Set("reply_code", r.ReplyCode)
	_ = env.Set("reply_text", r.ReplyText)
	_ = env.Set("exchange_name", r.Exchange)
	_ = env.Set("routing_key", r.RoutingKey)
	callUser(x.m, fn, goja.Undefined(), newBuffer(vm, r.Body), env, propertiesToJS(vm, &r.Properties), x.obj)
}
