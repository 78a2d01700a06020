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
		a := o.args.(*queueDeclareOp)
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
			a.done(QueueInfo{Name: q.Name, MessageCount: q.Messages, ConsumerCount: q.Consumers}, nil)
		}

	case opQueueDelete:
		a := o.args.(*queueDeleteOp)
		if e := checkShort(name, "queue name", a.name); e != nil {
			o.fail(e)
			return
		}
		if _, err := raw.QueueDelete(a.name, a.ifUnused, a.ifEmpty, a.noWait); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQueueBind, opQueueUnbind, opExchangeBind, opExchangeUnbind:
		a := o.args.(*bindOp)
		for _, s := range [...]string{a.dest, a.src, a.key} {
			if e := checkShort(name, "name or routing key", s); e != nil {
				o.fail(e)
				return
			}
		}
		args, e := convTable(name, a.args)
		if e != nil {
			o.fail(e)
			return
		}
		var err error
		switch o.kind {
		case opQueueBind:
			err = raw.QueueBind(a.dest, a.key, a.src, a.noWait, args)
		case opQueueUnbind:
			err = raw.QueueUnbind(a.dest, a.key, a.src, args)
		case opExchangeBind:
			err = raw.ExchangeBind(a.dest, a.key, a.src, a.noWait, args)
		default:
			err = raw.ExchangeUnbind(a.dest, a.key, a.src, a.noWait, args)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQueuePurge:
		a := o.args.(*queuePurgeOp)
		if e := checkShort(name, "queue name", a.name); e != nil {
			o.fail(e)
			return
		}
		n, err := raw.QueuePurge(a.name, a.noWait)
		if err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			a.done(n, nil)
		}

	case opExchangeDeclare:
		a := o.args.(*ExchangeDeclareArgs)
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
		a := o.args.(*exchangeDeleteOp)
		if e := checkShort(name, "exchange name", a.name); e != nil {
			o.fail(e)
			return
		}
		if err := raw.ExchangeDelete(a.name, a.ifUnused, a.noWait); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQos:
		a := o.args.(*qosOp)
		if a.size < 0 || a.size > 0xFFFFFFFF || a.count < 0 || a.count > 0xFFFF {
			o.fail(invalidf(name, "prefetch_size must be 0..4294967295 and prefetch_count 0..65535"))
			return
		}
		if err := raw.Qos(a.count, a.size, a.global); err != nil {
			ch.failed(o, err)
			return
		}
		if !a.global {
			ch.consumerQosCount, ch.consumerQosSize = a.count, a.size
		}
		ok(o)

	case opFlow:
		a := o.args.(*flowOp)
		if err := raw.Flow(a.active); err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			a.done(a.active, nil)
		}

	case opRecover:
		if err := raw.Recover(o.requeue); err != nil {
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
			err = raw.Ack(o.tag, o.multiple)
		case opNack:
			err = raw.Nack(o.tag, o.multiple, o.requeue)
		default:
			err = raw.Reject(o.tag, o.requeue)
		}
		if err != nil {
			ch.failed(o, err)
			return
		}
		ch.acks.ackedQueued(o.tag, o.kind != opReject && o.multiple)
		ch.wrote(o)

	case opGet:
		a := o.args.(*getOp)
		if e := checkShort(name, "queue name", a.queue); e != nil {
			o.fail(e)
			return
		}
		d, got, err := raw.Get(a.queue, a.noAck)
		if err != nil {
			ch.failed(o, err)
			return
		}
		if o.complete() {
			if got {
				a.done(fromAMQPDelivery(&d), true, nil)
			} else {
				a.done(nil, false, nil)
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
	if o.waitConfirm {
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
	if o.args.(*confirmOp).noWait {
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
	a := o.args.(*closeOp)
	if a.code < 0 || a.code > 0xFFFF {
		o.fail(invalidf(name, "reply code must be 0..65535"))
		return
	}
	if e := checkShort(name, "reply text", a.text); e != nil {
		o.fail(e)
		return
	}
	ch.closingByClient.Store(true)
	tap := ch.conn.tap
	if a.code != 200 || a.text != "" {
		tap.out.rewriteClose(ch.id, channelCloseFrame(ch.id, uint16(a.code), a.text))
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
	a := o.args.(*consumeOp)
	name := o.name()
	if a.h == nil {
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
	c := &consumer{tag: tag, h: a.h, fin: make(chan struct{})}
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
		c.tc = newTapConsumer(tag, a.h)
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
	a.done(tag, nil)
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
	a := o.args.(*cancelOp)
	tag := a.tag
	if e := checkShort(o.name(), "consumer tag", tag); e != nil {
		o.fail(e)
		return
	}
	if err := ch.raw.Cancel(tag, a.noWait); err != nil {
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
