package amqp

import (
	"encoding/binary"
	"maps"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

func TestToAMQPTable(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	tests := []struct {
		name string
		in   any
		want any // nil with wantErr
		err  string
	}{
		{"Nil", nil, nil, ""},
		{"Bool", true, true, ""},
		{"Int8", int8(-1), int8(-1), ""},
		{"Int16", int16(300), int16(300), ""},
		{"Int32", int32(-70000), int32(-70000), ""},
		{"Int64", int64(1) << 40, int64(1) << 40, ""},
		{"IntSmall", 4, int8(4), ""},
		{"IntMedium", 300, int16(300), ""},
		{"IntLarge", 2147483648, int64(2147483648), ""},
		{"IntNeg32", -2147483648, int32(-2147483648), ""},
		{"Uint8", uint8(200), int16(200), ""},
		{"Uint16", uint16(65535), int32(65535), ""},
		{"Uint32", uint32(math.MaxUint32), int64(math.MaxUint32), ""},
		{"Uint64", uint64(7), int64(7), ""},
		{"Uint64TooBig", uint64(math.MaxUint64), nil, "out of range"},
		{"Uint", uint(70000), int32(70000), ""},
		{"Float32", float32(1.5), float64(1.5), ""},
		{"Float64", 2.25, 2.25, ""},
		{"String", "s", "s", ""},
		{"Bytes", []byte{1, 2}, []byte{1, 2}, ""},
		{"Time", ts, ts, ""},
		{"Array", []any{1, "a", []any{true}}, []any{int8(1), "a", []any{true}}, ""},
		{"Nested", Table{"a": Table{"b": 1}}, amqp091.Table{"a": amqp091.Table{"b": int8(1)}}, ""},
		{"Func", func() {}, nil, "unsupported value type func()"},
		{"Struct", struct{}{}, nil, "unsupported value type struct {}"},
		{"AMQP091Table", amqp091.Table{}, nil, "unsupported value type amqp091.Table"},
		{"BadInArray", []any{1, make(chan int)}, nil, "array index 1: unsupported value type chan int"},
		{"BadNested", Table{"k": Table{"x": complex(1, 1)}}, nil, `table key "x": unsupported value type complex128`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := toAMQPTable(Table{"v": tc.in})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), `"v"`) {
					t.Fatalf("err %v, want one containing %q and naming the key", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got["v"], tc.want) {
				t.Errorf("got %#v, want %#v", got["v"], tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("amqp091 rejects the result: %v", err)
			}
		})
	}
}

func TestToAMQPTableLimits(t *testing.T) {
	if got, err := toAMQPTable(nil); got != nil || err != nil {
		t.Errorf("nil: %v %v", got, err)
	}
	if got, err := toAMQPTable(Table{}); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	if _, err := toAMQPTable(Table{strings.Repeat("k", 255): 1}); err != nil {
		t.Errorf("255-byte key: %v", err)
	}
	if _, err := toAMQPTable(Table{strings.Repeat("k", 256): 1}); err == nil {
		t.Error("256-byte key accepted")
	}
	deep := Table{}
	cur := deep
	for i := 0; i < 40; i++ {
		next := Table{}
		cur["n"] = next
		cur = next
	}
	if _, err := toAMQPTable(deep); err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Errorf("40 levels: %v", err)
	}
	arr := []any{}
	for i := 0; i < 40; i++ {
		arr = []any{arr}
	}
	if _, err := toAMQPTable(Table{"a": arr}); err == nil {
		t.Error("40 nested arrays accepted")
	}
}

func TestFromAMQPTable(t *testing.T) {
	local := time.Date(2024, 5, 6, 7, 8, 9, 0, time.FixedZone("X", 3600))
	in := amqp091.Table{
		"b": true, "B": byte(200), "i8": int8(-8), "i16": int16(-16), "u16": uint16(16), "i32": int32(-32),
		"u32": uint32(32), "i64": int64(-64), "int": 7, "f32": float32(0.5), "f64": 0.25,
		"dec": amqp091.Decimal{Scale: 2, Value: 12345}, "s": "str", "x": []byte("xx"), "t": local, "v": nil,
		"a":   []any{int8(1), amqp091.Table{"k": int16(2)}},
		"tab": amqp091.Table{"inner": amqp091.Table{"deep": uint32(3)}},
		"odd": struct{}{},
	}
	want := Table{
		"b": true, "B": int64(200), "i8": int64(-8), "i16": int64(-16), "u16": int64(16), "i32": int64(-32),
		"u32": int64(32), "i64": int64(-64), "int": int64(7), "f32": 0.5, "f64": 0.25,
		"dec": 123.45, "s": "str", "x": []byte("xx"), "t": local.UTC(), "v": nil,
		"a":   []any{int64(1), Table{"k": int64(2)}},
		"tab": Table{"inner": Table{"deep": int64(3)}},
		"odd": nil,
	}
	got := fromAMQPTable(in)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %#v\nwant %#v", got, want)
	}
	if got["t"].(time.Time).Location() != time.UTC {
		t.Error("time not in UTC")
	}
	if fromAMQPTable(nil) != nil {
		t.Error("nil table")
	}
}

