package amqp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

	openMu   sync.Mutex // serialises OpenChannel (see tap.lastOpen)
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

/*
Dial connects, performs the TLS and AMQP handshakes and returns the open
connection. It blocks until then, for at most cfg.ConnectTimeout (or until ctx
ends).

On failure it returns an *Error of KindConnectionClosed whose Reason says
which step failed: "connection refused to host:port", "cannot resolve host
'h'", "TLS handshake failed: <reason>", "authentication failed for user 'u'
(ACCESS_REFUSED)", "vhost 'v' not found or access refused", "timed out after
30s". No message contains the password.
*/
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	host := cfg.Host
	if host == "" {
		host = "localhost"
	}
	port := cfg.Port
	if port == 0 {
		port = 5672
		if cfg.TLS != nil {
			port = 5671
		}
	}
	vhost := cfg.Vhost
	if vhost == "" {
		vhost = "/"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	timeout := cfg.ConnectTimeout
	if timeout <= 0 {
		timeout = DefaultConnectTimeout
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl).Round(time.Millisecond)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	fail := func(reason string, err error) error {
		return &Error{Kind: KindConnectionClosed, Op: opConnect, Reason: reason, Err: err}
	}
	timedOut := func(err error) error {
		if ctx.Err() == context.Canceled {
			return fail("connect cancelled", err)
		}
		return fail("timed out after "+timeout.String(), err)
	}

	auth, err := saslFor(cfg)
	if err != nil {
		return nil, fail(err.Error(), err)
	}
	props, err := clientProperties(cfg.ClientProperties)
	if err != nil {
		return nil, fail("client_properties: "+err.Error(), err)
	}
	var tcfg *tls.Config
	if cfg.TLS != nil {
		if tcfg, err = tlsConfig(cfg.TLS, host); err != nil {
			return nil, fail("TLS configuration: "+err.Error(), err)
		}
	}

	dial := cfg.Dial
	if dial == nil {
		d := &net.Dialer{}
		dial = d.DialContext
	}
	nc, err := dial(dctx, "tcp", addr)
	if err != nil {
		if dctx.Err() != nil {
			return nil, timedOut(err)
		}
		return nil, dialError(addr, host, err)
	}
	// The fault layer (fault.go): a pass-through until a fault is set.
	nc = newFaultConn(nc)
	conn := nc
	if tcfg != nil {
		tc := tls.Client(nc, tcfg)
		if err := tc.HandshakeContext(dctx); err != nil {
			nc.Close()
			if dctx.Err() != nil {
				return nil, timedOut(err)
			}
			return nil, fail("TLS handshake failed: "+tlsReason(err), err)
		}
		conn = tc
	}

	c := &Conn{
		nc:          nc,
		vhost:       vhost,
		onBlocked:   cfg.OnBlocked,
		onUnblocked: cfg.OnUnblocked,
		channels:    map[*Channel]struct{}{},
		done:        make(chan struct{}),
	}
	c.tap = newTap(conn, c.tuner(cfg.ChannelMax, cfg.FrameMax, cfg.Heartbeat))

	// The handshake is bounded by a socket deadline (amqp091 clears it in
	// openComplete) and by ctx, which closes the socket.
	if dl, ok := dctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stopWatch := context.AfterFunc(dctx, func() { conn.Close() })
	// ChannelMax, FrameSize and Heartbeat stay 0 so that amqp091 takes what
	// connection.tune says, which the tap has rewritten to our negotiated
	// values (amqp091's own pick() cannot turn heartbeats off).
	raw, err := amqp091.Open(c.tap, amqp091.Config{
		SASL:       []amqp091.Authentication{auth},
		Vhost:      vhost,
		Properties: props,
		Locale:     "en_US",
	})
	watching := stopWatch()
	if err != nil || !watching {
		conn.Close() // ends amqp091's reader goroutine
		if dl, ok := dctx.Deadline(); dctx.Err() != nil || (ok && !time.Now().Before(dl)) {
			return nil, timedOut(err)
		}
		return nil, handshakeError(err, cfg.Login, cfg.LoginMethod, vhost)
	}
	c.raw = raw

	closeC := raw.NotifyClose(make(chan *amqp091.Error, 1))
	blockC := raw.NotifyBlocked(make(chan amqp091.Blocking, 4))
	go c.watch(closeC, blockC)
	return c, nil
}

func saslFor(cfg Config) (amqp091.Authentication, error) {
	switch strings.ToUpper(cfg.LoginMethod) {
	case "", "PLAIN":
		return &amqp091.PlainAuth{Username: cfg.Login, Password: cfg.Password}, nil
	case "AMQPLAIN":
		return &amqp091.AMQPlainAuth{Username: cfg.Login, Password: cfg.Password}, nil
	case "EXTERNAL":
		return &amqp091.ExternalAuth{}, nil
	}
	return nil, fmt.Errorf("unsupported login method %q (expected PLAIN, AMQPLAIN or EXTERNAL)", cfg.LoginMethod)
}

