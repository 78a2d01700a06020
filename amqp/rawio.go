//go:build linux

package amqp

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// sockRead reads from the socket. On a plain TCP socket (useRaw) it
// reads with a raw system call: the socket is non-blocking, so the call
// never blocks, and skipping the runtime's syscall bookkeeping matters at
// tens of thousands of reads per second: entering a system call the
// regular way wakes the runtime's monitor thread (sysmon) whenever the
// process was idle, which costs two context switches per idle→busy turn
// of a consumer. When the socket has nothing, it waits in the netpoller
// like net.Conn.Read (deadlines included).
func (rd *tapReader) sockRead(p []byte) (int, error) {
	if !rd.useRaw() || len(p) == 0 {
		return rd.conn.Read(p)
	}
	rr := &rd.rr
	if rr.fn == nil {
		rr.fn = rr.read // once: a closure per read would cost allocations
	}
	rr.p, rr.n, rr.err = p, 0, nil
	err := rd.rawConn.Read(rr.fn)
	n := rr.n
	if err == nil {
		err = rr.err
	}
	rr.p, rr.err = nil, nil
	if err == errFaultPath {
		return rd.conn.Read(p) // a fault is set: read through fault.go
	}
	if err != nil && err != io.EOF {
		err = rd.readError(err)
	}
	return n, err
}

// rawReader is the state of sockRead's raw reads (only the connection's
// reader goroutine reads).
type rawReader struct {
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // read, as passed to RawConn.Read
}

// read is one attempt: it reports false when the socket has nothing yet
// (RawConn.Read then waits for readability and calls it again).
func (rr *rawReader) read(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&rr.p[0])), uintptr(len(rr.p)))
		switch e {
		case 0:
			rr.n = int(r)
			if rr.n == 0 {
				rr.err = io.EOF
			}
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		default:
			rr.err = e
			return true
		}
	}
}

// readError gives a failed raw read the form net.Conn.Read gives it (a
// *net.OpError "read"), which errors.go classifies and users read.
func (rd *tapReader) readError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		c := *oe
		c.Op = "read"
		return &c
	}
	if e, ok := err.(syscall.Errno); ok {
		err = os.NewSyscallError("read", e)
	}
	return &net.OpError{Op: "read", Net: rd.conn.LocalAddr().Network(), Source: rd.conn.LocalAddr(), Addr: rd.conn.RemoteAddr(), Err: err}
}

// rawWrite is one non-blocking write(2) without the runtime's syscall
// bookkeeping (see sockRead).
func rawWrite(fd uintptr, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}
