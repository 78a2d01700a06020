package bindings

import (
	"sync"

	"github.com/dop251/goja"

	"github.com/amqpjs/amqpjs/amqp"

	"github.com/amqpjs/amqpjs/runtime"
)

/*
The fast path of publish, basic_publish and the acks.

When the channel's executor is idle, amqp.Channel.TryPublish/TryAck write
the frames into the connection's buffer on the loop goroutine itself, with
no goroutine handoff (see amqp/direct.go); the call's promise is then
settled at once (a publish resolves once the transport holds its bytes, as
on the queued path), or, for a publish that waits for its confirm, when the
broker acks it. The buffer is written out by a task queued once per loop
turn (flushSoon), which asks the channel's executor to write it: the loop
never waits for the socket.

Order: a call takes the fast path only when every earlier call of the
channel that went through the executor has been settled on the loop
(unsettled == 0), so promises settle in call order whichever path a call
takes. Publishes that wait for a confirm do not count: they settle when
the broker acks.
An ack, nack or reject is also written directly when earlier calls are
written (the executor is idle) but not yet settled on the loop; its promise
then settles by a loop task queued after theirs (see ack).
*/

// fastState is a channel's fast-path state. loop-owned.
type fastState struct {
	unsettled   int        // counted ops (channel.opRes) not yet settled on the loop
	flushQueued bool       // a flush task is queued
	resolved    goja.Value // a promise resolved with null (resolvedNull)
}

// fastOK reports whether a call may take the fast path. Loop only.
func (x *channel) fastOK() bool { return x.fast.unsettled == 0 && !x.closed }

// flushSoon makes sure that what the fast path buffered is written once the
// current task is done. Loop only.
func (x *channel) flushSoon() {
	if x.fast.flushQueued {
		return
	}
	x.fast.flushQueued = true
	ch := x.ch
	if !x.m.loop.RunOnLoop(func(*goja.Runtime) {
		x.fast.flushQueued = false
		ch.Flush()
	}) {
		ch.Flush()
	}
}

// resolvedNull returns the promise of a call that succeeded at once: a
// promise already resolved with null. Making a promise costs goja two
// native functions (its resolvers), a large share of a fast publish, so the
// channel returns the same resolved promise for every such call: awaiting
// it, then() and catch() behave exactly as with a fresh one. Loop only.
func (x *channel) resolvedNull(vm *goja.Runtime) goja.Value {
	if x.fast.resolved == nil {
		p, resolve, _ := vm.NewPromise()
		_ = resolve(nil)
		x.fast.resolved = vm.ToValue(p)
	}
	return x.fast.resolved
}

// settleNow settles res on the loop at once: resolved with null, or
// rejected as a queued call failing with err would be.
func (x *channel) settleNow(vm *goja.Runtime, res *runtime.Resolver, err error) {
	var rej any
	if err != nil {
		rej = x.errorAt(err, 0, x.m.site())
	}
	if e := res.SettleOnLoop(vm, nil, rej); e != nil {
		panic(e)
	}
}

// ack is basic_client_ack, basic_client_nack and basic_reject: the fast
// path when it may, else the executor. Loop only.
func (x *channel) ack(m int, tag uint64, multiple, requeue bool) goja.Value {
	vm := x.m.rt.VM()
	if !x.closed {
		var ok bool
		switch m {
		case ackAck:
			ok = x.ch.TryAck(tag, multiple)
		case ackNack:
			ok = x.ch.TryNack(tag, multiple, requeue)
		default:
			ok = x.ch.TryReject(tag, requeue)
		}
		if ok {
			x.flushSoon()
			if x.fastOK() {
				return x.resolvedNull(vm)
			}
			// Written after every earlier call (TryAck found the executor
			// idle: they are all written and their settlements queued on
			// the loop), but some are not settled yet: this promise is
			// settled by a task queued after theirs, in call order. (Going
			// through the executor instead would keep every ack of a busy
			// consumer on that path: each one, still unsettled, would make
			// the next one take it too.)
			p, _, done := x.op(0)
			done(nil, nil)
			return p
		}
	}
	p, _, done := x.op(0)
	cb := func(err error) { done(err, nil) }
	switch m {
	case ackAck:
		x.ch.Ack(tag, multiple, cb)
	case ackNack:
		x.ch.Nack(tag, multiple, requeue, cb)
	default:
		x.ch.Reject(tag, requeue, cb)
	}
	return p
}

const (
	ackAck = iota
	ackNack
	ackReject
)

// ackNoPromise acks a delivery without a promise (emulated no_ack): the
// fast path when it may, else the executor. Loop only.
func (x *channel) ackNoPromise(tag uint64) {
	// No promise: only the frames' order matters, which TryAck keeps.
	if x.ch.TryAck(tag, false) {
		x.flushSoon()
		return
	}
	x.ch.Ack(tag, false, nil)
}

// inbox batches a consumer's deliveries on their way to the loop: the amqp
// reader appends (add), and one loop task per batch takes them all, instead
// of one task per delivery.
type inbox struct {
	mu    sync.Mutex
	items []*amqp.Delivery
	spare []*amqp.Delivery
}

// add appends d; first reports that the inbox was empty, so the caller
// must queue the task that takes it. Any goroutine.
func (b *inbox) add(d *amqp.Delivery) (first bool) {
	b.mu.Lock()
	b.items = append(b.items, d)
	first = len(b.items) == 1
	b.mu.Unlock()
	return first
}

// takeInto appends what the inbox holds to q. Loop only.
func (b *inbox) takeInto(q []*amqp.Delivery) []*amqp.Delivery {
	b.mu.Lock()
	items := b.items
	b.items = b.spare
	b.spare = nil
	b.mu.Unlock()
	q = append(q, items...)
	clear(items)
	b.mu.Lock()
	if b.spare == nil {
		b.spare = items[:0]
	}
	b.mu.Unlock()
	return q
}

// takeIncoming is the loop task that moves a batch from the inbox to the
// consumer's queue and dispatches.
func (c *consumer) takeIncoming(vm *goja.Runtime) {
	c.queue = c.in.takeInto(c.queue)
	c.pump(vm)
}

// InlineDeliveries marks consumer as an amqp.InlineHandler: Delivery only
// appends to the inbox and queues a loop task, so it may run on the
// connection's reader goroutine.
func (c *consumer) InlineDeliveries() {}
