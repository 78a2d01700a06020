package amqp

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

const (
	// corkLimit bounds what a cork holds back before writing; writes of
	// corkDirect bytes or more bypass the cork buffer.
	corkLimit  = 64 << 10
	corkDirect = 4096

	// directMax bounds what direct writes leave in the buffer before they
	// give way to the executor (see tapWriter.direct).
	directMax = 1 << 20
)

// tapWriter is the tap's write side: frame tracking of the outgoing
// stream, injections, close rewrites, corking and direct writes.
type tapWriter struct {
	conn    net.Conn
	rawConn syscall.RawConn // nil when the socket has none (TLS)

	// Guarded by wmu.
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

	closeSent     chan struct{} // closed once connection.close was written
	closeSentOnce sync.Once

	// lastOpen is the channel id of the last channel.open written. Conn
	// serialises channel opening, so after amqp091's Connection.Channel
	// returns it is the new channel's id (amqp091 does not export it).
	lastOpen atomic.Uint32
}

// useRaw reports whether tryFlush may write to the socket with a raw
// non-blocking system call (rawio.go); otherwise everything goes through
// net.Conn.Write. It is the one place the write side makes that choice.
func (wr *tapWriter) useRaw() bool { return wr.rawConn != nil }

// Write implements io.Writer for amqp091's bufio.Writer. It tracks frame
// boundaries, writes queued injections at the first boundary, and rewrites a
// requested channel.close.
func (wr *tapWriter) Write(p []byte) (int, error) {
	wr.wmu.Lock()
	defer wr.wmu.Unlock()
	if wr.wpos != 0 {
		wr.wstart = -1
	}
	seg, i := 0, 0 // p[seg:i] is scanned but not yet written
	sawClose := false
	urgent := false // a connection-level method: never leave it buffered
	for {
		if wr.wpos == 0 && wr.wskip == 0 && len(wr.inj) > 0 {
			if k, err := wr.out(p[seg:i]); err != nil {
				return seg + k, err
			}
			seg = i
			if err := wr.flushInj(); err != nil {
				return seg, err
			}
		}
		if i >= len(p) {
			break
		}
		if wr.wskip > 0 {
			k := min(wr.wskip, len(p)-i)
			i += k
			wr.wskip -= k
			continue
		}
		if wr.wpos == 0 {
			wr.wstart = i
			wr.wconnClose = false
		}
		if wr.wpos < 7 {
			k := copy(wr.wpre[wr.wpos:7], p[i:])
			i += k
			wr.wpos += int64(k)
			if wr.wpos == 7 {
				wr.wlen = int64(binary.BigEndian.Uint32(wr.wpre[3:7])) + wire.Overhead
				if wr.wpre[0] == wire.FrameMethod && wr.wpre[1] == 0 && wr.wpre[2] == 0 {
					urgent = true
				}
			}
			continue
		}
		if wr.wpre[0] == wire.FrameMethod && wr.wpos < 11 && wr.wlen >= 12 {
			k := copy(wr.wpre[wr.wpos:11], p[i:])
			i += k
			wr.wpos += int64(k)
			if wr.wpos < 11 {
				continue
			}
			id := binary.BigEndian.Uint16(wr.wpre[1:3])
			switch binary.BigEndian.Uint32(wr.wpre[7:11]) {
			case wire.ConnectionClose:
				wr.wconnClose = id == 0
			case wire.ChannelOpen:
				wr.lastOpen.Store(uint32(id))
			case wire.ChannelClose:
				repl, ok := wr.rewrites[id]
				if !ok || wr.wstart < 0 || int64(wr.wstart)+wr.wlen > int64(len(p)) {
					break
				}
				delete(wr.rewrites, id)
				if k, err := wr.out(p[seg:wr.wstart]); err != nil {
					return seg + k, err
				}
				if _, err := wr.out(repl); err != nil {
					return wr.wstart, err
				}
				i = wr.wstart + int(wr.wlen)
				seg = i
				wr.wpos = 0
			}
			continue
		}
		k := wr.wlen - wr.wpos
		if rest := int64(len(p) - i); k > rest {
			k = rest
		}
		i += int(k)
		wr.wpos += k
		if wr.wpos == wr.wlen {
			wr.wpos = 0
			if wr.wconnClose {
				sawClose = true
			}
		}
	}
	if k, err := wr.out(p[seg:]); err != nil {
		return seg + k, err
	}
	if urgent {
		if err := wr.flushBuf(); err != nil {
			return len(p), err
		}
	}
	if sawClose {
		wr.closeSentOnce.Do(func() { close(wr.closeSent) })
	}
	return len(p), nil
}

