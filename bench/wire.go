package bench

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/amqp/wire"
)

/*
The "wire" client measures the broker's limit: the same phases (but the
latency phase) done by a client that costs next to nothing. It speaks AMQP
0-9-1 itself, with no library: the frames of a publish are encoded once and
written in batches of many messages, and its one reader goroutine counts
deliveries and confirms without decoding anything else (in the manual-ack
phase the reader acks, once per read, every delivery so far with one
multiple ack, as amqpjs coalesces its acks). The broker does the same
work for it as for the other clients (one publish and one delivery per
message), so its throughput is what the broker can do on this machine
with almost both cores to itself: a client can hardly be faster, and the ratio
amqpjs/wire says how close amqpjs comes to it.
*/

// wbuf builds frames.
type wbuf []byte

func (b wbuf) u8(v byte) wbuf      { return append(b, v) }
func (b wbuf) u16(v uint16) wbuf   { return binary.BigEndian.AppendUint16(b, v) }
func (b wbuf) u32(v uint32) wbuf   { return binary.BigEndian.AppendUint32(b, v) }
func (b wbuf) u64(v uint64) wbuf   { return binary.BigEndian.AppendUint64(b, v) }
func (b wbuf) short(s string) wbuf { return append(b.u8(byte(len(s))), s...) }
func (b wbuf) long(s string) wbuf  { return append(b.u32(uint32(len(s))), s...) }

// frame appends a frame whose payload fill appends.
func (b wbuf) frame(typ byte, ch uint16, fill func(wbuf) wbuf) wbuf {
	start := len(b)
	b = wire.StartFrame(b, typ, ch)
	b = fill(b)
	return wire.EndFrame(b, start)
}

func (b wbuf) method(ch uint16, id uint32, args func(wbuf) wbuf) wbuf {
	return b.frame(wire.FrameMethod, ch, func(b wbuf) wbuf {
		b = b.u32(id)
		if args != nil {
			b = args(b)
		}
		return b
	})
}

// closeReason decodes a channel.close or connection.close.
func closeReason(f wire.Frame) string {
	p := f.Args()
	if len(p) < 3 || len(p) < 3+int(p[2]) {
		return "closed"
	}
	return fmt.Sprintf("%d %s", binary.BigEndian.Uint16(p), p[3:3+int(p[2])])
}

// wireClient is one connection of the wire client.
type wireClient struct {
	conn     net.Conn
	r        *bufio.Reader
	frameMax int

	wmu sync.Mutex // writes: the phases and the reader (acks)

	// Set by the reader goroutine.
	rpc       chan wire.Frame // replies to synchronous methods
	ackSignal chan struct{}   // a confirm arrived
	confirmed atomic.Int64    // publishes confirmed on the confirm channel
	delivered atomic.Int64
	target    atomic.Int64  // deliveries wanted by the consume phase
	done      chan struct{} // delivered reached target
	manualAck atomic.Bool   // the reader acks each delivery
	failed    chan error
	cmu       sync.Mutex // marks and low
	marks     []bool     // confirm tags seen
	low       uint64     // every tag below it is confirmed
}

func (w *wireClient) write(b []byte) error {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_, err := w.conn.Write(b)
	return err
}

// call writes a method and waits for the reply, which must be want.
func (w *wireClient) call(b wbuf, want uint32) (wire.Frame, error) {
	if err := w.write(b); err != nil {
		return wire.Frame{}, err
	}
	select {
	case f := <-w.rpc:
		if f.Method() != want {
			return f, fmt.Errorf("wire: got method %#x, want %#x", f.Method(), want)
		}
		return f, nil
	case err := <-w.failed:
		return wire.Frame{}, err
	case <-time.After(30 * time.Second):
		return wire.Frame{}, errors.New("wire: no reply in 30 s")
	}
}

