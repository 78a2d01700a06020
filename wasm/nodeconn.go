//go:build js && wasm

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"syscall/js"
	"time"
	"unsafe"
)

// A net.Conn over a socket of Node's "net" module, reached through
// syscall/js. The host loader hands the module in (see main.go); Go's own
// net.Dial does not work under js/wasm.
//
// Goroutines. Socket events ('connect', 'data', 'drain', 'end', 'error',
// 'close') arrive as js.Func callbacks, each on a goroutine that Go's wasm
// runtime starts for the call while the JavaScript event loop waits for it
// to return. They therefore never block: they copy, update the state under
// mu (never held across a JavaScript call) and signal a waiter through a
// buffered channel. Read and Write block on those channels, which lets Go's
// scheduler hand the thread back to the event loop until an event comes.
//
// Backpressure. Incoming bytes are appended to rbuf; past readHighWater
// buffered bytes the socket is paused, and Read resumes it once the
// buffer has drained below readLowWater. Outgoing bytes are handed to
// socket.write, which queues them in Node; Write returns as soon as they are
// queued, like a write into a kernel socket buffer, and waits for 'drain'
// first when socket.write reported its queue full (write returned false,
// past writeHighWater). Write errors surface on the next Read or Write, as
// with TCP. (Waiting for each write's callback instead would cost an
// event-loop turn per write: a publish loop that never yields could not
// write at all.) The loader's write helper corks the socket until
// process.nextTick, so what Go writes until it next yields to the event
// loop leaves in one writev.
//
// TLS (amqps) does not use Node's "tls" module: package amqp runs
// crypto/tls over the conn that Config.Dial returns, so TLS works over this
// plain socket, CA and client certificate files being read through Node's
// fs like any file.
//
// Deadlines are Go timers (which Go's wasm runtime implements with
// setTimeout): amqp091-go bounds reads with SetReadDeadline for heartbeats,
// and package amqp bounds the handshake with SetDeadline.

const (
	readHighWater  = 1 << 20   // pause the socket past this many unread bytes
	readLowWater   = 256 << 10 // resume it below this
	writeHighWater = 1 << 20   // socket.write returns false past this many queued bytes
	closeGrace     = 2 * time.Second
)

var (
	jsUint8Array = js.Global().Get("Uint8Array")
	jsObject     = js.Global().Get("Object")
	// jsNoop swallows the events of a socket once its conn is done with it
	// (an 'error' event without a listener would crash Node). A plain
	// JavaScript function: it must outlive the Go program.
	jsNoop = js.Global().Get("Function").New()
)

// live holds every conn whose socket has not emitted 'close', so that
// closeAll can drop them when the Go program exits.
var live struct {
	sync.Mutex
	conns map[*nodeConn]struct{}
}

// closeAll destroys every socket still open and detaches it from Go: the
// program is about to exit, and no event may call into it afterwards.
func closeAll() {
	live.Lock()
	conns := live.conns
	live.conns = nil
	live.Unlock()
	for c := range conns {
		c.sock.Call("removeAllListeners")
		c.sock.Call("on", "error", jsNoop)
		c.sock.Call("destroy")
	}
}

// nodeDialer dials through a Node "net" module object.
type nodeDialer struct {
	net js.Value
	// hostWrite, when a function, is the loader's write(socket, address,
	// length): it copies length bytes of the Go program's memory at
	// address into a Buffer and writes it, corking the socket until
	// process.nextTick — one JavaScript call per Write, and one writev
	// for all the writes made until Go next yields to the event loop.
	hostWrite js.Value
}

// write hands p to sock. Called by nodeConn.Write (under its wmu).
func (d *nodeDialer) write(sock js.Value, p []byte) (ok js.Value, err error) {
	if d.hostWrite.Type() == js.TypeFunction {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("write: %v", r)
				if je, isJS := r.(js.Error); isJS {
					err = jsErrorToGo(je.Value)
				}
			}
		}()
		// p is not moved by Go's GC and stays alive during the call; the
		// address is its offset in the wasm memory.
		addr := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
		return d.hostWrite.Invoke(sock, addr, len(p)), nil
	}
	u := jsUint8Array.New(len(p))
	js.CopyBytesToJS(u, p)
	return jsCall(sock, "write", u)
}

