package amqp

import (
	"bytes"
	"encoding/binary"
	"net"
	"reflect"
	"sync"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// recordingHandler records deliveries; it is an InlineHandler when inline.
type recordingHandler struct {
	mu   sync.Mutex
	got  []*Delivery
	ends int
}

func (h *recordingHandler) Delivery(d *Delivery) {
	h.mu.Lock()
	h.got = append(h.got, d)
	h.mu.Unlock()
}
func (h *recordingHandler) Cancelled(string) {}
func (h *recordingHandler) End(error)        { h.ends++ }

type inlineRecorder struct{ recordingHandler }

func (*inlineRecorder) InlineDeliveries() {}

// deliveryStream is a server stream with deliveries for consumer "c1" on
// channel 1 (assembled by the tap) mixed with frames amqp091 must get.
func deliveryStream() (in, want []byte, wantDeliveries []*Delivery) {
	var b, w bytes.Buffer
	pass := func(f []byte) { b.Write(f); w.Write(f) }
	deliver := func(ch uint16, tag string, dtag uint64, rk string) []byte {
		a := append([]byte{byte(len(tag))}, tag...)
		a = binary.BigEndian.AppendUint64(a, dtag)
		a = append(a, 1, 2, 'e', 'x', byte(len(rk)))
		return mframe(ch, wire.BasicDeliver, append(a, rk...)...)
	}
	header := func(ch uint16, size uint64, props []byte) []byte {
		p := []byte{0, 60, 0, 0}
		p = binary.BigEndian.AppendUint64(p, size)
		return rawFrame(wire.FrameHeader, ch, append(p, props...))
	}
	// 1: a small delivery, its frames interleaved with channel 2's.
	b.Write(deliver(1, "c1", 1, "k1"))
	pass(mframe(2, wire.BasicAck, ackArgs(1, false)...))
	b.Write(header(1, 5, []byte{0, 0}))
	pass(rawFrame(wire.FrameHeartbeat, 0, nil))
	b.Write(rawFrame(wire.FrameBody, 1, []byte("hello")))
	// 2: a delivery for a tag nobody registered: amqp091's.
	pass(deliver(1, "other", 2, "k"))
	pass(header(1, 1, []byte{0, 0}))
	pass(rawFrame(wire.FrameBody, 1, []byte("x")))
	// 3: an empty body, with properties.
	props := []byte{0x90, 0} // content-type, delivery-mode
	props = append(append(props, 4), "text"...)
	props = append(props, 2)
	b.Write(deliver(1, "c1", 3, "k1"))
	b.Write(header(1, 0, props))
	// 4: a body of three frames.
	big := bytes.Repeat([]byte("abcdefgh"), 3000)
	b.Write(deliver(1, "c1", 4, "k2"))
	b.Write(header(1, uint64(len(big)), []byte{0, 0}))
	for i := 0; i < len(big); i += 10000 {
		b.Write(rawFrame(wire.FrameBody, 1, big[i:min(i+10000, len(big))]))
	}
	// 5: content interrupted by a method frame: dropped, the method passes.
	b.Write(deliver(1, "c1", 5, "k"))
	pass(mframe(1, wire.BasicAck, ackArgs(9, false)...))
	pass(rawFrame(wire.FrameHeader, 1, []byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}))
	pass(rawFrame(wire.FrameBody, 1, []byte("y")))
	pass(mframe(0, wire.ConnectionClose, make([]byte, 7)...))

	env := func(tag uint64, rk string) *Delivery {
		return &Delivery{ConsumerTag: "c1", DeliveryTag: tag, Redelivered: true, Exchange: "ex", RoutingKey: rk}
	}
	d1, d3, d4 := env(1, "k1"), env(3, "k1"), env(4, "k2")
	d1.Body = []byte("hello")
	d3.Body = []byte{}
	d3.Properties = Properties{ContentType: "text", DeliveryMode: 2}
	d4.Body = big
	return b.Bytes(), w.Bytes(), []*Delivery{d1, d3, d4}
}

