package amqp

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// chunkConn is a net.Conn whose reads return in at most the given chunk
// sizes (the rest in one piece), and which records what is written.
type chunkConn struct {
	in     []byte
	chunks []int
	cur    int // left of the current chunk
	out    bytes.Buffer
	writes int
	closed bool
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	if c.cur == 0 {
		c.cur = len(c.in)
		if len(c.chunks) > 0 {
			c.cur = max(1, min(c.chunks[0], len(c.in)))
			c.chunks = c.chunks[1:]
		}
	}
	n := copy(p, c.in[:c.cur])
	c.in = c.in[n:]
	c.cur -= n
	return n, nil
}

func (c *chunkConn) Write(p []byte) (int, error) {
	c.writes++
	return c.out.Write(p)
}

func (c *chunkConn) Close() error                     { c.closed = true; return nil }
func (c *chunkConn) LocalAddr() net.Addr              { return nil }
func (c *chunkConn) RemoteAddr() net.Addr             { return nil }
func (c *chunkConn) SetDeadline(time.Time) error      { return nil }
func (c *chunkConn) SetReadDeadline(time.Time) error  { return nil }
func (c *chunkConn) SetWriteDeadline(time.Time) error { return nil }

func rawFrame(typ byte, ch uint16, payload []byte) []byte {
	return wire.AppendFrame(nil, typ, ch, payload)
}

func mframe(ch uint16, cm uint32, args ...byte) []byte { return wire.AppendMethod(nil, ch, cm, args) }

func ackArgs(tag uint64, multiple bool) []byte {
	b := binary.BigEndian.AppendUint64(nil, tag)
	if multiple {
		return append(b, 1)
	}
	return append(b, 0)
}

func tuneArgs(cm uint16, fm uint32, hb uint16) []byte {
	b := binary.BigEndian.AppendUint16(nil, cm)
	b = binary.BigEndian.AppendUint32(b, fm)
	return binary.BigEndian.AppendUint16(b, hb)
}

// readScenario is a server stream exercising every read-side rule, the
// stream amqp091 should see, and a check of the confirm settlements.
type readScenario struct {
	in, want []byte
	setup    func(t *tap) func(t *testing.T)
}

func newReadScenario(bodyLen int) readScenario {
	var in, want bytes.Buffer
	both := func(f []byte) { in.Write(f); want.Write(f) }

	in.Write(mframe(0, wire.ConnectionTune, tuneArgs(2047, 131072, 60)...))
	want.Write(mframe(0, wire.ConnectionTune, tuneArgs(10, 4096, 0)...))
	// A second tune is left alone.
	both(mframe(0, wire.ConnectionTune, tuneArgs(1, 2, 3)...))
	both(mframe(1, wire.BasicDeliver, []byte("\x04ctag\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x01q")...))
	both(rawFrame(wire.FrameHeader, 1, bytes.Repeat([]byte{7}, 20)))
	body := make([]byte, bodyLen)
	for i := range body {
		body[i] = byte(i)
	}
	both(rawFrame(wire.FrameBody, 1, body))
	both(rawFrame(wire.FrameHeartbeat, 0, nil))
	in.Write(mframe(2, wire.ConfirmSelectOk)) // consumed
	both(mframe(2, wire.BasicAck, ackArgs(3, true)...))
	both(mframe(2, wire.BasicNack, append(ackArgs(4, false)[:8], 2)...)) // requeue bit only
	both(mframe(3, wire.BasicAck, ackArgs(1, true)...))                  // not confirming
	both(mframe(3, wire.ConfirmSelectOk))                                // not injected: amqp091's
	big := append(ackArgs(5, true), make([]byte, 2000)...)
	both(mframe(2, wire.BasicAck, big...)) // too big to look into
	bad := mframe(2, wire.BasicAck, ackArgs(5, true)...)
	bad[len(bad)-1] = 0 // broken frame end: not acted on
	both(bad)
	both(mframe(2, wire.BasicReturn, []byte("\x01\x38\x08NO_ROUTE\x00\x01k")...))
	both(mframe(2, wire.BasicAck, ackArgs(5, false)...)) // waits for the return
	both(mframe(0, wire.ConnectionClose, make([]byte, 7)...))

	return readScenario{in: in.Bytes(), want: want.Bytes(), setup: func(tp *tap) func(*testing.T) {
		tp.in.tune = func(b []byte) { copy(b, tuneArgs(10, 4096, 0)) }
		ring := newConfirmRing()
		tc := &tapChan{ring: ring, selectOK: make(chan struct{}, 1)}
		tc.selects.Store(1)
		tp.chans.register(2, tc)
		tp.chans.register(3, &tapChan{selectOK: make(chan struct{}, 1)})
		got := map[int]error{}
		for i := 1; i <= 6; i++ {
			ring.push(pubOp(got, i))
		}
		return func(t *testing.T) {
			t.Helper()
			if len(tc.selectOK) != 1 || tc.selects.Load() != 0 {
				t.Errorf("select-ok not consumed")
			}
			if len(got) != 4 || got[1] != nil || got[3] != nil {
				t.Fatalf("settled %v", got)
			}
			if e, _ := got[4].(*Error); e == nil || e.DeliveryTag != 4 {
				t.Fatalf("nack: %v", got[4])
			}
			ring.returnDone()
			if _, ok := got[5]; !ok || len(got) != 5 {
				t.Fatalf("deferred ack not applied: %v", got)
			}
		}
	}}
}

