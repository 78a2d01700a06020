package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"reflect"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// TestAppendMethod checks the frame layout against bytes written out by
// hand from the spec (basic.ack, tag 7, multiple).
func TestAppendMethod(t *testing.T) {
	args := []byte{0, 0, 0, 0, 0, 0, 0, 7, 1}
	got := AppendMethod([]byte{0xAA}, 3, BasicAck, args)
	want := []byte{0xAA, 1, 0, 3, 0, 0, 0, 13, 0, 60, 0, 80, 0, 0, 0, 0, 0, 0, 0, 7, 1, 0xCE}
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %x\nwant %x", got, want)
	}
	f, _, err := ReadFrame(bytes.NewReader(got[1:]), nil)
	if err != nil || f.Type != FrameMethod || f.Channel != 3 || f.Method() != BasicAck || !bytes.Equal(f.Args(), args) {
		t.Fatalf("read back %+v %v", f, err)
	}
}

func TestHeartbeatFrame(t *testing.T) {
	if got := AppendFrame(nil, FrameHeartbeat, 0, nil); !bytes.Equal(got, Heartbeat[:]) {
		t.Fatalf("heartbeat %x, AppendFrame gives %x", Heartbeat, got)
	}
}

func TestReadFrameErrors(t *testing.T) {
	good := AppendMethod(nil, 1, ChannelOpen, []byte{0})
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] = 0
	if _, _, err := ReadFrame(bytes.NewReader(bad), nil); !errors.Is(err, ErrFrameEnd) {
		t.Errorf("bad frame end: %v", err)
	}
	if _, _, err := ReadFrame(bytes.NewReader(good[:len(good)-1]), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short frame: %v", err)
	}
	huge := []byte{FrameBody, 0, 1, 0xff, 0xff, 0xff, 0xff}
	if _, _, err := ReadFrame(bytes.NewReader(huge), nil); !errors.Is(err, ErrFrameSize) {
		t.Errorf("huge frame: %v", err)
	}
	if f := (Frame{Type: FrameBody, Payload: []byte{0, 60, 0, 40}}); f.Method() != 0 {
		t.Errorf("a body frame has method %#x", f.Method())
	}
}

func TestSmallestInt(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want any
	}{
		{0, int8(0)}, {127, int8(127)}, {-128, int8(-128)}, {128, int16(128)}, {-129, int16(-129)},
		{32767, int16(32767)}, {32768, int32(32768)}, {math.MinInt32, int32(math.MinInt32)},
		{math.MaxInt32 + 1, int64(math.MaxInt32 + 1)}, {math.MinInt64, int64(math.MinInt64)},
	} {
		if got := SmallestInt(c.n); got != c.want {
			t.Errorf("SmallestInt(%d) = %T %v, want %T %v", c.n, got, got, c.want, c.want)
		}
	}
}

// TestTableRoundTrip encodes every type AppendField writes and reads it
// back normalised.
func TestTableRoundTrip(t *testing.T) {
	ts := time.Unix(1700000000, 0)
	in := amqp091.Table{
		"bool": true, "u8": byte(200), "i8": int8(-5), "i16": int16(-300), "int": 70000, "i32": int32(-70000),
		"i64": int64(1) << 40, "u16": uint16(65535), "u32": uint32(1) << 31, "f32": float32(1.5), "f64": 2.25,
		"dec": amqp091.Decimal{Scale: 2, Value: 12345}, "str": "héllo", "bytes": []byte{0, 1, 2},
		"ts": ts, "void": nil, "arr": []any{int8(1), "x", []any{}},
		"nested": amqp091.Table{"k": map[string]any{"deep": false}}, "unknown": struct{}{},
	}
	want := map[string]any{
		"bool": true, "u8": int64(200), "i8": int64(-5), "i16": int64(-300), "int": int64(70000), "i32": int64(-70000),
		"i64": int64(1) << 40, "u16": int64(65535), "u32": int64(1) << 31, "f32": 1.5, "f64": 2.25,
		"dec": 123.45, "str": "héllo", "bytes": []byte{0, 1, 2},
		"ts": ts.UTC(), "void": nil, "arr": []any{int64(1), "x", []any{}},
		"nested": map[string]any{"k": map[string]any{"deep": false}}, "unknown": nil,
	}
	r := Reader{B: AppendTable(nil, in)}
	got := r.Table(0)
	if r.Err != nil || len(r.B) != 0 {
		t.Fatalf("err %v, %d bytes left", r.Err, len(r.B))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
}

// nest returns a table nested depth levels deep (depth 0: one level).
func nest(depth int) []byte {
	inner := AppendTable(nil, map[string]any{})
	for range depth {
		v := append([]byte{'F'}, inner...)
		inner = binary.BigEndian.AppendUint32(nil, uint32(1+1+len(v)))
		inner = append(inner, 1, 'k')
		inner = append(inner, v...)
	}
	return inner
}

func TestTableLimits(t *testing.T) {
	r := Reader{B: nest(MaxDepth)}
	if r.Table(0); r.Err != nil {
		t.Errorf("depth %d: %v", MaxDepth, r.Err)
	}
	r = Reader{B: nest(MaxDepth + 1)}
	if r.Table(0); r.Err != ErrSyntax {
		t.Errorf("depth %d: %v, want ErrSyntax", MaxDepth+1, r.Err)
	}
	arr := make([]any, MaxElements+1)
	b := AppendField(nil, arr)
	r = Reader{B: b[1:]}
	if r.Array(0); r.Err != ErrSyntax {
		t.Errorf("%d elements: %v, want ErrSyntax", len(arr), r.Err)
	}
	r = Reader{B: AppendField(nil, arr[:MaxElements])[1:]}
	if a := r.Array(0); r.Err != nil || len(a) != MaxElements {
		t.Errorf("%d elements: %d, %v", MaxElements, len(a), r.Err)
	}
	for _, bad := range [][]byte{
		{0, 0, 0, 3, 1, 'k', '?'},       // unknown type
		{0, 0, 0, 9, 1, 'k', 'S', 0xff}, // string longer than the table
		{0, 0, 0, 7, 1, 'k', 'x', 0x80, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff}, // table length past MaxInt32
	} {
		r := Reader{B: bad}
		if r.Table(0); r.Err != ErrSyntax {
			t.Errorf("%x: %v, want ErrSyntax", bad, r.Err)
		}
		if r.U8() != 0 || r.Shortstr() != "" {
			t.Errorf("%x: values after an error", bad)
		}
	}
}
