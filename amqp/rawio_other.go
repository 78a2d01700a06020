//go:build !linux && !windows

package amqp

import "syscall"

// rawReader is sockRead's state on Linux (rawio.go).
type rawReader struct{}

// sockRead reads from the socket (see rawio.go for Linux).
func (rd *tapReader) sockRead(p []byte) (int, error) { return rd.conn.Read(p) }

// rawWrite is one non-blocking write to the socket.
func rawWrite(fd uintptr, b []byte) (int, error) { return syscall.Write(int(fd), b) }
