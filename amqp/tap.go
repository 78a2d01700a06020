package amqp

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

const (
	// maxInspect is the largest method payload the read side looks into.
	// Every method it acts on is far smaller (tune 12, ack/nack 13,
	// select-ok 4, return ~270 at most for its header part).
	maxInspect = 1024

	tapReadBuf = 64 << 10

	// corkLimit bounds what a cork holds back before writing; writes of
	// corkDirect bytes or more bypass the cork buffer.
	corkLimit  = 64 << 10
	corkDirect = 4096

	// directMax bounds what direct writes leave in the buffer before they
	// give way to the executor (see tap.direct).
	directMax = 1 << 20
)

// tapChan is the tap's per-channel state, registered by Channel.Confirm.
type tapChan struct {
	ring *confirmRing
	// selects counts injected confirm.select frames whose select-ok has
	// not arrived yet; while positive, a select-ok on the channel is
	// consumed by the tap (amqp091-go never asked for it and would choke).
	selects  atomic.Int32
	selectOK chan struct{} // a token per consumed select-ok (cap 1)
	// deliv is the channel's consumers whose deliveries the tap
	// assembles (see deliver.go); nil before the channel's first Consume.
	deliv atomic.Pointer[tapDeliveries]
}

/*
tap is the frame-level tap between amqp091-go and the socket. amqp091.Open is
given a *tap instead of the net.Conn, so every byte in both directions passes
through it. It exists so that publisher confirms cost O(1) per ack: we never
call amqp091's Channel.Confirm (whose ConfirmMultiple scans a map of every
outstanding DeferredConfirmation on each multiple ack). amqp091's
Channel.dispatch drops basic.ack/basic.nack while its own confirm mode is off,
so the tap can own confirms:

Write side (called by amqp091's bufio.Writer under its sendM lock, and by
inject). The outgoing stream is parsed into frames across Write calls (a frame
may be split anywhere: bufio flushes when full). inject queues a complete frame
(confirm.select, nowait=false) and writes it at the next frame boundary of the
stream: at once when the stream is between frames, else just after the
current frame's last byte arrives. Channel.Confirm injects from the channel's
executor, so the select precedes every later publish of that channel. The
write side also rewrites a client channel.close (amqp091 always sends code 200
with an empty text) into the code and text the script asked for, when that
frame lies whole inside one Write, and notes when connection.close has been
written (for Conn.Close with noWait).

Corking: while a channel's executor writes a run of publishes and acks, it
corks the tap (cork/uncork): what amqp091 writes meanwhile accumulates in
wbuf (up to corkLimit) and leaves in one socket write at uncork, instead of
one write per message. Order is kept because everything, injections included,
goes through the same buffer. A method frame on channel 0 (connection.close,
close-ok, ...) flushes the buffer at once, and so does every uncork; a cork
lasts one executor batch, which never waits for the broker, so nothing stays
buffered while somebody waits for a reply.

Read side (called only by amqp091's reader goroutine, through its
bufio.Reader). The tap reads the socket in 64 KiB chunks and hands bytes on
frame by frame. Header, body and heartbeat frames pass through untouched; the
tail of a large body frame is read straight into the caller's buffer, so big
bodies are not copied twice. Method frames are looked into (class and method
only, unless they matter):
  - connection.tune on channel 0 is rewritten in place (channel_max,
    frame_max, heartbeat) to implement Config's negotiation rules; amqp091 is
    configured to accept whatever the server proposes, so it takes our values;
  - confirm.select-ok on a channel with an injected select is consumed;
  - basic.ack / basic.nack on a confirming channel settle its confirmRing
    (a FIFO ring indexed by delivery tag: a multiple ack settles a range in
    O(covered)) and are then passed on (amqp091 ignores them, but it still
    sees every frame, which keeps its heartbeat read deadline fresh);
  - basic.return on a confirming channel holds back later settlements of
    that channel until the return has been handed to OnReturn, so a
    mandatory publish's return callback runs before its confirm.

Nothing here blocks on anything but the socket; settlement callbacks are
quick by contract.
*/
type tap struct {
	net.Conn

	// Read side: touched only by the goroutine calling Read.
	rbuf  []byte
	r, w  int   // unread bytes are rbuf[r:w]
	pass  int64 // bytes of the current frame still to hand on unchanged
	rerr  error // read error to report once buffered bytes are handed on
	tuned bool
	tune  func(payload []byte) // rewrites the 8 argument bytes of connection.tune

	// Deliveries (deliver.go): how many are being assembled, frames
	// swallowed since amqp091 last got a heartbeat from us, and the body
	// frame being sunk into a delivery.
	assembling int
	swallowed  int
	sinkLeft   int64
	sinkEnd    bool
	sinkD      *tapDeliveries

	chans atomic.Pointer[map[uint16]*tapChan] // copy-on-write
	regMu sync.Mutex                          // serialises writers of chans

	// Write side, guarded by wmu.
	wmu        sync.Mutex
	wskip      int      // bytes to pass before the first frame (protocol header)
	wpre       [11]byte // header + class/method of the current outgoing frame
	wpos       int64    // bytes of the current outgoing frame seen so far
	wlen       int64    // its total length, once wpos >= 7
	wstart     int      // where it began in the current Write's p, -1 if earlier
	wconnClose bool     // it is a connection.close
	inj        [][]byte
	rewrites   map[uint16][]byte // channel id -> replacement channel.close frame
	corks      int               // executors inside a cork
	wbuf       []byte            // bytes held back while corked, or by direct writes
	wspare     []byte            // the other buffer of flushAsync
	wgen       uint64            // bumped whenever bytes leave wbuf (see directAck)

	// sockMu serialises writes to the socket. It is taken inside wmu, or
	// alone by flushAsync, which takes it before letting go of wmu so that
	// bytes reach the socket in the order they were buffered.
	sockMu sync.Mutex
	// rawConn, when the socket has one (TCP, not TLS), lets tryFlush make
	// a non-blocking write and sockRead read with raw system calls.
	rawConn syscall.RawConn
	rr      rawReader // sockRead's raw reads (rawio.go)

	closeSent     chan struct{} // closed once connection.close was written
	closeSentOnce sync.Once

	// serverClose is the broker's connection.close, once it has been read:
	// the connection's end reports it even when a socket error (the broker
	// closing its side, a write failing) reaches amqp091 first.
	serverClose atomic.Pointer[serverCloseInfo]

	hbIn, hbOut atomic.Int64 // heartbeat frames seen, for tests
	maxOut      atomic.Int64 // largest frame written, for tests

	// lastOpen is the channel id of the last channel.open written. Conn
	// serialises channel opening, so after amqp091's Connection.Channel
	// returns it is the new channel's id (amqp091 does not export it).
	lastOpen atomic.Uint32
}

