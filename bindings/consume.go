package bindings

import (
	"github.com/dop251/goja"
	"github.com/dop251/goja_nodejs/buffer"

	"github.com/amqpjs/amqpjs/amqp"
)

// consumer dispatches one consumer's deliveries on the loop (docs/api.md §7):
// in delivery order, at most concurrency callbacks pending at once. A
// callback that returns a promise holds its slot until it settles; the
// settlement frees the slot and queues a pump task (schedulePump, one at a
// time) for the next deliveries. The connection's reader goroutine never
// waits for JavaScript: it appends each delivery to the inbox (Delivery),
// and one loop task per batch moves them to the queue (takeIncoming). With
// manual acks, basic_qos's prefetch bounds the queue.
//
// no_ack is emulated (autoAck) so that it is bounded too: the consumer is
// started with manual acks and a prefetch window of its own (no_ack_window,
// default defaultNoAckWindow), and each delivery is acked at the moment it
// is handed to the script — before its callback is called, or when a
// consume() iterator's next() hands it over. At most the window's worth of
// messages is ever on the client side. Deliveries not yet handed over when
// the channel ends are dropped: they were never acked, so the broker
// requeues them (nothing lost). no_ack_window 0 is the broker's own no_ack.
type consumer struct {
	x           *channel
	tag         string
	cb          goja.Callable // callback style; nil for consume()
	push, end   goja.Callable // consume() iterator style
	concurrency int
	autoAck     bool // no_ack emulated with manual acks (see above)
	acked       bool // its deliveries are acked (manual acks, or autoAck)
	// loop-owned
	queue    []*amqp.Delivery
	head     int
	inflight int
	ready    bool // basic_consume has resolved
	ended    bool
	onSettle goja.Value // shared then() callbacks
	onReject goja.Value
	pumping  bool           // a pump task is queued (see schedulePump)
	in       inbox          // deliveries on their way to queue (fastpath.go)
	site     callSite       // where basic_consume or consume was called
	bufAPI   *buffer.Buffer // see body
}

// Delivery is called by the amqp package (from the connection's reader
// goroutine), in delivery order. Deliveries reach the loop in batches.
func (c *consumer) Delivery(d *amqp.Delivery) {
	c.x.m.recordDelivery(d)
	if c.in.add(d) {
		c.x.m.loop.RunOnLoop(c.takeIncoming)
	}
}

// Cancelled is called from the amqp pump goroutine when the broker cancelled
// the consumer.
func (c *consumer) Cancelled(tag string) {
	c.x.m.loop.RunOnLoop(func(vm *goja.Runtime) { c.x.cancelledByBroker(vm, tag) })
}

// End is called from the amqp pump goroutine, once, last.
func (c *consumer) End(err error) {
	c.x.m.loop.RunOnLoop(func(vm *goja.Runtime) {
		c.ended = true
		if c.x.consumers[c.tag] == c {
			delete(c.x.consumers, c.tag)
		}
		if c.end != nil {
			c.pump(vm) // hand over what is queued first
			var e goja.Value = goja.Null()
			if err != nil {
				e = c.x.m.jsError(err, 0)
				stamp(vm, e, c.site, c.x.closedNote(err, c.site, false))
			}
			// An iterator whose messages are acked drops what it holds
			// once the channel is gone: the broker requeues those messages.
			drop := vm.ToValue(c.droppable())
			if _, cerr := c.end(goja.Undefined(), e, drop); cerr != nil {
				c.x.m.loop.Fail(cerr)
			}
		}
	})
}

// defaultNoAckWindow is the prefetch window of a no_ack consumer (see
// consumer): what bounds its deliveries on the client side.
const defaultNoAckWindow = 1000

// ackHandedOver acks an emulated no_ack delivery as it is handed to the
// script. A failure means the channel is closing: the broker requeues it.
func (c *consumer) ackHandedOver(tag uint64) {
	c.x.ackNoPromise(tag)
}

// droppable reports whether the deliveries queued for the script must be
// dropped: they are acked (manual acks or emulated no_ack) and the channel
// is gone, so the broker requeues them. Handing them over would only make
// the script process messages it can no longer ack, which the broker
// delivers again (docs/api.md §7: when the connection ends, every consumer
// stops). With the broker's own no_ack they are handed over: nobody else
// will get them.
func (c *consumer) droppable() bool {
	return c.acked && !c.x.ch.IsOpen()
}

