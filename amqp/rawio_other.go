//go:build !linux && !windows

package amqp

import "syscall"

// rawReader is sockRead's state on Linux (rawio.go).
type rawReader struct{}

// sockRead reads from the socket (see rawio.go for Linux).
func (t *tap) sockRead(p []byte) (int, error) { return t.Conn.Read(p) }

// rawWrite is one non-blocking write to the socket.
func rawWrite(fd uintptr, b []byte) (int, error) { return syscall.Write(int(fd), b) }
