//go:build linux

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

// acceptOne listens on a loopback port (closed when the test ends) and
// accepts one connection, which it sends on the channel it returns (nil if
// the accept failed), then closes the channel.
func acceptOne(t *testing.T) (net.Listener, <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
		close(acc)
	}()
	return ln, acc
}

// tcpPair is a connected pair of TCP sockets on the loopback interface.
func tcpPair(t *testing.T) (client, server *net.TCPConn) {
	t.Helper()
	ln, acc := acceptOne(t)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { c.Close(); s.Close() })
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// The tap reads a plain TCP socket with raw system calls (rawio.go): what
// it reads, how it waits, and the errors it reports must be those of
// net.Conn.Read, which the rest of the package (errors.go) and users see.
func TestSockReadRaw(t *testing.T) {
	c, s := tcpPair(t)
	tp := newTap(c, nil)
	if !tp.in.useRaw() {
		t.Fatal("no raw socket for a *net.TCPConn")
	}

	// Data, including data that arrives while the reader waits.
	go func() {
		time.Sleep(20 * time.Millisecond)
		s.Write([]byte("hello "))
		time.Sleep(20 * time.Millisecond)
		s.Write([]byte("world"))
	}()
	var got []byte
	buf := make([]byte, 64)
	for len(got) < len("hello world") {
		n, err := tp.in.sockRead(buf)
		if err != nil {
			t.Fatalf("sockRead: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello world" {
		t.Fatalf("read %q", got)
	}

	// A read deadline: a timeout error, as net.Conn.Read reports it.
	c.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	_, err := tp.in.sockRead(buf)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("after the deadline: %v, want a timeout", err)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || oe.Op != "read" {
		t.Fatalf("deadline error %#v: want a *net.OpError read", err)
	}
	if e := classify("basic_consume", err); e.Kind != KindTimeout {
		t.Fatalf("classified as %v, want timeout", e.Kind)
	}
	c.SetReadDeadline(time.Time{})

	// The peer resets the connection: the same error text as net.Conn.Read.
	s.SetLinger(0)
	s.Write([]byte("x"))
	s.Close()
	time.Sleep(20 * time.Millisecond)
	if n, err := tp.in.sockRead(buf); n != 1 || err != nil {
		// the byte may come first, or the reset may discard it
		if !isReset(err) {
			t.Fatalf("read after reset: %d %v", n, err)
		}
	}
	_, err = tp.in.sockRead(buf)
	for err == nil {
		_, err = tp.in.sockRead(buf)
	}
	if !isReset(err) {
		t.Fatalf("after a reset: %v, want connection reset", err)
	}
	want := "read tcp " + c.LocalAddr().String() + "->" + c.RemoteAddr().String() + ": read: connection reset by peer"
	if err.Error() != want {
		t.Fatalf("error text %q, want %q", err.Error(), want)
	}
	if e := classify("basic_consume", err); e.Kind != KindConnectionClosed {
		t.Fatalf("classified as %v, want connection closed", e.Kind)
	}
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func TestSockReadEOFAndClosed(t *testing.T) {
	c, s := tcpPair(t)
	tp := newTap(c, nil)
	s.Write([]byte("ab"))
	s.Close()
	var got bytes.Buffer
	buf := make([]byte, 8)
	var err error
	for err == nil {
		var n int
		n, err = tp.in.sockRead(buf)
		got.Write(buf[:n])
	}
	if err != io.EOF || got.String() != "ab" {
		t.Fatalf("got %q, %v; want \"ab\", EOF", got.String(), err)
	}

	// Closing our side while a read waits ends the read with net.ErrClosed.
	c2, _ := tcpPair(t)
	tp2 := newTap(c2, nil)
	done := make(chan error, 1)
	go func() {
		_, err := tp2.in.sockRead(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	c2.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("read on a closed socket: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the read did not end when the socket closed")
	}
}
