package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Kind says what went wrong, in the terms the bindings map to exception
// classes (STYLE.md B5).
type Kind int

// The kinds of [Error].
const (
	// KindUnknown is anything that fits no other kind.
	KindUnknown Kind = iota
	// KindConnectionClosed: the connection failed to open, is closed, or was
	// lost (socket error, missed heartbeats, closed by the client).
	KindConnectionClosed
	// KindChannelClosed: the broker closed the channel (Code 404, 405, 406,
	// 403, ...) or the connection (320, 5xx) while the call was pending, or
	// the call was made on a channel that is already closed (Code 0).
	KindChannelClosed
	// KindNoChannel: no channel id is left under channel_max.
	KindNoChannel
	// KindTimeout: the call's context ended before the call completed.
	KindTimeout
	// KindSync: the broker's reply did not match the call (protocol desync).
	KindSync
	// KindPublishNacked: the broker nacked a publish in confirm mode;
	// Error.DeliveryTag says which.
	KindPublishNacked
	// KindDuplicateConsumer: Consume with a tag that is already active on
	// the channel; nothing was sent.
	KindDuplicateConsumer
	// KindConsumerCancelled: the broker cancelled the consumer.
	KindConsumerCancelled
	// KindConnecting: a call was made while the connection is still opening.
	KindConnecting
	// KindInvalid: an argument that AMQP cannot encode (a short string over
	// 255 bytes, an unsupported table value, ...). Nothing was sent.
	KindInvalid
)

var kindNames = [...]string{
	KindUnknown:           "KindUnknown",
	KindConnectionClosed:  "KindConnectionClosed",
	KindChannelClosed:     "KindChannelClosed",
	KindNoChannel:         "KindNoChannel",
	KindTimeout:           "KindTimeout",
	KindSync:              "KindSync",
	KindPublishNacked:     "KindPublishNacked",
	KindDuplicateConsumer: "KindDuplicateConsumer",
	KindConsumerCancelled: "KindConsumerCancelled",
	KindConnecting:        "KindConnecting",
	KindInvalid:           "KindInvalid",
}

// String returns the constant's name, e.g. "KindChannelClosed".
func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the only error type this package returns to its callers.
//
// Code is the AMQP reply code when the broker sent one (404, 406, 320, ...)
// and 0 otherwise. Reason is human readable and never contains a password.
// Op names the call that failed, in aioamqp's words ("queue_declare",
// "basic_publish", "connect", ...). Err is the underlying cause, if any.
type Error struct {
	Kind   Kind
	Code   int
	Reason string
	Op     string
	Err    error

	// DeliveryTag is the publish sequence number for KindPublishNacked.
	DeliveryTag uint64
	// ConsumerTag is set for KindDuplicateConsumer and KindConsumerCancelled.
	ConsumerTag string
}

var _ error = (*Error)(nil)

// Error formats the error as "op: reason (code N)"; the op part is left out
// when Op is empty and the code part when Code is 0.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Reason != "" {
		b.WriteString(e.Reason)
	} else {
		b.WriteString(strings.ToLower(strings.TrimPrefix(e.Kind.String(), "Kind")))
	}
	if e.Code != 0 {
		b.WriteString(" (code ")
		b.WriteString(strconv.Itoa(e.Code))
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the underlying cause (often an *amqp091.Error).
func (e *Error) Unwrap() error { return e.Err }

// withOp returns a copy of e whose Op is op.
func (e *Error) withOp(op string) *Error {
	if e == nil || e.Op == op {
		return e
	}
	c := *e
	c.Op = op
	return &c
}

// Op names used in errors. Channel operations use aioamqp's method names;
// connection-level operations start with "connect".
const (
	opConnect         = "connect"
	opConnectionClose = "connection.close"
	opOpenChannel     = "connection.channel"
	opChannel         = "channel"
)

// isConnOp reports whether op is a connection-level operation, for which a
// broker close of the connection is KindConnectionClosed rather than
// KindChannelClosed.
func isConnOp(op string) bool { return strings.HasPrefix(op, "connect") }

// isSoftCode reports whether code is a channel-level (soft) AMQP exception.
func isSoftCode(code int) bool {
	switch code {
	case 311, 312, 313, 403, 404, 405, 406:
		return true
	}
	return false
}

// classify is the one place that maps amqp091-go errors, its sentinels,
// context and network errors to an *Error with a Kind. It never returns nil
// for a non-nil err. An *Error passes through (with op filled in when
// empty).
//
// For channel operations a broker-sent connection close (320, 5xx) is
// KindChannelClosed with the broker's code, as docs/api.md §7 asks; for
// connection operations (isConnOp) it is KindConnectionClosed.
func classify(op string, err error) *Error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		if own.Op == "" {
			return own.withOp(op)
		}
		return own
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Op: op, Reason: "timed out", Err: err}
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Kind: KindTimeout, Op: op, Reason: "cancelled", Err: err}
	}
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		return classifyAMQP(op, ae, err)
	}
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		return &Error{Kind: KindConnectionClosed, Op: op, Reason: "TLS handshake failed: " + tlsReason(err), Err: err}
	}
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) {
		return &Error{Kind: KindConnectionClosed, Op: op, Reason: "TLS handshake failed: " + err.Error(), Err: err}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return &Error{Kind: KindConnectionClosed, Op: op, Reason: "cannot resolve host '" + dnsErr.Name + "'", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return &Error{Kind: KindTimeout, Op: op, Reason: "timed out", Err: err}
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return &Error{Kind: KindConnectionClosed, Op: op, Reason: "connection lost: " + err.Error(), Err: err}
	}
	return &Error{Kind: KindUnknown, Op: op, Reason: err.Error(), Err: err}
}

