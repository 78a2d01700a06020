package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

/*
Channel is an open AMQP channel. Its methods are safe for concurrent use.

Every method that talks to the broker is asynchronous and ordered: it queues
an operation on the channel's executor and returns at once. The executor runs
the operations one at a time in call order, so calls made in sequence reach
the broker in that order even when nobody waits for them. The done callback
is called exactly once, never from inside the call itself, from a goroutine of
this package; it must only do quick, non-blocking work.

Each call takes a ctx: when it ends before the operation completes, done gets
a KindTimeout *Error at once (an operation still queued is then skipped; one
already sent may still complete, and its result is ignored). On a closed
channel done gets KindChannelClosed with Code 0 (KindConnectionClosed when
the connection is closed). When the broker closes the channel or the
connection, every pending operation gets that error (KindChannelClosed with
the broker's code; KindConnectionClosed when the socket was lost).
*/
type Channel struct {
	conn *Conn
	raw  *amqp091.Channel
	id   uint16
	exec *executor
	wg   sync.WaitGroup // executor and consumer pumps

	// Executor-owned: corked is true while a run of publishes and acks is
	// being written into the tap's cork buffer.
	corked bool
	// Executor-owned: the per-consumer qos (global=false) last set by Qos,
	// which a consumer with its own Prefetch restores.
	consumerQosCount, consumerQosSize int

	open            atomic.Bool
	closingByClient atomic.Bool
	flushReq        atomic.Bool // Flush was called (see direct.go)
	ring            atomic.Pointer[confirmRing]
	acks            ackRun // ack coalescing (direct.go); its own mutex

	endc     chan struct{} // closed when the channel has ended
	execDone chan struct{} // closed when the executor goroutine has returned
	opErr    *Error        // for operations pending at the end; set before endc closes

	cmu       sync.Mutex
	consumers map[string]*consumer // nil once ended

	deliv *tapDeliveries // executor-owned; see deliveries

	cbmu     sync.Mutex
	returnFn func(*Return)
	closeFns []func(*Error)
	ended    bool
	endErr   *Error
	tc       *tapChan
}

func newChannel(c *Conn, raw *amqp091.Channel, id uint16) *Channel {
	ch := &Channel{
		conn:      c,
		raw:       raw,
		id:        id,
		endc:      make(chan struct{}),
		consumers: map[string]*consumer{},
	}
	ch.open.Store(true)
	ch.exec = newExecutor(ch.run, ch.flush)
	ch.exec.idle = ch.idleFlush
	closeC := raw.NotifyClose(make(chan *amqp091.Error, 1))
	cancelC := raw.NotifyCancel(make(chan string, 16))
	returnC := raw.NotifyReturn(make(chan amqp091.Return, 16))
	c.mu.Lock()
	c.channels[ch] = struct{}{}
	c.mu.Unlock()
	ch.execDone = make(chan struct{})
	ch.wg.Add(1)
	go func() {
		defer ch.wg.Done()
		defer close(ch.execDone)
		ch.exec.loop()
	}()
	go ch.events(closeC, cancelC, returnC)
	return ch
}

// ID returns the channel number.
func (ch *Channel) ID() int { return int(ch.id) }

// IsOpen reports whether the channel is open.
func (ch *Channel) IsOpen() bool { return ch.open.Load() }

// Confirming reports whether a Confirm has been executed on the channel.
func (ch *Channel) Confirming() bool { return ch.ring.Load() != nil }

// ConsumerTags returns the tags of the active consumers, sorted.
func (ch *Channel) ConsumerTags() []string {
	ch.cmu.Lock()
	tags := make([]string, 0, len(ch.consumers))
	for t, c := range ch.consumers {
		if c.active {
			tags = append(tags, t)
		}
	}
	ch.cmu.Unlock()
	slices.Sort(tags)
	return tags
}

// OnReturn sets the function called for each message the broker returned
// (basic.return: a mandatory publish that could not be routed). It is called
// from the channel's event goroutine and must not block. In confirm mode the
// return is reported before the publish's confirm.
func (ch *Channel) OnReturn(fn func(*Return)) {
	ch.cbmu.Lock()
	ch.returnFn = fn
	ch.cbmu.Unlock()
}

