package amqp

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

/*
Deliveries read by the tap.

amqp091-go hands a consumer's deliveries over with, per message: a frame
struct and a few allocations per frame (method, content header, body), a
wakeup of its heartbeater goroutine per frame (to move the read deadline),
a send to the consumer's buffer goroutine and another from there to the
delivery channel, and then our pump's own conversion and handoff. For the
consumers this package starts, the tap's read side does the work instead:
it recognises basic.deliver for a registered consumer tag, assembles the
content header and body frames that follow on that channel, and calls the
ConsumerHandler straight from the reader goroutine. amqp091 never sees those
frames (its consumer stays registered and idle; basic.cancel, cancel-ok and
channel close still go through it, after the deliveries that precede them,
so the pump's Cancelled/End keep their order).

Decoding mirrors amqp091's reader followed by fromAMQPDelivery: the same
fields, property flags, table types (normalised as fromAMQPValue does),
limits (wire.MaxDepth, wire.MaxElements) and errors (a malformed frame ends the
connection).

A consumer is registered before basic.consume is sent. The handler of an
InlineHandler (the bindings': it only queues the delivery for its event loop)
is called from the reader goroutine itself; deliveries that arrive before
Consume's done was called wait in the consumer until start. Any other
handler gets its deliveries in batches from the consumer's pump goroutine,
so that a slow handler delays only its consumer, not the connection's
reading (acks, confirms, connection.close).

While the tap swallows frames, amqp091's reader sees nothing and would let
its read deadline (heartbeat × 3) expire; so the tap hands it a heartbeat
frame of its own now and then (before blocking on the socket, and every
heartbeatEvery swallowed frames), which amqp091 takes as traffic.
*/

const (
	// heartbeatEvery: swallowed frames after which amqp091 gets a
	// heartbeat frame even if the socket never runs dry.
	heartbeatEvery = 1024

	maxBodyPrealloc = 1 << 20
)

// tapDeliveries is the delivery state of one channel: its consumers (read
// by the reader, copy-on-write) and the delivery being assembled
// (reader-owned). Channel.deliv; shared by every tapChan the channel
// registers.
type tapDeliveries struct {
	mu        sync.Mutex // serialises writers of consumers
	consumers atomic.Pointer[map[string]*tapConsumer]

	// Reader-owned.
	cur     *Delivery
	curC    *tapConsumer
	header  bool   // cur waits for its content header (else for body frames)
	left    uint64 // body bytes still expected
	started bool   // counted in tapReader.assembling
}

func newTapDeliveries() *tapDeliveries {
	d := &tapDeliveries{}
	m := map[string]*tapConsumer{}
	d.consumers.Store(&m)
	return d
}

func (d *tapDeliveries) add(c *tapConsumer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cowPut(&d.consumers, c.tag, c)
}

// remove unregisters c (and only c).
func (d *tapDeliveries) remove(c *tapConsumer) {
	if d == nil || c == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	cowDelete(&d.consumers, c.tag, c)
}

// InlineHandler is a ConsumerHandler whose Delivery never blocks and
// never waits for anything (it only hands the delivery on, e.g. to an event
// loop). Its Delivery is called straight from the connection's reader
// goroutine, which saves a goroutine handoff per message; Cancelled and End
// still come from the consumer's pump goroutine, after the last Delivery.
type InlineHandler interface {
	ConsumerHandler
	InlineDeliveries()
}

// tapConsumer is a consumer whose deliveries the tap assembles.
type tapConsumer struct {
	tag    string
	h      ConsumerHandler
	inline bool // h is an InlineHandler

	ready   atomic.Bool // inline: start was called, deliver calls h directly
	mu      sync.Mutex
	pending []*Delivery   // inline: arrived before start; else: for the pump
	wake    chan struct{} // not inline: tells the pump that pending grew

	lastEx, lastRK string // reader-owned: reused when they repeat

	autoAck *ackRun // a no_ack consumer's: its deliveries need no ack
}

func newTapConsumer(tag string, h ConsumerHandler) *tapConsumer {
	c := &tapConsumer{tag: tag, h: h}
	if _, ok := h.(InlineHandler); ok {
		c.inline = true
	} else {
		c.wake = make(chan struct{}, 1)
	}
	return c
}