func classifyAMQP(op string, ae *amqp091.Error, err error) *Error {
	switch ae {
	case amqp091.ErrChannelMax:
		return &Error{Kind: KindNoChannel, Op: op, Reason: "no channel id available under channel_max", Err: err}
	case amqp091.ErrClosed:
		if isConnOp(op) {
			return &Error{Kind: KindConnectionClosed, Op: op, Reason: "connection is closed", Err: err}
		}
		return &Error{Kind: KindChannelClosed, Op: op, Reason: "channel is closed", Err: err}
	case amqp091.ErrCommandInvalid, amqp091.ErrUnexpectedFrame:
		return &Error{Kind: KindSync, Code: ae.Code, Op: op, Reason: ae.Reason, Err: err}
	case amqp091.ErrFieldType:
		return &Error{Kind: KindInvalid, Op: op, Reason: ae.Reason, Err: err}
	case amqp091.ErrSASL:
		return &Error{Kind: KindConnectionClosed, Code: ae.Code, Op: op, Reason: "no authentication mechanism in common with the server", Err: err}
	case amqp091.ErrCredentials:
		return &Error{Kind: KindConnectionClosed, Code: ae.Code, Op: op, Reason: "authentication failed (ACCESS_REFUSED)", Err: err}
	case amqp091.ErrVhost:
		return &Error{Kind: KindConnectionClosed, Code: ae.Code, Op: op, Reason: "vhost not found or access refused", Err: err}
	case amqp091.ErrFrame, amqp091.ErrFrameTooLarge, amqp091.ErrSyntax:
		return &Error{Kind: KindConnectionClosed, Code: ae.Code, Op: op, Reason: "protocol error: " + ae.Reason, Err: err}
	}
	if !ae.Server {
		// Raised by the library itself: amqp091 reports socket errors as a
		// FrameError whose Reason is the I/O error text.
		switch ae.Code {
		case amqp091.CommandInvalid, amqp091.UnexpectedFrame:
			return &Error{Kind: KindSync, Code: ae.Code, Op: op, Reason: ae.Reason, Err: err}
		}
		reason := "connection lost: " + ae.Reason
		if strings.Contains(ae.Reason, "i/o timeout") {
			reason = "connection lost: missed heartbeats (" + ae.Reason + ")"
		}
		return &Error{Kind: KindConnectionClosed, Op: op, Reason: reason, Err: err}
	}
	if isSoftCode(ae.Code) || !isConnOp(op) {
		return &Error{Kind: KindChannelClosed, Code: ae.Code, Op: op, Reason: ae.Reason, Err: err}
	}
	return &Error{Kind: KindConnectionClosed, Code: ae.Code, Op: op, Reason: ae.Reason, Err: err}
}

// invalidf returns a KindInvalid error for op.
func invalidf(op, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Op: op, Reason: fmt.Sprintf(format, args...)}
}
