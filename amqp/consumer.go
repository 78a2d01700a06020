package amqp

import (
	"sync"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// consumer is one basic.consume on a channel.
//
// amqp091-go buffers the consumer's deliveries without bound in its own
// buffer goroutine and hands them over on out; our pump goroutine reads out,
// converts each delivery and calls the handler. When out closes (client
// cancel, broker cancel, channel end) the pump waits for fin, which says why,
// and ends the handler. fin is closed exactly once, by whichever learns the
// reason: the Cancel operation (after its done), the event goroutine on a
// broker cancel, or the channel's end.
type consumer struct {
	tag    string
	h      ConsumerHandler
	out    <-chan amqp091.Delivery
	active bool // consume-ok received and not cancelled; guarded by Channel.cmu

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
	for d := range c.out {
		c.h.Delivery(fromAMQPDelivery(&d))
	}
	<-c.fin
	if c.serverCancel {
		c.h.Cancelled(c.tag)
	}
	c.h.End(c.err)
}
