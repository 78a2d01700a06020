package amqp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClassify(t *testing.T) {
	server := func(code int, reason string) *amqp091.Error {
		return &amqp091.Error{Code: code, Reason: reason, Server: true}
	}
	local := func(code int, reason string) *amqp091.Error {
		return &amqp091.Error{Code: code, Reason: reason}
	}
	own := &Error{Kind: KindDuplicateConsumer, Code: 530, Reason: "dup"}
	cve := &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}
	tests := []struct {
		name   string
		op     string
		err    error
		kind   Kind
		code   int
		reason string // "" = don't check
	}{
		{"Own", "basic_consume", own, KindDuplicateConsumer, 530, "dup"},
		{"OwnWrapped", "x", fmt.Errorf("ctx: %w", own), KindDuplicateConsumer, 530, "dup"},
		{"Deadline", "queue_declare", context.DeadlineExceeded, KindTimeout, 0, "timed out"},
		{"Canceled", "queue_declare", context.Canceled, KindTimeout, 0, "cancelled"},
		{"ChannelMax", opOpenChannel, amqp091.ErrChannelMax, KindNoChannel, 0, ""},
		{"ClosedChannelOp", "queue_declare", amqp091.ErrClosed, KindChannelClosed, 0, "channel is closed"},
		{"ClosedConnOp", opConnectionClose, amqp091.ErrClosed, KindConnectionClosed, 0, "connection is closed"},
		{"CommandInvalid", "basic_get", amqp091.ErrCommandInvalid, KindSync, 503, ""},
		{"UnexpectedFrame", "basic_get", amqp091.ErrUnexpectedFrame, KindSync, 505, ""},
		{"UnexpectedFrameLocal", "basic_get", local(505, "unexpected"), KindSync, 505, ""},
		{"FieldType", "basic_publish", amqp091.ErrFieldType, KindInvalid, 0, ""},
		{"Credentials", opConnect, amqp091.ErrCredentials, KindConnectionClosed, 403, ""},
		{"SASL", opConnect, amqp091.ErrSASL, KindConnectionClosed, 403, ""},
		{"Vhost", opConnect, amqp091.ErrVhost, KindConnectionClosed, 403, ""},
		{"Frame", opConnect, amqp091.ErrFrame, KindConnectionClosed, 501, ""},
		{"FrameTooLarge", "channel", amqp091.ErrFrameTooLarge, KindConnectionClosed, 501, ""},
		{"NotFound", "queue_declare", server(404, "NOT_FOUND - no queue 'q'"), KindChannelClosed, 404, "NOT_FOUND - no queue 'q'"},
		{"ResourceLocked", "queue_declare", server(405, "RESOURCE_LOCKED"), KindChannelClosed, 405, ""},
		{"PreconditionFailed", "queue_declare", server(406, "PRECONDITION_FAILED"), KindChannelClosed, 406, ""},
		{"AccessRefused", "queue_bind", server(403, "ACCESS_REFUSED"), KindChannelClosed, 403, ""},
		{"SoftOnConnOp", opConnect, server(404, "NOT_FOUND"), KindChannelClosed, 404, ""},
		{"ForcedOnChannelOp", "basic_publish", server(320, "CONNECTION_FORCED - bye"), KindChannelClosed, 320, "CONNECTION_FORCED - bye"},
		{"ForcedOnConnOp", opConnectionClose, server(320, "CONNECTION_FORCED"), KindConnectionClosed, 320, ""},
		{"InternalOnConnOp", opConnect, server(541, "INTERNAL_ERROR"), KindConnectionClosed, 541, ""},
		{"NotAllowedOnConnOp", opConnect, server(530, "NOT_ALLOWED"), KindConnectionClosed, 530, ""},
		{"SocketLost", "basic_get", local(501, "EOF"), KindConnectionClosed, 0, "connection lost: EOF"},
		{"Heartbeat", "basic_get", local(501, "read tcp 1->2: i/o timeout"), KindConnectionClosed, 0, "connection lost: missed heartbeats (read tcp 1->2: i/o timeout)"},
		{"WrappedAMQP", "queue_delete", fmt.Errorf("shutdown: %w", server(404, "gone")), KindChannelClosed, 404, "gone"},
		{"TLS", opConnect, fmt.Errorf("handshake: %w", cve), KindConnectionClosed, 0, "TLS handshake failed: the server's certificate could not be verified: x509: certificate signed by unknown authority"},
		{"DNS", opConnect, &net.DNSError{Name: "nope.invalid", Err: "no such host"}, KindConnectionClosed, 0, "cannot resolve host 'nope.invalid'"},
		{"NetTimeout", opConnect, &net.OpError{Op: "dial", Err: timeoutErr{}}, KindTimeout, 0, "timed out"},
		{"OpError", opConnect, &net.OpError{Op: "read", Err: os.ErrClosed}, KindConnectionClosed, 0, ""},
		{"EOF", "basic_get", io.EOF, KindConnectionClosed, 0, "connection lost: EOF"},
		{"NetClosed", "basic_get", net.ErrClosed, KindConnectionClosed, 0, ""},
		{"Other", "basic_get", errors.New("boom"), KindUnknown, 0, "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.op, tc.err)
			if got == nil {
				t.Fatal("classify returned nil")
			}
			if got.Kind != tc.kind || got.Code != tc.code {
				t.Errorf("got %v code %d (%v), want %v code %d", got.Kind, got.Code, got, tc.kind, tc.code)
			}
			if tc.reason != "" && got.Reason != tc.reason {
				t.Errorf("reason %q, want %q", got.Reason, tc.reason)
			}
			if got.Op == "" {
				t.Errorf("op not set")
			}
			if _, isOwn := tc.err.(*Error); !isOwn && !errors.Is(got, tc.err) && got.Kind != KindDuplicateConsumer {
				t.Errorf("cause not kept: %v does not wrap %v", got, tc.err)
			}
		})
	}
	if classify("x", nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestClassifySetsOpOnlyWhenEmpty(t *testing.T) {
	e := &Error{Kind: KindTimeout, Op: "first"}
	if got := classify("second", e); got.Op != "first" {
		t.Errorf("op %q", got.Op)
	}
	e = &Error{Kind: KindTimeout}
	got := classify("second", e)
	if got.Op != "second" || e.Op != "" {
		t.Errorf("op %q, original modified to %q", got.Op, e.Op)
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Kind: KindChannelClosed, Op: "queue_declare", Code: 404, Reason: "NOT_FOUND - no queue 'q'"}, "queue_declare: NOT_FOUND - no queue 'q' (code 404)"},
		{&Error{Kind: KindConnectionClosed, Op: "connect", Reason: "timed out after 30s"}, "connect: timed out after 30s"},
		{&Error{Kind: KindTimeout}, "timeout"},
		{&Error{Kind: KindChannelClosed, Code: 320, Reason: "bye"}, "bye (code 320)"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
	cause := errors.New("cause")
	if !errors.Is(&Error{Err: cause}, cause) {
		t.Error("Unwrap")
	}
}

// TestKindString: every Kind constant (as declared in errors.go, so that a
// new kind is checked too) prints as its name; other values as Kind(n).
func TestKindString(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "errors.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			for _, n := range sp.(*ast.ValueSpec).Names {
				if strings.HasPrefix(n.Name, "Kind") {
					names = append(names, n.Name)
				}
			}
		}
	}
	if len(names) < 11 || names[0] != "KindUnknown" || names[2] != KindChannelClosed.String() {
		t.Fatalf("Kind constants read from errors.go: %v", names)
	}
	for i, want := range names { // declared with iota, in this order
		if got := Kind(i).String(); got != want {
			t.Errorf("Kind(%d): %q, want %q", i, got, want)
		}
	}
	for _, k := range []Kind{Kind(len(names)), 99, -1} {
		if got, want := k.String(), fmt.Sprintf("Kind(%d)", int(k)); got != want {
			t.Errorf("%d: %q, want %q", int(k), got, want)
		}
	}
}