func readAll(t *testing.T, tp *tap, psize int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, psize)
	for i := 0; ; i++ {
		n, err := tp.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || i > 1e7 {
			t.Fatal("Read returned 0 bytes")
		}
	}
}

func runRead(t *testing.T, sc readScenario, chunks []int, psize int) {
	t.Helper()
	conn := &chunkConn{in: append([]byte(nil), sc.in...), chunks: chunks}
	tp := newTap(conn, nil)
	check := sc.setup(tp)
	out := readAll(t, tp, psize)
	if !bytes.Equal(out, sc.want) {
		t.Fatalf("chunks %v psize %d: output differs\n got %x\nwant %x", chunks, psize, out, sc.want)
	}
	check(t)
}

// TestTapReadSplits feeds the stream split at every position, read with
// several buffer sizes.
func TestTapReadSplits(t *testing.T) {
	sc := newReadScenario(300)
	for _, psize := range []int{1, 7, 11, 64, 4096} {
		for k := 0; k <= len(sc.in); k++ {
			runRead(t, sc, []int{k}, psize)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		chunks := make([]int, 200)
		for j := range chunks {
			chunks[j] = 1 + rng.Intn(40)
		}
		runRead(t, sc, chunks, 1+rng.Intn(5000))
	}
}

// TestTapReadLargeBody: a body bigger than the tap's buffer passes through,
// its tail read straight into the caller's buffer.
func TestTapReadLargeBody(t *testing.T) {
	sc := newReadScenario(300000)
	for _, chunks := range [][]int{nil, {100}, {5, 70000, 3}, {1 << 20}} {
		for _, psize := range []int{4096, 1 << 20} {
			runRead(t, sc, chunks, psize)
		}
	}
}

func TestTapReadErrors(t *testing.T) {
	// A stream cut inside a header, inside a method and inside a body: the
	// bytes there are handed on, then EOF.
	full := append(mframe(2, wire.BasicAck, ackArgs(1, false)...), rawFrame(wire.FrameBody, 1, make([]byte, 50))...)
	for k := 0; k < len(full); k++ {
		conn := &chunkConn{in: append([]byte(nil), full[:k]...)}
		tp := newTap(conn, nil)
		ring := newConfirmRing()
		tp.chans.register(2, &tapChan{ring: ring})
		if out := readAll(t, tp, 4096); !bytes.Equal(out, full[:k]) {
			t.Fatalf("cut at %d: got %x", k, out)
		}
	}
}

// writeScenario: what amqp091 writes, with the frame boundaries.
func writeStream() (data []byte, bounds []int, closeAt int) {
	var b bytes.Buffer
	b.WriteString("AMQP\x00\x00\x09\x01")
	add := func(f []byte) { b.Write(f); bounds = append(bounds, b.Len()) }
	bounds = append(bounds, b.Len())
	add(mframe(1, wire.ChannelOpen, 0))
	add(mframe(1, wire.BasicPublish, 0, 0, 0, 0, 1, 'q', 0))
	add(rawFrame(wire.FrameHeader, 1, make([]byte, 14)))
	add(rawFrame(wire.FrameBody, 1, bytes.Repeat([]byte("b"), 50)))
	add(rawFrame(wire.FrameHeartbeat, 0, nil))
	add(channelCloseFrame(5, 200, ""))
	closeAt = b.Len()
	add(mframe(0, wire.ConnectionClose, 0, 200, 0, 0, 0, 0, 0))
	return b.Bytes(), bounds, closeAt
}

func TestTapWritePassThrough(t *testing.T) {
	data, _, _ := writeStream()
	for k := 0; k <= len(data); k++ {
		conn := &chunkConn{}
		tp := newTap(conn, nil)
		if n, err := tp.Write(data[:k]); n != k || err != nil {
			t.Fatalf("Write %d %v", n, err)
		}
		select {
		case <-tp.out.closeSent:
			if k < len(data) {
				t.Fatal("closeSent before connection.close was written")
			}
		default:
		}
		if n, err := tp.Write(data[k:]); n != len(data)-k || err != nil {
			t.Fatalf("Write %d %v", n, err)
		}
		if !bytes.Equal(conn.out.Bytes(), data) {
			t.Fatalf("split %d: output differs", k)
		}
		var sc frameScanner
		sc.skip = len(wire.ProtocolHeader)
		sc.scan(conn.out.Bytes())
		if tp.out.lastOpen.Load() != 1 || sc.heartbeats != 1 || sc.largest != 58 {
			t.Fatalf("lastOpen %d heartbeats %d largest %d", tp.out.lastOpen.Load(), sc.heartbeats, sc.largest)
		}
		select {
		case <-tp.out.closeSent:
		default:
			t.Fatal("closeSent not closed")
		}
	}
}

// TestTapInject injects at every position of the stream: the frame goes out
// at the first frame boundary at or after it.
func TestTapInject(t *testing.T) {
	data, bounds, _ := writeStream()
	inj := confirmSelectFrame(9)
	for k := 0; k <= len(data); k++ {
		conn := &chunkConn{}
		tp := newTap(conn, nil)
		tp.Write(data[:k])
		if err := tp.out.inject(inj); err != nil {
			t.Fatal(err)
		}
		tp.Write(data[k:])
		at := -1
		for _, b := range bounds {
			if b >= k {
				at = b
				break
			}
		}
		want := append(append(append([]byte(nil), data[:at]...), inj...), data[at:]...)
		if !bytes.Equal(conn.out.Bytes(), want) {
			t.Fatalf("inject at %d: want it at %d\n got %x\nwant %x", k, at, conn.out.Bytes(), want)
		}
	}
}

func TestTapRewriteClose(t *testing.T) {
	data, bounds, closeAt := writeStream()
	start := bounds[len(bounds)-3]
	repl := channelCloseFrame(5, 320, "custom text")
	want := append(append(append([]byte(nil), data[:start]...), repl...), data[closeAt:]...)
	for k := 0; k <= len(data); k++ {
		conn := &chunkConn{}
		tp := newTap(conn, nil)
		tp.out.rewriteClose(5, repl)
		tp.out.rewriteClose(6, repl)
		tp.out.rewriteClose(6, nil)
		tp.Write(data[:k])
		tp.Write(data[k:])
		whole := k <= start || k >= closeAt
		switch {
		case whole && !bytes.Equal(conn.out.Bytes(), want):
			t.Fatalf("split %d: not rewritten", k)
		case !whole && !bytes.Equal(conn.out.Bytes(), data):
			t.Fatalf("split %d inside the frame: output changed", k)
		}
	}
}

func TestTapCork(t *testing.T) {
	data, bounds, _ := writeStream()
	conn := &chunkConn{}
	tp := newTap(conn, nil)
	tp.Write(data[:bounds[0]])
	tp.out.cork()
	tp.out.cork()
	tp.Write(data[bounds[0]:bounds[5]]) // up to the channel.close: no channel-0 method
	if conn.out.Len() != bounds[0] {
		t.Fatalf("corked bytes were written: %d", conn.out.Len())
	}
	tp.out.inject(confirmSelectFrame(3)) // queued behind the corked frames
	if err := tp.out.uncork(); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), data[:bounds[5]]...), confirmSelectFrame(3)...)
	if !bytes.Equal(conn.out.Bytes(), want) {
		t.Fatal("uncork: wrong output")
	}
	// A connection-level method is never held back (nor what precedes it).
	tp.Write(data[bounds[5]:bounds[6]])
	if conn.out.Len() != len(want) {
		t.Fatal("channel.close not held back by the cork")
	}
	tp.Write(data[bounds[6]:])
	if !bytes.Equal(conn.out.Bytes(), append(want, data[bounds[5]:]...)) {
		t.Fatal("connection.close held back by a cork")
	}
	tp.out.uncork()
	// Beyond corkLimit the buffer is written out; order is kept.
	conn.out.Reset()
	tp.out.cork()
	var all []byte
	for i := 0; i < 3000; i++ {
		f := rawFrame(wire.FrameBody, 1, make([]byte, 40+i%50))
		all = append(all, f...)
		tp.Write(f)
	}
	big := rawFrame(wire.FrameBody, 1, make([]byte, 100000))
	all = append(all, big...)
	tp.Write(big)
	if conn.out.Len() == 0 || conn.out.Len() > len(all) {
		t.Fatalf("corkLimit not honoured: %d written", conn.out.Len())
	}
	tp.out.uncork()
	if !bytes.Equal(conn.out.Bytes(), all) {
		t.Fatal("order lost across cork flushes")
	}
}

