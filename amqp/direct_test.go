package amqp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// fullPublishing has every property set, and headers of every type.
func fullPublishing(body []byte) *Publishing {
	return &Publishing{
		Exchange: "ex", RoutingKey: "rk", Mandatory: true, Immediate: true, Body: body,
		Properties: Properties{
			ContentType: "text/plain", ContentEncoding: "gzip", DeliveryMode: 2, Priority: 7,
			CorrelationID: "corr", ReplyTo: "reply", Expiration: "60000", MessageID: "mid",
			Timestamp: time.Unix(1700000000, 0), Type: "type", UserID: "guest", AppID: "app",
			ClusterID: "dropped",
			Headers: Table{
				"s": "text", "b": true, "i8": int8(-8), "i16": int16(-1600), "i32": int32(-320000),
				"i64": int64(-1) << 40, "int": 5, "u8": uint8(200), "u16": uint16(60000),
				"u32": uint32(4000000000), "f32": float32(1.5), "f64": 2.25, "bytes": []byte{1, 2},
				"empty": []byte{}, "time": time.Unix(1600000000, 0), "nil": nil,
				"arr": []any{int8(1), "two", []any{}, Table{"x": false}},
				"tab": Table{"deep": Table{"deeper": "yes"}}, "emptytab": Table{},
			},
		},
	}
}

// received is what a delivery of fullPublishing carries: properties and
// headers normalised as fromAMQPDelivery does (ClusterID never arrives).
func received() Properties {
	p := fullPublishing(nil).Properties
	p.ClusterID = ""
	p.Timestamp = p.Timestamp.UTC()
	p.Headers = Table{
		"s": "text", "b": true, "i8": int64(-8), "i16": int64(-1600), "i32": int64(-320000),
		"i64": int64(-1) << 40, "int": int64(5), "u8": int64(200), "u16": int64(60000),
		"u32": int64(4000000000), "f32": 1.5, "f64": 2.25, "bytes": []byte{1, 2},
		"empty": []byte{}, "time": time.Unix(1600000000, 0).UTC(), "nil": nil,
		"arr": []any{int64(1), "two", []any{}, Table{"x": false}},
		"tab": Table{"deep": Table{"deeper": "yes"}}, "emptytab": Table{},
	}
	return p
}

type frame struct {
	typ     byte
	ch      uint16
	payload []byte
}

func splitFrames(t *testing.T, b []byte) []frame {
	t.Helper()
	var fs []frame
	for len(b) > 0 {
		if len(b) < 8 {
			t.Fatalf("truncated frame: %x", b)
		}
		n := int(binary.BigEndian.Uint32(b[3:7]))
		if len(b) < n+8 || b[n+7] != wire.FrameEnd {
			t.Fatalf("bad frame")
		}
		fs = append(fs, frame{b[0], binary.BigEndian.Uint16(b[1:3]), b[7 : 7+n]})
		b = b[n+8:]
	}
	return fs
}