// dialWire connects and opens the connection (handshake done inline,
// before the reader goroutine starts).
func dialWire(rawURL string) (*wireClient, error) {
	// The URL means what it means to amqpjs (defaults, percent-decoding;
	// no password in the errors).
	d, err := amqp.ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if d.SSL {
		return nil, errors.New("the wire client speaks amqp:// only, not amqps://")
	}
	if d.Port == 0 {
		d.Port = 5672
	}
	host := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	user, pass, vhost := d.Login, d.Password, d.Vhost
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	w := &wireClient{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), rpc: make(chan wire.Frame, 1),
		ackSignal: make(chan struct{}, 1), done: make(chan struct{}, 1), failed: make(chan error, 1)}
	fail := func(err error) (*wireClient, error) { conn.Close(); return nil, err }
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	var buf []byte
	expect := func(want uint32) (wire.Frame, error) {
		var f wire.Frame
		var err error
		f, buf, err = wire.ReadFrame(w.r, buf)
		if err != nil {
			return f, err
		}
		if f.Method() == wire.ConnectionClose {
			return f, fmt.Errorf("broker closed the connection: %s", closeReason(f))
		}
		if f.Method() != want {
			return f, fmt.Errorf("wire handshake: got method %#x, want %#x", f.Method(), want)
		}
		return f, nil
	}
	if _, err := conn.Write([]byte(wire.ProtocolHeader)); err != nil {
		return fail(err)
	}
	if _, err := expect(wire.ConnectionStart); err != nil {
		return fail(err)
	}
	var b wbuf
	b = b.method(0, wire.ConnectionStartOk, func(b wbuf) wbuf {
		return b.u32(0).short("PLAIN").long("\x00" + user + "\x00" + pass).short("en_US")
	})
	if _, err := conn.Write(b); err != nil {
		return fail(err)
	}
	tune, err := expect(wire.ConnectionTune)
	if err != nil {
		return fail(err)
	}
	if len(tune.Payload) < 12 {
		return fail(errors.New("wire: short connection.tune"))
	}
	chMax := binary.BigEndian.Uint16(tune.Payload[4:])
	w.frameMax = int(binary.BigEndian.Uint32(tune.Payload[6:]))
	if w.frameMax == 0 || w.frameMax > 131072 {
		w.frameMax = 131072
	}
	b = b[:0].method(0, wire.ConnectionTuneOk, func(b wbuf) wbuf { return b.u16(chMax).u32(uint32(w.frameMax)).u16(0) })
	b = b.method(0, wire.ConnectionOpen, func(b wbuf) wbuf { return b.short(vhost).short("").u8(0) })
	if _, err := conn.Write(b); err != nil {
		return fail(err)
	}
	if _, err := expect(wire.ConnectionOpenOk); err != nil {
		return fail(err)
	}
	_ = conn.SetDeadline(time.Time{})
	go w.readLoop()
	return w, nil
}

// readLoop reads every frame: replies go to rpc, confirms and deliveries
// are counted; in the manual-ack phase, once the read buffer is drained,
// it acks every delivery so far (multiple).
func (w *wireClient) readLoop() {
	var buf []byte
	var acks wbuf
	var ackTag uint64 // the last delivery to ack (multiple) once the reads are drained
	var ackCh uint16
	fail := func(err error) {
		select {
		case w.failed <- err:
		default:
		}
	}
	for {
		f, nb, err := wire.ReadFrame(w.r, buf)
		buf = nb
		if err != nil {
			fail(err)
			return
		}
		switch id := f.Method(); id {
		case 0: // content header, body, heartbeat
		case wire.BasicDeliver:
			n := w.delivered.Add(1)
			if w.manualAck.Load() {
				p := f.Args()
				ackTag, ackCh = binary.BigEndian.Uint64(p[1+int(p[0]):]), f.Channel
			}
			if n == w.target.Load() {
				w.done <- struct{}{}
			}
		case wire.BasicAck, wire.BasicNack:
			if id == wire.BasicNack {
				fail(errors.New("wire: publish nacked"))
				return
			}
			tag := binary.BigEndian.Uint64(f.Args())
			multiple := f.Payload[12]&1 != 0
			w.confirm(tag, multiple)
			select {
			case w.ackSignal <- struct{}{}:
			default:
			}
		case wire.ChannelClose:
			fail(fmt.Errorf("broker closed the channel: %s", closeReason(f)))
			return
		case wire.ConnectionClose:
			fail(fmt.Errorf("broker closed the connection: %s", closeReason(f)))
			return
		default:
			if id == wire.ConnectionCloseOk {
				fail(io.EOF)
				return
			}
			w.rpc <- wire.Frame{Type: f.Type, Channel: f.Channel, Payload: append([]byte(nil), f.Payload...)}
		}
		if ackTag > 0 && w.r.Buffered() == 0 {
			acks = acks[:0].method(ackCh, wire.BasicAck, func(b wbuf) wbuf { return b.u64(ackTag).u8(1) })
			ackTag = 0
			if err := w.write(acks); err != nil {
				fail(err)
				return
			}
		}
	}
}

