package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// DefaultConnectTimeout bounds Dial when Config.ConnectTimeout is 0.
const DefaultConnectTimeout = 30 * time.Second

// TLSOptions turn on TLS. Verification of the server certificate is on
// unless SkipVerify; without CAFile the system roots are used.
type TLSOptions struct {
	CAFile     string
	CertFile   string // client certificate (with KeyFile), e.g. for EXTERNAL
	KeyFile    string
	ServerName string // defaults to Config.Host
	SkipVerify bool
}

// Config describes a connection. The zero value connects to localhost:5672,
// vhost "/", with PLAIN and an empty login.
type Config struct {
	Host     string // default "localhost"
	Port     int    // default 5672, or 5671 with TLS
	Login    string
	Password string
	Vhost    string // default "/"

	// LoginMethod is "PLAIN" (default), "AMQPLAIN" or "EXTERNAL".
	LoginMethod string

	// TLS, when not nil, wraps the socket in TLS before AMQP starts. It is
	// done here (not by amqp091-go), so it works with a custom Dial too.
	TLS *TLSOptions

	// ChannelMax, FrameMax and Heartbeat (seconds): nil takes the server's
	// proposal. Given, frame_max and channel_max take the lower of ours and
	// the server's, where 0 means no limit; heartbeat takes ours, lowered to
	// the server's when the server's is not 0, and 0 turns heartbeats off.
	ChannelMax, FrameMax, Heartbeat *int

	// ClientProperties are merged over the defaults (product "amqpjs",
	// platform, capabilities). amqp091-go always sends its own capabilities
	// table (publisher_confirms, consumer_cancel_notify, connection.blocked,
	// basic.nack), replacing a "capabilities" key given here.
	ClientProperties Table

	// ConnectTimeout bounds the dial, TLS and AMQP handshakes; 0 is
	// DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// Dial opens the transport; nil uses a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// OnBlocked and OnUnblocked report connection.blocked/unblocked. They
	// are called from a goroutine of this package and must not block.
	OnBlocked   func(reason string)
	OnUnblocked func()
}

// String describes the configuration without the password.
func (c Config) String() string {
	pw := ""
	if c.Password != "" {
		pw = ":***"
	}
	return fmt.Sprintf("amqp://%s%s@%s/%s", c.Login, pw, net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), c.Vhost)
}

// Conn is an open AMQP connection. Its methods are safe for concurrent use.
type Conn struct {
	raw   *amqp091.Connection
	nc    net.Conn // as dialled (before TLS), for addresses and Abort
	tap   *tap
	vhost string

	onBlocked   func(string)
	onUnblocked func()

	openMu   sync.Mutex // serialises OpenChannel (see tapWriter.lastOpen)
	mu       sync.Mutex
	channels map[*Channel]struct{}
	closeFns []func(*Error)
	ended    bool
	endErr   *Error // what OnClose reports; nil when the client ended it
	done     chan struct{}
	chWG     sync.WaitGroup // one per Channel until all its goroutines ended

	closing atomic.Bool // Close was called
	aborted atomic.Bool // Abort was called (or a Close timed out)
	dropped atomic.Bool // Drop was called

	serverChannelMax, serverFrameMax, serverHeartbeat int // as proposed
}

// watch is the connection's event goroutine: it drains amqp091's close and
// blocked notifications and ends the connection.
func (c *Conn) watch(closeC chan *amqp091.Error, blockC chan amqp091.Blocking) {
	var rawErr *amqp091.Error
loop:
	for {
		select {
		case b, ok := <-blockC:
			if !ok {
				blockC = nil
				continue
			}
			c.blocked(b)
		case e, ok := <-closeC:
			if ok {
				rawErr = e
				for range closeC {
				}
			}
			break loop
		}
	}
	if blockC != nil {
		for range blockC {
		}
	}

	if sc := c.tap.serverClosed(); sc != nil && ((rawErr != nil && !rawErr.Server) || (rawErr == nil && !c.closing.Load())) {
		// The broker closed the connection; a socket error that reached
		// amqp091 first (a write failing behind the close) is not the cause.
		rawErr = sc
	}
	var endErr *Error
	switch {
	case c.aborted.Load():
	case c.droppedBy(rawErr):
		endErr = c.dropErr("", rawErr)
	case rawErr != nil:
		endErr = classify(opConnect, rawErr)
		endErr.Op = ""
	case !c.closing.Load():
		endErr = &Error{Kind: KindConnectionClosed, Reason: "connection closed"}
	}
	c.mu.Lock()
	c.ended = true
	c.endErr = endErr
	fns := c.closeFns
	c.closeFns = nil
	c.mu.Unlock()

	c.chWG.Wait()
	for _, fn := range fns {
		fn(endErr)
	}
	close(c.done)
}

