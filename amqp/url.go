package amqp

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// URL is what an amqp:// or amqps:// URL says about a connection: the
// settings it gives, the defaults for the rest. Nil pointers mean "not
// given" (the broker's proposal applies).
type URL struct {
	Host           string
	Port           int // 0: 5672, or 5671 with TLS
	Login          string
	Password       string
	Vhost          string
	SSL            bool
	Heartbeat      *int
	FrameMax       *int
	ChannelMax     *int
	ConnectTimeout time.Duration
}

// DefaultURL is what an empty amqp:// URL means, RabbitMQ's defaults (and
// aioamqp's): guest/guest on localhost, vhost "/".
func DefaultURL() URL {
	return URL{Host: "localhost", Login: "guest", Password: "guest", Vhost: "/"}
}

// InvalidSchemeError is a URL whose scheme is neither amqp nor amqps.
type InvalidSchemeError struct{ Scheme string }

// Error returns aioamqp's message for an unknown scheme.
func (e *InvalidSchemeError) Error() string {
	return fmt.Sprintf("Invalid protocol %s, valid protocols are amqp or amqps", e.Scheme)
}

// ParseURL parses an amqp:// or amqps:// URL as RabbitMQ's URI spec says:
// user, password and vhost are percent-decoded ("%2F" is "/"), what the URL
// leaves out takes DefaultURL's values, and the query may set heartbeat
// (seconds), frame_max, channel_max and connection_timeout (milliseconds).
// Error messages never contain the password.
func ParseURL(raw string) (URL, error) {
	d := DefaultURL()
	if raw == "" {
		return d, fmt.Errorf("empty URL: expected amqp://user:password@host:port/vhost")
	}
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return d, fmt.Errorf("invalid URL %q: expected amqp://user:password@host:port/vhost", RedactURL(raw))
	}
	switch strings.ToLower(scheme) {
	case "amqp":
	case "amqps":
		d.SSL = true
	default:
		return d, &InvalidSchemeError{Scheme: scheme}
	}
	if !strings.HasPrefix(rest, "//") {
		return d, fmt.Errorf("invalid URL %s: expected %s://host… (the '//' is missing)", RedactURL(raw), scheme)
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 && strings.ContainsAny(rest[2:at], "/?#") {
		return d, fmt.Errorf("invalid URL %s: the user name or password holds a '/', '?' or '#'; percent-encode it (%%2F, %%3F, %%23)", RedactURL(raw))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse's own message quotes parts of the input, the password
		// included: say only that it is malformed.
		return d, fmt.Errorf("invalid URL %s: malformed (check the port and that special characters are percent-encoded)", RedactURL(raw))
	}
	if h := u.Hostname(); h != "" {
		d.Host = h
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return d, fmt.Errorf("invalid port %q in URL %s", p, RedactURL(raw))
		}
		d.Port = n
	}
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			d.Login = name
		}
		if pw, ok := u.User.Password(); ok {
			d.Password = pw
		}
	}
	if len(u.Path) > 1 {
		// u.Path is already decoded; use the raw path so "%2F" stays inside the vhost name.
		vh, err := url.PathUnescape(strings.TrimPrefix(u.EscapedPath(), "/"))
		if err != nil {
			return d, fmt.Errorf("invalid vhost in URL %s", RedactURL(raw))
		}
		d.Vhost = vh
	}
	q := u.Query()
	intParam := func(name string, max int64) (*int, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 || n > max {
			return nil, fmt.Errorf("invalid %s=%q in URL %s (want an integer from 0 to %d)", name, v, RedactURL(raw), max)
		}
		i := int(n)
		return &i, nil
	}
	if d.Heartbeat, err = intParam("heartbeat", 65535); err != nil {
		return d, err
	}
	if d.FrameMax, err = intParam("frame_max", 1<<32-1); err != nil {
		return d, err
	}
	if d.FrameMax != nil && *d.FrameMax != 0 && *d.FrameMax < 4096 {
		return d, fmt.Errorf("invalid frame_max=%d in URL %s (want 0, no limit, or at least 4096)", *d.FrameMax, RedactURL(raw))
	}
	if d.ChannelMax, err = intParam("channel_max", 65535); err != nil {
		return d, err
	}
	ct, err := intParam("connection_timeout", 1<<31-1)
	if err != nil {
		return d, err
	}
	if ct != nil {
		d.ConnectTimeout = time.Duration(*ct) * time.Millisecond
	}
	return d, nil
}

// RedactURL returns raw with its password — what stands between the first
// ':' of the user part and the last '@' — replaced by "***". It does not
// parse the URL, so a malformed one is redacted too.
func RedactURL(raw string) string {
	start := 0
	if i := strings.Index(raw, "://"); i >= 0 {
		start = i + 3
	} else if i := strings.Index(raw, ":"); i >= 0 {
		start = i + 1
	}
	at := strings.LastIndex(raw, "@")
	if at < start {
		return raw
	}
	userinfo := raw[start:at]
	if k := strings.Index(userinfo, ":"); k >= 0 {
		return raw[:start] + userinfo[:k] + ":***" + raw[at:]
	}
	return raw
}
