package amqp

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// TestTapServerClose: the tap remembers the broker's connection.close (code
// and text, whatever the read chunking), passes the frame on untouched, and
// ignores a close on another channel or a close-ok.
func TestTapServerClose(t *testing.T) {
	text := "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
	args := binary.BigEndian.AppendUint16(nil, 320)
	args = append(args, byte(len(text)))
	args = append(args, text...)
	args = binary.BigEndian.AppendUint16(args, 0) // class-id
	args = binary.BigEndian.AppendUint16(args, 0) // method-id
	closeFrame := mframe(0, wire.ConnectionClose, args...)
	for _, tc := range []struct {
		name   string
		in     []byte
		chunks []int
		want   bool
	}{
		{"whole", closeFrame, nil, true},
		{"byte by byte", closeFrame, []int{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, true},
		{"after a heartbeat", append(rawFrame(wire.FrameHeartbeat, 0, nil), closeFrame...), []int{5, 9}, true},
		{"channel 1", mframe(1, wire.ConnectionClose, args...), nil, false},
		{"close-ok", mframe(0, wire.ConnectionClose+1), nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &chunkConn{in: append([]byte(nil), tc.in...), chunks: tc.chunks}
			tp := newTap(c, nil)
			got, err := io.ReadAll(tp)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.in) {
				t.Fatalf("the stream was changed")
			}
			sc := tp.serverClosed()
			if !tc.want {
				if sc != nil {
					t.Fatalf("serverClosed() = %v, want nil", sc)
				}
				return
			}
			if sc == nil || sc.Code != 320 || sc.Reason != text || !sc.Server {
				t.Fatalf("serverClosed() = %#v", sc)
			}
			if e := classify(opChannel, sc); e.Kind != KindChannelClosed || e.Code != 320 {
				t.Errorf("classified as %v", e)
			}
		})
	}
}