// confirm marks tag (and, multiple, every tag below it) confirmed.
func (w *wireClient) confirm(tag uint64, multiple bool) {
	w.cmu.Lock()
	defer w.cmu.Unlock()
	if tag >= uint64(len(w.marks)) {
		return
	}
	from := tag
	if multiple {
		from = max(w.low, 1)
	}
	var n int64
	for t := from; t <= tag; t++ {
		if !w.marks[t] {
			w.marks[t] = true
			n++
		}
	}
	for w.low < uint64(len(w.marks)) && (w.low == 0 || w.marks[w.low]) {
		w.low++
	}
	w.confirmed.Add(n)
}

// publishFrames appends the frames of k publishes of body to q on ch.
func (w *wireClient) publishFrames(b wbuf, ch uint16, q string, body []byte, k int) wbuf {
	for range k {
		b = b.method(ch, wire.BasicPublish, func(b wbuf) wbuf { return b.u16(0).short("").short(q).u8(0) })
		b = b.frame(wire.FrameHeader, ch, func(b wbuf) wbuf { return b.u16(wire.ClassBasic).u16(0).u64(uint64(len(body))).u16(0) })
		for rest := body; len(rest) > 0; {
			c := rest[:min(len(rest), w.frameMax-8)]
			rest = rest[len(c):]
			b = b.frame(wire.FrameBody, ch, func(b wbuf) wbuf { return append(b, c...) })
		}
	}
	return b
}

// wireBatch is how many publishes the wire client writes at once.
const wireBatch = 256

// WireWorker is the process of the "wire" client: cfgJSON is the config
// the harness passes; results go to stdout as JSON lines.
func WireWorker(cfgJSON string, stdout io.Writer) error {
	var c config
	if err := json.Unmarshal([]byte(cfgJSON), &c); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	return wireBench(c, func(r PhaseResult) { _ = enc.Encode(r) })
}

