package amqp

import (
	"encoding/binary"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

const (
	// maxInspect is the largest method payload the read side looks into.
	// Every method it acts on is far smaller (tune 12, ack/nack 13,
	// select-ok 4, return ~270 at most for its header part).
	maxInspect = 1024

	tapReadBuf = 64 << 10
)

// tapReader is the tap's read side. Everything in it but serverClose is
// touched only by the goroutine calling Read (amqp091's reader).
type tapReader struct {
	conn    net.Conn
	rawConn syscall.RawConn // nil when the socket has none (TLS)
	rr      rawReader       // sockRead's raw reads (rawio.go)
	chans   *tapChans

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

	// serverClose is the broker's connection.close, once it has been read:
	// the connection's end reports it even when a socket error (the broker
	// closing its side, a write failing) reaches amqp091 first.
	serverClose atomic.Pointer[serverCloseInfo]
}

// useRaw reports whether reads go to the socket with raw system calls
// (rawio.go) rather than through net.Conn.Read. It is the one place the
// read side makes that choice.
func (rd *tapReader) useRaw() bool { return rd.rawConn != nil }

// Read implements io.Reader for amqp091's reader goroutine.
func (rd *tapReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if rd.pass > 0 {
			if rd.r < rd.w {
				k := rd.w - rd.r
				if int64(k) > rd.pass {
					k = int(rd.pass)
				}
				k = copy(p[n:], rd.rbuf[rd.r:rd.r+k])
				rd.r += k
				rd.pass -= int64(k)
				n += k
				continue
			}
			if n > 0 {
				return n, nil
			}
			if rd.rerr != nil {
				return 0, rd.takeErr()
			}
			// Nothing buffered: read the rest of this frame straight into p.
			m := p
			if int64(len(m)) > rd.pass {
				m = m[:rd.pass]
			}
			k, err := rd.sockRead(m)
			rd.pass -= int64(k)
			return k, err
		}
		if rd.sinkLeft > 0 || rd.sinkEnd {
			if rd.r == rd.w {
				if n > 0 {
					return n, nil
				}
				if hb := rd.heartbeat(p); hb > 0 {
					return hb, nil
				}
				if !rd.fill(1, true) {
					return 0, rd.takeErr()
				}
				continue
			}
			rd.sinkStep()
			continue
		}
		if n == 0 && rd.swallowed >= heartbeatEvery && len(p) >= wire.HeartbeatLen {
			return rd.heartbeat(p), nil
		}
		need, flen, drop := rd.decide()
		if need > 0 {
			if n == 0 && rd.w-rd.r < need {
				// About to wait for the socket.
				if hb := rd.heartbeat(p); hb > 0 {
					return hb, nil
				}
			}
			if !rd.fill(need, n == 0) {
				if n > 0 {
					return n, nil
				}
				if rd.r < rd.w {
					// Short read before an error: hand on what there is;
					// amqp091 reports the broken frame.
					rd.pass = int64(rd.w - rd.r)
					continue
				}
				return 0, rd.takeErr()
			}
			continue
		}
		if drop {
			rd.r += int(flen)
			continue
		}
		rd.pass = flen
	}
	return n, nil
}

func (rd *tapReader) takeErr() error {
	err := rd.rerr
	rd.rerr = nil
	return err
}

// fill makes sure at least k bytes are buffered. Without block it only
// reports whether they are.
func (rd *tapReader) fill(k int, block bool) bool {
	if rd.r == rd.w {
		rd.r, rd.w = 0, 0
	}
	for rd.w-rd.r < k {
		if !block || rd.rerr != nil {
			return false
		}
		if k > len(rd.rbuf) {
			// A content header frame larger than the buffer (deliver.go).
			nb := make([]byte, k)
			rd.w = copy(nb, rd.rbuf[rd.r:rd.w])
			rd.r = 0
			rd.rbuf = nb
		}
		if len(rd.rbuf)-rd.r < k {
			rd.w = copy(rd.rbuf, rd.rbuf[rd.r:rd.w])
			rd.r = 0
		}
		n, err := rd.sockRead(rd.rbuf[rd.w:])
		rd.w += n
		if err != nil {
			rd.rerr = err
			return rd.w-rd.r >= k
		}
	}
	return true
}

// decide looks at the frame starting at rbuf[r]. It returns need > 0 when
// more bytes must be buffered first; otherwise it has acted on the frame
// (exactly once) and returns its length and whether to drop it.
func (rd *tapReader) decide() (need int, flen int64, drop bool) {
	b := rd.rbuf[rd.r:rd.w]
	if len(b) < 7 {
		return 7, 0, false
	}
	size := int64(binary.BigEndian.Uint32(b[3:7]))
	flen = size + wire.Overhead
	if rd.assembling > 0 && (b[0] == wire.FrameHeader || b[0] == wire.FrameBody) {
		if need, drop, ok := rd.contentFrame(b, size, flen); ok {
			return need, drop, drop > 0
		}
	}
	if b[0] != wire.FrameMethod || size < 4 || size > maxInspect {
		return 0, flen, false
	}
	if len(b) < 11 {
		return 11, flen, false
	}
	id := binary.BigEndian.Uint16(b[1:3])
	m := binary.BigEndian.Uint32(b[7:11])
	var tc *tapChan
	if rd.assembling > 0 {
		// A method frame interrupts content on its channel (as in amqp091).
		if tc := rd.chans.lookup(id); tc != nil {
			if d := tc.deliv.Load(); d != nil && d.cur != nil {
				rd.abandon(d)
			}
		}
	}
	switch m {
	case wire.ConnectionTune:
		if id != 0 || rd.tuned || rd.tune == nil {
			return 0, flen, false
		}
	case wire.ConfirmSelectOk:
		if tc = rd.chans.lookup(id); tc == nil || tc.selects.Load() <= 0 {
			return 0, flen, false
		}
	case wire.BasicAck, wire.BasicNack, wire.BasicReturn:
		if tc = rd.chans.lookup(id); tc == nil || tc.ring == nil {
			return 0, flen, false
		}
	case wire.ConnectionClose:
		if id != 0 {
			return 0, flen, false
		}
	case wire.BasicDeliver:
		if tc = rd.chans.lookup(id); tc == nil || tc.deliv.Load() == nil {
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
		rd.tuned = true
		if len(args) == 8 {
			rd.tune(args)
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
		rd.sawServerClose(args)
	case wire.BasicDeliver:
		if rd.startDelivery(tc.deliv.Load(), args) {
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
func (rd *tapReader) sawServerClose(args []byte) {
	if len(args) < 3 {
		return
	}
	info := &serverCloseInfo{code: int(binary.BigEndian.Uint16(args[0:2]))}
	if n := int(args[2]); 3+n <= len(args) {
		info.reason = string(args[3 : 3+n])
	}
	if rd.serverClose.CompareAndSwap(nil, info) {
		_ = rd.conn.SetWriteDeadline(time.Now().Add(serverCloseGrace))
	}
}