// DialContext connects to addr ("host:port") with net.connect. It blocks
// until 'connect' or 'error', or until ctx ends (then the socket is
// destroyed).
func (d *nodeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if network != "tcp" && network != "tcp4" && network != "tcp6" {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("invalid port %q", portStr)}
	}
	if err := ctx.Err(); err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c := &nodeConn{
		d:         d,
		network:   network,
		addr:      addr,
		readWake:  make(chan struct{}, 1),
		writeWake: make(chan struct{}, 1),
		connected: make(chan struct{}),
		closedCh:  make(chan struct{}),
	}
	opts := jsObject.New()
	opts.Set("host", host)
	opts.Set("port", port)
	opts.Set("noDelay", true) // as Go's net.Dial
	// Write waits for 'drain' past this much queued in Node (default 16 KiB).
	opts.Set("writableHighWaterMark", writeHighWater)
	opts.Set("keepAlive", true)
	opts.Set("keepAliveInitialDelay", 15000)
	if network == "tcp4" {
		opts.Set("family", 4)
	} else if network == "tcp6" {
		opts.Set("family", 6)
	}
	sock, err := jsCall(d.net, "connect", opts)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c.sock = sock
	c.listen()
	live.Lock()
	if live.conns == nil {
		live.conns = map[*nodeConn]struct{}{}
	}
	live.conns[c] = struct{}{}
	live.Unlock()

	select {
	case <-c.connected:
	case <-c.closedCh:
	case <-ctx.Done():
		c.destroy()
		return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
	}
	c.mu.Lock()
	err, ok := c.err, c.isConnected
	c.mu.Unlock()
	if !ok {
		c.destroy()
		if err == nil {
			err = errors.New("socket closed while connecting")
		}
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c.local = tcpAddr(sock.Get("localAddress"), sock.Get("localPort"))
	c.remote = tcpAddr(sock.Get("remoteAddress"), sock.Get("remotePort"))
	return c, nil
}

