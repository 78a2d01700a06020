package amqp

import (
	"encoding/binary"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
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
limits (nesting 32, 8192 elements) and errors (a malformed frame ends the
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
	mBasicDeliver = 60<<16 | 60

	// heartbeatEvery: swallowed frames after which amqp091 gets a
	// heartbeat frame even if the socket never runs dry.
	heartbeatEvery = 1024

	maxFieldDepth         = 32   // as amqp091-go
	maxContainerElements  = 8192 // as amqp091-go
	maxBodyPrealloc       = 1 << 20
	heartbeatFrameLen     = 8
	contentHeaderFixedLen = 14 // class, weight, body size, property flags
)

var heartbeatFrame = [heartbeatFrameLen]byte{frameHeartbeat, 0, 0, 0, 0, 0, 0, frameEnd}

var errSyntax = errors.New("amqp: malformed content from the broker")

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
	started bool   // counted in tap.assembling
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
	old := *d.consumers.Load()
	m := make(map[string]*tapConsumer, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[c.tag] = c
	d.consumers.Store(&m)
}

// remove unregisters c (and only c).
func (d *tapDeliveries) remove(c *tapConsumer) {
	if d == nil || c == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	old := *d.consumers.Load()
	if old[c.tag] != c {
		return
	}
	m := make(map[string]*tapConsumer, len(old))
	for k, v := range old {
		if k != c.tag {
			m[k] = v
		}
	}
	d.consumers.Store(&m)
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
func (t *tap) startDelivery(d *tapDeliveries, args []byte) bool {
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
	t.abandon(d)
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
	t.assembling++
	t.swallowed++
	return true
}

// abandon drops the delivery being assembled on d, if any (a frame out of
// sequence: amqp091 drops partial content the same way).
func (t *tap) abandon(d *tapDeliveries) {
	if d.started {
		d.started = false
		t.assembling--
	}
	d.cur, d.curC = nil, nil
}

// contentFrame looks at a content header or body frame (b starts with its
// 7-byte frame header) while some delivery is being assembled. handled is
// false when the frame is not part of one: it then goes to amqp091 as
// usual. Otherwise need > 0 asks for that many bytes to be buffered first;
// else drop bytes are consumed (the whole header frame, or a body frame's
// 7-byte header: its payload and frame-end are then sunk, see sinkStep).
func (t *tap) contentFrame(b []byte, size, flen int64) (need int, drop int64, handled bool) {
	id := binary.BigEndian.Uint16(b[1:3])
	tc := t.lookup(id)
	if tc == nil {
		return 0, 0, false
	}
	d := tc.deliv.Load()
	if d == nil || d.cur == nil {
		return 0, 0, false
	}
	if b[0] == frameHeader {
		if !d.header {
			t.abandon(d)
			return 0, 0, false
		}
		if int64(len(b)) < flen {
			if flen > maxHeaderFrame {
				t.fail(errSyntax)
				return 0, 0, true
			}
			return int(flen), 0, true
		}
		if b[flen-1] != frameEnd {
			t.fail(errSyntax)
			return 0, 0, true
		}
		size, err := parseContentHeader(b[7:flen-1], &d.cur.Properties)
		if err != nil {
			t.fail(err)
			return 0, 0, true
		}
		t.swallowed++
		if size == 0 {
			d.cur.Body = []byte{}
			t.finishDelivery(d)
			return 0, flen, true
		}
		d.header = false
		d.left = size
		d.cur.Body = make([]byte, 0, min(size, maxBodyPrealloc))
		return 0, flen, true
	}
	// Body frame.
	if d.header {
		t.abandon(d)
		return 0, 0, false
	}
	t.swallowed++
	t.sinkLeft, t.sinkEnd, t.sinkD = size, true, d
	d.left -= min(d.left, uint64(size))
	return 0, 7, true
}

// maxHeaderFrame bounds a content header frame the tap buffers whole.
const maxHeaderFrame = 16 << 20

// sinkStep moves buffered bytes of a body frame into the delivery, or
// consumes its frame-end. Reader only; rbuf holds at least one byte.
func (t *tap) sinkStep() {
	d := t.sinkD
	if t.sinkLeft > 0 {
		k := min(int64(t.w-t.r), t.sinkLeft)
		d.cur.Body = append(d.cur.Body, t.rbuf[t.r:t.r+int(k)]...)
		t.r += int(k)
		t.sinkLeft -= k
		return
	}
	if t.rbuf[t.r] != frameEnd {
		t.fail(errSyntax)
		return
	}
	t.r++
	t.sinkEnd = false
	t.sinkD = nil
	if d.left == 0 {
		t.finishDelivery(d)
	}
}

// finishDelivery hands the assembled delivery to its consumer.
func (t *tap) finishDelivery(d *tapDeliveries) {
	dv, c := d.cur, d.curC
	t.abandon(d)
	c.deliver(dv)
}

// fail ends the read side with err: the socket is closed and amqp091 gets
// err, which ends the connection.
func (t *tap) fail(err error) {
	if t.rerr == nil {
		t.rerr = err
	}
	t.r, t.w = 0, 0
	t.sinkLeft, t.sinkEnd, t.sinkD = 0, false, nil
	_ = t.Conn.Close()
}

// heartbeat writes a heartbeat frame into p for amqp091 when frames were
// swallowed since it last got one. It returns the bytes written (0 or 8).
func (t *tap) heartbeat(p []byte) int {
	if t.swallowed == 0 || len(p) < heartbeatFrameLen {
		return 0
	}
	t.swallowed = 0
	return copy(p, heartbeatFrame[:])
}

// parseContentHeader decodes a content header frame's payload as amqp091's
// parseHeaderFrame and fromAMQPDelivery would, into pr; it returns the
// body size.
func parseContentHeader(b []byte, pr *Properties) (uint64, error) {
	if len(b) < contentHeaderFixedLen {
		return 0, errSyntax
	}
	size := binary.BigEndian.Uint64(b[4:12])
	flags := binary.BigEndian.Uint16(b[12:14])
	r := fieldReader{b: b[14:]}
	str := func(f uint16, dst *string) {
		if flags&f != 0 && r.err == nil {
			*dst = r.shortstr()
		}
	}
	str(flagContentType, &pr.ContentType)
	str(flagContentEncoding, &pr.ContentEncoding)
	if flags&flagHeaders != 0 && r.err == nil {
		pr.Headers = r.table(0)
	}
	if flags&flagDeliveryMode != 0 && r.err == nil {
		pr.DeliveryMode = r.u8()
	}
	if flags&flagPriority != 0 && r.err == nil {
		pr.Priority = r.u8()
	}
	str(flagCorrelationID, &pr.CorrelationID)
	str(flagReplyTo, &pr.ReplyTo)
	str(flagExpiration, &pr.Expiration)
	str(flagMessageID, &pr.MessageID)
	if flags&flagTimestamp != 0 && r.err == nil {
		pr.Timestamp = utcOrZero(time.Unix(int64(r.u64()), 0))
	}
	str(flagType, &pr.Type)
	str(flagUserID, &pr.UserID)
	str(flagAppID, &pr.AppID)
	var reserved string
	str(flagClusterID, &reserved) // amqp091 reads and drops it
	return size, r.err
}

// fieldReader decodes AMQP fields from b; the first error sticks and
// zero values are returned from then on.
type fieldReader struct {
	b   []byte
	err error
}

func (r *fieldReader) take(n int) []byte {
	if r.err != nil || n < 0 || len(r.b) < n {
		r.err = errSyntax
		r.b = nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

func (r *fieldReader) u8() byte {
	if v := r.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (r *fieldReader) u16() uint16 {
	if v := r.take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

func (r *fieldReader) u32() uint32 {
	if v := r.take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

func (r *fieldReader) u64() uint64 {
	if v := r.take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func (r *fieldReader) shortstr() string { return string(r.take(int(r.u8()))) }

// container reads the length of a table or array at depth and returns a
// reader of its bytes; false (r.err set) when it is too deep or too long.
func (r *fieldReader) container(depth int) (fieldReader, bool) {
	if depth > maxFieldDepth {
		r.err = errSyntax
		return fieldReader{}, false
	}
	n := r.u32()
	if n > math.MaxInt32 {
		r.err = errSyntax
		return fieldReader{}, false
	}
	sub := fieldReader{b: r.take(int(n))}
	return sub, r.err == nil
}

// table reads a field table (a longstr of name/value pairs) at depth.
func (r *fieldReader) table(depth int) Table {
	sub, ok := r.container(depth)
	if !ok {
		return nil
	}
	t := Table{}
	for len(sub.b) > 0 && sub.err == nil {
		k := sub.shortstr()
		v := sub.field(depth)
		if sub.err != nil {
			break
		}
		if len(t) >= maxContainerElements {
			sub.err = errSyntax
			break
		}
		t[k] = v
	}
	if sub.err != nil {
		r.err = sub.err
		return nil
	}
	return t
}

// array reads a field array at depth.
func (r *fieldReader) array(depth int) []any {
	sub, ok := r.container(depth)
	if !ok {
		return nil
	}
	a := []any{}
	for len(sub.b) > 0 && sub.err == nil {
		v := sub.field(depth)
		if sub.err != nil {
			break
		}
		if len(a) >= maxContainerElements {
			sub.err = errSyntax
			break
		}
		a = append(a, v)
	}
	if sub.err != nil {
		r.err = sub.err
		return nil
	}
	return a
}

// field reads one typed value, normalised as fromAMQPValue does.
func (r *fieldReader) field(depth int) any {
	switch r.u8() {
	case 't':
		return r.u8() != 0
	case 'B':
		return int64(r.u8())
	case 'b':
		return int64(int8(r.u8()))
	case 's':
		return int64(int16(r.u16()))
	case 'I':
		return int64(int32(r.u32()))
	case 'l':
		return int64(r.u64())
	case 'u':
		return int64(r.u16())
	case 'i':
		return int64(r.u32())
	case 'f':
		return float64(math.Float32frombits(r.u32()))
	case 'd':
		return math.Float64frombits(r.u64())
	case 'D':
		scale := r.u8()
		v := int32(r.u32())
		return float64(v) / math.Pow10(int(scale))
	case 'S':
		n := r.u32()
		if n > math.MaxInt32 {
			r.err = errSyntax
			return nil
		}
		return string(r.take(int(n)))
	case 'A':
		return r.array(depth + 1)
	case 'T':
		return time.Unix(int64(r.u64()), 0).UTC()
	case 'F':
		return r.table(depth + 1)
	case 'x':
		n := int32(r.u32())
		if n < 0 {
			r.err = errSyntax
			return nil
		}
		v := r.take(int(n))
		if v == nil {
			return nil
		}
		return append([]byte{}, v...)
	case 'V':
		return nil
	}
	r.err = errSyntax
	return nil
}
