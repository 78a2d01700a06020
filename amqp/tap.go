package amqp

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"syscall"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// tapChan is the tap's per-channel state, registered by Channel.Confirm.
type tapChan struct {
	ring *confirmRing
	// selects counts injected confirm.select frames whose select-ok has
	// not arrived yet; while positive, a select-ok on the channel is
	// consumed by the tap (amqp091-go never asked for it and would choke).
	selects  atomic.Int32
	selectOK chan struct{} // a token per consumed select-ok (cap 1)
	// deliv is the channel's consumers whose deliveries the tap
	// assembles (see deliver.go); nil before the channel's first Consume.
	deliv atomic.Pointer[tapDeliveries]
}

/*
tap is the frame-level tap between amqp091-go and the socket. amqp091.Open is
given a *tap instead of the net.Conn, so every byte in both directions passes
through it. It exists so that publisher confirms cost O(1) per ack: we never
call amqp091's Channel.Confirm (whose ConfirmMultiple scans a map of every
outstanding DeferredConfirmation on each multiple ack). amqp091's
Channel.dispatch drops basic.ack/basic.nack while its own confirm mode is off,
so the tap can own confirms.

It has two halves, each owning its state: the read side (tapReader,
tap_read.go and deliver.go) and the write side (tapWriter, tap_write.go and
direct.go). They share only the channel table (tapChans) and the socket.

Write side (called by amqp091's bufio.Writer under its sendM lock, and by
inject). The outgoing stream is parsed into frames across Write calls (a frame
may be split anywhere: bufio flushes when full). inject queues a complete frame
(confirm.select, nowait=false) and writes it at the next frame boundary of the
stream: at once when the stream is between frames, else just after the
current frame's last byte arrives. Channel.Confirm injects from the channel's
executor, so the select precedes every later publish of that channel. The
write side also rewrites a client channel.close (amqp091 always sends code 200
with an empty text) into the code and text the script asked for, when that
frame lies whole inside one Write, and notes when connection.close has been
written (for Conn.Close with noWait).

Corking: while a channel's executor writes a run of publishes and acks, it
corks the tap (cork/uncork): what amqp091 writes meanwhile accumulates in
wbuf (up to corkLimit) and leaves in one socket write at uncork, instead of
one write per message. Order is kept because everything, injections included,
goes through the same buffer. A method frame on channel 0 (connection.close,
close-ok, ...) flushes the buffer at once, and so does every uncork; a cork
lasts one executor batch, which never waits for the broker, so nothing stays
buffered while somebody waits for a reply.

Read side (called only by amqp091's reader goroutine, through its
bufio.Reader). The tap reads the socket in 64 KiB chunks and hands bytes on
frame by frame. Header, body and heartbeat frames pass through untouched; the
tail of a large body frame is read straight into the caller's buffer, so big
bodies are not copied twice. Method frames are looked into (class and method
only, unless they matter):
  - connection.tune on channel 0 is rewritten in place (channel_max,
    frame_max, heartbeat) to implement Config's negotiation rules; amqp091 is
    configured to accept whatever the server proposes, so it takes our values;
  - confirm.select-ok on a channel with an injected select is consumed;
  - basic.ack / basic.nack on a confirming channel settle its confirmRing
    (a FIFO ring indexed by delivery tag: a multiple ack settles a range in
    O(covered)) and are then passed on (amqp091 ignores them, but it still
    sees every frame, which keeps its heartbeat read deadline fresh);
  - basic.return on a confirming channel holds back later settlements of
    that channel until the return has been handed to OnReturn, so a
    mandatory publish's return callback runs before its confirm.

Nothing here blocks on anything but the socket; settlement callbacks are
quick by contract.
*/

type tap struct {
	net.Conn
	chans tapChans
	in    tapReader
	out   tapWriter
}

func newTap(c net.Conn, tune func([]byte)) *tap {
	t := &tap{Conn: c}
	t.chans.init()
	var raw syscall.RawConn
	if sc, ok := c.(syscall.Conn); ok {
		raw, _ = sc.SyscallConn()
	}
	t.in = tapReader{
		conn:    c,
		rawConn: raw,
		chans:   &t.chans,
		rbuf:    make([]byte, tapReadBuf),
		tune:    tune,
	}
	t.out = tapWriter{
		conn:      c,
		rawConn:   raw,
		wskip:     len(wire.ProtocolHeader),
		closeSent: make(chan struct{}),
	}
	return t
}

// Read implements io.Reader for amqp091's reader goroutine (tapReader.Read).
func (t *tap) Read(p []byte) (int, error) { return t.in.Read(p) }

// Write implements io.Writer for amqp091's bufio.Writer (tapWriter.Write).
func (t *tap) Write(p []byte) (int, error) { return t.out.Write(p) }

// serverClosed returns the broker's connection.close as amqp091 reports it,
// or nil when none was read.
func (t *tap) serverClosed() *amqp091.Error {
	info := t.in.serverClose.Load()
	if info == nil {
		return nil
	}
	return &amqp091.Error{Code: info.code, Reason: info.reason, Server: true, Recover: false}
}

// tapChans is the tap's channel table: copy-on-write, so that the reader
// finds a channel's state without locking.
type tapChans struct {
	m  atomic.Pointer[map[uint16]*tapChan]
	mu sync.Mutex // serialises writers
}

func (cs *tapChans) init() {
	m := map[uint16]*tapChan{}
	cs.m.Store(&m)
}

func (cs *tapChans) lookup(id uint16) *tapChan {
	return (*cs.m.Load())[id]
}

// register makes tc the tap state of channel id.
func (cs *tapChans) register(id uint16, tc *tapChan) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cowPut(&cs.m, id, tc)
}

// unregister removes tc (and only tc: the id may have been reused already).
func (cs *tapChans) unregister(id uint16, tc *tapChan) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cowDelete(&cs.m, id, tc)
}

// cowPut stores a copy of *p with k set to v. Writers are serialised by
// the caller; readers load the map without locking.
func cowPut[K comparable, V any](p *atomic.Pointer[map[K]V], k K, v V) {
	old := *p.Load()
	m := make(map[K]V, len(old)+1)
	for k2, v2 := range old {
		m[k2] = v2
	}
	m[k] = v
	p.Store(&m)
}

// cowDelete stores a copy of *p without k, when k maps to v (pointers:
// a later entry under the same key stays).
func cowDelete[K comparable, V comparable](p *atomic.Pointer[map[K]V], k K, v V) {
	old := *p.Load()
	if old[k] != v {
		return
	}
	m := make(map[K]V, len(old))
	for k2, v2 := range old {
		if k2 != k {
			m[k2] = v2
		}
	}
	p.Store(&m)
}

// confirmSelectFrame is confirm.select with nowait=false.
func confirmSelectFrame(channel uint16) []byte {
	return wire.AppendMethod(nil, channel, wire.ConfirmSelect, []byte{0})
}

// channelCloseFrame is channel.close with the given code and text (text at
// most 255 bytes), class and method 0.
func channelCloseFrame(channel uint16, code uint16, text string) []byte {
	args := make([]byte, 0, 7+len(text))
	args = binary.BigEndian.AppendUint16(args, code)
	args = append(args, byte(len(text)))
	args = append(args, text...)
	args = append(args, 0, 0, 0, 0)
	return wire.AppendMethod(nil, channel, wire.ChannelClose, args)
}