// OnClose registers fn, called exactly once when the channel has ended: with
// nil when the client closed it (or its connection), else with the *Error
// that pending operations got. Registered after the end, fn is called from a
// new goroutine. fn must not block.
func (ch *Channel) OnClose(fn func(err *Error)) {
	ch.cbmu.Lock()
	if ch.ended {
		err := ch.endErr
		ch.cbmu.Unlock()
		go fn(err)
		return
	}
	ch.closeFns = append(ch.closeFns, fn)
	ch.cbmu.Unlock()
}

// submit arms o's timer and queues it.
func (ch *Channel) submit(o *op) {
	o.arm()
	if !ch.exec.submit(o) {
		err := ch.closedErr()
		go o.fail(err)
	}
}

// closedErr is the error for a call made after the channel ended.
func (ch *Channel) closedErr() *Error {
	if ch.conn.isClosed() {
		return &Error{Kind: KindConnectionClosed, Reason: "connection is closed"}
	}
	return &Error{Kind: KindChannelClosed, Reason: "channel is closed"}
}

// QueueDeclare declares a queue; done gets the broker's name for it (useful
// with an empty Name) and its counts. Passive only checks that it exists.
func (ch *Channel) QueueDeclare(ctx context.Context, a QueueDeclareArgs, done func(QueueInfo, error)) {
	ch.submit(&op{kind: opQueueDeclare, ctx: ctx, opExt: &opExt{qd: a, doneQ: done}})
}

// QueueDelete deletes a queue.
func (ch *Channel) QueueDelete(ctx context.Context, name string, ifUnused, ifEmpty, noWait bool, done func(error)) {
	ch.submit(&op{kind: opQueueDelete, ctx: ctx, f1: ifUnused, f2: ifEmpty, f3: noWait, done: done, opExt: &opExt{s1: name}})
}

// QueueBind binds a queue to an exchange.
func (ch *Channel) QueueBind(ctx context.Context, queue, exchange, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opQueueBind, ctx: ctx, f1: noWait, done: done, opExt: &opExt{s1: queue, s2: exchange, s3: key, args: args}})
}

// QueueUnbind removes a binding.
func (ch *Channel) QueueUnbind(ctx context.Context, queue, exchange, key string, args Table, done func(error)) {
	ch.submit(&op{kind: opQueueUnbind, ctx: ctx, done: done, opExt: &opExt{s1: queue, s2: exchange, s3: key, args: args}})
}

// QueuePurge removes a queue's ready messages; done gets how many.
func (ch *Channel) QueuePurge(ctx context.Context, name string, noWait bool, done func(count int, err error)) {
	ch.submit(&op{kind: opQueuePurge, ctx: ctx, f1: noWait, opExt: &opExt{s1: name, doneN: done}})
}

// ExchangeDeclare declares an exchange (Kind "" is "direct").
func (ch *Channel) ExchangeDeclare(ctx context.Context, a ExchangeDeclareArgs, done func(error)) {
	ch.submit(&op{kind: opExchangeDeclare, ctx: ctx, done: done, opExt: &opExt{ed: a}})
}

// ExchangeDelete deletes an exchange.
func (ch *Channel) ExchangeDelete(ctx context.Context, name string, ifUnused, noWait bool, done func(error)) {
	ch.submit(&op{kind: opExchangeDelete, ctx: ctx, f1: ifUnused, f2: noWait, done: done, opExt: &opExt{s1: name}})
}

// ExchangeBind binds exchange dest to exchange src.
func (ch *Channel) ExchangeBind(ctx context.Context, dest, src, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opExchangeBind, ctx: ctx, f1: noWait, done: done, opExt: &opExt{s1: dest, s2: src, s3: key, args: args}})
}

// ExchangeUnbind removes an exchange-to-exchange binding.
func (ch *Channel) ExchangeUnbind(ctx context.Context, dest, src, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opExchangeUnbind, ctx: ctx, f1: noWait, done: done, opExt: &opExt{s1: dest, s2: src, s3: key, args: args}})
}