// FuzzTap: any byte stream, any split. With nothing registered the read side
// is a pure pass-through; with a confirming channel and a tune rewriter it
// must not panic. The write side passes everything through and inserts an
// injected frame whole or not at all.
func FuzzTap(f *testing.F) {
	sc := newReadScenario(40)
	f.Add(sc.in, uint16(10), uint16(7))
	data, _, _ := writeStream()
	f.Add(data, uint16(30), uint16(4096))
	f.Add([]byte("AMQP\x00\x00\x09\x01"), uint16(3), uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, split, psize uint16) {
		chunks := []int{int(split), int(split)/2 + 1, 3}
		ps := int(psize%8192) + 1

		conn := &chunkConn{in: append([]byte(nil), in...), chunks: append([]int(nil), chunks...)}
		tp := newTap(conn, nil)
		if out := readAll(t, tp, ps); !bytes.Equal(out, in) {
			t.Fatalf("pass-through changed the stream")
		}

		conn = &chunkConn{in: append([]byte(nil), in...), chunks: append([]int(nil), chunks...)}
		tp = newTap(conn, func(b []byte) { copy(b, tuneArgs(1, 4096, 0)) })
		ring := newConfirmRing()
		for i := 0; i < 10; i++ {
			ring.push(&op{kind: opPublish})
		}
		tc := &tapChan{ring: ring, selectOK: make(chan struct{}, 1)}
		tc.selects.Store(1)
		for id := uint16(0); id < 4; id++ {
			tp.chans.register(id, tc)
		}
		if out := readAll(t, tp, ps); len(out) > len(in) {
			t.Fatalf("read side produced more than it got")
		}

		for _, skip := range []int{0, len(wire.ProtocolHeader)} {
			w := &chunkConn{}
			tp = newTap(w, nil)
			tp.out.wskip = skip
			k := int(split) % (len(in) + 1)
			tp.Write(in[:k])
			inj := confirmSelectFrame(1)
			tp.out.inject(inj)
			tp.Write(in[k:])
			out := w.out.Bytes()
			if len(out) == len(in) {
				if !bytes.Equal(out, in) {
					t.Fatal("write side changed the stream")
				}
				continue
			}
			found := false
			for i := 0; i+len(inj) <= len(out); i++ {
				if bytes.Equal(out[i:i+len(inj)], inj) &&
					bytes.Equal(append(append([]byte(nil), out[:i]...), out[i+len(inj):]...), in) {
					found = true
					break
				}
			}
			if !found {
				t.Fatal(fmt.Sprintf("injection mangled the stream (%d -> %d bytes)", len(in), len(out)))
			}
		}
	})
}

