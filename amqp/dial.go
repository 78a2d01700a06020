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
	"syscall"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Opening a connection: the dial, TLS and AMQP handshakes, and the
// negotiation of channel_max, frame_max and heartbeat.

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