func (c *Conn) blocked(b amqp091.Blocking) {
	if b.Active {
		if c.onBlocked != nil {
			c.onBlocked(b.Reason)
		}
	} else if c.onUnblocked != nil {
		c.onUnblocked()
	}
}

// closedErr is the error of a call made on a connection that has ended.
func (c *Conn) closedErr(op string) *Error {
	return &Error{Kind: KindConnectionClosed, Op: op, Reason: "connection is closed"}
}

func (c *Conn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended || c.raw.IsClosed()
}

/*
OpenChannel opens a new channel and blocks until the broker confirmed it or
ctx ends. It fails with KindNoChannel when no channel id is left under
channel_max, KindConnectionClosed when the connection is closed, and
KindTimeout when ctx ends first (a channel opened later is closed again).
*/
func (c *Conn) OpenChannel(ctx context.Context) (*Channel, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c.mu.Lock()
	if c.ended || c.closing.Load() || c.raw.IsClosed() {
		c.mu.Unlock()
		return nil, c.closedErr(opOpenChannel)
	}
	c.chWG.Add(1) // released by the channel's end, or below on failure
	c.mu.Unlock()

	type result struct {
		raw *amqp091.Channel
		id  uint16
		err error
	}
	res := make(chan result, 1)
	go func() {
		// Opening is serialised so that the tap's lastOpen is this
		// channel's id.
		c.openMu.Lock()
		defer c.openMu.Unlock()
		raw, err := c.raw.Channel()
		res <- result{raw, uint16(c.tap.out.lastOpen.Load()), err}
	}()
	select {
	case r := <-res:
		if r.err != nil {
			c.chWG.Done()
			if c.dropped.Load() {
				return nil, c.dropErr(opOpenChannel, nil)
			}
			if c.raw.IsClosed() {
				return nil, c.closedErr(opOpenChannel)
			}
			return nil, classify(opOpenChannel, r.err)
		}
		return newChannel(c, r.raw, r.id), nil
	case <-ctx.Done():
		go func() {
			r := <-res
			if r.err == nil && !r.raw.IsClosed() {
				_ = r.raw.Close()
			}
			c.chWG.Done()
		}()
		return nil, timeoutError(opOpenChannel, ctx)
	}
}

/*
Close closes the connection gracefully (connection.close, then close-ok) and
waits until every channel of it has ended, or until ctx ends: then the socket
is closed at once and the result is KindTimeout. With noWait it returns as
soon as connection.close has been written. On a connection that is already
closed or closing it fails with KindConnectionClosed.
*/
func (c *Conn) Close(ctx context.Context, noWait bool) error {
	if ctx == nil {
		ctx = context.Background()
	}
	c.mu.Lock()
	if c.ended || c.raw.IsClosed() || !c.closing.CompareAndSwap(false, true) {
		c.mu.Unlock()
		return c.closedErr(opConnectionClose)
	}
	chans := make([]*Channel, 0, len(c.channels))
	for ch := range c.channels {
		chans = append(chans, ch)
	}
	c.mu.Unlock()

	// Nothing published is lost on a clean shutdown: let every channel's
	// executor write what was queued before this Close (un-awaited
	// publishes included) before Connection.Close goes out.
	for _, ch := range chans {
		ch.drain(ctx)
	}
	if ctx.Err() != nil {
		c.Abort()
		return timeoutError(opConnectionClose, ctx)
	}

	res := make(chan error, 1)
	go func() { res <- c.raw.Close() }()
	var sent <-chan struct{}
	if noWait {
		sent = c.tap.out.closeSent
	}
	select {
	case err := <-res:
		if err != nil && !errors.Is(err, amqp091.ErrClosed) {
			// The broker's close crossed ours; the connection has ended.
			return classify(opConnectionClose, err)
		}
		if err != nil {
			return c.closedErr(opConnectionClose)
		}
	case <-sent:
		return nil
	case <-ctx.Done():
		c.Abort()
		return timeoutError(opConnectionClose, ctx)
	}
	select {
	case <-c.done:
		return nil
	case <-ctx.Done():
		return timeoutError(opConnectionClose, ctx)
	}
}

