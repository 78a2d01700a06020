package amqp

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

/*
faultConn is the fault layer: Dial wraps the dialled socket in it (below TLS),
so that a script can make its own connection misbehave on purpose (the
amqpjs/faults module): cut it, stall it, add latency, limit its bandwidth.

Until the first fault is set it is a pass-through: Read and Write go straight
to the socket, and SyscallConn hands out the socket's raw connection (wrapped,
see faultRaw) so the tap keeps its raw-syscall fast path. Setting a fault
engages the layer for the rest of the connection's life:

  - reads: a pump goroutine reads the socket into a queue of chunks, each
    stamped with the time it may be handed on (arrival + latency); Read hands
    chunks on no earlier than that, nor during a stall, nor faster than the
    bandwidth allows. The pump stops reading while a stall lasts or while the
    queue holds faultQueueMax bytes, so the peer meets TCP flow control.
  - writes: Write copies the bytes into a queue (blocking while it holds
    faultQueueMax bytes) and a pump goroutine writes them to the socket under
    the same rules.
  - the tap takes the plain net.Conn path: faultRaw.Read reports errFaultPath
    (the tap then calls Read) and faultRaw.Write declines to write.

Engaging interrupts a read that waits in the netpoller (raw or not) with a
read deadline in the past; the interrupted read comes back through the fault
path. While engaged, read and write deadlines (amqp091's heartbeat deadline,
the tap's close grace) apply to Read and Write's own waits, so a stall longer
than the heartbeat timeout ends the connection as missed heartbeats. Clearing
the faults removes every delay, but the bytes keep going through the queues
(in order) until the connection closes.

Every wait ends when the connection is closed. A cut closes the socket with
an RST (SO_LINGER 0) and no close frame; from then on Read and Write fail
with "connection reset by peer", as on a network that reset the connection.
*/
type faultConn struct {
	net.Conn

	engaged atomic.Bool // a fault was set once: the tap takes the plain path

	mu         sync.Mutex
	wake       chan struct{} // closed and replaced on every change of state
	done       chan struct{} // closed by Close
	closed     bool
	cut        bool
	stallUntil time.Time
	latency    time.Duration
	bps        int64 // bytes per second each way; 0 = unlimited
	rdl, wdl   time.Time

	rq      []faultChunk // read, not yet handed on
	rqBytes int
	rnext   time.Time // bandwidth: earliest time of the next hand-on
	rerr    error     // the read pump's error, reported after rq
	rpump   bool

	wq      []faultChunk // written by the tap, not yet sent
	wqBytes int
	wnext   time.Time
	werr    error
	wpump   bool
	pumps   sync.WaitGroup
}

type faultChunk struct {
	b   []byte
	due time.Time
}

const (
	// faultQueueMax bounds each direction's queue: a reader or writer that
	// is slower than the fault lets through meets back-pressure.
	faultQueueMax = 1 << 20
	faultReadBuf  = 32 << 10
)

// errFaultPath tells the tap's raw read to read through faultConn.Read.
var errFaultPath = errors.New("amqp: the fault layer is engaged")

func newFaultConn(c net.Conn) *faultConn {
	return &faultConn{Conn: c, wake: make(chan struct{}), done: make(chan struct{})}
}

// broadcast wakes every waiter. f.mu held.
func (f *faultConn) broadcast() {
	close(f.wake)
	f.wake = make(chan struct{})
}

// wait releases f.mu until the state changes, the connection closes or the
// earliest non-zero time of ts passes; f.mu is held again on return.
func (f *faultConn) wait(ts ...time.Time) {
	var until time.Time
	for _, t := range ts {
		if !t.IsZero() && (until.IsZero() || t.Before(until)) {
			until = t
		}
	}
	wake := f.wake
	f.mu.Unlock()
	var timer <-chan time.Time
	if !until.IsZero() {
		tm := time.NewTimer(time.Until(until))
		defer tm.Stop()
		timer = tm.C
	}
	select {
	case <-wake:
	case <-f.done:
	case <-timer:
	}
	f.mu.Lock()
}

