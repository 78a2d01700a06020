/*
Package fakebroker is a minimal in-process AMQP 0-9-1 server for the hot-path
benchmarks of packages amqp and bindings: enough of RabbitMQ for a client to
connect, open channels, publish (optionally in confirm mode, acked at once),
consume and ack, so that a benchmark measures the client alone, without a
broker sharing the machine's CPUs.

It is not a broker: nothing is routed or stored. A publish is counted (and
acked in confirm mode); a consumer gets what Deliver pushes to it.
*/
package fakebroker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/amqpjs/amqpjs/amqp/wire"
)

// Server accepts AMQP connections on a loopback port.
type Server struct {
	ln net.Listener

	// Published counts the messages received (content complete); Acks the
	// deliveries acked by clients (a multiple ack counts every delivery it
	// covers), AckFrames the basic.ack frames.
	Published atomic.Int64
	Acks      atomic.Int64
	AckFrames atomic.Int64

	mu        sync.Mutex
	conns     map[*Conn]struct{}
	consumers chan *Consumer
	wg        sync.WaitGroup
}

// Start listens on 127.0.0.1 (a free port).
func Start() (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conns: map[*Conn]struct{}{}, consumers: make(chan *Consumer, 16)}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the server's port.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is an amqp:// URL for the server (guest/guest).
func (s *Server) URL() string { return "amqp://guest:guest@" + s.Addr() + "/" }

// Close stops the server and closes every connection.
func (s *Server) Close() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// NextConsumer waits for the next basic.consume.
func (s *Server) NextConsumer() *Consumer { return <-s.consumers }

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		c := &Conn{s: s, nc: nc, r: bufio.NewReaderSize(nc, 64<<10), confirming: map[uint16]uint64{}}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			_ = c.serve()
			nc.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Conn is one client connection.
type Conn struct {
	s  *Server
	nc net.Conn
	r  *bufio.Reader

	wmu sync.Mutex // guards writes to nc

	// Reader-owned.
	confirming map[uint16]uint64 // channel -> last delivery tag
	acked      map[uint16]uint64 // channel -> every delivery tag up to this one was acked
	left       uint64            // body bytes of the current publish still to come
	buf        []byte            // frames as read (reused)
}

// Consumer is a basic.consume the server accepted.
type Consumer struct {
	c       *Conn
	Channel uint16
	Tag     string
	next    uint64
}

