package amqp

import (
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The channel's event goroutine and its end.

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
	c := ch.takeConsumer(tag)
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