// Qos sets the prefetch window (prefetchCount 0..65535, prefetchSize
// 0..2^32-1; out of range fails with KindInvalid).
func (ch *Channel) Qos(ctx context.Context, prefetchSize, prefetchCount int, global bool, done func(error)) {
	ch.submit(&op{kind: opQos, ctx: ctx, f1: global, done: done, opExt: &opExt{n1: prefetchSize, n2: prefetchCount}})
}

// Flow asks the broker to pause (false) or resume (true) deliveries; done
// gets the requested state. (RabbitMQ does not implement active=false and
// closes the connection.)
func (ch *Channel) Flow(ctx context.Context, active bool, done func(active bool, err error)) {
	ch.submit(&op{kind: opFlow, ctx: ctx, f1: active, opExt: &opExt{doneB: done}})
}

// Recover asks the broker to redeliver unacknowledged messages.
func (ch *Channel) Recover(ctx context.Context, requeue bool, done func(error)) {
	ch.submit(&op{kind: opRecover, ctx: ctx, f1: requeue, done: done})
}

// Close closes the channel with the given reply code and text (at most 255
// bytes; amqp091-go itself always sends 200 and no text, so the tap rewrites
// the frame). A second Close fails with KindChannelClosed, Code 0.
func (ch *Channel) Close(ctx context.Context, code int, text string, done func(error)) {
	ch.submit(&op{kind: opClose, ctx: ctx, done: done, opExt: &opExt{n1: code, s1: text}})
}

/*
Confirm puts the channel in confirm mode (confirm.select, injected by the tap;
see tap). From then on every publish gets the next delivery tag, starting at
1, whether it waits for its confirm or not. With noWait done is called once
the select is written. A second Confirm fails with KindInvalid.
*/
func (ch *Channel) Confirm(ctx context.Context, noWait bool, done func(error)) {
	ch.submit(&op{kind: opConfirm, ctx: ctx, f1: noWait, done: done})
}

/*
Publish publishes p. Not in confirm mode, or without waitConfirm, done is
called once the frames are written to the connection's buffer, which goes
to the socket at the end of the executor's current batch. In confirm mode with waitConfirm, done is
called when the broker acks the message (nil) or nacks it (KindPublishNacked
with Error.DeliveryTag). p and p.Body must not be modified until done is
called.
*/
func (ch *Channel) Publish(ctx context.Context, p *Publishing, waitConfirm bool, done func(err error)) {
	ch.submit(&op{kind: opPublish, ctx: ctx, pub: p, f1: waitConfirm, done: done})
}

// Ack acknowledges a delivery; done is called once it is written.
func (ch *Channel) Ack(tag uint64, multiple bool, done func(error)) {
	ch.submit(&op{kind: opAck, tag: tag, f1: multiple, done: done})
}

// Nack negatively acknowledges a delivery; done is called once it is written.
func (ch *Channel) Nack(tag uint64, multiple, requeue bool, done func(error)) {
	ch.submit(&op{kind: opNack, tag: tag, f1: multiple, f2: requeue, done: done})
}

// Reject rejects a delivery; done is called once it is written.
func (ch *Channel) Reject(tag uint64, requeue bool, done func(error)) {
	ch.submit(&op{kind: opReject, tag: tag, f1: requeue, done: done})
}

// Get fetches one message; ok is false when the queue is empty.
func (ch *Channel) Get(ctx context.Context, queue string, noAck bool, done func(d *Delivery, ok bool, err error)) {
	ch.submit(&op{kind: opGet, ctx: ctx, f1: noAck, opExt: &opExt{s1: queue, doneGet: done}})
}

/*
Consume starts a consumer and calls done with its tag (generated when
a.Tag is empty). A tag already active on the channel fails with
KindDuplicateConsumer (Code 530) before anything is sent. h gets the
consumer's deliveries, from one pump goroutine, only after done was called;
see ConsumerHandler. h is used only when done got no error. When ctx ends
before the broker confirmed the consumer, the consumer is cancelled again.
*/
func (ch *Channel) Consume(ctx context.Context, a ConsumeArgs, h ConsumerHandler, done func(tag string, err error)) {
	ch.submit(&op{kind: opConsume, ctx: ctx, opExt: &opExt{ca: a, h: h, doneTag: done}})
}