func newTap(c net.Conn, tune func([]byte)) *tap {
	t := &tap{
		Conn:      c,
		wskip:     len(wire.ProtocolHeader),
		rbuf:      make([]byte, tapReadBuf),
		tune:      tune,
		closeSent: make(chan struct{}),
	}
	m := map[uint16]*tapChan{}
	t.chans.Store(&m)
	if sc, ok := c.(syscall.Conn); ok {
		t.rawConn, _ = sc.SyscallConn()
	}
	return t
}

func (t *tap) lookup(id uint16) *tapChan {
	return (*t.chans.Load())[id]
}

// register makes tc the tap state of channel id.
func (t *tap) register(id uint16, tc *tapChan) {
	t.regMu.Lock()
	defer t.regMu.Unlock()
	old := *t.chans.Load()
	m := make(map[uint16]*tapChan, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[id] = tc
	t.chans.Store(&m)
}

// unregister removes tc (and only tc: the id may have been reused already).
func (t *tap) unregister(id uint16, tc *tapChan) {
	t.regMu.Lock()
	defer t.regMu.Unlock()
	old := *t.chans.Load()
	if old[id] != tc {
		return
	}
	m := make(map[uint16]*tapChan, len(old))
	for k, v := range old {
		if k != id {
			m[k] = v
		}
	}
	t.chans.Store(&m)
}

// Read implements io.Reader for amqp091's reader goroutine.
func (t *tap) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if t.pass > 0 {
			if t.r < t.w {
				k := t.w - t.r
				if int64(k) > t.pass {
					k = int(t.pass)
				}
				k = copy(p[n:], t.rbuf[t.r:t.r+k])
				t.r += k
				t.pass -= int64(k)
				n += k
				continue
			}
			if n > 0 {
				return n, nil
			}
			if t.rerr != nil {
				return 0, t.takeErr()
			}
			// Nothing buffered: read the rest of this frame straight into p.
			m := p
			if int64(len(m)) > t.pass {
				m = m[:t.pass]
			}
			k, err := t.sockRead(m)
			t.pass -= int64(k)
			return k, err
		}
		if t.sinkLeft > 0 || t.sinkEnd {
			if t.r == t.w {
				if n > 0 {
					return n, nil
				}
				if hb := t.heartbeat(p); hb > 0 {
					return hb, nil
				}
				if !t.fill(1, true) {
					return 0, t.takeErr()
				}
				continue
			}
			t.sinkStep()
			continue
		}
		if n == 0 && t.swallowed >= heartbeatEvery && len(p) >= wire.HeartbeatLen {
			return t.heartbeat(p), nil
		}
		need, flen, drop := t.decide()
		if need > 0 {
			if n == 0 && t.w-t.r < need {
				// About to wait for the socket.
				if hb := t.heartbeat(p); hb > 0 {
					return hb, nil
				}
			}
			if !t.fill(need, n == 0) {
				if n > 0 {
					return n, nil
				}
				if t.r < t.w {
					// Short read before an error: hand on what there is;
					// amqp091 reports the broken frame.
					t.pass = int64(t.w - t.r)
					continue
				}
				return 0, t.takeErr()
			}
			continue
		}
		if drop {
			t.r += int(flen)
			continue
		}
		t.pass = flen
	}
	return n, nil
}

