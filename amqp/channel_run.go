package amqp

import (
	"context"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The executor's side of a channel: run executes one queued operation
// (blocking in amqp091 for the synchronous methods), corking runs of
// publishes and acks.

// shortOK fails o unless every s fits a shortstr (at most 255 bytes); what
// names them in the error.
func shortOK(o *op, what string, ss ...string) bool {
	for _, s := range ss {
		if e := checkShort(o.name(), what, s); e != nil {
			o.fail(e)
			return false
		}
	}
	return true
}

// tableArg converts t for amqp091, failing o when it cannot.
func tableArg(o *op, t Table) (amqp091.Table, bool) {
	args, e := convTable(o.name(), t)
	if e != nil {
		o.fail(e)
		return nil, false
	}
	return args, true
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
		if !shortOK(o, "queue name", a.Name) {
			return
		}
		args, valid := tableArg(o, a.Args)
		if !valid {
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
		if !shortOK(o, "queue name", a.name) {
			return
		}
		if _, err := raw.QueueDelete(a.name, a.ifUnused, a.ifEmpty, a.noWait); err != nil {
			ch.failed(o, err)
			return
		}
		ok(o)

	case opQueueBind, opQueueUnbind, opExchangeBind, opExchangeUnbind:
		a := o.args.(*bindOp)
		if !shortOK(o, "name or routing key", a.dest, a.src, a.key) {
			return
		}
		args, valid := tableArg(o, a.args)
		if !valid {
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
		if !shortOK(o, "queue name", a.name) {
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
		if !shortOK(o, "exchange name", a.Name) {
			return
		}
		if !shortOK(o, "exchange type", kind) {
			return
		}
		args, valid := tableArg(o, a.Args)
		if !valid {
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
		if !shortOK(o, "exchange name", a.name) {
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
		if !shortOK(o, "queue name", a.queue) {
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
	if !shortOK(o, "reply text", a.text) {
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