// Cancel cancels a consumer. After done, the consumer's handler gets its
// remaining buffered deliveries and then End(nil).
func (ch *Channel) Cancel(ctx context.Context, tag string, noWait bool, done func(error)) {
	ch.submit(&op{kind: opCancel, ctx: ctx, f1: noWait, done: done, opExt: &opExt{s1: tag}})
}

// ok completes o successfully when it has not completed yet.
func ok(o *op) {
	if o.complete() {
		o.deliver(nil)
	}
}

// failed reports a raw amqp091 error. When the channel or connection is
// closing, the operation gets the channel's end error, which says whether
// the broker closed it (with its code) or the connection was lost.
func (ch *Channel) failed(o *op, err error) {
	if ch.raw.IsClosed() || ch.conn.raw.IsClosed() || ch.conn.dropped.Load() {
		<-ch.endc
		o.fail(ch.opErr)
		return
	}
	o.fail(classify(o.name(), err))
}

// batchable reports whether o only writes (publish, ack, nack, reject), so a
// run of them can leave in one socket write.
func batchable(k opKind) bool {
	return k == opPublish || k == opAck || k == opNack || k == opReject
}

// wrote completes o, whose frames are in the connection's write buffer (as
// aioamqp resolves once the transport has the bytes). Calling done now, not
// after the flush, keeps it ahead of any broker reply to a later operation.
func (ch *Channel) wrote(o *op) { ok(o) }

// flush ends the executor's cork: the buffered frames are written. Called
// after each batch and before any operation that waits for the broker. A
// failed write closes the socket, and the connection's end reports it.
func (ch *Channel) flush() {
	if !ch.corked {
		return
	}
	ch.corked = false
	_ = ch.conn.tap.out.uncork()
}