// stripHeartbeats removes the tap's own heartbeat frames from what amqp091
// got (the stream's own heartbeat is kept: it is matched in want).
func stripHeartbeats(b []byte, keep int) []byte {
	var out []byte
	for len(b) >= 8 {
		n := int(binary.BigEndian.Uint32(b[3:7])) + 8
		if b[0] == wire.FrameHeartbeat && keep == 0 {
			b = b[n:]
			continue
		}
		if b[0] == wire.FrameHeartbeat {
			keep--
		}
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return append(out, b...)
}

func TestTapDeliveries(t *testing.T) {
	in, want, wantD := deliveryStream()
	for _, chunk := range []int{1, 3, 7, 100, 1 << 20} {
		for _, psize := range []int{8, 4096} {
			h := &inlineRecorder{}
			conn := &chunkConn{in: append([]byte(nil), in...), chunks: repeatChunk(chunk, len(in))}
			tp := tapConsuming(conn, h)
			out := readAll(t, tp, psize)
			// The stream's heartbeat comes right after delivery 1's
			// header; the tap's own ones are removed around it.
			if got := stripHeartbeats(out, 0); !bytes.Equal(got, stripHeartbeats(want, 0)) {
				t.Fatalf("chunk %d psize %d: amqp091 got\n%x\nwant\n%x", chunk, psize, got, want)
			}
			if !reflect.DeepEqual(h.got, wantD) {
				t.Fatalf("chunk %d psize %d: deliveries\n%+v\nwant\n%+v", chunk, psize, h.got, wantD)
			}
			if tp.in.assembling != 0 {
				t.Fatalf("assembling %d at the end", tp.in.assembling)
			}
		}
	}
}

// tapConsuming is a tap over conn whose channel 1 has the started consumer
// "c1" with handler h, its deliveries assembled by the tap.
func tapConsuming(conn net.Conn, h ConsumerHandler) *tap {
	tp := newTap(conn, nil)
	d := newTapDeliveries()
	c := newTapConsumer("c1", h)
	c.start()
	d.add(c)
	tc := &tapChan{}
	tc.deliv.Store(d)
	tp.chans.register(1, tc)
	return tp
}

func repeatChunk(n, total int) []int {
	var cs []int
	for i := 0; i < total; i += n {
		cs = append(cs, n)
	}
	return cs
}

// TestTapDeliveriesHeartbeat: while the tap swallows frames, amqp091 gets a
// heartbeat of its own before the tap waits for the socket, and every
// heartbeatEvery swallowed frames, so that its read deadline moves.
func TestTapDeliveriesHeartbeat(t *testing.T) {
	var in []byte
	for i := 1; i <= 2*heartbeatEvery; i++ {
		in = append(in, mframe(1, wire.BasicDeliver, append(append([]byte{2, 'c', '1'}, binary.BigEndian.AppendUint64(nil, uint64(i))...), 0, 0, 0)...)...)
		in = append(in, rawFrame(wire.FrameHeader, 1, []byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})...)
	}
	h := &inlineRecorder{}
	tp := tapConsuming(&chunkConn{in: in}, h)
	out := readAll(t, tp, 4096)
	if len(h.got) != 2*heartbeatEvery {
		t.Fatalf("%d deliveries", len(h.got))
	}
	hb := len(out) / wire.HeartbeatLen
	if len(out)%wire.HeartbeatLen != 0 || hb < 2 || !bytes.Equal(out[:8], wire.Heartbeat[:]) {
		t.Fatalf("amqp091 got %d bytes, want heartbeats only (at least 2)", len(out))
	}
}

// TestTapConsumerPending: an inline consumer's deliveries wait until
// start; a consumer that is not inline gets them through drain.
func TestTapConsumerPending(t *testing.T) {
	h := &inlineRecorder{}
	c := newTapConsumer("c", h)
	c.deliver(&Delivery{DeliveryTag: 1})
	c.deliver(&Delivery{DeliveryTag: 2})
	if len(h.got) != 0 {
		t.Fatal("delivered before start")
	}
	c.start()
	c.deliver(&Delivery{DeliveryTag: 3})
	if len(h.got) != 3 || h.got[0].DeliveryTag != 1 || h.got[2].DeliveryTag != 3 {
		t.Fatalf("got %v", h.got)
	}
	p := &recordingHandler{}
	pc := newTapConsumer("p", p)
	pc.deliver(&Delivery{DeliveryTag: 1})
	pc.start() // no-op: the pump drains
	if len(p.got) != 0 || len(pc.wake) != 1 {
		t.Fatal("a pumped consumer was called from the reader")
	}
	pc.drain()
	if len(p.got) != 1 {
		t.Fatal("drain")
	}
}

// TestParseContentHeaderErrors: malformed headers fail, never panic.
func TestParseContentHeaderErrors(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, // short
		{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0},                          // content-type missing
		{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0},                    // table length cut
		{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 3, 1, 'k', '?'}, // unknown type
	} {
		var p Properties
		if _, err := parseContentHeader(b, &p); err == nil {
			t.Errorf("%x: no error", b)
		}
	}
	// Nesting beyond 32 levels fails as in amqp091.
	var v any = "leaf"
	for i := 0; i < 40; i++ {
		v = amqp091.Table{"n": v}
	}
	tb := wire.AppendTable(nil, amqp091.Table{"n": v})
	var p Properties
	hdr := append([]byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0}, tb...)
	if _, err := parseContentHeader(hdr, &p); err == nil {
		t.Error("deep nesting accepted")
	}
}

// FuzzContentHeader: any content header payload decodes or fails, and what
// decodes re-encodes to the same properties.
func FuzzContentHeader(f *testing.F) {
	p := fullPublishing(nil)
	h, _ := validatePublishing("x", p)
	fs := appendPublish(nil, 1, 0, p, h)
	f.Add(fs[7+4+2+1+2+1+2+1+1+8:]) // roughly the header frame
	f.Add([]byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xfc})
	f.Fuzz(func(t *testing.T, b []byte) {
		var pr Properties
		_, _ = parseContentHeader(b, &pr)
	})
}