// Abort closes the socket at once, without the closing handshake, as the
// client's own end of the connection (e.g. cutting short a Close). Pending
// calls fail with KindConnectionClosed; OnClose callbacks get nil, as for
// Close. To end it as a lost connection instead, see Drop.
func (c *Conn) Abort() {
	c.aborted.Store(true)
	_ = c.nc.Close()
}

/*
Drop closes the socket at once, without the closing handshake, and lets the
connection end as a lost one: unlike Abort, OnClose callbacks get a
KindConnectionClosed *Error (Code 0, Reason "connection lost: the client
closed the socket"), and pending calls and consumers fail with it, as on any
socket loss. This is aioamqp's transport.close() on an open connection, which
its tests use to simulate a lost connection. When the broker's
connection.close arrived first, that is what is reported instead.
*/
func (c *Conn) Drop() {
	c.dropped.Store(true)
	_ = c.nc.Close()
}

// droppedReason is the Reason of the errors of a connection ended by Drop.
const droppedReason = "connection lost: the client closed the socket"

// droppedBy reports whether raw, the error amqp091 ended the connection or
// a channel with, is the socket error that Drop caused (not a close sent by
// the broker, nor the end of a close handshake that completed first).
func (c *Conn) droppedBy(raw *amqp091.Error) bool {
	return raw != nil && !raw.Server && c.dropped.Load()
}

// dropErr is the error of op on a connection ended by Drop; raw is the socket
// error amqp091 saw (read or write on a closed connection, which names the
// local port: the Reason says what happened instead).
func (c *Conn) dropErr(op string, raw *amqp091.Error) *Error {
	e := &Error{Kind: KindConnectionClosed, Op: op, Reason: droppedReason}
	if raw != nil {
		e.Err = raw
	}
	return e
}

/*
OnClose registers fn to be called exactly once when the connection has ended
(after all its channels ended): with nil when the client ended it (Close or
Abort), otherwise with a KindConnectionClosed *Error whose Code and Reason are
the broker's connection.close (320 CONNECTION_FORCED, ...) or, with Code 0,
the socket error (Drop's included) or missed heartbeats. fn runs on a goroutine of this package
and must not block. Registered after the end, fn is called at once from a new
goroutine.
*/
func (c *Conn) OnClose(fn func(err *Error)) {
	c.mu.Lock()
	if c.ended {
		err := c.endErr
		c.mu.Unlock()
		go func() {
			<-c.done
			fn(err)
		}()
		return
	}
	c.closeFns = append(c.closeFns, fn)
	c.mu.Unlock()
}

// Done is closed when the connection has ended and OnClose callbacks ran.
func (c *Conn) Done() <-chan struct{} { return c.done }

// ServerProperties returns the broker's connection.start properties.
func (c *Conn) ServerProperties() Table { return fromAMQPTable(c.raw.Properties) }

// Tuning returns the negotiated channel_max, frame_max and heartbeat
// (seconds; 0 = off).
func (c *Conn) Tuning() (channelMax, frameMax, heartbeatSeconds int) {
	cfg := c.raw.Config
	return int(cfg.ChannelMax), cfg.FrameSize, int(cfg.Heartbeat / time.Second)
}

// ServerTuning returns what the broker proposed in connection.tune.
func (c *Conn) ServerTuning() (channelMax, frameMax, heartbeatSeconds int) {
	return c.serverChannelMax, c.serverFrameMax, c.serverHeartbeat
}

// LocalAddr returns the local address as "host:port" ("[::1]:5672" for IPv6),
// or "" when the transport has none.
func (c *Conn) LocalAddr() string { return addrString(c.nc.LocalAddr()) }

// RemoteAddr returns the broker's address as "host:port".
func (c *Conn) RemoteAddr() string { return addrString(c.nc.RemoteAddr()) }

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// ChannelsInUse returns the number of open channels.
func (c *Conn) ChannelsInUse() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.channels)
}

// IsClosed reports whether the connection is closed or closing.
func (c *Conn) IsClosed() bool { return c.closing.Load() || c.isClosed() }
