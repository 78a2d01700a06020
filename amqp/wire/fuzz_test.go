package wire

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
	"time"
)

// FuzzTable decodes arbitrary bytes as a field table. Decoding must never
// panic; a table that decodes must encode to bytes that decode to the same
// values (decoding normalises, so one round makes a fixed point).
func FuzzTable(f *testing.F) {
	f.Add(AppendTable(nil, map[string]any{"a": int8(1), "s": "x", "t": time.Unix(5, 0)}))
	f.Add(AppendTable(nil, map[string]any{"arr": []any{1.5, nil, true, []byte("b")}, "n": map[string]any{"x": int64(-1)}}))
	f.Add(nest(MaxDepth))
	f.Add(nest(MaxDepth + 1))
	f.Add([]byte{0, 0, 0, 6, 1, 'k', 'D', 2, 0, 0})
	f.Add([]byte{0, 0, 0, 3, 1, 'k', '?'})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := Reader{B: b}
		v := r.Table(0)
		if r.Err != nil {
			if r.Err != ErrSyntax || v != nil {
				t.Fatalf("error %v with value %v", r.Err, v)
			}
			return
		}
		r2 := Reader{B: AppendTable(nil, v)}
		v2 := r2.Table(0)
		if r2.Err != nil || len(r2.B) != 0 {
			t.Fatalf("re-encoded table: %v, %d bytes left", r2.Err, len(r2.B))
		}
		if !sameValue(v, v2) {
			t.Fatalf("round trip changed the table\n got %#v\nwant %#v", v2, v)
		}
	})
}

// sameValue compares decoded values (NaN equal to NaN, bit for bit).
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !sameValue(v, w) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	}
	return a == b
}

// FuzzReadFrame reads frames from arbitrary bytes. It must never panic,
// and every frame it returns must encode back to the bytes it was read
// from.
func FuzzReadFrame(f *testing.F) {
	f.Add(AppendMethod(nil, 1, BasicAck, []byte{0, 0, 0, 0, 0, 0, 0, 1, 0}))
	f.Add(append(Heartbeat[:], AppendFrame(nil, FrameBody, 2, []byte("body"))...))
	f.Add([]byte{FrameBody, 0, 1, 0, 0, 0, 2, 'x'})
	f.Add([]byte{FrameBody, 0, 1, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		rd := bytes.NewReader(b)
		var buf []byte
		at := 0
		for {
			fr, nb, err := ReadFrame(rd, buf)
			buf = nb
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) &&
					!errors.Is(err, ErrFrameEnd) && !errors.Is(err, ErrFrameSize) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			enc := AppendFrame(nil, fr.Type, fr.Channel, fr.Payload)
			if !bytes.Equal(enc, b[at:at+len(enc)]) {
				t.Fatalf("frame at %d re-encodes as %x", at, enc)
			}
			at += len(enc)
		}
	})
}