// engage turns the fault path on. f.mu held.
func (f *faultConn) engage() {
	if f.engaged.Swap(true) {
		return
	}
	// Interrupt a read waiting for the socket (the tap's, raw or not): it
	// comes back through the fault path (see faultRaw.Read and Read).
	_ = f.Conn.SetReadDeadline(time.Now())
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// opErr is an error as net.Conn gives it for op ("read", "write").
func (f *faultConn) opErr(op string, err error) error {
	if op == "read" || op == "write" {
		if _, ok := err.(syscall.Errno); ok {
			err = os.NewSyscallError(op, err)
		}
	}
	return &net.OpError{Op: op, Net: "tcp", Source: f.Conn.LocalAddr(), Addr: f.Conn.RemoteAddr(), Err: err}
}

// Read implements net.Conn.
func (f *faultConn) Read(p []byte) (int, error) {
	if !f.engaged.Load() {
		n, err := f.Conn.Read(p)
		if !f.engaged.Load() {
			return n, err
		}
		// A fault was set meanwhile: the read was interrupted (engage,
		// a cut), or it returned bytes that may have arrived after the
		// fault was set (the netpoller lets readiness win over the
		// interrupting deadline). Those go through the queue, first.
		if n > 0 {
			f.mu.Lock()
			f.rq = append(f.rq, faultChunk{b: append([]byte(nil), p[:n]...), due: time.Now().Add(f.latency)})
			f.rqBytes += n
			f.mu.Unlock()
		}
	}
	return f.faultRead(p)
}

func (f *faultConn) faultRead(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.rpump && !f.closed && !f.cut {
		f.rpump = true
		// Only this goroutine read the socket so far, and it is here: the
		// pump is its only reader from now on.
		_ = f.Conn.SetReadDeadline(time.Time{})
		f.pumps.Add(1)
		go f.readPump()
	}
	for {
		if err := f.endedErr("read"); err != nil {
			return 0, err
		}
		now := time.Now()
		if !f.rdl.IsZero() && !now.Before(f.rdl) {
			return 0, f.opErr("read", os.ErrDeadlineExceeded)
		}
		if len(p) == 0 {
			return 0, nil
		}
		var until time.Time
		if len(f.rq) > 0 {
			c := &f.rq[0]
			ready := later(later(c.due, f.stallUntil), f.rnext)
			if !now.Before(ready) {
				n := copy(p[:f.burst(len(p))], c.b)
				c.b = c.b[n:]
				if len(c.b) == 0 {
					f.rq[0] = faultChunk{}
					f.rq = f.rq[1:]
				}
				f.rqBytes -= n
				f.rnext = f.pace(f.rnext, now, n)
				f.broadcast()
				return n, nil
			}
			until = ready
		} else if f.rerr != nil {
			return 0, f.rerr
		}
		f.wait(until, f.rdl)
	}
}

// endedErr is op's error on a connection that was cut (a reset) or closed,
// else nil. f.mu held.
func (f *faultConn) endedErr(op string) error {
	switch {
	case f.cut:
		return f.opErr(op, syscall.ECONNRESET)
	case f.closed:
		return f.opErr(op, net.ErrClosed)
	}
	return nil
}

// burst is how many of n bytes may go at once under the bandwidth limit
// (a twentieth of a second's worth, at least 1 KiB). f.mu held.
func (f *faultConn) burst(n int) int {
	if f.bps <= 0 {
		return n
	}
	return min(n, int(max(f.bps/20, 1024)))
}

// pace returns when the next bytes may go after n bytes went at now.
func (f *faultConn) pace(next, now time.Time, n int) time.Time {
	if f.bps <= 0 {
		return time.Time{}
	}
	return later(next, now).Add(time.Duration(float64(n) / float64(f.bps) * float64(time.Second)))
}

func (f *faultConn) readPump() {
	defer f.pumps.Done()
	for {
		f.mu.Lock()
		for !f.closed && !f.cut && (time.Now().Before(f.stallUntil) || f.rqBytes >= faultQueueMax) {
			f.wait(f.stallUntil)
		}
		if f.closed || f.cut {
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		buf := make([]byte, faultReadBuf)
		n, err := f.Conn.Read(buf)
		now := time.Now()
		f.mu.Lock()
		if n > 0 {
			f.rq = append(f.rq, faultChunk{b: buf[:n], due: now.Add(f.latency)})
			f.rqBytes += n
		}
		if err != nil {
			f.rerr = err
		}
		f.broadcast()
		f.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Write implements net.Conn.
func (f *faultConn) Write(p []byte) (int, error) {
	if !f.engaged.Load() {
		n, err := f.Conn.Write(p)
		if err != nil && f.engaged.Load() {
			f.mu.Lock()
			cut := f.cut
			f.mu.Unlock()
			if cut {
				return n, f.opErr("write", syscall.ECONNRESET)
			}
		}
		return n, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		if err := f.endedErr("write"); err != nil {
			return 0, err
		}
		if f.werr != nil {
			return 0, f.werr
		}
		if !f.wdl.IsZero() && !time.Now().Before(f.wdl) {
			return 0, f.opErr("write", os.ErrDeadlineExceeded)
		}
		if f.wqBytes == 0 || f.wqBytes+len(p) <= faultQueueMax {
			break
		}
		f.wait(f.wdl)
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.wq = append(f.wq, faultChunk{b: append([]byte(nil), p...), due: time.Now().Add(f.latency)})
	f.wqBytes += len(p)
	if !f.wpump {
		f.wpump = true
		_ = f.Conn.SetWriteDeadline(time.Time{})
		f.pumps.Add(1)
		go f.writePump()
	}
	f.broadcast()
	return len(p), nil
}

func (f *faultConn) writePump() {
	defer f.pumps.Done()
	f.mu.Lock()
	for {
		if f.closed || f.cut {
			f.mu.Unlock()
			return
		}
		if len(f.wq) == 0 {
			f.wait()
			continue
		}
		now := time.Now()
		c := &f.wq[0]
		if ready := later(later(c.due, f.stallUntil), f.wnext); now.Before(ready) {
			f.wait(ready)
			continue
		}
		b := c.b[:f.burst(len(c.b))]
		f.mu.Unlock()
		_, err := f.Conn.Write(b)
		f.mu.Lock()
		if err != nil {
			f.werr = err
			if f.cut {
				f.werr = f.opErr("write", syscall.ECONNRESET)
			}
			f.broadcast()
			f.mu.Unlock()
			// As tap.writeFailed: the reader must notice, unless the
			// peer reset the connection (the reader gets that itself).
			if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
				_ = f.Conn.Close()
			}
			return
		}
		c = &f.wq[0] // Write appends; the slice may have moved
		c.b = c.b[len(b):]
		if len(c.b) == 0 {
			f.wq[0] = faultChunk{}
			f.wq = f.wq[1:]
		}
		f.wqBytes -= len(b)
		f.wnext = f.pace(f.wnext, time.Now(), len(b))
		f.broadcast()
	}
}

// Close implements net.Conn; it ends every wait and both pumps.
func (f *faultConn) Close() error {
	f.mu.Lock()
	if !f.closed {
		f.closed = true
		close(f.done)
		f.broadcast()
	}
	f.mu.Unlock()
	err := f.Conn.Close()
	f.pumps.Wait() // their socket calls end with the socket
	return err
}

// SetDeadline implements net.Conn.
func (f *faultConn) SetDeadline(t time.Time) error {
	if err := f.SetReadDeadline(t); err != nil {
		return err
	}
	return f.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn: the socket's own deadline until the
// layer is engaged, then Read's.
func (f *faultConn) SetReadDeadline(t time.Time) error {
	return f.setDeadline(&f.rdl, t, f.Conn.SetReadDeadline)
}

// SetWriteDeadline implements net.Conn, as SetReadDeadline.
func (f *faultConn) SetWriteDeadline(t time.Time) error {
	return f.setDeadline(&f.wdl, t, f.Conn.SetWriteDeadline)
}

// setDeadline records one direction's deadline (*dl, guarded by f.mu) and
// hands it to the socket (set) while the layer is not engaged, else wakes
// the waiters so that they see it.
func (f *faultConn) setDeadline(dl *time.Time, t time.Time, set func(time.Time) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	*dl = t
	if !f.engaged.Load() {
		return set(t)
	}
	f.broadcast()
	return nil
}

// SyscallConn keeps the tap's raw fast path while no fault is set.
func (f *faultConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := f.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("amqp: the transport has no raw connection")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	r := &faultRaw{RawConn: rc, f: f}
	r.wrap = r.attempt
	return r, nil
}

// faultRaw is the socket's raw connection as the tap sees it: once the
// layer is engaged, reads report errFaultPath and writes decline (write
// nothing), so the bytes take faultConn's queues. Read is called by one
// goroutine at a time (the connection's reader).
type faultRaw struct {
	syscall.RawConn
	f *faultConn

	fn      func(fd uintptr) bool // Read's callback, during Read
	stopped bool                  // attempt found the layer engaged
	wrap    func(fd uintptr) bool // attempt, made once (no closure per read)
}

func (r *faultRaw) Read(fn func(fd uintptr) bool) error {
	if r.f.engaged.Load() {
		return errFaultPath
	}
	r.fn, r.stopped = fn, false
	err := r.RawConn.Read(r.wrap)
	r.fn = nil
	if r.stopped || (err != nil && r.f.engaged.Load()) {
		return errFaultPath // interrupted by engage, or by a cut
	}
	return err
}

// attempt is one read attempt of Read: none once a fault is set (a read
// woken by the socket's readiness just after engage would otherwise hand
// on bytes that arrived during the fault).
func (r *faultRaw) attempt(fd uintptr) bool {
	if r.f.engaged.Load() {
		r.stopped = true
		return true
	}
	return r.fn(fd)
}

func (r *faultRaw) Write(fn func(fd uintptr) bool) error {
	if r.f.engaged.Load() {
		return nil
	}
	return r.RawConn.Write(fn)
}

// cutNow closes the socket with an RST and no close frame. It reports false
// when the connection was already cut or closed.
func (f *faultConn) cutNow() bool {
	f.mu.Lock()
	if f.cut || f.closed {
		f.mu.Unlock()
		return false
	}
	f.engage()
	f.cut = true
	f.broadcast()
	f.mu.Unlock()
	if l, ok := f.Conn.(interface{ SetLinger(int) error }); ok {
		_ = l.SetLinger(0)
	}
	_ = f.Conn.Close()
	return true
}

func (f *faultConn) set(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.engage()
	fn()
	f.broadcast()
}

// FaultState is what is set on a connection (see Conn.Cut and the others).
type FaultState struct {
	Engaged    bool // a fault was set once: bytes go through the fault layer
	Cut        bool
	StallUntil time.Time // zero when no stall was set (or cleared)
	Latency    time.Duration
	Bandwidth  int64 // bytes per second each way; 0 = unlimited
	// ReadQueued and WriteQueued are the bytes held by the layer.
	ReadQueued, WriteQueued int
}

func (c *Conn) faults() *faultConn {
	f, _ := c.nc.(*faultConn)
	return f
}

// Cut drops the connection as a dead network does: the socket is closed at
// once with an RST and no close frame. The broker sees the socket go;
// pending calls and consumers fail, and OnClose callbacks get a
// KindConnectionClosed *Error (Code 0, Reason "connection lost: read tcp …:
// connection reset by peer"). It reports false when there was nothing to
// cut (the connection was cut or closed already).
func (c *Conn) Cut() bool {
	if f := c.faults(); f != nil {
		return f.cutNow()
	}
	return false
}

// Stall makes no byte move either way for d from now (a later Stall may
// extend it; ClearFaults ends it). A heartbeat timeout shorter than d ends
// the connection as missed heartbeats.
func (c *Conn) Stall(d time.Duration) {
	if f := c.faults(); f != nil {
		until := time.Now().Add(d)
		f.set(func() { f.stallUntil = later(f.stallUntil, until) })
	}
}

// SetLatency delays the bytes of each direction by d (so a round trip takes
// 2d more), until ClearFaults; 0 removes the delay.
func (c *Conn) SetLatency(d time.Duration) {
	if f := c.faults(); f != nil {
		f.set(func() { f.latency = d })
	}
}

// SetBandwidth limits each direction to bytesPerSecond, until ClearFaults;
// 0 removes the limit.
func (c *Conn) SetBandwidth(bytesPerSecond int64) {
	if f := c.faults(); f != nil {
		f.set(func() {
			f.bps = bytesPerSecond
			f.rnext, f.wnext = time.Time{}, time.Time{}
		})
	}
}

// ClearFaults ends a stall and removes latency and the bandwidth limit;
// bytes already held by the fault layer go on at once. A cut is final.
func (c *Conn) ClearFaults() {
	f := c.faults()
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.engaged.Load() {
		return
	}
	f.stallUntil, f.latency, f.bps = time.Time{}, 0, 0
	f.rnext, f.wnext = time.Time{}, time.Time{}
	for i := range f.rq {
		f.rq[i].due = time.Time{}
	}
	for i := range f.wq {
		f.wq[i].due = time.Time{}
	}
	f.broadcast()
}

// Faults returns the faults set on the connection.
func (c *Conn) Faults() FaultState {
	f := c.faults()
	if f == nil {
		return FaultState{}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return FaultState{
		Engaged: f.engaged.Load(), Cut: f.cut, StallUntil: f.stallUntil,
		Latency: f.latency, Bandwidth: f.bps,
		ReadQueued: f.rqBytes, WriteQueued: f.wqBytes,
	}
}