// nodeConn is a net.Conn over a Node net.Socket.
type nodeConn struct {
	d             *nodeDialer
	network, addr string
	sock          js.Value
	funcs         []js.Func
	local, remote net.Addr

	wmu sync.Mutex // serialises Write

	mu            sync.Mutex
	rbuf          []byte // unread bytes are rbuf[roff:]
	roff          int
	paused        bool
	needDrain     bool
	isConnected   bool
	eof           bool  // 'end' or 'close': no more data
	err           error // the socket's 'error', if any
	closed        bool  // Close was called
	ended         bool  // 'close' was emitted
	readDeadline  time.Time
	writeDeadline time.Time

	readWake, writeWake chan struct{} // cap 1
	connected           chan struct{} // closed on 'connect'
	closedCh            chan struct{} // closed by Close or 'close'
	closeOnce           sync.Once
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func (c *nodeConn) on(event string, fn func(args []js.Value)) {
	f := js.FuncOf(func(_ js.Value, args []js.Value) any {
		fn(args)
		return nil
	})
	c.funcs = append(c.funcs, f)
	c.sock.Call("on", event, f)
}

// listen registers the socket's event handlers. They run on goroutines of
// their own and must not block.
func (c *nodeConn) listen() {
	c.on("connect", func([]js.Value) {
		c.mu.Lock()
		c.isConnected = true
		c.mu.Unlock()
		close(c.connected)
	})
	c.on("data", func(args []js.Value) {
		if len(args) == 0 {
			return
		}
		chunk := args[0]
		n := chunk.Get("length").Int()
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		if c.roff > 0 && c.roff == len(c.rbuf) {
			c.rbuf, c.roff = c.rbuf[:0], 0
		} else if c.roff > 0 && len(c.rbuf)+n > cap(c.rbuf) {
			// Compact before growing.
			k := copy(c.rbuf, c.rbuf[c.roff:])
			c.rbuf, c.roff = c.rbuf[:k], 0
		}
		start := len(c.rbuf)
		c.rbuf = slices.Grow(c.rbuf, n)[:start+n]
		js.CopyBytesToGo(c.rbuf[start:], chunk)
		pause := !c.paused && len(c.rbuf)-c.roff > readHighWater
		if pause {
			c.paused = true
		}
		c.mu.Unlock()
		signal(c.readWake)
		if pause {
			c.sock.Call("pause")
		}
	})
	c.on("drain", func([]js.Value) {
		c.mu.Lock()
		c.needDrain = false
		c.mu.Unlock()
		signal(c.writeWake)
	})
	c.on("end", func([]js.Value) {
		c.mu.Lock()
		c.eof = true
		c.mu.Unlock()
		signal(c.readWake)
	})
	c.on("error", func(args []js.Value) {
		err := errors.New("socket error")
		if len(args) > 0 {
			err = jsErrorToGo(args[0])
		}
		c.mu.Lock()
		if c.err == nil {
			c.err = err
		}
		c.mu.Unlock()
		signal(c.readWake)
		signal(c.writeWake)
	})
	c.on("close", func([]js.Value) {
		c.mu.Lock()
		c.eof, c.ended = true, true
		c.mu.Unlock()
		c.closeOnce.Do(func() { close(c.closedCh) })
		signal(c.readWake)
		signal(c.writeWake)
		c.release()
	})
}

// release drops the socket's listeners and the Go functions behind them;
// the socket keeps a no-op 'error' listener. Called once, on 'close'.
func (c *nodeConn) release() {
	live.Lock()
	delete(live.conns, c)
	live.Unlock()
	c.sock.Call("removeAllListeners")
	c.sock.Call("on", "error", jsNoop)
	for _, f := range c.funcs {
		f.Release()
	}
	c.funcs = nil
}

// Read reads what the socket has delivered, blocking until some bytes, the
// end of the stream, an error, Close or the read deadline.
func (c *nodeConn) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, c.opErr("read", net.ErrClosed)
		}
		if avail := len(c.rbuf) - c.roff; avail > 0 {
			if len(p) == 0 {
				c.mu.Unlock()
				return 0, nil
			}
			n := copy(p, c.rbuf[c.roff:])
			c.roff += n
			if c.roff == len(c.rbuf) {
				c.rbuf, c.roff = c.rbuf[:0], 0
				if cap(c.rbuf) > 2*readHighWater {
					c.rbuf = nil // let a burst's buffer go
				}
			}
			resume := c.paused && len(c.rbuf)-c.roff < readLowWater
			if resume {
				c.paused = false
			}
			c.mu.Unlock()
			if resume {
				c.sock.Call("resume")
			}
			return n, nil
		}
		if c.err != nil {
			err := c.err
			c.mu.Unlock()
			return 0, c.opErr("read", err)
		}
		if c.eof {
			c.mu.Unlock()
			return 0, io.EOF
		}
		dl := c.readDeadline
		c.mu.Unlock()
		if err := c.wait(c.readWake, dl); err != nil {
			return 0, c.opErr("read", err)
		}
	}
}

// Write queues p on the socket. See the type's comment for when it waits.
func (c *nodeConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return 0, c.opErr("write", net.ErrClosed)
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return 0, c.opErr("write", err)
		case c.ended:
			c.mu.Unlock()
			return 0, c.opErr("write", errors.New("socket closed"))
		}
		if !c.needDrain {
			c.mu.Unlock()
			break
		}
		dl := c.writeDeadline
		c.mu.Unlock()
		if err := c.wait(c.writeWake, dl); err != nil {
			return 0, c.opErr("write", err)
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if dl := c.writeDeadlineNow(); !dl.IsZero() && !time.Now().Before(dl) {
		return 0, c.opErr("write", os.ErrDeadlineExceeded)
	}
	ok, err := c.d.write(c.sock, p)
	if err != nil {
		return 0, c.opErr("write", err)
	}
	if !ok.Truthy() {
		c.mu.Lock()
		c.needDrain = true
		c.mu.Unlock()
	}
	return len(p), nil
}

func (c *nodeConn) writeDeadlineNow() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writeDeadline
}

// wait blocks until wake is signalled, the conn is closed or deadline
// passes (os.ErrDeadlineExceeded). The caller re-checks its condition.
func (c *nodeConn) wait(wake chan struct{}, deadline time.Time) error {
	if deadline.IsZero() {
		select {
		case <-wake:
		case <-c.closedCh:
		}
		return nil
	}
	d := time.Until(deadline)
	if d <= 0 {
		return os.ErrDeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
	case <-c.closedCh:
	case <-t.C:
	}
	return nil
}

