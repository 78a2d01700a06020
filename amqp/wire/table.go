package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Field-table limits, amqp091-go's: a table or array nested deeper than
// MaxDepth levels, or one of more than MaxElements entries, is refused
// (amqp091-go refuses to read them, so nothing deeper is ever sent either).
const (
	MaxDepth    = 32
	MaxElements = 8192
)

// ErrSyntax is malformed content from the broker: a field or table that
// does not parse. It ends the connection.
var ErrSyntax = errors.New("amqp: malformed content from the broker")

// SmallestInt returns n as the smallest signed integer type that holds it
// (int8, int16, int32 or int64), as a field table carries integers.
func SmallestInt(n int64) any {
	switch {
	case n >= math.MinInt8 && n <= math.MaxInt8:
		return int8(n)
	case n >= math.MinInt16 && n <= math.MaxInt16:
		return int16(n)
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return int32(n)
	}
	return n
}

// AppendTable appends t as a field table (a longstr of name/value pairs),
// in map order as amqp091-go does. Keys must be at most 255 bytes.
func AppendTable(b []byte, t map[string]any) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	for k, v := range t {
		b = AppendShortstr(b, k)
		b = AppendField(b, v)
	}
	binary.BigEndian.PutUint32(b[at:], uint32(len(b)-at-4))
	return b
}

// AppendField appends one typed value as amqp091-go's writeField does.
// Nested tables may be amqp091.Table or map[string]any; values of other
// types are written as void.
func AppendField(b []byte, value any) []byte {
	switch v := value.(type) {
	case bool:
		if v {
			return append(b, 't', 1)
		}
		return append(b, 't', 0)
	case byte:
		return append(b, 'B', v)
	case int8:
		return append(b, 'b', byte(v))
	case int16:
		return binary.BigEndian.AppendUint16(append(b, 's'), uint16(v))
	case int:
		return binary.BigEndian.AppendUint32(append(b, 'I'), uint32(v))
	case int32:
		return binary.BigEndian.AppendUint32(append(b, 'I'), uint32(v))
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'l'), uint64(v))
	case uint16:
		return binary.BigEndian.AppendUint16(append(b, 'u'), v)
	case uint32:
		return binary.BigEndian.AppendUint32(append(b, 'i'), v)
	case float32:
		return binary.BigEndian.AppendUint32(append(b, 'f'), math.Float32bits(v))
	case float64:
		return binary.BigEndian.AppendUint64(append(b, 'd'), math.Float64bits(v))
	case amqp091.Decimal:
		return binary.BigEndian.AppendUint32(append(b, 'D', v.Scale), uint32(v.Value))
	case string:
		b = binary.BigEndian.AppendUint32(append(b, 'S'), uint32(len(v)))
		return append(b, v...)
	case []any:
		at := len(b)
		b = append(b, 'A', 0, 0, 0, 0)
		for _, e := range v {
			b = AppendField(b, e)
		}
		binary.BigEndian.PutUint32(b[at+1:], uint32(len(b)-at-5))
		return b
	case time.Time:
		return binary.BigEndian.AppendUint64(append(b, 'T'), uint64(v.Unix()))
	case amqp091.Table:
		return AppendTable(append(b, 'F'), v)
	case map[string]any:
		return AppendTable(append(b, 'F'), v)
	case []byte:
		b = binary.BigEndian.AppendUint32(append(b, 'x'), uint32(len(v)))
		return append(b, v...)
	}
	return append(b, 'V')
}

// Reader decodes AMQP fields from B. The first error sticks (Err, always
// ErrSyntax) and zero values are returned from then on.
type Reader struct {
	B   []byte
	Err error
}

// Take returns the next n bytes (capacity n: appending copies).
func (r *Reader) Take(n int) []byte {
	if r.Err != nil || n < 0 || len(r.B) < n {
		r.Err = ErrSyntax
		r.B = nil
		return nil
	}
	v := r.B[:n:n]
	r.B = r.B[n:]
	return v
}

