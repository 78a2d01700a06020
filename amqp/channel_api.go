package amqp

import "context"

// The channel's operations, as callers see them: each queues an op with
// its arguments (the *xxxOp types below for all but publish and the acks)
// on the executor, which runs it (channel_run.go).

// QueueDeclare declares a queue; done gets the broker's name for it (useful
// with an empty Name) and its counts. Passive only checks that it exists.
func (ch *Channel) QueueDeclare(ctx context.Context, a QueueDeclareArgs, done func(QueueInfo, error)) {
	ch.submit(&op{kind: opQueueDeclare, ctx: ctx, args: &queueDeclareOp{QueueDeclareArgs: a, done: done}})
}

// QueueDelete deletes a queue.
func (ch *Channel) QueueDelete(ctx context.Context, name string, ifUnused, ifEmpty, noWait bool, done func(error)) {
	ch.submit(&op{kind: opQueueDelete, ctx: ctx, done: done, args: &queueDeleteOp{name: name, ifUnused: ifUnused, ifEmpty: ifEmpty, noWait: noWait}})
}

// QueueBind binds a queue to an exchange.
func (ch *Channel) QueueBind(ctx context.Context, queue, exchange, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opQueueBind, ctx: ctx, done: done, args: &bindOp{dest: queue, src: exchange, key: key, noWait: noWait, args: args}})
}

// QueueUnbind removes a binding.
func (ch *Channel) QueueUnbind(ctx context.Context, queue, exchange, key string, args Table, done func(error)) {
	ch.submit(&op{kind: opQueueUnbind, ctx: ctx, done: done, args: &bindOp{dest: queue, src: exchange, key: key, args: args}})
}

// QueuePurge removes a queue's ready messages; done gets how many.
func (ch *Channel) QueuePurge(ctx context.Context, name string, noWait bool, done func(count int, err error)) {
	ch.submit(&op{kind: opQueuePurge, ctx: ctx, args: &queuePurgeOp{name: name, noWait: noWait, done: done}})
}

// ExchangeDeclare declares an exchange (Kind "" is "direct").
func (ch *Channel) ExchangeDeclare(ctx context.Context, a ExchangeDeclareArgs, done func(error)) {
	ch.submit(&op{kind: opExchangeDeclare, ctx: ctx, done: done, args: &a})
}

// ExchangeDelete deletes an exchange.
func (ch *Channel) ExchangeDelete(ctx context.Context, name string, ifUnused, noWait bool, done func(error)) {
	ch.submit(&op{kind: opExchangeDelete, ctx: ctx, done: done, args: &exchangeDeleteOp{name: name, ifUnused: ifUnused, noWait: noWait}})
}

// ExchangeBind binds exchange dest to exchange src.
func (ch *Channel) ExchangeBind(ctx context.Context, dest, src, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opExchangeBind, ctx: ctx, done: done, args: &bindOp{dest: dest, src: src, key: key, noWait: noWait, args: args}})
}

// ExchangeUnbind removes an exchange-to-exchange binding.
func (ch *Channel) ExchangeUnbind(ctx context.Context, dest, src, key string, noWait bool, args Table, done func(error)) {
	ch.submit(&op{kind: opExchangeUnbind, ctx: ctx, done: done, args: &bindOp{dest: dest, src: src, key: key, noWait: noWait, args: args}})
}

// Qos sets the prefetch window (prefetchCount 0..65535, prefetchSize
// 0..2^32-1; out of range fails with KindInvalid).
func (ch *Channel) Qos(ctx context.Context, prefetchSize, prefetchCount int, global bool, done func(error)) {
	ch.submit(&op{kind: opQos, ctx: ctx, done: done, args: &qosOp{size: prefetchSize, count: prefetchCount, global: global}})
}

// Flow asks the broker to pause (false) or resume (true) deliveries; done
// gets the requested state. (RabbitMQ does not implement active=false and
// closes the connection.)
func (ch *Channel) Flow(ctx context.Context, active bool, done func(active bool, err error)) {
	ch.submit(&op{kind: opFlow, ctx: ctx, args: &flowOp{active: active, done: done}})
}

// Recover asks the broker to redeliver unacknowledged messages.
func (ch *Channel) Recover(ctx context.Context, requeue bool, done func(error)) {
	ch.submit(&op{kind: opRecover, ctx: ctx, requeue: requeue, done: done})
}