// deliver hands d to the handler (inline), or queues it for start or for
// the pump. Reader only.
func (c *tapConsumer) deliver(d *Delivery) {
	if c.autoAck != nil {
		c.autoAck.autoSettled(d.DeliveryTag)
	}
	if !c.inline {
		c.mu.Lock()
		c.pending = append(c.pending, d)
		first := len(c.pending) == 1
		c.mu.Unlock()
		if first {
			select {
			case c.wake <- struct{}{}:
			default:
			}
		}
		return
	}
	if !c.ready.Load() {
		c.mu.Lock()
		if !c.ready.Load() {
			c.pending = append(c.pending, d)
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
	c.h.Delivery(d)
}

// start hands over what arrived before it, then lets deliver call the
// handler directly. Called once, after Consume's done; inline only.
func (c *tapConsumer) start() {
	if !c.inline {
		return
	}
	c.mu.Lock()
	for len(c.pending) > 0 {
		batch := c.pending
		c.pending = nil
		c.mu.Unlock()
		for _, d := range batch {
			c.h.Delivery(d)
		}
		c.mu.Lock()
	}
	c.ready.Store(true)
	c.mu.Unlock()
}

// drain hands what the pump was given to the handler. Pump only.
func (c *tapConsumer) drain() {
	for {
		c.mu.Lock()
		batch := c.pending
		c.pending = nil
		c.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		for _, d := range batch {
			c.h.Delivery(d)
		}
	}
}

// intern returns b as a string, reusing last when they are equal.
func intern(last *string, b []byte) string {
	if string(b) == *last {
		return *last
	}
	s := string(b)
	*last = s
	return s
}

// startDelivery acts on a basic.deliver (args: its arguments) on a channel
// with consumers: for a registered tag it starts assembling the delivery
// and reports true (the frame is dropped).
func (rd *tapReader) startDelivery(d *tapDeliveries, args []byte) bool {
	if len(args) < 1 {
		return false
	}
	n := int(args[0])
	if len(args) < 1+n+9 {
		return false
	}
	c := (*d.consumers.Load())[string(args[1:1+n])]
	if c == nil {
		return false
	}
	p := args[1+n:]
	tag := binary.BigEndian.Uint64(p[0:8])
	redelivered := p[8]&1 != 0
	p = p[9:]
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return false
	}
	ex := p[1 : 1+int(p[0])]
	p = p[1+int(p[0]):]
	if len(p) < 1 || len(p) < 1+int(p[0]) {
		return false
	}
	rk := p[1 : 1+int(p[0])]
	rd.abandon(d)
	d.cur = &Delivery{
		ConsumerTag: c.tag,
		DeliveryTag: tag,
		Redelivered: redelivered,
		Exchange:    intern(&c.lastEx, ex),
		RoutingKey:  intern(&c.lastRK, rk),
	}
	d.curC = c
	d.header = true
	d.started = true
	rd.assembling++
	rd.swallowed++
	return true
}

// abandon drops the delivery being assembled on d, if any (a frame out of
// sequence: amqp091 drops partial content the same way).
func (rd *tapReader) abandon(d *tapDeliveries) {
	if d.started {
		d.started = false
		rd.assembling--
	}
	d.cur, d.curC = nil, nil
}

// contentFrame looks at a content header or body frame (b starts with its
// 7-byte frame header) while some delivery is being assembled. handled is
// false when the frame is not part of one: it then goes to amqp091 as
// usual. Otherwise need > 0 asks for that many bytes to be buffered first;
// else drop bytes are consumed (the whole header frame, or a body frame's
// 7-byte header: its payload and frame-end are then sunk, see sinkStep).
func (rd *tapReader) contentFrame(b []byte, size, flen int64) (need int, drop int64, handled bool) {
	id := binary.BigEndian.Uint16(b[1:3])
	tc := rd.chans.lookup(id)
	if tc == nil {
		return 0, 0, false
	}
	d := tc.deliv.Load()
	if d == nil || d.cur == nil {
		return 0, 0, false
	}
	if b[0] == wire.FrameHeader {
		if !d.header {
			rd.abandon(d)
			return 0, 0, false
		}
		if int64(len(b)) < flen {
			if flen > maxHeaderFrame {
				rd.fail(wire.ErrSyntax)
				return 0, 0, true
			}
			return int(flen), 0, true
		}
		if b[flen-1] != wire.FrameEnd {
			rd.fail(wire.ErrSyntax)
			return 0, 0, true
		}
		size, err := parseContentHeader(b[7:flen-1], &d.cur.Properties)
		if err != nil {
			rd.fail(err)
			return 0, 0, true
		}
		rd.swallowed++
		if size == 0 {
			d.cur.Body = []byte{}
			rd.finishDelivery(d)
			return 0, flen, true
		}
		d.header = false
		d.left = size
		d.cur.Body = make([]byte, 0, min(size, maxBodyPrealloc))
		return 0, flen, true
	}
	// Body frame.
	if d.header {
		rd.abandon(d)
		return 0, 0, false
	}
	rd.swallowed++
	rd.sinkLeft, rd.sinkEnd, rd.sinkD = size, true, d
	d.left -= min(d.left, uint64(size))
	return 0, 7, true
}

// maxHeaderFrame bounds a content header frame the tap buffers whole.
const maxHeaderFrame = 16 << 20

// sinkStep moves buffered bytes of a body frame into the delivery, or
// consumes its frame-end. Reader only; rbuf holds at least one byte.
func (rd *tapReader) sinkStep() {
	d := rd.sinkD
	if rd.sinkLeft > 0 {
		k := min(int64(rd.w-rd.r), rd.sinkLeft)
		d.cur.Body = append(d.cur.Body, rd.rbuf[rd.r:rd.r+int(k)]...)
		rd.r += int(k)
		rd.sinkLeft -= k
		return
	}
	if rd.rbuf[rd.r] != wire.FrameEnd {
		rd.fail(wire.ErrSyntax)
		return
	}
	rd.r++
	rd.sinkEnd = false
	rd.sinkD = nil
	if d.left == 0 {
		rd.finishDelivery(d)
	}
}

// finishDelivery hands the assembled delivery to its consumer.
func (rd *tapReader) finishDelivery(d *tapDeliveries) {
	dv, c := d.cur, d.curC
	rd.abandon(d)
	c.deliver(dv)
}

// fail ends the read side with err: the socket is closed and amqp091 gets
// err, which ends the connection.
func (rd *tapReader) fail(err error) {
	if rd.rerr == nil {
		rd.rerr = err
	}
	rd.r, rd.w = 0, 0
	rd.sinkLeft, rd.sinkEnd, rd.sinkD = 0, false, nil
	_ = rd.conn.Close()
}

// heartbeat writes a heartbeat frame into p for amqp091 when frames were
// swallowed since it last got one. It returns the bytes written (0 or 8).
func (rd *tapReader) heartbeat(p []byte) int {
	if rd.swallowed == 0 || len(p) < wire.HeartbeatLen {
		return 0
	}
	rd.swallowed = 0
	return copy(p, wire.Heartbeat[:])
}

// parseContentHeader decodes a content header frame's payload as amqp091's
// parseHeaderFrame and fromAMQPDelivery would, into pr; it returns the
// body size.
func parseContentHeader(b []byte, pr *Properties) (uint64, error) {
	if len(b) < wire.ContentHeaderFixedLen {
		return 0, wire.ErrSyntax
	}
	size := binary.BigEndian.Uint64(b[4:12])
	flags := binary.BigEndian.Uint16(b[12:14])
	r := wire.Reader{B: b[14:]}
	str := func(f uint16, dst *string) {
		if flags&f != 0 && r.Err == nil {
			*dst = r.Shortstr()
		}
	}
	str(wire.FlagContentType, &pr.ContentType)
	str(wire.FlagContentEncoding, &pr.ContentEncoding)
	if flags&wire.FlagHeaders != 0 && r.Err == nil {
		pr.Headers = r.Table(0)
	}
	if flags&wire.FlagDeliveryMode != 0 && r.Err == nil {
		pr.DeliveryMode = r.U8()
	}
	if flags&wire.FlagPriority != 0 && r.Err == nil {
		pr.Priority = r.U8()
	}
	str(wire.FlagCorrelationID, &pr.CorrelationID)
	str(wire.FlagReplyTo, &pr.ReplyTo)
	str(wire.FlagExpiration, &pr.Expiration)
	str(wire.FlagMessageID, &pr.MessageID)
	if flags&wire.FlagTimestamp != 0 && r.Err == nil {
		pr.Timestamp = utcOrZero(time.Unix(int64(r.U64()), 0))
	}
	str(wire.FlagType, &pr.Type)
	str(wire.FlagUserID, &pr.UserID)
	str(wire.FlagAppID, &pr.AppID)
	var reserved string
	str(wire.FlagClusterID, &reserved) // amqp091 reads and drops it
	return size, r.Err
}
