/*
Package wire is amqpjs's AMQP 0-9-1 codec: frame layout and types, the
class and method ids, content-header property flags, and the field-table
encoding (with its limits). It holds no state and does no I/O beyond
reading one frame from a reader.

The session layer's frame tap, direct writes and delivery assembly
(package amqp), the benchmark's library-free client (package bench) and the
fake broker of the hot-path benchmarks (internal/fakebroker) all encode and
decode through it, so every constant of the protocol is written once, here.

Framing (spec section 2.3.5):

	0      1         3             7                  size+7 size+8
	+------+---------+-------------+  +------------+  +-----------+
	| type | channel |     size    |  |  payload   |  | frame-end |
	+------+---------+-------------+  +------------+  +-----------+

A method frame's payload starts with its class and method ids, which this
package writes as one uint32, class<<16 | method (the constants below).
*/
package wire

import (
	"encoding/binary"
	"errors"
	"io"
)

// Frame types and layout.
const (
	FrameMethod    = 1
	FrameHeader    = 2
	FrameBody      = 3
	FrameHeartbeat = 8
	FrameEnd       = 0xCE

	HeaderLen = 7 // type, channel, size
	Overhead  = 8 // HeaderLen + the frame-end octet

	// HeartbeatLen is the length of a heartbeat frame (empty payload).
	HeartbeatLen = Overhead
)

// ProtocolHeader is what a client writes before its first frame.
const ProtocolHeader = "AMQP\x00\x00\x09\x01"

// ClassBasic is the class id of basic, which content header frames carry.
const ClassBasic = 60

// Class and method ids, as class<<16 | method.
const (
	ConnectionStart   = 10<<16 | 10
	ConnectionStartOk = 10<<16 | 11
	ConnectionTune    = 10<<16 | 30
	ConnectionTuneOk  = 10<<16 | 31
	ConnectionOpen    = 10<<16 | 40
	ConnectionOpenOk  = 10<<16 | 41
	ConnectionClose   = 10<<16 | 50
	ConnectionCloseOk = 10<<16 | 51

	ChannelOpen    = 20<<16 | 10
	ChannelOpenOk  = 20<<16 | 11
	ChannelClose   = 20<<16 | 40
	ChannelCloseOk = 20<<16 | 41

	QueueDeclare   = 50<<16 | 10
	QueueDeclareOk = 50<<16 | 11

	BasicQos       = 60<<16 | 10
	BasicQosOk     = 60<<16 | 11
	BasicConsume   = 60<<16 | 20
	BasicConsumeOk = 60<<16 | 21
	BasicCancel    = 60<<16 | 30
	BasicCancelOk  = 60<<16 | 31
	BasicPublish   = 60<<16 | 40
	BasicReturn    = 60<<16 | 50
	BasicDeliver   = 60<<16 | 60
	BasicAck       = 60<<16 | 80
	BasicReject    = 60<<16 | 90
	BasicNack      = 60<<16 | 120

	ConfirmSelect   = 85<<16 | 10
	ConfirmSelectOk = 85<<16 | 11
)

// Content header property flags (class basic), in property-list order.
const (
	FlagContentType     = 0x8000
	FlagContentEncoding = 0x4000
	FlagHeaders         = 0x2000
	FlagDeliveryMode    = 0x1000
	FlagPriority        = 0x0800
	FlagCorrelationID   = 0x0400
	FlagReplyTo         = 0x0200
	FlagExpiration      = 0x0100
	FlagMessageID       = 0x0080
	FlagTimestamp       = 0x0040
	FlagType            = 0x0020
	FlagUserID          = 0x0010
	FlagAppID           = 0x0008
	FlagClusterID       = 0x0004
)

// ContentHeaderFixedLen is the part of a content header payload before its
// property list: class, weight, body size, property flags.
const ContentHeaderFixedLen = 14