func (t *tap) takeErr() error {
	err := t.rerr
	t.rerr = nil
	return err
}

// fill makes sure at least k bytes are buffered. Without block it only
// reports whether they are.
func (t *tap) fill(k int, block bool) bool {
	if t.r == t.w {
		t.r, t.w = 0, 0
	}
	for t.w-t.r < k {
		if !block || t.rerr != nil {
			return false
		}
		if k > len(t.rbuf) {
			// A content header frame larger than the buffer (deliver.go).
			nb := make([]byte, k)
			t.w = copy(nb, t.rbuf[t.r:t.w])
			t.r = 0
			t.rbuf = nb
		}
		if len(t.rbuf)-t.r < k {
			t.w = copy(t.rbuf, t.rbuf[t.r:t.w])
			t.r = 0
		}
		n, err := t.sockRead(t.rbuf[t.w:])
		t.w += n
		if err != nil {
			t.rerr = err
			return t.w-t.r >= k
		}
	}
	return true
}

// decide looks at the frame starting at rbuf[r]. It returns need > 0 when
// more bytes must be buffered first; otherwise it has acted on the frame
// (exactly once) and returns its length and whether to drop it.
func (t *tap) decide() (need int, flen int64, drop bool) {
	b := t.rbuf[t.r:t.w]
	if len(b) < 7 {
		return 7, 0, false
	}
	size := int64(binary.BigEndian.Uint32(b[3:7]))
	flen = size + wire.Overhead
	if t.assembling > 0 && (b[0] == wire.FrameHeader || b[0] == wire.FrameBody) {
		if need, drop, ok := t.contentFrame(b, size, flen); ok {
			return need, drop, drop > 0
		}
	}
	if b[0] != wire.FrameMethod || size < 4 || size > maxInspect {
		if b[0] == wire.FrameHeartbeat {
			t.hbIn.Add(1)
		}
		return 0, flen, false
	}
	if len(b) < 11 {
		return 11, flen, false
	}
	id := binary.BigEndian.Uint16(b[1:3])
	m := binary.BigEndian.Uint32(b[7:11])
	var tc *tapChan
	if t.assembling > 0 {
		// A method frame interrupts content on its channel (as in amqp091).
		if tc := t.lookup(id); tc != nil {
			if d := tc.deliv.Load(); d != nil && d.cur != nil {
				t.abandon(d)
			}
		}
	}
	switch m {
	case wire.ConnectionTune:
		if id != 0 || t.tuned || t.tune == nil {
			return 0, flen, false
		}
	case wire.ConfirmSelectOk:
		if tc = t.lookup(id); tc == nil || tc.selects.Load() <= 0 {
			return 0, flen, false
		}
	case wire.BasicAck, wire.BasicNack, wire.BasicReturn:
		if tc = t.lookup(id); tc == nil || tc.ring == nil {
			return 0, flen, false
		}
	case wire.ConnectionClose:
		if id != 0 {
			return 0, flen, false
		}
	case wire.BasicDeliver:
		if tc = t.lookup(id); tc == nil || tc.deliv.Load() == nil {
			return 0, flen, false
		}
	default:
		return 0, flen, false
	}
	if int64(len(b)) < flen {
		return int(flen), flen, false
	}
	if b[flen-1] != wire.FrameEnd {
		return 0, flen, false // malformed: amqp091 will say so
	}
	args := b[11 : flen-1]
	switch m {
	case wire.ConnectionTune:
		t.tuned = true
		if len(args) == 8 {
			t.tune(args)
		}
	case wire.ConfirmSelectOk:
		tc.selects.Add(-1)
		select {
		case tc.selectOK <- struct{}{}:
		default:
		}
		return 0, flen, true
	case wire.BasicReturn:
		tc.ring.returnSeen()
	case wire.BasicAck, wire.BasicNack:
		if len(args) >= 9 {
			tag := binary.BigEndian.Uint64(args[0:8])
			tc.ring.settle(tag, args[8]&1 != 0, m == wire.BasicAck)
		}
	case wire.ConnectionClose:
		t.sawServerClose(args)
	case wire.BasicDeliver:
		if t.startDelivery(tc.deliv.Load(), args) {
			return 0, flen, true
		}
	}
	return 0, flen, false
}

