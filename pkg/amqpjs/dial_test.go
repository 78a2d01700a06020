package amqpjs_test

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/pkg/amqpjs"
)

// A connect still dialling when the run is cancelled sees its context end,
// and a connection the dialer hands back after the end is closed.
func TestCancelDuringDial(t *testing.T) {
	dialling := make(chan struct{})
	release := make(chan struct{})
	dialCtxDone := make(chan struct{})
	farc := make(chan net.Conn, 1)
	rt := newRuntime(t, nil, amqpjs.Options{
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if network != "tcp" || addr != "broker.test:5999" {
				t.Errorf("dial %s %s", network, addr)
			}
			close(dialling)
			<-ctx.Done()
			close(dialCtxDone)
			<-release // a dialer that returns late, with a connection
			near, far := net.Pipe()
			farc <- far
			return near, nil
		},
		URL: "amqp://guest:guest@broker.test:5999/",
	})
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-dialling; cancel() }()
	err := rt.RunSource(ctx, "main.js", "await require('aioamqp').connect()")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	closedWithin(t, dialCtxDone, "the dialer's context did not end with the run")
	close(release)
	// The connection returned after the end is closed: its far end reads EOF.
	var far net.Conn
	select {
	case far = <-farc:
	case <-time.After(safety):
		t.Fatal("dialer did not return")
	}
	_ = far.SetReadDeadline(time.Now().Add(safety))
	if _, err := io.Copy(io.Discard, far); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		t.Errorf("far end: %v", err)
	}
}