// Deliver sends n deliveries of body to the consumer, in writes of about
// 64 KiB.
func (k *Consumer) Deliver(n int, body []byte) error {
	var buf []byte
	for i := 0; i < n; i++ {
		k.next++
		buf = AppendDelivery(buf, k.Channel, k.Tag, k.next, "", "q", body)
		if len(buf) >= 64<<10 || i == n-1 {
			if err := k.c.write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	return nil
}

func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// AppendDelivery appends the frames of a basic.deliver with an empty
// property list.
func AppendDelivery(b []byte, ch uint16, tag string, dtag uint64, exchange, key string, body []byte) []byte {
	at := len(b)
	b = wire.StartFrame(b, wire.FrameMethod, ch)
	b = binary.BigEndian.AppendUint32(b, wire.BasicDeliver)
	b = wire.AppendShortstr(b, tag)
	b = binary.BigEndian.AppendUint64(b, dtag)
	b = append(b, 0) // redelivered
	b = wire.AppendShortstr(b, exchange)
	b = wire.AppendShortstr(b, key)
	b = wire.EndFrame(b, at)
	at = len(b)
	b = wire.StartFrame(b, wire.FrameHeader, ch)
	b = append(b, 0, wire.ClassBasic, 0, 0) // class, weight
	b = binary.BigEndian.AppendUint64(b, uint64(len(body)))
	b = append(b, 0, 0) // no properties
	b = wire.EndFrame(b, at)
	if len(body) > 0 {
		b = wire.AppendFrame(b, wire.FrameBody, ch, body)
	}
	return b
}

var errProtocol = errors.New("fakebroker: unexpected frame")

// ackFrameLen is the length of a basic.ack frame.
const ackFrameLen = wire.Overhead + 4 + 8 + 1

// serve runs the handshake, then answers frames until the client leaves.
func (c *Conn) serve() error {
	hdr := make([]byte, len(wire.ProtocolHeader))
	if _, err := io.ReadFull(c.r, hdr); err != nil {
		return err
	}
	// connection.start: 0-9, server properties, mechanisms, locales.
	start := []byte{0, 9}
	start = wire.AppendLongstr(start, "") // empty table
	start = wire.AppendLongstr(start, "PLAIN")
	start = wire.AppendLongstr(start, "en_US")
	if err := c.write(wire.AppendMethod(nil, 0, wire.ConnectionStart, start)); err != nil {
		return err
	}
	if _, err := c.expect(wire.ConnectionStartOk); err != nil {
		return err
	}
	tune := binary.BigEndian.AppendUint16(nil, 2047)
	tune = binary.BigEndian.AppendUint32(tune, 131072)
	tune = binary.BigEndian.AppendUint16(tune, 0)
	if err := c.write(wire.AppendMethod(nil, 0, wire.ConnectionTune, tune)); err != nil {
		return err
	}
	if _, err := c.expect(wire.ConnectionTuneOk); err != nil {
		return err
	}
	if _, err := c.expect(wire.ConnectionOpen); err != nil {
		return err
	}
	if err := c.write(wire.AppendMethod(nil, 0, wire.ConnectionOpenOk, []byte{0})); err != nil {
		return err
	}
	var acks []byte
	for {
		f, err := c.frame()
		if err != nil {
			return err
		}
		ch, payload := f.Channel, f.Payload
		switch f.Type {
		case wire.FrameMethod:
			if len(payload) < 4 {
				return errProtocol
			}
			out, done, err := c.method(ch, f.Method(), f.Args())
			if err != nil || done {
				return err
			}
			if out != nil {
				if err := c.write(out); err != nil {
					return err
				}
			}
		case wire.FrameHeader:
			if len(payload) < 12 {
				return errProtocol
			}
			c.left = binary.BigEndian.Uint64(payload[4:12])
			if c.left == 0 {
				acks = c.published(acks, ch)
			}
		case wire.FrameBody:
			c.left -= min(c.left, uint64(len(payload)))
			if c.left == 0 {
				acks = c.published(acks, ch)
			}
		}
		// Acks go out when nothing more is buffered (one write per burst).
		if len(acks) > 0 && c.r.Buffered() == 0 {
			if err := c.write(acks); err != nil {
				return err
			}
			acks = acks[:0]
		}
	}
}

// published counts a complete publish and, in confirm mode, acks it
// (multiple, folding the acks of a burst into one frame).
func (c *Conn) published(acks []byte, ch uint16) []byte {
	c.s.Published.Add(1)
	last, ok := c.confirming[ch]
	if !ok {
		return acks
	}
	last++
	c.confirming[ch] = last
	args := binary.BigEndian.AppendUint64(nil, last)
	args = append(args, 1) // multiple
	if n := len(acks); n >= ackFrameLen && binary.BigEndian.Uint16(acks[n-ackFrameLen+1:]) == ch {
		// Replace the previous multiple ack of this channel.
		binary.BigEndian.PutUint64(acks[n-10:], last)
		return acks
	}
	return wire.AppendMethod(acks, ch, wire.BasicAck, args)
}

func (c *Conn) method(ch uint16, id uint32, args []byte) (out []byte, done bool, err error) {
	switch id {
	case wire.ChannelOpen:
		return wire.AppendMethod(nil, ch, wire.ChannelOpenOk, wire.AppendLongstr(nil, "")), false, nil
	case wire.ChannelClose:
		delete(c.confirming, ch)
		return wire.AppendMethod(nil, ch, wire.ChannelCloseOk, nil), false, nil
	case wire.ConnectionClose:
		return nil, true, c.write(wire.AppendMethod(nil, 0, wire.ConnectionCloseOk, nil))
	case wire.ConfirmSelect:
		c.confirming[ch] = 0
		if len(args) > 0 && args[0]&1 != 0 {
			return nil, false, nil
		}
		return wire.AppendMethod(nil, ch, wire.ConfirmSelectOk, nil), false, nil
	case wire.BasicQos:
		return wire.AppendMethod(nil, ch, wire.BasicQosOk, nil), false, nil
	case wire.QueueDeclare: // echo the name, 0 messages, 0 consumers
		if len(args) < 3 {
			return nil, false, errProtocol
		}
		n := int(args[2])
		name := string(args[3 : 3+n])
		if name == "" {
			name = "amq.gen-fake"
		}
		ok := wire.AppendShortstr(nil, name)
		ok = append(ok, 0, 0, 0, 0, 0, 0, 0, 0)
		return wire.AppendMethod(nil, ch, wire.QueueDeclareOk, ok), false, nil
	case wire.BasicConsume:
		if len(args) < 3 {
			return nil, false, errProtocol
		}
		qn := int(args[2])
		p := args[3+qn:]
		tag := string(p[1 : 1+int(p[0])])
		if tag == "" {
			tag = fmt.Sprintf("ctag-fake-%d", ch)
		}
		c.s.consumers <- &Consumer{c: c, Channel: ch, Tag: tag}
		return wire.AppendMethod(nil, ch, wire.BasicConsumeOk, wire.AppendShortstr(nil, tag)), false, nil
	case wire.BasicCancel:
		tag := string(args[1 : 1+int(args[0])])
		return wire.AppendMethod(nil, ch, wire.BasicCancelOk, wire.AppendShortstr(nil, tag)), false, nil
	case wire.BasicAck: // from the client
		// Deliveries are acked in order by the tests' clients: a multiple
		// ack covers the tags since the previous multiple ack.
		c.s.AckFrames.Add(1)
		tag := binary.BigEndian.Uint64(args[0:8])
		if c.acked == nil {
			c.acked = map[uint16]uint64{}
		}
		last := c.acked[ch]
		switch {
		case args[8]&1 == 0:
			c.s.Acks.Add(1)
			if tag == last+1 {
				c.acked[ch] = tag
			}
		case tag > last:
			c.s.Acks.Add(int64(tag - last))
			c.acked[ch] = tag
		}
		return nil, false, nil
	case wire.BasicPublish: // content follows
		return nil, false, nil
	}
	return nil, false, nil
}

// expect reads a method frame and checks its class and method.
func (c *Conn) expect(id uint32) ([]byte, error) {
	f, err := c.frame()
	if err != nil {
		return nil, err
	}
	if f.Method() != id {
		return nil, errProtocol
	}
	return f.Args(), nil
}

func (c *Conn) frame() (wire.Frame, error) {
	f, buf, err := wire.ReadFrame(c.r, c.buf)
	c.buf = buf
	if errors.Is(err, wire.ErrFrameEnd) {
		err = errProtocol
	}
	return f, err
}