// run executes one operation on the executor goroutine.
func (ch *Channel) run(o *op) {
	if batchable(o.kind) {
		if !ch.corked {
			ch.conn.tap.out.cork()
			ch.corked = true
		}
	} else {
		ch.flush()
	}
	if ch.raw.IsClosed() {
		ch.failed(o, amqp091.ErrClosed)
		return
	}
	name := o.name()
	raw := ch.raw
	switch o.kind {
	case opQueueDeclare:
		a := &o.qd
		if e := checkShort(name, "queue name", a.Name); e != nil {
			o.fail(e)
			return
		}
		args, e := convTable(name, a.Args)
		if e != nil {
			o.fail(e)
			return
		}
		var q amqp091.Queue
		var err error
		if a.Passive {
			q, err = raw.QueueDeclarePassive(a.Name, a.Durable, a.AutoDelete, a.Exclusive, a.NoWait, args)
		} else {
			q, err = raw.QueueDeclare(a.Name, a.Durable, a.AutoDelete, a.Exclusive, a.NoWait, args)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			o.doneQ(QueueInfo{Name: q.Name, MessageCount: q.Messages, ConsumerCount: q.Consumers}, nil)
		}

	case opQueueDelete:
		if e := checkShort(name, "queue name", o.s1); e != nil {
			o.fail(e)
			return
		}
		if _, err := raw.QueueDelete(o.s1, o.f1, o.f2, o.f3); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQueueBind, opQueueUnbind, opExchangeBind, opExchangeUnbind:
		for _, s := range [...]string{o.s1, o.s2, o.s3} {
			if e := checkShort(name, "name or routing key", s); e != nil {
				o.fail(e)
				return
			}
		}
		args, e := convTable(name, o.args)
		if e != nil {
			o.fail(e)
			return
		}
		var err error
		switch o.kind {
		case opQueueBind:
			err = raw.QueueBind(o.s1, o.s3, o.s2, o.f1, args)
		case opQueueUnbind:
			err = raw.QueueUnbind(o.s1, o.s3, o.s2, args)
		case opExchangeBind:
			err = raw.ExchangeBind(o.s1, o.s3, o.s2, o.f1, args)
		default:
			err = raw.ExchangeUnbind(o.s1, o.s3, o.s2, o.f1, args)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQueuePurge:
		if e := checkShort(name, "queue name", o.s1); e != nil {
			o.fail(e)
			return
		}
		n, err := raw.QueuePurge(o.s1, o.f1)
		if err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			o.doneN(n, nil)
		}

	case opExchangeDeclare:
		a := &o.ed
		kind := a.Kind
		if kind == "" {
			kind = amqp091.ExchangeDirect
		}
		if e := checkShort(name, "exchange name", a.Name); e != nil {
			o.fail(e)
			return
		}
		if e := checkShort(name, "exchange type", kind); e != nil {
			o.fail(e)
			return
		}
		args, e := convTable(name, a.Args)
		if e != nil {
			o.fail(e)
			return
		}
		var err error
		if a.Passive {
			err = raw.ExchangeDeclarePassive(a.Name, kind, a.Durable, a.AutoDelete, false, a.NoWait, args)
		} else {
			err = raw.ExchangeDeclare(a.Name, kind, a.Durable, a.AutoDelete, false, a.NoWait, args)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opExchangeDelete:
		if e := checkShort(name, "exchange name", o.s1); e != nil {
			o.fail(e)
			return
		}
		if err := raw.ExchangeDelete(o.s1, o.f1, o.f2); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQos:
		if o.n1 < 0 || o.n1 > 0xFFFFFFFF || o.n2 < 0 || o.n2 > 0xFFFF {
			o.fail(invalidf(name, "prefetch_size must be 0..4294967295 and prefetch_count 0..65535"))
			return
		}
		if err := raw.Qos(o.n2, o.n1, o.f1); err != nil {
			ch.failed(o, err)
			return
		}
		if !o.f1 {
			ch.consumerQosCount, ch.consumerQosSize = o.n2, o.n1
		}
		ok(o)

	case opFlow:
		if err := raw.Flow(o.f1); err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			o.doneB(o.f1, nil)
		}

	case opRecover:
		if err := raw.Recover(o.f1); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opClose:
		ch.runClose(o)

	case opConfirm:
		ch.runConfirm(o)

	case opPublish:
		ch.runPublish(o)

	case opAck, opNack, opReject:
		var err error
		switch o.kind {
		case opAck:
			err = raw.Ack(o.tag, o.f1)
		case opNack:
			err = raw.Nack(o.tag, o.f1, o.f2)
		default:
			err = raw.Reject(o.tag, o.f1)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		ch.acks.ackedQueued(o.tag, o.kind != opReject && o.f1)
		ch.wrote(o)

	case opGet:
		if e := checkShort(name, "queue name", o.s1); e != nil {
			o.fail(e)
			return
		}
		d, got, err := raw.Get(o.s1, o.f1)
		if err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			if got {
				o.doneGet(fromAMQPDelivery(&d), true, nil)
			} else {
				o.doneGet(nil, false, nil)
			}
		}

	case opConsume:
		ch.runConsume(o)

	case opCancel:
		ch.runCancel(o)

	case opBarrier:
		// Not batchable: run flushed every write queued before it; direct
		// writes (TryPublish) go out too.
		ch.conn.tap.out.flushAsync()
		ok(o)
	}
}

// drain waits until every operation queued on the channel before it has
// been written (or the channel ended, or ctx ended).
func (ch *Channel) drain(ctx context.Context) {
	done := make(chan struct{})
	ch.submit(&op{kind: opBarrier, done: func(error) { close(done) }})
	select {
	case <-done:
	case <-ctx.Done():
	}
}

func (ch *Channel) runPublish(o *op) {
	p := o.pub
	if p == nil {
		o.fail(invalidf(o.name(), "nil publishing"))
		return
	}
	headers, e := validatePublishing(o.name(), p)
	if e != nil {
		o.fail(e)
		return
	}
	msg := toAMQPPublishing(p, headers)
	ring := ch.ring.Load()
	if ring == nil {
		if err := ch.raw.Publish(p.Exchange, p.RoutingKey, p.Mandatory, p.Immediate, msg); err != nil {
			ch.failed(o, err)
			return
		}
		ch.wrote(o)
		return
	}
	var waiter *op
	if o.f1 {
		waiter = o
	}
	tag, e := ring.push(waiter)
	if e != nil {
		o.fail(e)
		return
	}
	if err := ch.raw.Publish(p.Exchange, p.RoutingKey, p.Mandatory, p.Immediate, msg); err != nil {
		ring.unpush(tag)
		ch.failed(o, err)
		return
	}
	if waiter == nil {
		ch.wrote(o)
	}
}

