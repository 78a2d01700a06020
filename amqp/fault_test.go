package amqp

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// faultPair returns a Conn whose socket is a faultConn over a loopback TCP
// connection, and the peer's end of that connection.
func faultPair(t *testing.T) (*Conn, *faultConn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	peer := <-acc
	if peer == nil {
		t.Fatal("accept failed")
	}
	f := newFaultConn(nc)
	t.Cleanup(func() {
		f.Close()
		peer.Close()
	})
	return &Conn{nc: f}, f, peer
}

// eventually polls cond (no timing is asserted: the bound only ends a hang).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("never: %s", what)
}

func TestFaultPassThroughKeepsRawConn(t *testing.T) {
	c, f, peer := faultPair(t)
	tp := newTap(f, nil)
	if !tp.in.useRaw() {
		t.Fatal("the tap lost its raw connection behind the fault layer")
	}
	if _, err := peer.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	n, err := tp.in.sockRead(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("sockRead = %q, %v", buf[:n], err)
	}
	if st := c.Faults(); st.Engaged || st.ReadQueued != 0 {
		t.Fatalf("state with no fault set: %+v", st)
	}
}

// A read waiting in the netpoller when a stall is set must not hand on what
// arrives during the stall.
func TestFaultStallInterruptsWaitingRawRead(t *testing.T) {
	c, f, peer := faultPair(t)
	tp := newTap(f, nil)
	stallInterruptsWaitingRead(t, c, f, peer, tp.in.sockRead)
	if st := c.Faults(); !st.Engaged || !st.StallUntil.IsZero() {
		t.Fatalf("state after clear: %+v", st)
	}
}

// The same through net.Conn's Read (the path under TLS): a read woken with
// bytes that arrived after the fault was set hands them to the fault layer.
func TestFaultStallInterruptsWaitingPlainRead(t *testing.T) {
	c, f, peer := faultPair(t)
	stallInterruptsWaitingRead(t, c, f, peer, f.Read)
}

// stallInterruptsWaitingRead starts read waiting, sets a stall and writes
// "late" from the peer: the read must go through the fault layer and not
// return during the stall, and must return "late" once the faults are
// cleared.
func stallInterruptsWaitingRead(t *testing.T, c *Conn, f *faultConn, peer net.Conn, read func([]byte) (int, error)) {
	t.Helper()
	type res struct {
		b   string
		err error
	}
	got := make(chan res, 1)
	go func() {
		buf := make([]byte, 16)
		n, err := read(buf)
		got <- res{string(buf[:n]), err}
	}()
	time.Sleep(20 * time.Millisecond) // let it reach the netpoller (either way the result is the same)
	c.Stall(time.Hour)
	if _, err := peer.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	// The interrupted read came back through the fault layer, whose pump
	// does not read the socket while the stall lasts.
	var early *res
	eventually(t, "the read goes through the fault layer", func() bool {
		select {
		case r := <-got:
			early = &r
			return true
		default:
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.rpump
	})
	if early != nil {
		t.Fatalf("the read returned during the stall: %+v", *early)
	}
	time.Sleep(20 * time.Millisecond) // a wrong implementation would hand "late" on by now
	select {
	case r := <-got:
		t.Fatalf("a read returned during the stall: %+v", r)
	default:
	}
	c.ClearFaults()
	if r := <-got; r.err != nil || r.b != "late" {
		t.Fatalf("after clear: %+v", r)
	}
}

// During a stall a read deadline (amqp091's heartbeat deadline) still ends
// the read, with a timeout as the socket gives it.
func TestFaultStallHonoursReadDeadline(t *testing.T) {
	c, f, peer := faultPair(t)
	c.Stall(time.Hour)
	if _, err := peer.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = f.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	n, err := f.Read(make([]byte, 4))
	var ne net.Error
	if n != 0 || !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %d, %v; want a timeout", n, err)
	}
	// Writes queue during the stall and leave in order once it ends.
	if _, err := f.Write([]byte("ab")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("cd")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "writes held", func() bool { return c.Faults().WriteQueued == 4 })
	c.ClearFaults()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(peer, buf); err != nil || string(buf) != "abcd" {
		t.Fatalf("peer read %q, %v", buf, err)
	}
	_ = f.SetReadDeadline(time.Time{})
	if n, err := f.Read(buf); err != nil || string(buf[:n]) != "x" {
		t.Fatalf("Read after clear = %q, %v", buf[:n], err)
	}
}

// Latency and a bandwidth limit keep every byte, in order, both ways.
func TestFaultLatencyBandwidthKeepBytes(t *testing.T) {
	c, f, peer := faultPair(t)
	c.SetLatency(5 * time.Millisecond)
	c.SetBandwidth(4 << 20)
	if st := c.Faults(); !st.Engaged || st.Latency != 5*time.Millisecond || st.Bandwidth != 4<<20 {
		t.Fatalf("state: %+v", st)
	}
	data := make([]byte, 300<<10)
	for i := range data {
		data[i] = byte(i * 7)
	}
	errc := make(chan error, 2)
	go func() {
		for p := data; len(p) > 0; {
			k := min(len(p), 5000)
			if _, err := f.Write(p[:k]); err != nil {
				errc <- err
				return
			}
			p = p[k:]
		}
		errc <- nil
	}()
	go func() {
		_, err := peer.Write(data)
		errc <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(peer, got); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("peer got %d bytes, equal=%v, err %v", len(got), bytes.Equal(got, data), err)
	}
	back := make([]byte, len(data))
	if _, err := io.ReadFull(f, back); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("read back: equal=%v, err %v", bytes.Equal(back, data), err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	c.ClearFaults()
	if st := c.Faults(); st.Latency != 0 || st.Bandwidth != 0 || !st.Engaged {
		t.Fatalf("state after clear: %+v", st)
	}
}

// A cut resets the connection: the peer sees it go, this side's reads and
// writes fail as on a reset, and a second cut has nothing to do.
func TestFaultCut(t *testing.T) {
	c, f, peer := faultPair(t)
	tp := newTap(f, nil)
	readErr := make(chan error, 1)
	go func() {
		_, err := tp.in.sockRead(make([]byte, 8))
		readErr <- err
	}()
	if !c.Cut() {
		t.Fatal("Cut reported nothing to cut")
	}
	if c.Cut() {
		t.Fatal("a second Cut reported a cut")
	}
	if err := <-readErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("pending read: %v; want connection reset", err)
	}
	if _, err := f.Write([]byte("x")); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("write after cut: %v", err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := peer.Read(make([]byte, 1)); err == nil {
		t.Fatal("the peer did not see the socket go")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the peer still waits for bytes")
	}
	if st := c.Faults(); !st.Cut {
		t.Fatalf("state: %+v", st)
	}
}

// Close ends every wait: a write blocked by a full queue during a stall.
func TestFaultCloseEndsWaits(t *testing.T) {
	c, f, _ := faultPair(t)
	c.Stall(time.Hour)
	big := make([]byte, faultQueueMax)
	if _, err := f.Write(big); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 2)
	go func() {
		_, err := f.Write([]byte("more"))
		errc <- err
	}()
	go func() {
		_, err := f.Read(make([]byte, 1))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	f.Close()
	for range 2 {
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
	}
}
