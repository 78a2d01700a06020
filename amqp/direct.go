package amqp

import (
	"encoding/binary"
	"sync"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

/*
Direct writes: the fast path of publishes and acks.

A publish queued on the executor costs two goroutine handoffs (the caller
wakes the executor; the executor's done wakes the caller's event loop),
amqp091-go's frame encoding (several allocations per message, and a wakeup of
its heartbeater goroutine per flush) and, when nothing else is queued, one
socket write per message. When the channel's executor is idle, TryPublish
and TryAck do the same work on the caller's goroutine instead: they encode
the frames themselves, straight into the tap's write buffer, in channel
order (the executor is claimed meanwhile, see executor.claim), and return.
The caller makes a run of such calls and then calls Flush once, which has
the executor write the buffer out asynchronously; the caller never waits
for the socket (a buffer past directMax makes the Try calls give way to the
queued path, whose executor waits instead).

The frames are those amqp091-go would write: the same method arguments,
the same property flags and encodings (tables through toAMQPTable and a
port of amqp091's writeField), bodies split at frame_max − 8.
*/

// TryPublish publishes p at once on the calling goroutine when the
// channel's order allows it (nothing queued or running on the executor).
// p and p.Body are not retained: the frames are encoded into the
// connection's write buffer before it returns, and wait there until Flush
// (or until enough is buffered).
//
// handled false means nothing was done: use Publish. Otherwise err is
// non-nil when p is invalid (KindInvalid, as Publish would report it) or the
// channel ended; then nothing was written and done is never called. With
// err nil, pending reports whether done will be called: in confirm mode
// with waitConfirm, when the broker acks (nil) or nacks the message, as for
// Publish; otherwise the message is written and done is never called.
func (ch *Channel) TryPublish(p *Publishing, waitConfirm bool, done func(error)) (handled, pending bool, err error) {
	if !ch.open.Load() || !ch.exec.claim() {
		return false, false, nil
	}
	defer ch.exec.release()
	if ch.raw.IsClosed() {
		return false, false, nil
	}
	name := opNames[opPublish]
	headers, e := validatePublishing(name, p)
	if e != nil {
		return true, false, e.withOp(name)
	}
	frameMax := ch.conn.raw.Config.FrameSize
	enc := func(b []byte) []byte { return appendPublish(b, ch.id, frameMax, p, headers) }
	ring := ch.ring.Load()
	if ring == nil {
		ok, n := ch.conn.tap.out.direct(enc)
		if !ok {
			return false, false, nil
		}
		ch.flushIfFull(n)
		return true, false, nil
	}
	var waiter *op
	if waitConfirm {
		waiter = &op{kind: opPublish, done: done}
	}
	tag, e := ring.push(waiter)
	if e != nil {
		return true, false, e.withOp(name)
	}
	ok, n := ch.conn.tap.out.direct(enc)
	if !ok {
		ring.unpush(tag)
		return false, false, nil
	}
	ch.flushIfFull(n)
	return true, waiter != nil, nil
}

// TryAck acknowledges a delivery at once on the calling goroutine when the
// channel's order allows it; false means nothing was done (use Ack). As for
// TryPublish, the frame waits in the write buffer until Flush.
func (ch *Channel) TryAck(tag uint64, multiple bool) bool {
	return ch.tryAck(wire.BasicAck, tag, multiple, false)
}

// TryNack is TryAck for basic.nack.
func (ch *Channel) TryNack(tag uint64, multiple, requeue bool) bool {
	return ch.tryAck(wire.BasicNack, tag, multiple, requeue)
}

// TryReject is TryAck for basic.reject.
func (ch *Channel) TryReject(tag uint64, requeue bool) bool {
	return ch.tryAck(wire.BasicReject, tag, false, requeue)
}

func (ch *Channel) tryAck(m uint32, tag uint64, multiple, requeue bool) bool {
	if !ch.open.Load() || !ch.exec.claim() {
		return false
	}
	defer ch.exec.release()
	if ch.raw.IsClosed() {
		return false
	}
	var bits byte
	switch m {
	case wire.BasicReject:
		if requeue {
			bits = 1
		}
	default:
		if multiple {
			bits = 1
		}
		if requeue {
			bits |= 2
		}
	}
	ok, n := ch.conn.tap.out.directAck(ch.id, &ch.acks, m, tag, bits)
	if ok {
		ch.flushIfFull(n)
	}
	return ok
}

/*
Acks coalesced.

A consumer that acks each delivery as it handles it, the usual way, makes
one basic.ack per message, which the broker processes one by one. When the
acks of a run are for consecutive tags, each acking the lowest delivery not
yet settled, the frames still waiting in the write buffer say the same as
one basic.ack with multiple set for the last tag: so an ack of tag t, when
every tag below t is settled and the last frame in the buffer is this
channel's ack, rewrites that frame into ack(t, multiple) instead of
appending another. The broker then gets one ack per loop turn instead of one
per message (a batch of deliveries is handled in one loop turn).

floor is the highest tag such that every tag up to it is settled: acked,
nacked or rejected by the client (TryAck/TryNack/TryReject, or the executor:
ackedQueued), or delivered to a no_ack consumer (autoSettled). A tag settled
in none of these ways — a delivery the script has not acked yet, one it
acked out of order — is a gap, and coalescing waits: nothing is ever acked
that the script did not ack. A multiple ack (the script's own) settles every
tag up to its tag.

Tags settled above a gap are remembered (a bitmap over the ackWindow tags
above floor), so that when the gap is filled — typically the first ack of a
run took the executor's queued path while the next ones went direct — the
floor moves past them all and coalescing resumes. Every remembered tag's
frame is already in the stream (written, or earlier in the buffer) before
any frame that a later rewrite makes, so ack(t, multiple) never acks a tag
twice. A tag settled more than ackWindow above the floor is not remembered:
the floor stops below it, which costs coalescing, never correctness.
*/

// ackWindow is how far above floor settled tags are remembered.
const ackWindow = 1 << 14

// ackRun is a channel's coalescing state. mu guards it; tapWriter.wmu,
// when also held, is taken first.
type ackRun struct {
	mu    sync.Mutex
	floor uint64 // every delivery tag ≤ floor was acked, nacked or rejected, or needed no ack
	end   int    // len(wbuf) right after the channel's last ack frame
	gen   uint64 // tapWriter.wgen then
	open  bool   // that frame is ack(floor) and may still be rewritten
	// The latest run of consecutive tags delivered to no_ack consumers
	// (settled as they arrived): a gap made of them only is no gap.
	autoFrom, autoTo uint64
	// above has bit t%ackWindow set for a tag t in (floor+1,
	// floor+ackWindow] settled out of order; nil until one is.
	above []uint64
}

const ackFrameLen = 21

// autoSettled records that delivery tag needs no ack (a no_ack consumer's).
// Deliveries are recorded in tag order on the reader goroutine; one
// recorded late (from a pump) only starts a new run, so that coalescing
// waits: never is a tag taken for settled that was not.
func (run *ackRun) autoSettled(tag uint64) {
	run.mu.Lock()
	if run.autoTo != 0 && tag == run.autoTo+1 {
		run.autoTo = tag
	} else {
		run.autoFrom, run.autoTo = tag, tag
	}
	if tag == run.floor+1 {
		run.raise(tag)
	}
	run.mu.Unlock()
}

// settled moves the floor for an ack, nack or reject of tag (multiple: not
// a reject, with multiple set) and reports whether it moved to tag. mu
// held.
func (run *ackRun) settled(tag uint64, multiple bool) bool {
	if tag > run.floor+1 && run.autoFrom <= run.floor+1 && run.autoTo >= tag-1 {
		run.raise(tag - 1) // the tags in between were no_ack deliveries
	}
	if tag == run.floor+1 || (multiple && tag > run.floor) {
		run.raise(tag)
		return true
	}
	if tag > run.floor+1 && tag-run.floor <= ackWindow {
		if run.above == nil {
			run.above = make([]uint64, ackWindow/64)
		}
		w, m := aboveBit(tag)
		run.above[w] |= m
	}
	return false
}

// aboveBit is the word and mask of tag's bit in ackRun.above.
func aboveBit(tag uint64) (int, uint64) { return int(tag % ackWindow / 64), 1 << (tag % 64) }

// raise moves floor to tag (> floor), then on past the tags remembered as
// settled above it and the no_ack run, and forgets what it passed. mu held.
func (run *ackRun) raise(tag uint64) {
	for {
		if run.above != nil {
			if tag-run.floor >= ackWindow {
				clear(run.above)
			} else {
				for t := run.floor + 1; t <= tag; t++ {
					w, m := aboveBit(t)
					run.above[w] &^= m
				}
			}
		}
		run.floor = tag
		next := tag + 1
		w, m := aboveBit(next)
		switch {
		case run.above != nil && run.above[w]&m != 0:
			tag = next
		case run.autoFrom <= next && run.autoTo >= next:
			tag = run.autoTo
		default:
			return
		}
	}
}

// ackedQueued moves run's floor for an ack, nack or reject that the
// executor wrote (multiple: not a reject, with multiple set), so that a
// delivery acked on the queued path leaves no gap.
func (run *ackRun) ackedQueued(tag uint64, multiple bool) {
	run.mu.Lock()
	run.settled(tag, multiple)
	run.open = false
	run.mu.Unlock()
}

// directAck is direct for an ack, nack or reject frame of channel id, with
// the coalescing described above.
func (wr *tapWriter) directAck(id uint16, run *ackRun, m uint32, tag uint64, bits byte) (ok bool, pending int) {
	if !wr.wmu.TryLock() {
		return false, 0
	}
	defer wr.wmu.Unlock()
	if wr.wpos != 0 || wr.wskip != 0 || len(wr.inj) > 0 || len(wr.wbuf) >= directMax {
		return false, 0
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	if m == wire.BasicAck && bits == 0 && run.open && run.gen == wr.wgen && run.end == len(wr.wbuf) &&
		run.end >= ackFrameLen {
		f := wr.wbuf[run.end-ackFrameLen : run.end]
		// The frame is this channel's ack; if every tag below tag is
		// settled (settled then moves the floor to tag; otherwise it
		// changes nothing), ack(tag, multiple) says what both would.
		if f[0] == wire.FrameMethod && binary.BigEndian.Uint16(f[1:]) == id &&
			binary.BigEndian.Uint32(f[7:]) == wire.BasicAck && run.settled(tag, false) {
			binary.BigEndian.PutUint64(f[11:], tag)
			f[19] = 1 // multiple
			return true, len(wr.wbuf)
		}
	}
	start := len(wr.wbuf)
	wr.wbuf = wire.StartFrame(wr.wbuf, wire.FrameMethod, id)
	wr.wbuf = binary.BigEndian.AppendUint32(wr.wbuf, m)
	wr.wbuf = binary.BigEndian.AppendUint64(wr.wbuf, tag)
	wr.wbuf = wire.EndFrame(append(wr.wbuf, bits), start)
	advanced := run.settled(tag, m != wire.BasicReject && bits&1 != 0)
	run.open = m == wire.BasicAck && advanced
	run.end, run.gen = len(wr.wbuf), wr.wgen
	return true, len(wr.wbuf)
}

// Flush writes out what TryPublish and TryAck left in the write buffer:
// what the socket takes at once, with one non-blocking write, and the rest
// asynchronously, from the channel's executor. Call it after a run of Try
// calls.
func (ch *Channel) Flush() {
	if ch.conn.tap.out.tryFlush() {
		return
	}
	ch.flushReq.Store(true)
	ch.exec.signal()
	if ch.exec.isClosed.Load() {
		// The executor may have ended already; the buffer is the
		// connection's, so it must still go out.
		go ch.conn.tap.out.flushAsync()
	}
}

func (ch *Channel) flushIfFull(pending int) {
	if pending >= corkLimit {
		ch.Flush()
	}
}

// idleFlush is the executor's idle hook: it serves Flush.
func (ch *Channel) idleFlush() {
	if ch.flushReq.Swap(false) {
		ch.conn.tap.out.flushAsync()
	}
}

// appendPublish appends the frames of a basic.publish of p on channel id:
// method, content header, body frames of at most frameMax − 8 bytes
// (frameMax 0: no limit). headers is p's headers as validatePublishing
// converted them.
func appendPublish(b []byte, id uint16, frameMax int, p *Publishing, headers amqp091.Table) []byte {
	start := len(b)
	b = wire.StartFrame(b, wire.FrameMethod, id)
	b = binary.BigEndian.AppendUint32(b, wire.BasicPublish)
	b = append(b, 0, 0) // reserved-1 (ticket)
	b = wire.AppendShortstr(b, p.Exchange)
	b = wire.AppendShortstr(b, p.RoutingKey)
	var bits byte
	if p.Mandatory {
		bits |= 1
	}
	if p.Immediate {
		bits |= 2
	}
	b = append(b, bits)
	b = wire.EndFrame(b, start)

	start = len(b)
	b = wire.StartFrame(b, wire.FrameHeader, id)
	b = append(b, 0, wire.ClassBasic, 0, 0) // class, weight
	b = binary.BigEndian.AppendUint64(b, uint64(len(p.Body)))
	b = appendProperties(b, &p.Properties, headers)
	b = wire.EndFrame(b, start)

	body := p.Body
	chunk := len(body)
	if frameMax > wire.Overhead {
		chunk = frameMax - wire.Overhead
	}
	for len(body) > 0 {
		n := min(chunk, len(body))
		start = len(b)
		b = wire.StartFrame(b, wire.FrameBody, id)
		b = append(b, body[:n]...)
		b = wire.EndFrame(b, start)
		body = body[n:]
	}
	return b
}

// appendProperties appends the property flags and list as amqp091-go's
// headerFrame.write does: a property is present when it is not the zero
// value (headers: not empty); ClusterID is never sent.
func appendProperties(b []byte, pr *Properties, headers amqp091.Table) []byte {
	var mask uint16
	set := func(cond bool, f uint16) {
		if cond {
			mask |= f
		}
	}
	set(pr.ContentType != "", wire.FlagContentType)
	set(pr.ContentEncoding != "", wire.FlagContentEncoding)
	set(len(headers) > 0, wire.FlagHeaders)
	set(pr.DeliveryMode > 0, wire.FlagDeliveryMode)
	set(pr.Priority > 0, wire.FlagPriority)
	set(pr.CorrelationID != "", wire.FlagCorrelationID)
	set(pr.ReplyTo != "", wire.FlagReplyTo)
	set(pr.Expiration != "", wire.FlagExpiration)
	set(pr.MessageID != "", wire.FlagMessageID)
	set(!pr.Timestamp.IsZero(), wire.FlagTimestamp)
	set(pr.Type != "", wire.FlagType)
	set(pr.UserID != "", wire.FlagUserID)
	set(pr.AppID != "", wire.FlagAppID)
	b = binary.BigEndian.AppendUint16(b, mask)
	if mask == 0 {
		return b
	}
	if mask&wire.FlagContentType != 0 {
		b = wire.AppendShortstr(b, pr.ContentType)
	}
	if mask&wire.FlagContentEncoding != 0 {
		b = wire.AppendShortstr(b, pr.ContentEncoding)
	}
	if mask&wire.FlagHeaders != 0 {
		b = wire.AppendTable(b, headers)
	}
	if mask&wire.FlagDeliveryMode != 0 {
		b = append(b, pr.DeliveryMode)
	}
	if mask&wire.FlagPriority != 0 {
		b = append(b, pr.Priority)
	}
	if mask&wire.FlagCorrelationID != 0 {
		b = wire.AppendShortstr(b, pr.CorrelationID)
	}
	if mask&wire.FlagReplyTo != 0 {
		b = wire.AppendShortstr(b, pr.ReplyTo)
	}
	if mask&wire.FlagExpiration != 0 {
		b = wire.AppendShortstr(b, pr.Expiration)
	}
	if mask&wire.FlagMessageID != 0 {
		b = wire.AppendShortstr(b, pr.MessageID)
	}
	if mask&wire.FlagTimestamp != 0 {
		b = binary.BigEndian.AppendUint64(b, uint64(pr.Timestamp.Unix()))
	}
	if mask&wire.FlagType != 0 {
		b = wire.AppendShortstr(b, pr.Type)
	}
	if mask&wire.FlagUserID != 0 {
		b = wire.AppendShortstr(b, pr.UserID)
	}
	if mask&wire.FlagAppID != 0 {
		b = wire.AppendShortstr(b, pr.AppID)
	}
	return b
}