func TestHandshakeError(t *testing.T) {
	tests := []struct {
		err  error
		want string
		code int
	}{
		{amqp091.ErrCredentials, "authentication failed for user 'bob' (ACCESS_REFUSED)", 403},
		{&amqp091.Error{Code: 403, Reason: "ACCESS_REFUSED - Login was refused", Server: true}, "authentication failed for user 'bob' (ACCESS_REFUSED)", 403},
		{amqp091.ErrVhost, "vhost 'v' not found or access refused", 530},
		{&amqp091.Error{Code: 530, Reason: "NOT_ALLOWED - vhost v not found", Server: true}, "vhost 'v' not found or access refused", 530},
		{&amqp091.Error{Code: 530, Reason: "NOT_ALLOWED - connection limit", Server: true}, "connection refused by the broker: NOT_ALLOWED - connection limit", 530},
		{amqp091.ErrSASL, "login method PLAIN is not offered by the server", 403},
		{&amqp091.Error{Code: 501, Reason: "EOF"}, "connection lost during handshake: EOF", 0},
		{io.EOF, "connection lost during handshake: EOF", 0},
	}
	for _, tc := range tests {
		e := handshakeError(tc.err, "bob", "", "v").(*Error)
		if e.Reason != tc.want || e.Code != tc.code || e.Kind != KindConnectionClosed || e.Op != opConnect {
			t.Errorf("%v: got %q code %d kind %v, want %q code %d", tc.err, e.Reason, e.Code, e.Kind, tc.want, tc.code)
		}
	}
}

func TestNegotiate(t *testing.T) {
	p := func(n int) *int { return &n }
	limits := []struct {
		ours         *int
		server, want int
	}{
		{nil, 2047, 2047}, {nil, 0, 0}, {p(0), 2047, 2047}, {p(10), 2047, 10},
		{p(5000), 2047, 2047}, {p(10), 0, 10}, {p(0), 0, 0}, {p(-3), 7, 7},
	}
	for _, tc := range limits {
		if got := negotiateLimit(tc.ours, tc.server, 0xFFFF); got != tc.want {
			t.Errorf("limit(%v, %d) = %d, want %d", tc.ours, tc.server, got, tc.want)
		}
	}
	hbs := []struct {
		ours         *int
		server, want int
	}{
		{nil, 60, 60}, {nil, 0, 0}, {p(0), 60, 0}, {p(1), 60, 1}, {p(100), 60, 60}, {p(100), 0, 100}, {p(0), 0, 0},
	}
	for _, tc := range hbs {
		if got := negotiateHeartbeat(tc.ours, tc.server); got != tc.want {
			t.Errorf("heartbeat(%v, %d) = %d, want %d", tc.ours, tc.server, got, tc.want)
		}
	}
}

func TestConfigStringHidesPassword(t *testing.T) {
	s := Config{Host: "h", Port: 1, Login: "u", Password: "hunter2", Vhost: "/"}.String()
	if s != "amqp://u:***@h:1//" {
		t.Errorf("%q", s)
	}
}