func wireBench(c config, report func(PhaseResult)) error {
	w, err := dialWire(c.URL)
	if err != nil {
		return err
	}
	defer w.conn.Close()
	run := func(p string) bool { return slices.Contains(c.Phases, p) }
	var b wbuf
	if _, err := w.call(b.method(1, wire.ChannelOpen, func(b wbuf) wbuf { return b.short("") }), wire.ChannelOpenOk); err != nil {
		return err
	}
	declare := func(name string, passive bool) (string, int, error) {
		bits := byte(4) // exclusive
		if passive {
			bits = 1
		}
		f, err := w.call(b[:0].method(1, wire.QueueDeclare, func(b wbuf) wbuf { return b.u16(0).short(name).u8(bits).u32(0) }), wire.QueueDeclareOk)
		if err != nil {
			return "", 0, err
		}
		p := f.Args()
		q := string(p[1 : 1+int(p[0])])
		return q, int(binary.BigEndian.Uint32(p[1+int(p[0]):])), nil
	}
	q, _, err := declare("", false)
	if err != nil {
		return err
	}
	body := bytes.Repeat([]byte("x"), c.Size)
	n := c.N
	batch := w.publishFrames(nil, 1, q, body, wireBatch)
	consume := func(noAck bool) error {
		w.manualAck.Store(!noAck)
		w.delivered.Store(0)
		w.target.Store(int64(n))
		flags := byte(0)
		if noAck {
			flags = 2
		}
		if _, err := w.call(b[:0].method(1, wire.BasicConsume, func(b wbuf) wbuf { return b.u16(0).short(q).short("wire").u8(flags).u32(0) }), wire.BasicConsumeOk); err != nil {
			return err
		}
		select {
		case <-w.done:
		case err := <-w.failed:
			return err
		}
		_, err := w.call(b[:0].method(1, wire.BasicCancel, func(b wbuf) wbuf { return b.short("wire").u8(0) }), wire.BasicCancelOk)
		return err
	}

	if run("publish") {
		c0, t0 := cpuSeconds(), time.Now()
		for sent := 0; sent < n; sent += wireBatch {
			out := batch
			if k := n - sent; k < wireBatch {
				out = batch[:len(batch)/wireBatch*k]
			}
			if err := w.write(out); err != nil {
				return err
			}
		}
		tl := time.Since(t0)
		for {
			_, count, err := declare(q, true)
			if err != nil {
				return err
			}
			if count >= n {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		report(PhaseResult{Phase: "publish", N: n, Secs: time.Since(t0).Seconds(), LoopSecs: tl.Seconds(), CPU: cpuSeconds() - c0})
	}

	if run("consume") {
		c0, t0 := cpuSeconds(), time.Now()
		if err := consume(true); err != nil {
			return err
		}
		report(PhaseResult{Phase: "consume", N: n, Secs: time.Since(t0).Seconds(), CPU: cpuSeconds() - c0})
	}

	if run("confirm") {
		if _, err := w.call(b[:0].method(2, wire.ChannelOpen, func(b wbuf) wbuf { return b.short("") }), wire.ChannelOpenOk); err != nil {
			return err
		}
		if _, err := w.call(b[:0].method(2, wire.ConfirmSelect, func(b wbuf) wbuf { return b.u8(0) }), wire.ConfirmSelectOk); err != nil {
			return err
		}
		w.cmu.Lock()
		w.marks, w.low = make([]bool, n+1), 0
		w.cmu.Unlock()
		cbatch := w.publishFrames(nil, 2, q, body, wireBatch)
		per := len(cbatch) / wireBatch
		c0, t0 := cpuSeconds(), time.Now()
		for sent := 0; sent < n; {
			free := c.Window - (sent - int(w.confirmed.Load()))
			if free <= 0 {
				select {
				case <-w.ackSignal:
				case err := <-w.failed:
					return err
				}
				continue
			}
			k := min(free, wireBatch, n-sent)
			if err := w.write(cbatch[:per*k]); err != nil {
				return err
			}
			sent += k
		}
		tl := time.Since(t0)
		for int(w.confirmed.Load()) < n {
			select {
			case <-w.ackSignal:
			case err := <-w.failed:
				return err
			}
		}
		report(PhaseResult{Phase: "confirm", N: n, Secs: time.Since(t0).Seconds(), LoopSecs: tl.Seconds(), CPU: cpuSeconds() - c0})
		if _, err := w.call(b[:0].method(2, wire.ChannelClose, func(b wbuf) wbuf { return b.u16(200).short("").u16(0).u16(0) }), wire.ChannelCloseOk); err != nil {
			return err
		}
	}

	if run("consume_ack") {
		c0, t0 := cpuSeconds(), time.Now()
		if _, err := w.call(b[:0].method(1, wire.BasicQos, func(b wbuf) wbuf { return b.u32(0).u16(uint16(c.Prefetch)).u8(0) }), wire.BasicQosOk); err != nil {
			return err
		}
		if err := consume(false); err != nil {
			return err
		}
		report(PhaseResult{Phase: "consume_ack", N: n, Secs: time.Since(t0).Seconds(), CPU: cpuSeconds() - c0})
	}

	// No latency phase: its pace is the harness's rate, not the broker's.
	if err := w.write(b[:0].method(0, wire.ConnectionClose, func(b wbuf) wbuf { return b.u16(200).short("").u16(0).u16(0) })); err != nil {
		return err
	}
	select {
	case <-w.failed:
	case <-time.After(5 * time.Second):
	}
	return nil
}