func (c *consumer) pump(vm *goja.Runtime) {
	if !c.ready {
		return
	}
	for c.head < len(c.queue) && (c.push != nil || c.inflight < c.concurrency) {
		if c.droppable() {
			clear(c.queue)
			c.queue = c.queue[:0]
			c.head = 0
			return
		}
		testPanic("deliver")
		d := c.queue[c.head]
		c.queue[c.head] = nil
		c.head++
		if c.head == len(c.queue) {
			c.queue = c.queue[:0]
			c.head = 0
		}
		body := c.body(vm, d.Body)
		env := envelope(vm, d)
		props := propertiesToJS(vm, &d.Properties)
		if c.push != nil {
			msgFn, _ := goja.AssertFunction(c.x.m.prelude.Get("message"))
			msg, err := msgFn(goja.Undefined(), c.x.obj, body, env, props)
			if err == nil {
				_, err = c.push(goja.Undefined(), msg)
			}
			if err != nil {
				c.x.m.loop.Fail(err)
				return
			}
			continue
		}
		if c.autoAck {
			c.ackHandedOver(d.DeliveryTag)
		}
		ret, err := c.cb(goja.Undefined(), body, env, props, c.x.obj)
		if err != nil {
			// The callback's frames, then where basic_consume was called.
			if ex, ok := err.(*goja.Exception); ok {
				appendSite(vm, ex.Value(), c.site)
			}
			c.x.m.loop.Fail(err)
			return
		}
		if o, ok := ret.(*goja.Object); ok {
			if then, ok := goja.AssertFunction(o.Get("then")); ok {
				c.inflight++
				if c.onSettle == nil {
					// A promise reaction runs inside goja's job queue:
					// it only frees the slot and queues the next pump
					// as a loop task. Calling pump (and so the next
					// callback) from here would nest one dispatch per
					// delivery inside goja's jobs.
					c.onSettle = vm.ToValue(func(goja.FunctionCall) goja.Value {
						c.inflight--
						c.schedulePump()
						return goja.Undefined()
					})
					c.onReject = vm.ToValue(func(call goja.FunctionCall) goja.Value {
						c.inflight--
						appendSite(vm, call.Argument(0), c.site)
						c.x.m.loop.Fail(uncaught(call.Argument(0)))
						return goja.Undefined()
					})
				}
				if _, err := then(o, c.onSettle, c.onReject); err != nil {
					c.x.m.loop.Fail(err)
					return
				}
			}
		}
	}
}

// schedulePump queues one pump task on the loop (at most one at a time):
// how a consumer goes on after a callback's promise settled. Loop only.
func (c *consumer) schedulePump() {
	if c.pumping || c.head == len(c.queue) {
		return
	}
	c.pumping = c.x.m.loop.RunOnLoop(func(vm *goja.Runtime) {
		c.pumping = false
		c.pump(vm)
	})
}

// cancelledByBroker runs the cancellation callbacks in registration order;
// an exception in one is reported on stderr and the others still run.
func (x *channel) cancelledByBroker(vm *goja.Runtime, tag string) {
	for _, fn := range x.cancelCBs {
		ret, err := fn(goja.Undefined(), vm.ToValue(tag), x.obj)
		if err != nil {
			x.m.warn("cancellation callback for consumer '%s' threw: %s", tag, x.m.rt.FormatError(err))
			continue
		}
		if o, ok := ret.(*goja.Object); ok {
			if then, ok := goja.AssertFunction(o.Get("then")); ok {
				_, _ = then(o, goja.Undefined(), vm.ToValue(func(call goja.FunctionCall) goja.Value {
					x.m.warn("cancellation callback for consumer '%s' rejected: %s", tag, x.m.rt.Inspect(call.Argument(0), false))
					return goja.Undefined()
				}))
			}
		}
	}
}