// Close ends the socket: socket.end() flushes what is queued and sends FIN;
// the socket is destroyed if it has not closed within closeGrace. Pending
// and later Reads and Writes fail with net.ErrClosed.
func (c *nodeConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opErr("close", net.ErrClosed)
	}
	c.closed = true
	ended := c.ended
	c.rbuf, c.roff = nil, 0
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.closedCh) })
	signal(c.readWake)
	signal(c.writeWake)
	if ended {
		return nil
	}
	_, _ = jsCall(c.sock, "end")
	sock := c.sock
	time.AfterFunc(closeGrace, func() {
		if !sock.Get("destroyed").Truthy() {
			_, _ = jsCall(sock, "destroy")
		}
	})
	return nil
}

// destroy drops the socket at once (a failed or cancelled dial).
func (c *nodeConn) destroy() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.closeOnce.Do(func() { close(c.closedCh) })
	_, _ = jsCall(c.sock, "destroy")
}

func (c *nodeConn) LocalAddr() net.Addr  { return c.local }
func (c *nodeConn) RemoteAddr() net.Addr { return c.remote }

func (c *nodeConn) SetDeadline(t time.Time) error {
	_ = c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *nodeConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	c.readDeadline = t
	c.mu.Unlock()
	signal(c.readWake)
	return nil
}

func (c *nodeConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	c.writeDeadline = t
	c.mu.Unlock()
	signal(c.writeWake)
	return nil
}

func (c *nodeConn) opErr(op string, err error) error {
	if err == io.EOF {
		return err
	}
	return &net.OpError{Op: op, Net: c.network, Source: c.local, Addr: c.remote, Err: err}
}

// tcpAddr makes a *net.TCPAddr of a socket's address and port properties.
func tcpAddr(ip, port js.Value) net.Addr {
	a := &net.TCPAddr{}
	if ip.Type() == js.TypeString {
		a.IP = net.ParseIP(ip.String())
	}
	if port.Type() == js.TypeNumber {
		a.Port = port.Int()
	}
	return a
}

// jsErrorToGo turns a Node error into a Go error whose text matches what
// package amqp recognises from Go's net package ("connection refused",
// "no such host", ...), keyed on Node's error code.
func jsErrorToGo(v js.Value) error {
	msg := "socket error"
	code := ""
	if v.Type() == js.TypeObject {
		if m := v.Get("message"); m.Type() == js.TypeString {
			msg = m.String()
		}
		if c := v.Get("code"); c.Type() == js.TypeString {
			code = c.String()
		}
	} else if v.Type() == js.TypeString {
		msg = v.String()
	}
	switch code {
	case "ECONNREFUSED":
		return &nodeError{msg: msg, err: syscall.ECONNREFUSED}
	case "ECONNRESET":
		return &nodeError{msg: msg, err: syscall.ECONNRESET}
	case "EPIPE":
		return &nodeError{msg: msg, err: syscall.EPIPE}
	case "ETIMEDOUT":
		return &nodeError{msg: msg, err: os.ErrDeadlineExceeded}
	case "ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME":
		host := ""
		if v.Type() == js.TypeObject {
			if h := v.Get("hostname"); h.Type() == js.TypeString {
				host = h.String()
			}
		}
		return &net.DNSError{Err: "no such host", Name: host, IsNotFound: code == "ENOTFOUND"}
	}
	return errors.New(msg)
}

// nodeError keeps Node's message while unwrapping to an error package amqp
// can classify.
type nodeError struct {
	msg string
	err error
}

func (e *nodeError) Error() string { return e.err.Error() + " (" + e.msg + ")" }
func (e *nodeError) Unwrap() error { return e.err }

// jsCall calls a method and turns a JavaScript exception into an error.
func jsCall(v js.Value, method string, args ...any) (res js.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			if je, ok := r.(js.Error); ok {
				err = jsErrorToGo(je.Value)
				return
			}
			err = fmt.Errorf("%v", r)
		}
	}()
	return v.Call(method, args...), nil
}