func (ch *Channel) runConfirm(o *op) {
	if ch.ring.Load() != nil {
		o.fail(invalidf(o.name(), "publisher confirms already enabled"))
		return
	}
	ring := newConfirmRing()
	tc := &tapChan{ring: ring, selectOK: make(chan struct{}, 1)}
	tc.selects.Store(1)
	tc.deliv.Store(ch.deliv)
	ch.cbmu.Lock()
	if ch.ended {
		ch.cbmu.Unlock()
		<-ch.endc
		o.fail(ch.opErr)
		return
	}
	ch.tc = tc
	ch.ring.Store(ring)
	ch.cbmu.Unlock()
	ch.conn.tap.chans.register(ch.id, tc)
	if err := ch.conn.tap.out.inject(confirmSelectFrame(ch.id)); err != nil {
		ch.failed(o, err)
		return
	}
	if o.f1 {
		ok(o)
		return
	}
	select {
	case <-tc.selectOK:
		ok(o)
	case <-ch.endc:
		o.fail(ch.opErr)
	}
}

func (ch *Channel) runClose(o *op) {
	name := o.name()
	if o.n1 < 0 || o.n1 > 0xFFFF {
		o.fail(invalidf(name, "reply code must be 0..65535"))
		return
	}
	if e := checkShort(name, "reply text", o.s1); e != nil {
		o.fail(e)
		return
	}
	ch.closingByClient.Store(true)
	tap := ch.conn.tap
	if o.n1 != 200 || o.s1 != "" {
		tap.out.rewriteClose(ch.id, channelCloseFrame(ch.id, uint16(o.n1), o.s1))
	}
	err := ch.raw.Close()
	tap.out.rewriteClose(ch.id, nil)
	if err != nil {
		ch.failed(o, err)
		return
	}
	<-ch.endc
	ch.cbmu.Lock()
	endErr := ch.endErr
	ch.cbmu.Unlock()
	if endErr != nil {
		// The broker closed the channel first.
		o.fail(ch.opErr)
		return
	}
	ok(o)
}

// newConsumerTag returns "ctag<channel>.<32 hex digits>", as aioamqp does.
func (ch *Channel) newConsumerTag() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "ctag" + strconv.Itoa(int(ch.id)) + "." + hex.EncodeToString(b[:])
}