// out writes b to the socket, or appends it to wbuf while corked. A write
// of corkDirect bytes or more is not copied: the buffer is flushed and b
// written as is (amqp091's bufio passes large body chunks straight through,
// so the bodies it does not copy are not copied here either).
func (wr *tapWriter) out(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if wr.corks > 0 || len(wr.wbuf) > 0 {
		if len(b) < corkDirect {
			if len(wr.wbuf)+len(b) > corkLimit {
				if err := wr.flushBuf(); err != nil {
					return 0, err
				}
			}
			wr.wbuf = append(wr.wbuf, b...)
			if wr.corks == 0 {
				// Not corked: what direct writes buffered goes out first,
				// with b, now.
				if err := wr.flushBuf(); err != nil {
					return 0, err
				}
			}
			return len(b), nil
		}
		if err := wr.flushBuf(); err != nil {
			return 0, err
		}
	}
	wr.sockMu.Lock()
	defer wr.sockMu.Unlock()
	return wr.conn.Write(b)
}

// flushBuf writes wbuf to the socket. A failed write closes the socket, so
// that amqp091's reader notices and shuts the connection down.
func (wr *tapWriter) flushBuf() error {
	if len(wr.wbuf) == 0 {
		return nil
	}
	wr.sockMu.Lock()
	_, err := wr.conn.Write(wr.wbuf)
	wr.sockMu.Unlock()
	wr.wgen++
	if cap(wr.wbuf) > 4*corkLimit {
		wr.wbuf = nil
	} else {
		wr.wbuf = wr.wbuf[:0]
	}
	if err != nil {
		wr.writeFailed(err)
	}
	return err
}

// cork makes writes accumulate in wbuf (up to corkLimit) until the matching
// uncork: an executor corks around a run of publishes and acks, so that
// they leave in one write instead of one per message.
func (wr *tapWriter) cork() {
	wr.wmu.Lock()
	wr.corks++
	wr.wmu.Unlock()
}

// uncork ends a cork and writes out everything buffered (whoever buffered
// it: flushing early is always correct).
func (wr *tapWriter) uncork() error {
	wr.wmu.Lock()
	defer wr.wmu.Unlock()
	wr.corks--
	return wr.flushBuf()
}

// flushAsync writes out what direct writes buffered, unless an executor
// holds a cork (its uncork writes everything). It holds wmu only to take
// the buffer, so direct writes go on filling the other one meanwhile.
func (wr *tapWriter) flushAsync() {
	wr.wmu.Lock()
	if len(wr.wbuf) == 0 || wr.corks > 0 {
		wr.wmu.Unlock()
		return
	}
	buf := wr.wbuf
	wr.wbuf, wr.wspare = wr.wspare, nil
	wr.wgen++
	wr.sockMu.Lock()
	wr.wmu.Unlock()
	_, err := wr.conn.Write(buf)
	if err != nil {
		wr.writeFailed(err)
	}
	wr.sockMu.Unlock()
	if cap(buf) <= 4*corkLimit {
		wr.wmu.Lock()
		if wr.wspare == nil {
			wr.wspare = buf[:0]
		}
		wr.wmu.Unlock()
	}
}