// serverCloseInfo is the reply code and text of the broker's
// connection.close.
type serverCloseInfo struct {
	code   int
	reason string
}

// serverCloseGrace bounds how long a write may still block once the broker
// has closed the connection: amqp091 must get its close-ok out (or fail)
// instead of waiting behind a publish the broker will never read.
const serverCloseGrace = 2 * time.Second

// sawServerClose records connection.close's arguments (reply-code, then
// reply-text as a short string) and bounds the remaining writes.
func (t *tap) sawServerClose(args []byte) {
	if len(args) < 3 {
		return
	}
	info := &serverCloseInfo{code: int(binary.BigEndian.Uint16(args[0:2]))}
	if n := int(args[2]); 3+n <= len(args) {
		info.reason = string(args[3 : 3+n])
	}
	if t.serverClose.CompareAndSwap(nil, info) {
		_ = t.Conn.SetWriteDeadline(time.Now().Add(serverCloseGrace))
	}
}

// serverClosed returns the broker's connection.close as amqp091 reports it,
// or nil when none was read.
func (t *tap) serverClosed() *amqp091.Error {
	info := t.serverClose.Load()
	if info == nil {
		return nil
	}
	return &amqp091.Error{Code: info.code, Reason: info.reason, Server: true, Recover: false}
}

// Write implements io.Writer for amqp091's bufio.Writer. It tracks frame
// boundaries, writes queued injections at the first boundary, and rewrites a
// requested channel.close.
func (t *tap) Write(p []byte) (int, error) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.wpos != 0 {
		t.wstart = -1
	}
	seg, i := 0, 0 // p[seg:i] is scanned but not yet written
	sawClose := false
	urgent := false // a connection-level method: never leave it buffered
	for {
		if t.wpos == 0 && t.wskip == 0 && len(t.inj) > 0 {
			if k, err := t.out(p[seg:i]); err != nil {
				return seg + k, err
			}
			seg = i
			if err := t.flushInj(); err != nil {
				return seg, err
			}
		}
		if i >= len(p) {
			break
		}
		if t.wskip > 0 {
			k := min(t.wskip, len(p)-i)
			i += k
			t.wskip -= k
			continue
		}
		if t.wpos == 0 {
			t.wstart = i
			t.wconnClose = false
		}
		if t.wpos < 7 {
			k := copy(t.wpre[t.wpos:7], p[i:])
			i += k
			t.wpos += int64(k)
			if t.wpos == 7 {
				t.wlen = int64(binary.BigEndian.Uint32(t.wpre[3:7])) + wire.Overhead
				if t.wpre[0] == wire.FrameHeartbeat {
					t.hbOut.Add(1)
				}
				if t.wlen > t.maxOut.Load() {
					t.maxOut.Store(t.wlen)
				}
				if t.wpre[0] == wire.FrameMethod && t.wpre[1] == 0 && t.wpre[2] == 0 {
					urgent = true
				}
			}
			continue
		}
		if t.wpre[0] == wire.FrameMethod && t.wpos < 11 && t.wlen >= 12 {
			k := copy(t.wpre[t.wpos:11], p[i:])
			i += k
			t.wpos += int64(k)
			if t.wpos < 11 {
				continue
			}
			id := binary.BigEndian.Uint16(t.wpre[1:3])
			switch binary.BigEndian.Uint32(t.wpre[7:11]) {
			case wire.ConnectionClose:
				t.wconnClose = id == 0
			case wire.ChannelOpen:
				t.lastOpen.Store(uint32(id))
			case wire.ChannelClose:
				repl, ok := t.rewrites[id]
				if !ok || t.wstart < 0 || int64(t.wstart)+t.wlen > int64(len(p)) {
					break
				}
				delete(t.rewrites, id)
				if k, err := t.out(p[seg:t.wstart]); err != nil {
					return seg + k, err
				}
				if _, err := t.out(repl); err != nil {
					return t.wstart, err
				}
				i = t.wstart + int(t.wlen)
				seg = i
				t.wpos = 0
			}
			continue
		}
		k := t.wlen - t.wpos
		if rest := int64(len(p) - i); k > rest {
			k = rest
		}
		i += int(k)
		t.wpos += k
		if t.wpos == t.wlen {
			t.wpos = 0
			if t.wconnClose {
				sawClose = true
			}
		}
	}
	if k, err := t.out(p[seg:]); err != nil {
		return seg + k, err
	}
	if urgent {
		if err := t.flushBuf(); err != nil {
			return len(p), err
		}
	}
	if sawClose {
		t.closeSentOnce.Do(func() { close(t.closeSent) })
	}
	return len(p), nil
}

