package amqp

import (
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