// tryFlush writes out what direct writes buffered with one non-blocking
// write, on the calling goroutine; whatever the socket does not take at
// once stays buffered. It reports whether the buffer is empty afterwards
// (false also when it could not try: no raw socket, a cork or a write in
// progress).
func (wr *tapWriter) tryFlush() bool {
	if !wr.wmu.TryLock() {
		// A writer holds it, maybe while blocked on the socket: the
		// caller (the event loop) must not wait.
		return false
	}
	defer wr.wmu.Unlock()
	if len(wr.wbuf) == 0 {
		return true
	}
	if !wr.useRaw() || wr.corks > 0 || !wr.sockMu.TryLock() {
		return false
	}
	var n int
	var werr error
	err := wr.rawConn.Write(func(fd uintptr) bool {
		n, werr = rawWrite(fd, wr.wbuf)
		return true // one attempt: never wait for the socket
	})
	wr.sockMu.Unlock()
	if err == nil && werr != nil && werr != syscall.EAGAIN && werr != syscall.EINTR {
		err = werr
	}
	if err != nil {
		wr.writeFailed(err)
		return false
	}
	if n > 0 {
		wr.wbuf = wr.wbuf[:copy(wr.wbuf, wr.wbuf[n:])]
		wr.wgen++
	}
	return len(wr.wbuf) == 0
}

// direct appends the complete frames that enc builds to the write buffer,
// for callers that encode frames themselves (see direct.go). It reports
// false, doing nothing, when
// that could break the outgoing stream (amqp091 is in the middle of a
// frame, or injections wait), when another writer holds the write side
// (it may be blocked on the socket), or when directMax bytes wait already
// (the socket is slow): the caller then queues its operation, so that an
// executor, not the caller, waits. pending is what the buffer holds
// afterwards.
func (wr *tapWriter) direct(enc func([]byte) []byte) (ok bool, pending int) {
	if !wr.wmu.TryLock() {
		// A writer holds it, maybe while blocked on the socket (flushBuf
		// writes under wmu): decline rather than make the caller wait.
		return false, 0
	}
	defer wr.wmu.Unlock()
	if wr.wpos != 0 || wr.wskip != 0 || len(wr.inj) > 0 || len(wr.wbuf) >= directMax {
		return false, 0
	}
	wr.wbuf = enc(wr.wbuf)
	return true, len(wr.wbuf)
}

// writeFailed closes the socket after a failed write, so that amqp091's
// reader notices, unless the broker reset the connection: then the reader
// gets the reset by itself once it has read what arrived before it (the
// broker's connection.close, typically), which closing would discard.
func (wr *tapWriter) writeFailed(err error) {
	if errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return
	}
	_ = wr.conn.Close()
}

func (wr *tapWriter) flushInj() error {
	for i, f := range wr.inj {
		if _, err := wr.out(f); err != nil {
			wr.inj = wr.inj[i+1:]
			return err
		}
		wr.inj[i] = nil
	}
	wr.inj = wr.inj[:0]
	return nil
}

// inject writes the complete frame f at the next frame boundary of the
// outgoing stream: now, when the stream is between frames, or right after
// the frame amqp091 is in the middle of.
func (wr *tapWriter) inject(f []byte) error {
	wr.wmu.Lock()
	defer wr.wmu.Unlock()
	if wr.wpos == 0 && wr.wskip == 0 {
		_, err := wr.out(f)
		return err
	}
	wr.inj = append(wr.inj, f)
	return nil
}

// rewriteClose asks the write side to replace the next channel.close on
// channel id by the frame repl (nil cancels the request).
func (wr *tapWriter) rewriteClose(id uint16, repl []byte) {
	wr.wmu.Lock()
	defer wr.wmu.Unlock()
	if repl == nil {
		delete(wr.rewrites, id)
		return
	}
	if wr.rewrites == nil {
		wr.rewrites = map[uint16][]byte{}
	}
	wr.rewrites[id] = repl
}