// TestAppendPublish checks the frames of a publish: the method's
// arguments, a content header that decodes back to the properties, and the
// body split at frame_max − 8.
func TestAppendPublish(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 1000) // 10 000 bytes
	p := fullPublishing(body)
	headers, e := validatePublishing("basic_publish", p)
	if e != nil {
		t.Fatal(e)
	}
	fs := splitFrames(t, appendPublish(nil, 3, 4096, p, headers))
	if len(fs) != 2+3 {
		t.Fatalf("%d frames, want method, header and 3 body frames", len(fs))
	}
	for _, f := range fs {
		if f.ch != 3 {
			t.Fatalf("frame on channel %d", f.ch)
		}
	}
	wantArgs := []byte{0, 60, 0, 40, 0, 0, 2, 'e', 'x', 2, 'r', 'k', 3}
	if fs[0].typ != wire.FrameMethod || !bytes.Equal(fs[0].payload, wantArgs) {
		t.Fatalf("method frame %x, want %x", fs[0].payload, wantArgs)
	}
	var pr Properties
	size, err := parseContentHeader(fs[1].payload, &pr)
	if err != nil || size != uint64(len(body)) || fs[1].typ != wire.FrameHeader {
		t.Fatalf("header: size %d err %v", size, err)
	}
	if want := received(); !reflect.DeepEqual(pr, want) {
		t.Fatalf("properties\n got %#v\nwant %#v", pr, want)
	}
	var got []byte
	for i, f := range fs[2:] {
		if f.typ != wire.FrameBody || (i < 2 && len(f.payload) != 4096-8) {
			t.Fatalf("body frame %d: type %d, %d bytes", i, f.typ, len(f.payload))
		}
		got = append(got, f.payload...)
	}
	if !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
	// No properties, no body: flags 0 and no body frame.
	fs = splitFrames(t, appendPublish(nil, 1, 0, &Publishing{RoutingKey: "q"}, nil))
	if len(fs) != 2 || !bytes.Equal(fs[1].payload, []byte{0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("empty publish: %d frames, header %x", len(fs), fs[1].payload)
	}
	for i, f := range splitFrames(t, appendPublish(nil, 1, 4096, p, nil)) {
		if n := len(f.payload) + wire.Overhead; n > 4096 {
			t.Fatalf("frame %d: %d bytes, frame_max is 4096", i, n)
		}
	}
}

// TestAppendFieldMatchesAmqp091 compares the encoding of single values with
// what amqp091-go writes (through a Publishing's headers, read back from a
// real amqp091 connection to a pipe).
func TestAppendFieldMatchesAmqp091(t *testing.T) {
	values := []any{true, false, byte(3), int8(-3), int16(-300), int32(-70000), int64(-1) << 50,
		uint16(65000), uint32(4e9), float32(0.5), 0.25, amqp091.Decimal{Scale: 2, Value: 12345},
		"str", []byte("bytes"), time.Unix(1234567890, 0), nil, []any{int8(1), "x"},
		amqp091.Table{"k": int32(1)}}
	for _, v := range values {
		got := wire.AppendTable(nil, amqp091.Table{"k": v})
		want := amqp091Headers(t, amqp091.Table{"k": v})
		if !bytes.Equal(got, want) {
			t.Errorf("%T %v: got %x, amqp091 %x", v, v, got, want)
		}
	}
}