func clientProperties(user Table) (amqp091.Table, error) {
	props := amqp091.Table{
		"product":  "amqpjs",
		"platform": "Go " + goruntime.Version(),
		"capabilities": amqp091.Table{
			"publisher_confirms":     true,
			"consumer_cancel_notify": true,
			"connection.blocked":     true,
			"basic.nack":             true,
		},
	}
	extra, err := toAMQPTable(user)
	if err != nil {
		return nil, err
	}
	for k, v := range extra {
		props[k] = v
	}
	return props, nil
}

func tlsConfig(o *TLSOptions, host string) (*tls.Config, error) {
	cfg := &tls.Config{
		ServerName:         o.ServerName,
		InsecureSkipVerify: o.SkipVerify, //nolint:gosec // only when asked for
		MinVersion:         tls.VersionTLS12,
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("no PEM certificate in CA file %s", o.CAFile)
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" || o.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loading client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// tlsReason says why a TLS handshake failed; a certificate that could not
// be verified says so in those words.
func tlsReason(err error) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return "the server's certificate could not be verified: " + cve.Err.Error()
	}
	return err.Error()
}

func dialError(addr, host string, err error) error {
	e := &Error{Kind: KindConnectionClosed, Op: opConnect, Err: err}
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &dnsErr):
		e.Reason = "cannot resolve host '" + host + "'"
		if dnsErr.Err != "" {
			e.Reason += ": " + dnsErr.Err
		}
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = "connection refused to " + addr
	default:
		e.Reason = "cannot connect to " + addr + ": " + err.Error()
	}
	return e
}

func handshakeError(err error, login, method, vhost string) error {
	e := &Error{Kind: KindConnectionClosed, Op: opConnect, Err: err}
	var ae *amqp091.Error
	if !errors.As(err, &ae) {
		e.Reason = "connection lost during handshake: " + err.Error()
		return e
	}
	if method == "" {
		method = "PLAIN"
	}
	switch {
	case ae == amqp091.ErrCredentials || (ae.Server && ae.Code == amqp091.AccessRefused):
		e.Code = amqp091.AccessRefused
		e.Reason = "authentication failed for user '" + login + "' (ACCESS_REFUSED)"
	case ae == amqp091.ErrSASL:
		e.Code = amqp091.AccessRefused
		e.Reason = "login method " + strings.ToUpper(method) + " is not offered by the server"
	case ae == amqp091.ErrVhost || (ae.Server && ae.Code == amqp091.NotAllowed && strings.Contains(strings.ToLower(ae.Reason), "vhost")):
		e.Code = amqp091.NotAllowed
		e.Reason = "vhost '" + vhost + "' not found or access refused"
	case ae.Server:
		e.Code = ae.Code
		e.Reason = "connection refused by the broker: " + ae.Reason
	default:
		e.Reason = "connection lost during handshake: " + ae.Reason
	}
	return e
}

// tuner returns the tap's connection.tune rewriter: it applies Config's
// negotiation rules to the server's proposal in place.
func (c *Conn) tuner(channelMax, frameMax, heartbeat *int) func([]byte) {
	return func(b []byte) {
		sc := int(binary.BigEndian.Uint16(b[0:2]))
		sf := int(binary.BigEndian.Uint32(b[2:6]))
		sh := int(binary.BigEndian.Uint16(b[6:8]))
		c.serverChannelMax, c.serverFrameMax, c.serverHeartbeat = sc, sf, sh
		ch := negotiateLimit(channelMax, sc, 0xFFFF)
		fm := negotiateLimit(frameMax, sf, 0xFFFFFFFF)
		if fm > 0 && fm < 4096 {
			fm = 4096 // the spec's minimum; amqp091 enforces it too
		}
		hb := negotiateHeartbeat(heartbeat, sh)
		binary.BigEndian.PutUint16(b[0:2], uint16(ch))
		binary.BigEndian.PutUint32(b[2:6], uint32(fm))
		binary.BigEndian.PutUint16(b[6:8], uint16(hb))
	}
}

// negotiateLimit: nil takes the server's value; otherwise the lower of the
// two where 0 means no limit.
func negotiateLimit(ours *int, server, max int) int {
	if ours == nil {
		return server
	}
	o := *ours
	if o < 0 {
		o = 0
	}
	if o > max {
		o = max
	}
	switch {
	case o == 0:
		return server
	case server == 0:
		return o
	}
	return min(o, server)
}

// negotiateHeartbeat: nil takes the server's value; 0 is off; otherwise
// ours, lowered to the server's when that is not 0.
func negotiateHeartbeat(ours *int, server int) int {
	if ours == nil {
		return server
	}
	o := min(max(*ours, 0), 0xFFFF)
	if o == 0 || server == 0 {
		return o
	}
	return min(o, server)
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
		res <- result{raw, uint16(c.tap.lastOpen.Load()), err}
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
		sent = c.tap.closeSent
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
