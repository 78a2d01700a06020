package amqp

import "syscall"

// rawReader is sockRead's state on Linux (rawio.go).
type rawReader struct{}

// sockRead reads from the socket (see rawio.go for Linux).
func (rd *tapReader) sockRead(p []byte) (int, error) { return rd.conn.Read(p) }

// rawWrite would be one non-blocking write; Windows sockets are overlapped,
// so it declines as a full socket would and the channel's executor writes
// through net.Conn.
func rawWrite(fd uintptr, b []byte) (int, error) { return 0, syscall.EAGAIN }