// Close closes the channel with the given reply code and text (at most 255
// bytes; amqp091-go itself always sends 200 and no text, so the tap rewrites
// the frame). A second Close fails with KindChannelClosed, Code 0.
func (ch *Channel) Close(ctx context.Context, code int, text string, done func(error)) {
	ch.submit(&op{kind: opClose, ctx: ctx, done: done, args: &closeOp{code: code, text: text}})
}

/*
Confirm puts the channel in confirm mode (confirm.select, injected by the tap;
see tap). From then on every publish gets the next delivery tag, starting at
1, whether it waits for its confirm or not. With noWait done is called once
the select is written. A second Confirm fails with KindInvalid.
*/
func (ch *Channel) Confirm(ctx context.Context, noWait bool, done func(error)) {
	ch.submit(&op{kind: opConfirm, ctx: ctx, done: done, args: &confirmOp{noWait: noWait}})
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
	ch.submit(&op{kind: opPublish, ctx: ctx, pub: p, waitConfirm: waitConfirm, done: done})
}

// Ack acknowledges a delivery; done is called once it is written.
func (ch *Channel) Ack(tag uint64, multiple bool, done func(error)) {
	ch.submit(&op{kind: opAck, tag: tag, multiple: multiple, done: done})
}

// Nack negatively acknowledges a delivery; done is called once it is written.
func (ch *Channel) Nack(tag uint64, multiple, requeue bool, done func(error)) {
	ch.submit(&op{kind: opNack, tag: tag, multiple: multiple, requeue: requeue, done: done})
}

// Reject rejects a delivery; done is called once it is written.
func (ch *Channel) Reject(tag uint64, requeue bool, done func(error)) {
	ch.submit(&op{kind: opReject, tag: tag, requeue: requeue, done: done})
}

// Get fetches one message; ok is false when the queue is empty.
func (ch *Channel) Get(ctx context.Context, queue string, noAck bool, done func(d *Delivery, ok bool, err error)) {
	ch.submit(&op{kind: opGet, ctx: ctx, args: &getOp{queue: queue, noAck: noAck, done: done}})
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
	ch.submit(&op{kind: opConsume, ctx: ctx, args: &consumeOp{ConsumeArgs: a, h: h, done: done}})
}

// Cancel cancels a consumer. After done, the consumer's handler gets its
// remaining buffered deliveries and then End(nil).
func (ch *Channel) Cancel(ctx context.Context, tag string, noWait bool, done func(error)) {
	ch.submit(&op{kind: opCancel, ctx: ctx, done: done, args: &cancelOp{tag: tag, noWait: noWait}})
}

// Arguments of the operations other than publish, ack, nack, reject and
// recover, held in op.args. Those with a callback that takes results keep
// it here and implement resultArgs.
type (
	queueDeclareOp struct {
		QueueDeclareArgs
		done func(QueueInfo, error)
	}
	queueDeleteOp struct {
		name                      string
		ifUnused, ifEmpty, noWait bool
	}
	// bindOp binds (or unbinds) queue or exchange dest to exchange src.
	bindOp struct {
		dest, src, key string
		noWait         bool
		args           Table
	}
	queuePurgeOp struct {
		name   string
		noWait bool
		done   func(int, error)
	}
	exchangeDeleteOp struct {
		name             string
		ifUnused, noWait bool
	}
	qosOp struct {
		size, count int
		global      bool
	}
	flowOp struct {
		active bool
		done   func(bool, error)
	}
	closeOp struct {
		code int
		text string
	}
	confirmOp struct{ noWait bool }
	getOp     struct {
		queue string
		noAck bool
		done  func(*Delivery, bool, error)
	}
	consumeOp struct {
		ConsumeArgs
		h    ConsumerHandler
		done func(string, error)
	}
	cancelOp struct {
		tag    string
		noWait bool
	}
)

func (a *queueDeclareOp) failResult(err error) {
	if a.done != nil {
		a.done(QueueInfo{}, err)
	}
}

func (a *queuePurgeOp) failResult(err error) {
	if a.done != nil {
		a.done(0, err)
	}
}

func (a *flowOp) failResult(err error) {
	if a.done != nil {
		a.done(false, err)
	}
}

func (a *getOp) failResult(err error) {
	if a.done != nil {
		a.done(nil, false, err)
	}
}

func (a *consumeOp) failResult(err error) {
	if a.done != nil {
		a.done("", err)
	}
}