// Heartbeat is a complete heartbeat frame.
var Heartbeat = [HeartbeatLen]byte{FrameHeartbeat, 0, 0, 0, 0, 0, 0, FrameEnd}

// StartFrame appends the header of a frame of type typ on channel ch with
// its size left 0; EndFrame, given len(b) from before StartFrame, fills in
// the size and appends the frame-end octet.
func StartFrame(b []byte, typ byte, ch uint16) []byte {
	return append(b, typ, byte(ch>>8), byte(ch), 0, 0, 0, 0)
}

// EndFrame completes the frame that StartFrame began at start.
func EndFrame(b []byte, start int) []byte {
	binary.BigEndian.PutUint32(b[start+3:], uint32(len(b)-start-HeaderLen))
	return append(b, FrameEnd)
}

// AppendFrame appends a complete frame with the given payload.
func AppendFrame(b []byte, typ byte, ch uint16, payload []byte) []byte {
	start := len(b)
	b = StartFrame(b, typ, ch)
	b = append(b, payload...)
	return EndFrame(b, start)
}

// AppendMethod appends a method frame: the id (class<<16 | method), then
// args, already encoded.
func AppendMethod(b []byte, ch uint16, id uint32, args []byte) []byte {
	start := len(b)
	b = StartFrame(b, FrameMethod, ch)
	b = binary.BigEndian.AppendUint32(b, id)
	b = append(b, args...)
	return EndFrame(b, start)
}

// AppendShortstr appends s as a shortstr; s must be at most 255 bytes.
func AppendShortstr(b []byte, s string) []byte {
	b = append(b, byte(len(s)))
	return append(b, s...)
}

// AppendLongstr appends s as a longstr.
func AppendLongstr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// Frame is a frame as read: its type, channel and payload (without the
// frame-end octet).
type Frame struct {
	Type    byte
	Channel uint16
	Payload []byte
}

// Method is a method frame's class<<16 | method, 0 for any other frame.
func (f Frame) Method() uint32 {
	if f.Type != FrameMethod || len(f.Payload) < 4 {
		return 0
	}
	return binary.BigEndian.Uint32(f.Payload)
}

// Args is a method frame's arguments (the payload after the ids).
func (f Frame) Args() []byte {
	if len(f.Payload) < 4 {
		return nil
	}
	return f.Payload[4:]
}

// ErrFrameEnd is a frame whose last octet is not FrameEnd.
var ErrFrameEnd = errors.New("wire: bad frame end")

// MaxReadFrame bounds the payload ReadFrame accepts (it allocates that
// much before reading it); ErrFrameSize reports a larger one.
const MaxReadFrame = 64 << 20

// ErrFrameSize is a frame larger than MaxReadFrame.
var ErrFrameSize = errors.New("wire: frame too large")

// ReadFrame reads one frame from r into buf (grown when too small) and
// returns it with the buffer to pass to the next call; the frame's payload
// is only valid until then.
func ReadFrame(r io.Reader, buf []byte) (Frame, []byte, error) {
	if cap(buf) < HeaderLen {
		buf = make([]byte, 4096)
	}
	buf = buf[:HeaderLen]
	if _, err := io.ReadFull(r, buf); err != nil {
		return Frame{}, buf, err
	}
	size := int(binary.BigEndian.Uint32(buf[3:HeaderLen]))
	if size > MaxReadFrame {
		return Frame{}, buf, ErrFrameSize
	}
	n := HeaderLen + size + 1
	if cap(buf) < n {
		nb := make([]byte, n)
		copy(nb, buf[:HeaderLen])
		buf = nb
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf[HeaderLen:]); err != nil {
		return Frame{}, buf, err
	}
	if buf[n-1] != FrameEnd {
		return Frame{}, buf, ErrFrameEnd
	}
	return Frame{Type: buf[0], Channel: binary.BigEndian.Uint16(buf[1:3]), Payload: buf[HeaderLen : n-1]}, buf, nil
}
