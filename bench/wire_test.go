package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// The wire client's confirm bookkeeping: multiple acks cover every tag
// below them, single acks one, repeats count once.
func TestWireConfirm(t *testing.T) {
	w := &wireClient{marks: make([]bool, 11)}
	steps := []struct {
		tag      uint64
		multiple bool
		want     int64
	}{
		{3, true, 3}, {5, false, 4}, {4, false, 5}, {5, false, 5}, {8, true, 8}, {2, true, 8}, {10, false, 9}, {9, true, 10}, {11, true, 10},
	}
	for _, s := range steps {
		w.confirm(s.tag, s.multiple)
		if got := w.confirmed.Load(); got != s.want {
			t.Fatalf("after ack(%d, multiple=%v): %d confirmed, want %d", s.tag, s.multiple, got, s.want)
		}
	}
}

// The frames the wire client writes read back as what it meant.
func TestWireFrames(t *testing.T) {
	w := &wireClient{frameMax: 4096}
	body := bytes.Repeat([]byte("b"), 10000) // three body frames
	b := w.publishFrames(nil, 2, "q1", body, 2)
	r := bufio.NewReader(bytes.NewReader(b))
	var got []byte
	var buf []byte
	for i := 0; ; i++ {
		f, nb, err := wire.ReadFrame(r, buf)
		buf = nb
		if err != nil {
			break
		}
		if f.Channel != 2 {
			t.Fatalf("frame %d on channel %d", i, f.Channel)
		}
		switch i % 5 {
		case 0:
			if f.Method() != wire.BasicPublish || string(f.Payload[4:]) != "\x00\x00\x00\x02q1\x00" {
				t.Fatalf("frame %d: %x", i, f.Payload)
			}
		case 1:
			if f.Type != wire.FrameHeader || len(f.Payload) != 14 || binary.BigEndian.Uint64(f.Payload[4:12]) != 10000 {
				t.Fatalf("header %d: %x", i, f.Payload)
			}
		default:
			if f.Type != wire.FrameBody || len(f.Payload) > 4096-8 {
				t.Fatalf("body %d: type %d, %d bytes", i, f.Type, len(f.Payload))
			}
			got = append(got, f.Payload...)
		}
	}
	if !bytes.Equal(got, append(body, body...)) {
		t.Fatalf("bodies: %d bytes", len(got))
	}
}
