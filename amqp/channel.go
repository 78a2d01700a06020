package amqp

import (
	"slices"
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
