package amqp

import (
	"fmt"
	"math"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// Table is an AMQP field table (headers, arguments, client properties).
//
// Values sent may be nil, bool, int8, int16, int32, int64, float64, string,
// []byte, time.Time, []any and Table (nested). For convenience int, uint8,
// uint16, uint32, uint64 (when it fits in int64), uint and float32 are
// accepted too: an int becomes the smallest signed type that holds it.
//
// Values received are normalised: integers of any width arrive as int64,
// floats and decimals as float64, byte arrays as []byte, timestamps as
// time.Time in UTC, arrays as []any and nested tables as Table.
type Table = map[string]any

// toAMQPTable converts t for amqp091-go, checking every key and value. A nil
// or empty table gives nil.
func toAMQPTable(t Table) (amqp091.Table, error) {
	if len(t) == 0 {
		return nil, nil
	}
	return toAMQPTableDepth(t, 0)
}

func toAMQPTableDepth(t Table, depth int) (amqp091.Table, error) {
	if depth > wire.MaxDepth {
		return nil, fmt.Errorf("table nested deeper than %d levels", wire.MaxDepth)
	}
	out := make(amqp091.Table, len(t))
	for k, v := range t {
		if len(k) > 255 {
			return nil, fmt.Errorf("table key %.20q... is longer than 255 bytes", k)
		}
		cv, err := toAMQPValue(v, depth)
		if err != nil {
			return nil, fmt.Errorf("table key %q: %w", k, err)
		}
		out[k] = cv
	}
	return out, nil
}

func toAMQPValue(v any, depth int) (any, error) {
	switch x := v.(type) {
	case nil, bool, int8, int16, int32, int64, float64, string:
		return x, nil
	case []byte:
		return x, nil
	case time.Time:
		return x, nil
	case int:
		return wire.SmallestInt(int64(x)), nil
	case uint8:
		return wire.SmallestInt(int64(x)), nil
	case uint16:
		return wire.SmallestInt(int64(x)), nil
	case uint32:
		return wire.SmallestInt(int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return wire.SmallestInt(int64(x)), nil
	case uint64:
		if x > math.MaxInt64 {
			return nil, fmt.Errorf("integer %d out of range", x)
		}
		return int64(x), nil
	case float32:
		return float64(x), nil
	case []any:
		if depth+1 > wire.MaxDepth {
			return nil, fmt.Errorf("array nested deeper than %d levels", wire.MaxDepth)
		}
		out := make([]any, len(x))
		for i, e := range x {
			ce, err := toAMQPValue(e, depth+1)
			if err != nil {
				return nil, fmt.Errorf("array index %d: %w", i, err)
			}
			out[i] = ce
		}
		return out, nil
	case Table:
		return toAMQPTableDepth(x, depth+1)
	default:
		return nil, fmt.Errorf("unsupported value type %T", v)
	}
}

// fromAMQPTable converts a table received from amqp091-go. It never fails:
// values of unknown types (which amqp091-go does not produce) become nil.
func fromAMQPTable(t amqp091.Table) Table {
	if t == nil {
		return nil
	}
	out := make(Table, len(t))
	for k, v := range t {
		out[k] = fromAMQPValue(v)
	}
	return out
}

func fromAMQPValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case bool, int64, float64, string:
		return x
	case int8:
		return int64(x)
	case uint8:
		return int64(x)
	case int16:
		return int64(x)
	case uint16:
		return int64(x)
	case int32:
		return int64(x)
	case uint32:
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case amqp091.Decimal:
		return float64(x.Value) / math.Pow10(int(x.Scale))
	case []byte:
		return x
	case time.Time:
		return x.UTC()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromAMQPValue(e)
		}
		return out
	case amqp091.Table:
		return fromAMQPTable(x)
	case map[string]any:
		return fromAMQPTable(x)
	}
	return nil
}