// frameScanner follows a stream of frames (after skip bytes of protocol
// header) in chunks cut anywhere, counting heartbeat frames and noting the
// largest frame: what tests check of a connection's traffic.
type frameScanner struct {
	skip       int
	hdr        []byte
	left       int
	heartbeats int
	largest    int
}

func (s *frameScanner) scan(p []byte) {
	for len(p) > 0 {
		switch {
		case s.skip > 0:
			k := min(s.skip, len(p))
			s.skip -= k
			p = p[k:]
		case s.left > 0:
			k := min(s.left, len(p))
			s.left -= k
			p = p[k:]
		default:
			k := min(wire.HeaderLen-len(s.hdr), len(p))
			s.hdr = append(s.hdr, p[:k]...)
			p = p[k:]
			if len(s.hdr) == wire.HeaderLen {
				size := int(binary.BigEndian.Uint32(s.hdr[3:]))
				if s.hdr[0] == wire.FrameHeartbeat {
					s.heartbeats++
				}
				s.largest = max(s.largest, size+wire.Overhead)
				s.left = size + 1
				s.hdr = s.hdr[:0]
			}
		}
	}
}

// countingConn is a net.Conn that scans the frames going each way.
type countingConn struct {
	net.Conn
	mu      sync.Mutex
	in, out frameScanner
}

func newCountingConn(c net.Conn) *countingConn {
	return &countingConn{Conn: c, out: frameScanner{skip: len(wire.ProtocolHeader)}}
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.in.scan(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.out.scan(p[:n])
	c.mu.Unlock()
	return n, err
}

// stats returns the heartbeats read and written and the largest frame
// written.
func (c *countingConn) stats() (hbIn, hbOut, largestOut int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.in.heartbeats, c.out.heartbeats, c.out.largest
}

// countingDial makes cfg dial through a countingConn, returned once dialled.
func countingDial(cfg *Config) func() *countingConn {
	var mu sync.Mutex
	var cc *countingConn
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		cc = newCountingConn(c)
		return cc, nil
	}
	return func() *countingConn {
		mu.Lock()
		defer mu.Unlock()
		return cc
	}
}