func (ch *Channel) runConsume(o *op) {
	a := &o.ca
	name := o.name()
	if o.h == nil {
		o.fail(invalidf(name, "nil consumer handler"))
		return
	}
	tag := a.Tag
	if tag == "" {
		tag = ch.newConsumerTag()
	}
	if e := checkShort(name, "consumer tag", tag); e != nil {
		o.fail(e)
		return
	}
	if e := checkShort(name, "queue name", a.Queue); e != nil {
		o.fail(e)
		return
	}
	args, e := convTable(name, a.Args)
	if e != nil {
		o.fail(e)
		return
	}
	if a.Prefetch < 0 || a.Prefetch > 0xFFFF {
		o.fail(invalidf(name, "consumer prefetch must be 0..65535"))
		return
	}
	c := &consumer{tag: tag, h: o.h, fin: make(chan struct{})}
	ch.cmu.Lock()
	if ch.consumers == nil {
		ch.cmu.Unlock()
		<-ch.endc
		o.fail(ch.opErr)
		return
	}
	if _, dup := ch.consumers[tag]; dup {
		ch.cmu.Unlock()
		o.fail(&Error{Kind: KindDuplicateConsumer, Code: amqp091.NotAllowed, Op: name, ConsumerTag: tag,
			Reason: "consumer tag '" + tag + "' is already in use on channel " + strconv.Itoa(int(ch.id))})
		return
	}
	ch.consumers[tag] = c
	ch.cmu.Unlock()
	if d := ch.deliveries(); d != nil {
		// The tap assembles this consumer's deliveries (deliver.go).
		c.tc = newTapConsumer(tag, o.h)
		if a.NoAck {
			c.tc.autoAck = &ch.acks
		}
		d.add(c.tc)
	}

	if a.Prefetch > 0 {
		// This consumer's own window: RabbitMQ applies a global=false qos
		// to the consumers started after it on the channel.
		if err := ch.raw.Qos(a.Prefetch, 0, false); err != nil {
			ch.dropConsumer(tag, c)
			ch.failed(o, err)
			return
		}
	}
	out, err := ch.raw.Consume(a.Queue, tag, a.NoAck, a.Exclusive, a.NoLocal, a.NoWait, args)
	if a.Prefetch > 0 && err == nil {
		err = ch.raw.Qos(ch.consumerQosCount, ch.consumerQosSize, false)
		if err != nil {
			// The channel is gone (the consumer with it); out closes.
			for range out {
			}
		}
	}
	if err != nil {
		ch.dropConsumer(tag, c)
		ch.failed(o, err)
		return
	}
	c.out = out
	if !o.complete() {
		// Timed out: nobody knows about this consumer; take it back.
		ch.dropConsumer(tag, c)
		_ = ch.raw.Cancel(tag, false)
		for range out {
		}
		return
	}
	ch.cmu.Lock()
	c.active = ch.consumers[tag] == c
	ch.cmu.Unlock()
	o.doneTag(tag, nil)
	if c.tc != nil {
		c.tc.start()
	}
	ch.wg.Add(1)
	go ch.pump(c)
}

func (ch *Channel) dropConsumer(tag string, c *consumer) {
	ch.cmu.Lock()
	if ch.consumers[tag] == c {
		delete(ch.consumers, tag)
	}
	ch.cmu.Unlock()
	ch.untap(c)
}

// deliveries returns the channel's delivery state in the tap, registering
// it on first use; nil once the channel ended. Executor only.
func (ch *Channel) deliveries() *tapDeliveries {
	if ch.deliv != nil {
		return ch.deliv
	}
	ch.cbmu.Lock()
	defer ch.cbmu.Unlock()
	if ch.ended {
		return nil
	}
	d := newTapDeliveries()
	if ch.tc == nil {
		tc := &tapChan{selectOK: make(chan struct{}, 1)}
		tc.deliv.Store(d)
		ch.tc = tc
		ch.conn.tap.chans.register(ch.id, tc)
	} else {
		ch.tc.deliv.Store(d)
	}
	ch.deliv = d
	return d
}

// untap stops the tap from assembling c's deliveries (its consumer has
// ended on the broker, or never started). Any goroutine.
func (ch *Channel) untap(c *consumer) {
	if c != nil && c.tc != nil {
		ch.cbmu.Lock()
		tc := ch.tc
		ch.cbmu.Unlock()
		if tc != nil {
			tc.deliv.Load().remove(c.tc)
		}
	}
}

func (ch *Channel) runCancel(o *op) {
	tag := o.s1
	if e := checkShort(o.name(), "consumer tag", tag); e != nil {
		o.fail(e)
		return
	}
	if err := ch.raw.Cancel(tag, o.f1); err != nil {
		ch.failed(o, err)
		return
	}
	ch.cmu.Lock()
	c := ch.consumers[tag]
	if c != nil {
		delete(ch.consumers, tag)
	}
	ch.cmu.Unlock()
	ch.untap(c)
	ok(o)
	if c != nil {
		c.finish(false, nil)
	}
}

// events is the channel's event goroutine: it drains amqp091's close, cancel
// and return notifications (so amqp091's reader never waits on us) and ends
// the channel.
func (ch *Channel) events(closeC chan *amqp091.Error, cancelC chan string, returnC chan amqp091.Return) {
	var rawErr *amqp091.Error
loop:
	for {
		select {
		case r, ok := <-returnC:
			if !ok {
				returnC = nil
				continue
			}
			ch.handleReturn(&r)
		case tag, ok := <-cancelC:
			if !ok {
				cancelC = nil
				continue
			}
			ch.serverCancel(tag)
		case e, ok := <-closeC:
			if ok {
				rawErr = e
				for range closeC {
				}
			}
			break loop
		}
	}
	ch.end(rawErr)
	// amqp091 closes these together with closeC.
	if returnC != nil {
		for range returnC {
		}
	}
	if cancelC != nil {
		for range cancelC {
		}
	}
	ch.wg.Wait()
	ch.conn.chWG.Done()
}