// genValue builds a value from fuzz input: a tiny program, one opcode byte
// per value.
func genValue(b *[]byte, depth int) any {
	next := func(n int) []byte {
		if len(*b) < n {
			r := append([]byte(nil), *b...)
			*b = nil
			return append(r, make([]byte, n-len(r))...)
		}
		r := (*b)[:n]
		*b = (*b)[n:]
		return r
	}
	op := next(1)[0]
	switch op % 15 {
	case 0:
		return nil
	case 1:
		return op&0x80 != 0
	case 2:
		return int8(next(1)[0])
	case 3:
		return int16(binary.BigEndian.Uint16(next(2)))
	case 4:
		return int32(binary.BigEndian.Uint32(next(4)))
	case 5:
		return int64(binary.BigEndian.Uint64(next(8)))
	case 6:
		return math.Float64frombits(binary.BigEndian.Uint64(next(8)))
	case 7:
		return string(next(int(next(1)[0])))
	case 8:
		return append([]byte{}, next(int(next(1)[0]))...)
	case 9:
		return time.Unix(int64(int32(binary.BigEndian.Uint32(next(4)))), 0)
	case 10:
		n := int(next(1)[0] % 8)
		arr := make([]any, 0, n)
		for i := 0; i < n && depth < 40; i++ {
			arr = append(arr, genValue(b, depth+1))
		}
		return arr
	case 11:
		n := int(next(1)[0] % 8)
		t := Table{}
		for i := 0; i < n && depth < 40; i++ {
			kl := int(next(1)[0])
			if kl == 255 {
				kl = 300 // too long
			}
			t[string(next(kl))] = genValue(b, depth+1)
		}
		return t
	case 12:
		return int(int64(binary.BigEndian.Uint64(next(8))))
	case 13:
		return uint32(binary.BigEndian.Uint32(next(4)))
	default:
		return struct{ x int }{int(op)}
	}
}

// equalNaN is reflect.DeepEqual where NaN equals NaN.
func equalNaN(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case []any:
		y, ok := b.([]any)
		return ok && slices.EqualFunc(x, y, equalNaN)
	case Table:
		y, ok := b.(Table)
		return ok && maps.EqualFunc(x, y, equalNaN)
	}
	return reflect.DeepEqual(a, b)
}

// FuzzTable converts arbitrary tables to amqp091 and back. It must never
// panic; a table that converts must pass amqp091's validation and come back
// as its normalised self.
func FuzzTable(f *testing.F) {
	f.Add([]byte{11, 3, 1, 'a', 2, 5, 1, 'b', 7, 2, 'h', 'i', 1, 'c', 10, 2, 4, 0, 0, 1, 0, 9, 0, 0, 0, 1})
	f.Add([]byte{11, 1, 255, 1})
	f.Add([]byte{11, 1, 1, 'x', 14})
	f.Fuzz(func(t *testing.T, data []byte) {
		in, isTable := genValue(&data, 0).(Table)
		if !isTable {
			in = Table{"v": in}
		}
		out, err := toAMQPTable(in)
		if err != nil {
			return
		}
		if err := out.Validate(); err != nil {
			t.Fatalf("amqp091 rejects %#v: %v", out, err)
		}
		back := fromAMQPTable(out)
		want := testutil.Received(in).(Table)
		if len(in) == 0 {
			want = nil
		}
		if !equalNaN(Table(back), want) && !(len(back) == 0 && len(want) == 0) {
			t.Fatalf("round trip\n got %#v\nwant %#v", back, want)
		}
		// Received values of any type never panic either.
		_ = fromAMQPValue(in)
	})
}