// out writes b to the socket, or appends it to wbuf while corked. A write
// of corkDirect bytes or more is not copied: the buffer is flushed and b
// written as is (amqp091's bufio passes large body chunks straight through,
// so the bodies it does not copy are not copied here either).
func (t *tap) out(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if t.corks > 0 || len(t.wbuf) > 0 {
		if len(b) < corkDirect {
			if len(t.wbuf)+len(b) > corkLimit {
				if err := t.flushBuf(); err != nil {
					return 0, err
				}
			}
			t.wbuf = append(t.wbuf, b...)
			if t.corks == 0 {
				// Not corked: what direct writes buffered goes out first,
				// with b, now.
				if err := t.flushBuf(); err != nil {
					return 0, err
				}
			}
			return len(b), nil
		}
		if err := t.flushBuf(); err != nil {
			return 0, err
		}
	}
	t.sockMu.Lock()
	defer t.sockMu.Unlock()
	return t.Conn.Write(b)
}

// flushBuf writes wbuf to the socket. A failed write closes the socket, so
// that amqp091's reader notices and shuts the connection down.
func (t *tap) flushBuf() error {
	if len(t.wbuf) == 0 {
		return nil
	}
	t.sockMu.Lock()
	_, err := t.Conn.Write(t.wbuf)
	t.sockMu.Unlock()
	t.wgen++
	if cap(t.wbuf) > 4*corkLimit {
		t.wbuf = nil
	} else {
		t.wbuf = t.wbuf[:0]
	}
	if err != nil {
		t.writeFailed(err)
	}
	return err
}

// cork makes writes accumulate in wbuf (up to corkLimit) until the matching
// uncork: an executor corks around a run of publishes and acks, so that
// they leave in one write instead of one per message.
func (t *tap) cork() {
	t.wmu.Lock()
	t.corks++
	t.wmu.Unlock()
}

// uncork ends a cork and writes out everything buffered (whoever buffered
// it: flushing early is always correct).
func (t *tap) uncork() error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	t.corks--
	return t.flushBuf()
}

// flushAsync writes out what direct writes buffered, unless an executor
// holds a cork (its uncork writes everything). It holds wmu only to take
// the buffer, so direct writes go on filling the other one meanwhile.
func (t *tap) flushAsync() {
	t.wmu.Lock()
	if len(t.wbuf) == 0 || t.corks > 0 {
		t.wmu.Unlock()
		return
	}
	buf := t.wbuf
	t.wbuf, t.wspare = t.wspare, nil
	t.wgen++
	t.sockMu.Lock()
	t.wmu.Unlock()
	_, err := t.Conn.Write(buf)
	if err != nil {
		t.writeFailed(err)
	}
	t.sockMu.Unlock()
	if cap(buf) <= 4*corkLimit {
		t.wmu.Lock()
		if t.wspare == nil {
			t.wspare = buf[:0]
		}
		t.wmu.Unlock()
	}
}

