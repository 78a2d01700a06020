package amqp

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// consumer is one basic.consume on a channel.
//
// The tap assembles the consumer's deliveries (deliver.go, tc): an
// InlineHandler gets them from the reader goroutine, any other handler from
// our pump goroutine, which drains tc. amqp091-go's own delivery channel,
// out, stays idle (the pump still reads it, converting what might come);
// when it closes (client cancel, broker cancel, channel end), the pump hands
// over what tc still holds, waits for fin, which says why, and ends the
// handler. fin is closed exactly once, by whichever learns the
// reason: the Cancel operation (after its done), the event goroutine on a
// broker cancel, or the channel's end.
type consumer struct {
	tag    string
	h      ConsumerHandler
	out    <-chan amqp091.Delivery
	active bool         // consume-ok received and not cancelled; guarded by Channel.cmu
	tc     *tapConsumer // its deliveries as the tap assembles them; nil if not

	once         sync.Once
	fin          chan struct{}
	serverCancel bool  // written before fin closes
	err          error // for End; written before fin closes
}

func (c *consumer) finish(serverCancel bool, err *Error) {
	c.once.Do(func() {
		c.serverCancel = serverCancel
		if err != nil {
			c.err = err
		}
		close(c.fin)
	})
}

// pump is the consumer's goroutine.
func (ch *Channel) pump(c *consumer) {
	defer ch.wg.Done()
	var wake chan struct{}
	if c.tc != nil {
		wake = c.tc.wake // nil for an inline handler
	}
	for out := c.out; out != nil; {
		select {
		case d, ok := <-out:
			if !ok {
				out = nil
				break
			}
			c.h.Delivery(fromAMQPDelivery(&d))
		case <-wake:
			c.tc.drain()
		}
	}
	if wake != nil {
		// What the tap assembled before amqp091 closed out.
		c.tc.drain()
	}
	<-c.fin
	select {
	case <-ch.endc:
		// The channel ended: the calls that were pending on it fail
		// first (the executor reports them before it returns), then the
		// consumer ends, in that order for the handler's event loop too.
		<-ch.execDone
	default:
	}
	if c.serverCancel {
		c.h.Cancelled(c.tag)
	}
	c.h.End(c.err)
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
	if !shortOK(o, "consumer tag", tag) {
		return
	}
	if !shortOK(o, "queue name", a.Queue) {
		return
	}
	args, valid := tableArg(o, a.Args)
	if !valid {
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
	if !shortOK(o, "consumer tag", tag) {
		return
	}
	if err := ch.raw.Cancel(tag, a.noWait); err != nil {
		ch.failed(o, err)
		return
	}
	c := ch.takeConsumer(tag)
	ok(o)
	if c != nil {
		c.finish(false, nil)
	}
}

// takeConsumer removes the consumer with tag from the channel and the tap
// and returns it (nil when there is none).
func (ch *Channel) takeConsumer(tag string) *consumer {
	ch.cmu.Lock()
	c := ch.consumers[tag]
	if c != nil {
		delete(ch.consumers, tag)
	}
	ch.cmu.Unlock()
	ch.untap(c)
	return c
}