func (x *channel) basicConsume(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := basicConsumeSig.parse(vm, call.Arguments)
	cb, _ := goja.AssertFunction(a[0])
	c := &consumer{x: x, cb: cb, concurrency: int(integer(a[8], 1))}
	args := amqp.ConsumeArgs{
		Queue: str(a[1], ""), Tag: str(a[2], ""), NoLocal: boolean(a[3], false), NoAck: boolean(a[4], false),
		Exclusive: boolean(a[5], false), NoWait: boolean(a[6], false), Args: x.table(vm, a[7], "basic_consume: arguments"),
	}
	c.emulateNoAck(&args, a[10])
	return x.startConsumer(vm, c, args, seconds(a[9]), nil)
}

// emulateNoAck turns a no_ack consumer into an emulated one (see consumer)
// unless no_ack_window (v) is 0.
func (c *consumer) emulateNoAck(args *amqp.ConsumeArgs, v goja.Value) {
	window := int(integer(v, defaultNoAckWindow))
	if !args.NoAck || window == 0 {
		return
	}
	args.NoAck = false
	args.Prefetch = window
	c.autoAck = true
}

// consume is channel.consume(queue_name, options): an async iterable of
// messages, resolved once the broker confirmed the consumer.
func (x *channel) consume(call goja.FunctionCall) goja.Value {
	vm := x.m.rt.VM()
	a := consumeSig.parse(vm, call.Arguments)
	args := amqp.ConsumeArgs{
		Queue: a[0].String(), Tag: str(a[1], ""), NoLocal: boolean(a[2], false), NoAck: boolean(a[3], false),
		Exclusive: boolean(a[4], false), NoWait: boolean(a[5], false), Args: x.table(vm, a[6], "consume: arguments"),
	}
	c := &consumer{x: x, concurrency: 1}
	c.emulateNoAck(&args, a[9])
	return x.startConsumer(vm, c, args, seconds(a[8]), func(vm *goja.Runtime, tag string) goja.Value {
		mk, _ := goja.AssertFunction(x.m.prelude.Get("makeIterator"))
		cancel := vm.ToValue(func(goja.FunctionCall) goja.Value {
			fn, _ := goja.AssertFunction(x.obj.Get("basic_cancel"))
			v, err := fn(x.obj, vm.ToValue(tag))
			if err != nil {
				panic(err)
			}
			return v
		})
		var autoAck goja.Value = goja.Null()
		if c.autoAck {
			autoAck = vm.ToValue(func(call goja.FunctionCall) goja.Value {
				c.ackHandedOver(uint64(call.Argument(0).ToInteger()))
				return goja.Undefined()
			})
		}
		r, err := mk(goja.Undefined(), x.obj, vm.ToValue(tag), cancel, autoAck)
		if err != nil {
			panic(err)
		}
		ro := r.ToObject(vm)
		c.push, _ = goja.AssertFunction(ro.Get("push"))
		c.end, _ = goja.AssertFunction(ro.Get("end"))
		return ro.Get("iter")
	})
}

func (x *channel) startConsumer(vm *goja.Runtime, c *consumer, args amqp.ConsumeArgs, timeout float64, result func(vm *goja.Runtime, tag string) goja.Value) goja.Value {
	c.acked = !args.NoAck
	c.site = x.m.site()
	p, ctx, done := x.op(timeout)
	if args.Tag != "" {
		if _, dup := x.consumers[args.Tag]; dup {
			tag := args.Tag
			done(&lazyRejection{build: func(vm *goja.Runtime) goja.Value { return x.m.newError("DuplicateConsumerTag", tag) }}, nil)
			return p
		}
		x.consumers[args.Tag] = c
	}
	x.ch.Consume(ctx, args, c, func(tag string, err error) {
		done(err, func(vm *goja.Runtime) any {
			c.tag = tag
			if !c.ended {
				x.consumers[tag] = c
			}
			c.ready = true
			var v goja.Value
			if result != nil {
				v = result(vm, tag)
			} else {
				o := vm.NewObject()
				_ = o.Set("consumer_tag", tag)
				v = o
			}
			// Deliveries queued before the resolution run after the
			// script's continuation (a later task), never before.
			x.m.loop.RunOnLoop(func(vm *goja.Runtime) { c.pump(vm) })
			return v
		})
		if err != nil && args.Tag != "" {
			x.m.loop.RunOnLoop(func(*goja.Runtime) {
				if x.consumers[args.Tag] == c {
					delete(x.consumers, args.Tag)
				}
			})
		}
	})
	return p
}