func (ch *Channel) handleReturn(r *amqp091.Return) {
	ch.cbmu.Lock()
	fn := ch.returnFn
	ch.cbmu.Unlock()
	if fn != nil {
		fn(fromAMQPReturn(r))
	}
	if ring := ch.ring.Load(); ring != nil {
		ring.returnDone()
	}
}

func (ch *Channel) serverCancel(tag string) {
	ch.cmu.Lock()
	c := ch.consumers[tag]
	if c != nil {
		delete(ch.consumers, tag)
	}
	ch.cmu.Unlock()
	ch.untap(c)
	if c != nil {
		c.finish(true, &Error{Kind: KindConsumerCancelled, Op: "basic_consume", ConsumerTag: tag,
			Reason: "consumer '" + tag + "' was cancelled by the broker"})
	}
}

// endErrors works out what the end of the channel means: endErr for OnClose
// and consumers (nil when the client ended it), opErr for pending calls.
func (ch *Channel) endErrors(raw *amqp091.Error) (endErr, opErr *Error) {
	c := ch.conn
	if sc := c.tap.serverClosed(); sc != nil && !c.aborted.Load() &&
		((raw != nil && !raw.Server) || (raw == nil && !c.closing.Load() && !ch.closingByClient.Load())) {
		raw = sc // the broker closed the connection (see Conn.watch)
	}
	switch {
	case c.aborted.Load():
		return nil, &Error{Kind: KindConnectionClosed, Op: opChannel, Reason: "connection aborted by the client"}
	case c.droppedBy(raw):
		e := c.dropErr(opChannel, raw)
		return e, e
	case raw != nil && raw.Server:
		// A channel close (404, 406, ...) or a connection close (320, 5xx):
		// pending calls on the channel get ChannelClosed with that code.
		e := &Error{Kind: KindChannelClosed, Code: raw.Code, Op: opChannel, Reason: raw.Reason, Err: raw}
		return e, e
	case raw != nil:
		e := classify(opChannel, raw)
		return e, e
	case ch.closingByClient.Load() && !c.raw.IsClosed():
		return nil, &Error{Kind: KindChannelClosed, Op: opChannel, Reason: "channel closed by the client"}
	case c.closing.Load():
		return nil, &Error{Kind: KindConnectionClosed, Op: opChannel, Reason: "connection closed by the client"}
	case ch.closingByClient.Load():
		return nil, &Error{Kind: KindChannelClosed, Op: opChannel, Reason: "channel closed by the client"}
	}
	e := &Error{Kind: KindConnectionClosed, Op: opChannel, Reason: "connection closed"}
	return e, e
}

// end runs once, on the event goroutine, when amqp091 has closed the channel.
func (ch *Channel) end(raw *amqp091.Error) {
	endErr, opErr := ch.endErrors(raw)
	ch.open.Store(false)
	ch.opErr = opErr
	ch.cbmu.Lock()
	ch.ended = true
	ch.endErr = endErr
	fns := ch.closeFns
	ch.closeFns = nil
	tc := ch.tc
	ch.cbmu.Unlock()
	close(ch.endc)

	ch.exec.close(opErr)
	if ring := ch.ring.Load(); ring != nil {
		ring.failAll(opErr)
	}
	if tc != nil {
		ch.conn.tap.chans.unregister(ch.id, tc)
	}
	ch.cmu.Lock()
	cs := ch.consumers
	ch.consumers = nil
	ch.cmu.Unlock()
	for _, c := range cs {
		c.finish(false, endErr)
	}
	ch.conn.mu.Lock()
	delete(ch.conn.channels, ch)
	ch.conn.mu.Unlock()
	for _, fn := range fns {
		fn(endErr)
	}
}