// U8 reads an octet.
func (r *Reader) U8() byte {
	if v := r.Take(1); v != nil {
		return v[0]
	}
	return 0
}

// U16 reads a big-endian short.
func (r *Reader) U16() uint16 {
	if v := r.Take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

// U32 reads a big-endian long.
func (r *Reader) U32() uint32 {
	if v := r.Take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// U64 reads a big-endian long long.
func (r *Reader) U64() uint64 {
	if v := r.Take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

// Shortstr reads a shortstr.
func (r *Reader) Shortstr() string { return string(r.Take(int(r.U8()))) }

// container reads the length of a table or array at depth and returns a
// reader of its bytes; false (Err set) when it is too deep or too long.
func (r *Reader) container(depth int) (Reader, bool) {
	if depth > MaxDepth {
		r.Err = ErrSyntax
		return Reader{}, false
	}
	n := r.U32()
	if n > math.MaxInt32 {
		r.Err = ErrSyntax
		return Reader{}, false
	}
	sub := Reader{B: r.Take(int(n))}
	return sub, r.Err == nil
}

// Table reads a field table at depth (0 for a top-level one), its values
// normalised: integers of any width as int64, floats and decimals as
// float64, byte arrays as []byte (copied), timestamps as time.Time in UTC,
// arrays as []any, nested tables as map[string]any, void as nil.
func (r *Reader) Table(depth int) map[string]any {
	sub, ok := r.container(depth)
	if !ok {
		return nil
	}
	t := map[string]any{}
	for len(sub.B) > 0 && sub.Err == nil {
		k := sub.Shortstr()
		v := sub.Field(depth)
		if sub.Err != nil {
			break
		}
		if len(t) >= MaxElements {
			sub.Err = ErrSyntax
			break
		}
		t[k] = v
	}
	if sub.Err != nil {
		r.Err = sub.Err
		return nil
	}
	return t
}

// Array reads a field array at depth.
func (r *Reader) Array(depth int) []any {
	sub, ok := r.container(depth)
	if !ok {
		return nil
	}
	a := []any{}
	for len(sub.B) > 0 && sub.Err == nil {
		v := sub.Field(depth)
		if sub.Err != nil {
			break
		}
		if len(a) >= MaxElements {
			sub.Err = ErrSyntax
			break
		}
		a = append(a, v)
	}
	if sub.Err != nil {
		r.Err = sub.Err
		return nil
	}
	return a
}

// Field reads one typed value of a table or array at depth, normalised as
// Table says.
func (r *Reader) Field(depth int) any {
	switch r.U8() {
	case 't':
		return r.U8() != 0
	case 'B':
		return int64(r.U8())
	case 'b':
		return int64(int8(r.U8()))
	case 's':
		return int64(int16(r.U16()))
	case 'I':
		return int64(int32(r.U32()))
	case 'l':
		return int64(r.U64())
	case 'u':
		return int64(r.U16())
	case 'i':
		return int64(r.U32())
	case 'f':
		return float64(math.Float32frombits(r.U32()))
	case 'd':
		return math.Float64frombits(r.U64())
	case 'D':
		scale := r.U8()
		v := int32(r.U32())
		return float64(v) / math.Pow10(int(scale))
	case 'S':
		n := r.U32()
		if n > math.MaxInt32 {
			r.Err = ErrSyntax
			return nil
		}
		return string(r.Take(int(n)))
	case 'A':
		return r.Array(depth + 1)
	case 'T':
		return time.Unix(int64(r.U64()), 0).UTC()
	case 'F':
		return r.Table(depth + 1)
	case 'x':
		n := int32(r.U32())
		if n < 0 {
			r.Err = ErrSyntax
			return nil
		}
		v := r.Take(int(n))
		if v == nil {
			return nil
		}
		return append([]byte{}, v...)
	case 'V':
		return nil
	}
	r.Err = ErrSyntax
	return nil
}