// amqp091Headers returns the encoded headers table that amqp091-go puts in
// the content header of a publish (a client connection to a scripted
// server over a pipe).
func amqp091Headers(t *testing.T, h amqp091.Table) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	done := make(chan []byte, 1)
	go func() {
		sc := &scriptedServer{rw: server, header: done}
		sc.run()
	}()
	conn, err := amqp091.Open(client, amqp091.Config{SASL: []amqp091.Authentication{&amqp091.PlainAuth{Username: "u", Password: "p"}}, Vhost: "/"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Publish("", "q", false, false, amqp091.Publishing{Headers: h}); err != nil {
		t.Fatal(err)
	}
	payload := <-done
	// class, weight, size, flags (0x2000), then the table.
	if len(payload) < 14 || binary.BigEndian.Uint16(payload[12:14]) != wire.FlagHeaders {
		t.Fatalf("unexpected content header %x", payload)
	}
	return payload[14:]
}

// scriptedServer answers an amqp091 client's handshake, channel.open and
// connection.close, and sends the payload of each content header it
// receives on header.
type scriptedServer struct {
	rw     io.ReadWriter
	header chan []byte
}

func (s *scriptedServer) run() {
	var hdr [8]byte
	if _, err := io.ReadFull(s.rw, hdr[:]); err != nil {
		return
	}
	start := wire.AppendLongstr([]byte{0, 9}, "")
	start = wire.AppendLongstr(wire.AppendLongstr(start, "PLAIN"), "en_US")
	s.rw.Write(wire.AppendMethod(nil, 0, wire.ConnectionStart, start))
	var buf []byte
	for {
		f, nb, err := wire.ReadFrame(s.rw, buf)
		buf = nb
		if err != nil {
			return
		}
		if f.Type == wire.FrameHeader {
			s.header <- append([]byte(nil), f.Payload...)
			continue
		}
		switch f.Method() {
		case wire.ConnectionStartOk:
			s.rw.Write(wire.AppendMethod(nil, 0, wire.ConnectionTune, tuneArgs(10, 131072, 0)))
		case wire.ConnectionOpen:
			s.rw.Write(wire.AppendMethod(nil, 0, wire.ConnectionOpenOk, []byte{0}))
		case wire.ChannelOpen:
			s.rw.Write(wire.AppendMethod(nil, 1, wire.ChannelOpenOk, wire.AppendLongstr(nil, "")))
		case wire.ConnectionClose:
			s.rw.Write(wire.AppendMethod(nil, 0, wire.ConnectionCloseOk, nil))
			return
		}
	}
}

// TestTapDirect: direct writes go into the buffer at frame boundaries only,
// a non-corked amqp091 write sends them first, and flushAsync writes them.
func TestTapDirect(t *testing.T) {
	conn := &chunkConn{}
	tp := newTap(conn, nil)
	tp.out.wskip = 0
	f1 := rawFrame(wire.FrameBody, 1, []byte("one"))
	if ok, n := tp.out.direct(func(b []byte) []byte { return append(b, f1...) }); !ok || n != len(f1) {
		t.Fatal("direct refused")
	}
	if conn.out.Len() != 0 {
		t.Fatal("direct wrote to the socket")
	}
	// amqp091 in the middle of a frame: refused.
	f2 := rawFrame(wire.FrameBody, 2, []byte("two"))
	tp.Write(f2[:4])
	if ok, _ := tp.out.direct(func(b []byte) []byte { return append(b, 'x') }); ok {
		t.Fatal("direct accepted mid-frame")
	}
	tp.Write(f2[4:])
	if !bytes.Equal(conn.out.Bytes(), append(append([]byte(nil), f1...), f2...)) {
		t.Fatalf("order: %x", conn.out.Bytes())
	}
	conn.out.Reset()
	tp.out.direct(func(b []byte) []byte { return append(b, f1...) })
	tp.out.flushAsync()
	if !bytes.Equal(conn.out.Bytes(), f1) || len(tp.out.wbuf) != 0 {
		t.Fatal("flushAsync")
	}
	// tryFlush needs a raw socket; without one it reports false.
	tp.out.direct(func(b []byte) []byte { return append(b, f1...) })
	if tp.out.tryFlush() {
		t.Fatal("tryFlush without a raw socket")
	}
	// Over directMax: refused.
	tp.out.wbuf = make([]byte, directMax)
	if ok, _ := tp.out.direct(func(b []byte) []byte { return b }); ok {
		t.Fatal("direct accepted past directMax")
	}
}

// ackFrames decodes the basic.ack/nack/reject frames in b: "ack 5" or
// "ack 5 multiple", "nack 3 multiple requeue", "reject 2 requeue".
func ackFrames(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for _, f := range splitFrames(t, b) {
		if f.typ != wire.FrameMethod || len(f.payload) != 13 {
			t.Fatalf("not an ack frame: %+v", f)
		}
		m := binary.BigEndian.Uint32(f.payload)
		s := map[uint32]string{wire.BasicAck: "ack", wire.BasicNack: "nack", wire.BasicReject: "reject"}[m]
		s += fmt.Sprintf(" %d", binary.BigEndian.Uint64(f.payload[4:]))
		bits := f.payload[12]
		if m == wire.BasicReject {
			if bits&1 != 0 {
				s += " requeue"
			}
		} else {
			if bits&1 != 0 {
				s += " multiple"
			}
			if bits&2 != 0 {
				s += " requeue"
			}
		}
		out = append(out, fmt.Sprintf("ch%d %s", f.ch, s))
	}
	return out
}

// TestDirectAckCoalescing: consecutive acks, each of the lowest tag not yet
// acked, leave as one multiple ack; anything else leaves as written.
func TestDirectAckCoalescing(t *testing.T) {
	type call struct {
		ch       uint16
		m        uint32
		tag      uint64
		bits     byte
		flush    bool // flushAsync before this call
		queued   bool // the executor wrote it (ackedQueued), not directAck
		otherOut bool // another frame enters the buffer before this call
		auto     bool // a delivery to a no_ack consumer arrives (autoSettled)
	}
	auto := func(tag uint64) call { return call{tag: tag, auto: true} }
	ack := func(tag uint64) call { return call{ch: 1, m: wire.BasicAck, tag: tag} }
	for _, tc := range []struct {
		name  string
		calls []call
		want  []string
	}{
		{"a run", []call{ack(1), ack(2), ack(3), ack(4)}, []string{"ch1 ack 4 multiple"}},
		{"first tag only", []call{ack(1)}, []string{"ch1 ack 1"}},
		{"a gap: tag 2 never acked", []call{ack(1), ack(3), ack(4)}, []string{"ch1 ack 1", "ch1 ack 3", "ch1 ack 4"}},
		{"out of order, then a run", []call{ack(2), ack(1), ack(3), ack(4)}, []string{"ch1 ack 2", "ch1 ack 4 multiple"}},
		{"a gap filled late", []call{ack(1), ack(3), ack(4), ack(2), ack(5), ack(6)},
			[]string{"ch1 ack 1", "ch1 ack 3", "ch1 ack 4", "ch1 ack 6 multiple"}},
		{"the first ack queued, the rest direct", []call{ack(2), ack(3), {ch: 1, m: wire.BasicAck, tag: 1, queued: true}, ack(4), ack(5)},
			[]string{"ch1 ack 2", "ch1 ack 3", "ch1 ack 5 multiple"}},
		{"a gap stays a gap", []call{ack(1), ack(3), ack(5), ack(2), ack(6)},
			[]string{"ch1 ack 1", "ch1 ack 3", "ch1 ack 5", "ch1 ack 2", "ch1 ack 6"}},
		{"beyond the window", []call{ack(2), ack(ackWindow + 2), ack(1), ack(3), ack(ackWindow + 3)},
			[]string{"ch1 ack 2", fmt.Sprintf("ch1 ack %d", ackWindow+2), "ch1 ack 3 multiple", fmt.Sprintf("ch1 ack %d", ackWindow+3)}},
		{"a multiple ack over remembered tags", []call{ack(3), ack(7), {ch: 1, m: wire.BasicAck, tag: 5, bits: 1}, ack(6), ack(8)},
			[]string{"ch1 ack 3", "ch1 ack 7", "ch1 ack 8 multiple"}},
		{"a flush ends the run", []call{ack(1), ack(2), {ch: 1, m: wire.BasicAck, tag: 3, flush: true}, ack(4)},
			[]string{"ch1 ack 2 multiple", "ch1 ack 4 multiple"}},
		{"another frame in between", []call{ack(1), ack(2), {ch: 1, m: wire.BasicAck, tag: 3, otherOut: true}, ack(4)},
			[]string{"ch1 ack 2 multiple", "ch1 ack 4 multiple"}},
		{"a nack is not merged, but counts", []call{ack(1), {ch: 1, m: wire.BasicNack, tag: 2, bits: 2}, ack(3), ack(4)},
			[]string{"ch1 ack 1", "ch1 nack 2 requeue", "ch1 ack 4 multiple"}},
		{"the script's multiple ack", []call{{ch: 1, m: wire.BasicAck, tag: 5, bits: 1}, ack(6), ack(7)},
			[]string{"ch1 ack 7 multiple"}},
		{"a reject's requeue bit is not multiple", []call{{ch: 1, m: wire.BasicReject, tag: 5, bits: 1}, ack(6)},
			[]string{"ch1 reject 5 requeue", "ch1 ack 6"}},
		{"a queued ack fills the gap", []call{ack(1), {ch: 1, m: wire.BasicAck, tag: 2, queued: true}, ack(3), ack(4)},
			[]string{"ch1 ack 1", "ch1 ack 4 multiple"}},
		{"no_ack deliveries first", []call{auto(1), auto(2), auto(3), ack(4), ack(5)}, []string{"ch1 ack 5 multiple"}},
		{"no_ack deliveries in between", []call{ack(1), auto(2), auto(3), ack(4), ack(5)}, []string{"ch1 ack 5 multiple"}},
		{"no_ack deliveries above a delivery not acked yet", []call{ack(1), auto(3), auto(4), ack(5), ack(2), ack(6)},
			[]string{"ch1 ack 1", "ch1 ack 5", "ch1 ack 6 multiple"}},
		{"no_ack deliveries then a gap", []call{auto(1), auto(2), ack(4), ack(3), ack(5)},
			[]string{"ch1 ack 4", "ch1 ack 5 multiple"}},
		{"a duplicate ack is written as is", []call{ack(1), ack(1), ack(2)}, []string{"ch1 ack 1", "ch1 ack 1", "ch1 ack 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn := &chunkConn{}
			tp := newTap(conn, nil)
			tp.out.wskip = 0
			var run ackRun
			for _, c := range tc.calls {
				if c.flush {
					tp.out.flushAsync()
				}
				if c.otherOut {
					tp.out.wmu.Lock()
					tp.out.wbuf = append(tp.out.wbuf, rawFrame(wire.FrameBody, 9, []byte("x"))...)
					tp.out.wmu.Unlock()
				}
				if c.auto {
					run.autoSettled(c.tag)
					continue
				}
				if c.queued {
					run.ackedQueued(c.tag, c.m != wire.BasicReject && c.bits&1 != 0)
					continue
				}
				if ok, _ := tp.out.directAck(c.ch, &run, c.m, c.tag, c.bits); !ok {
					t.Fatal("directAck refused")
				}
			}
			tp.out.flushAsync()
			got := ackFramesLoose(t, conn.out.Bytes())
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("frames:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// ackFramesLoose is ackFrames, skipping the body frames the test injects.
func ackFramesLoose(t *testing.T, b []byte) []string {
	t.Helper()
	var keep []byte
	for len(b) > 0 {
		n := int(binary.BigEndian.Uint32(b[3:7]))
		if b[0] == wire.FrameMethod {
			keep = append(keep, b[:n+8]...)
		}
		b = b[n+8:]
	}
	return ackFrames(t, keep)
}

// TestDirectAckCoalescingModel drives directAck with random scripts —
// deliveries to manual-ack and no_ack consumers, acks, nacks and rejects in
// any order, the script's own multiple acks, acks left to the executor,
// flushes, deliveries never acked — and plays the frames to a model of the
// broker: every ack must name a delivery still outstanding (else RabbitMQ
// closes the channel, "unknown delivery tag"), a multiple ack must settle
// only deliveries the script settled, and at the end exactly the deliveries
// the script never settled are outstanding.
func TestDirectAckCoalescingModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	var frames, acks int
	for iter := range 2000 {
		conn := &chunkConn{}
		tp := newTap(conn, nil)
		tp.out.wskip = 0
		var run ackRun
		var (
			next    uint64   = 1
			manual           = map[uint64]bool{} // delivered to a manual-ack consumer
			pending []uint64                     // manual deliveries the script has not settled
			settled = map[uint64]bool{}
			script  []string
		)
		n := 2 + rng.IntN(300)
		for len(pending) > 0 || next <= uint64(n) {
			switch r := rng.IntN(100); {
			case r < 35 && next <= uint64(n): // a delivery
				if rng.IntN(5) == 0 {
					run.autoSettled(next)
					script = append(script, fmt.Sprint("auto ", next))
				} else {
					manual[next] = true
					pending = append(pending, next)
				}
				next++
			case r < 37:
				tp.out.flushAsync()
				script = append(script, "flush")
			case rng.IntN(300) == 0 && len(pending) > 0: // never settled
				i := rng.IntN(len(pending))
				script = append(script, fmt.Sprint("leave ", pending[i]))
				pending = slices.Delete(pending, i, i+1)
			case len(pending) > 0:
				// Mostly the lowest pending, sometimes any.
				i := 0
				if rng.IntN(4) == 0 {
					i = rng.IntN(len(pending))
				}
				tag := pending[i]
				m, bits := uint32(wire.BasicAck), byte(0)
				switch k := rng.IntN(20); {
				case k == 0:
					m, bits = wire.BasicNack, 2
				case k == 1:
					m = wire.BasicReject
				case k == 2:
					bits = 1 // the script's multiple ack
				}
				if bits&1 != 0 {
					// It settles every pending delivery up to tag, also
					// those the script meant to leave: the model follows.
					var keep []uint64
					for _, p := range pending {
						if p <= tag {
							settled[p] = true
						} else {
							keep = append(keep, p)
						}
					}
					for tg := range manual {
						if tg <= tag {
							settled[tg] = true
						}
					}
					pending = keep
				} else {
					settled[tag] = true
					pending = slices.Delete(pending, i, i+1)
				}
				script = append(script, fmt.Sprintf("m%d %d bits %d", m&0xffff, tag, bits))
				if rng.IntN(6) == 0 { // the executor's path: raw.Ack through the tap
					f := []byte{wire.FrameMethod, 0, 1, 0, 0, 0, 13}
					f = binary.BigEndian.AppendUint32(f, m)
					f = binary.BigEndian.AppendUint64(f, tag)
					f = append(f, bits, wire.FrameEnd)
					if _, err := tp.Write(f); err != nil {
						t.Fatal(err)
					}
					run.ackedQueued(tag, m != wire.BasicReject && bits&1 != 0)
					continue
				}
				if ok, _ := tp.out.directAck(1, &run, m, tag, bits); !ok {
					t.Fatal("directAck refused")
				}
			}
		}
		tp.out.flushAsync()

		// The broker's side.
		outstanding := map[uint64]bool{}
		for tg := range manual {
			outstanding[tg] = true
		}
		fail := func(format string, a ...any) {
			t.Fatalf("run %d: "+format+"\nscript: %v", append([]any{iter}, append(a, script)...)...)
		}
		b := conn.out.Bytes()
		for len(b) > 0 {
			m := binary.BigEndian.Uint32(b[7:])
			tag := binary.BigEndian.Uint64(b[11:])
			multiple := m != wire.BasicReject && b[19]&1 != 0
			b = b[21:]
			if !outstanding[tag] {
				fail("ack of %d: unknown delivery tag", tag)
			}
			if !multiple {
				delete(outstanding, tag)
				continue
			}
			for tg := range outstanding {
				if tg <= tag {
					if !settled[tg] {
						fail("ack(%d, multiple) settles %d, which the script did not settle", tag, tg)
					}
					delete(outstanding, tg)
				}
			}
		}
		frames += len(conn.out.Bytes()) / ackFrameLen
		acks += len(settled)
		for tg := range manual {
			if outstanding[tg] == settled[tg] {
				fail("delivery %d: outstanding %v, settled by the script %v", tg, outstanding[tg], settled[tg])
			}
		}
	}
	// The scripts mostly ack the lowest delivery: coalescing must show
	// (it does not everywhere: queued acks, nacks, rejects, flushes and
	// acks out of order each start a new frame).
	if frames*10 > acks*9 {
		t.Errorf("%d frames for %d settled deliveries: coalescing did not happen", frames, acks)
	}
	t.Logf("%d frames for %d settled deliveries", frames, acks)
}