// tryFlush writes out what direct writes buffered with one non-blocking
// write, on the calling goroutine; whatever the socket does not take at
// once stays buffered. It reports whether the buffer is empty afterwards
// (false also when it could not try: no raw socket, a cork or a write in
// progress).
func (t *tap) tryFlush() bool {
	if !t.wmu.TryLock() {
		// A writer holds it, maybe while blocked on the socket: the
		// caller (the event loop) must not wait.
		return false
	}
	defer t.wmu.Unlock()
	if len(t.wbuf) == 0 {
		return true
	}
	if t.rawConn == nil || t.corks > 0 || !t.sockMu.TryLock() {
		return false
	}
	var n int
	var werr error
	err := t.rawConn.Write(func(fd uintptr) bool {
		n, werr = rawWrite(fd, t.wbuf)
		return true // one attempt: never wait for the socket
	})
	t.sockMu.Unlock()
	if err == nil && werr != nil && werr != syscall.EAGAIN && werr != syscall.EINTR {
		err = werr
	}
	if err != nil {
		t.writeFailed(err)
		return false
	}
	if n > 0 {
		t.wbuf = t.wbuf[:copy(t.wbuf, t.wbuf[n:])]
		t.wgen++
	}
	return len(t.wbuf) == 0
}

// direct appends the complete frames that enc builds to the write buffer,
// for callers that encode frames themselves (see direct.go); largest is
// the size of the largest of them. It reports false, doing nothing, when
// that could break the outgoing stream (amqp091 is in the middle of a
// frame, or injections wait), when another writer holds the write side
// (it may be blocked on the socket), or when directMax bytes wait already
// (the socket is slow): the caller then queues its operation, so that an
// executor, not the caller, waits. pending is what the buffer holds
// afterwards.
func (t *tap) direct(enc func([]byte) []byte, largest int) (ok bool, pending int) {
	if !t.wmu.TryLock() {
		// A writer holds it, maybe while blocked on the socket (flushBuf
		// writes under wmu): decline rather than make the caller wait.
		return false, 0
	}
	defer t.wmu.Unlock()
	if t.wpos != 0 || t.wskip != 0 || len(t.inj) > 0 || len(t.wbuf) >= directMax {
		return false, 0
	}
	t.wbuf = enc(t.wbuf)
	if int64(largest) > t.maxOut.Load() {
		t.maxOut.Store(int64(largest))
	}
	return true, len(t.wbuf)
}

// writeFailed closes the socket after a failed write, so that amqp091's
// reader notices, unless the broker reset the connection: then the reader
// gets the reset by itself once it has read what arrived before it (the
// broker's connection.close, typically), which closing would discard.
func (t *tap) writeFailed(err error) {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return
	}
	_ = t.Conn.Close()
}

func (t *tap) flushInj() error {
	for i, f := range t.inj {
		if _, err := t.out(f); err != nil {
			t.inj = t.inj[i+1:]
			return err
		}
		t.inj[i] = nil
	}
	t.inj = t.inj[:0]
	return nil
}

// inject writes the complete frame f at the next frame boundary of the
// outgoing stream: now, when the stream is between frames, or right after
// the frame amqp091 is in the middle of.
func (t *tap) inject(f []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if t.wpos == 0 && t.wskip == 0 {
		_, err := t.out(f)
		return err
	}
	t.inj = append(t.inj, f)
	return nil
}

// rewriteClose asks the write side to replace the next channel.close on
// channel id by the frame repl (nil cancels the request).
func (t *tap) rewriteClose(id uint16, repl []byte) {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	if repl == nil {
		delete(t.rewrites, id)
		return
	}
	if t.rewrites == nil {
		t.rewrites = map[uint16][]byte{}
	}
	t.rewrites[id] = repl
}

// confirmSelectFrame is confirm.select with nowait=false.
func confirmSelectFrame(channel uint16) []byte {
	return wire.AppendMethod(nil, channel, wire.ConfirmSelect, []byte{0})
}

// channelCloseFrame is channel.close with the given code and text (text at
// most 255 bytes), class and method 0.
func channelCloseFrame(channel uint16, code uint16, text string) []byte {
	args := make([]byte, 0, 7+len(text))
	args = binary.BigEndian.AppendUint16(args, code)
	args = append(args, byte(len(text)))
	args = append(args, text...)
	args = append(args, 0, 0, 0, 0)
	return wire.AppendMethod(nil, channel, wire.ChannelClose, args)
}
