package bindings

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ConnectDefaults are connect()'s defaults taken from --url / AMQP_URL, or
// the parsed parts of a from_url() URL. Nil pointers mean "not given".
type ConnectDefaults struct {
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

// aioamqp's defaults.
func builtinDefaults() ConnectDefaults {
	return ConnectDefaults{Host: "localhost", Login: "guest", Password: "guest", Vhost: "/"}
}

// InvalidSchemeError is a URL whose scheme is neither amqp nor amqps.
type InvalidSchemeError struct{ Scheme string }

func (e *InvalidSchemeError) Error() string {
	return fmt.Sprintf("Invalid protocol %s, valid protocols are amqp or amqps", e.Scheme)
}

// ParseURL parses an amqp:// or amqps:// URL as RabbitMQ's URI spec says:
// user, password and vhost are percent-decoded ("%2F" is "/"), what the URL
// leaves out takes aioamqp's defaults, and the query may set heartbeat
// (seconds), frame_max, channel_max and connection_timeout (milliseconds).
// Error messages never contain the password.
func ParseURL(raw string) (ConnectDefaults, error) {
	d := builtinDefaults()
	u, err := url.Parse(raw)
	if err != nil {
		return d, fmt.Errorf("invalid URL %q: %v", RedactURL(raw), stripURLFromErr(err))
	}
	switch strings.ToLower(u.Scheme) {
	case "amqp":
	case "amqps":
		d.SSL = true
	default:
		return d, &InvalidSchemeError{Scheme: u.Scheme}
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
	intParam := func(name string) (*int, error) {
		v := q.Get(name)
		if v == "" {
			return nil, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid %s=%q in URL %s (want a non-negative integer)", name, v, RedactURL(raw))
		}
		return &n, nil
	}
	if d.Heartbeat, err = intParam("heartbeat"); err != nil {
		return d, err
	}
	if d.FrameMax, err = intParam("frame_max"); err != nil {
		return d, err
	}
	if d.ChannelMax, err = intParam("channel_max"); err != nil {
		return d, err
	}
	ct, err := intParam("connection_timeout")
	if err != nil {
		return d, err
	}
	if ct != nil {
		d.ConnectTimeout = time.Duration(*ct) * time.Millisecond
	}
	return d, nil
}

// DefaultsFromURL parses the --url / AMQP_URL value; "" gives nil (aioamqp's
// defaults apply).
func DefaultsFromURL(raw string) (*ConnectDefaults, error) {
	if raw == "" {
		return nil, nil
	}
	d, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// RedactURL returns raw with its password replaced by "***". Strings that do
// not parse are returned with everything between "://" and "@" replaced.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "___AMQPJS_REDACTED___")
			return strings.Replace(u.String(), "___AMQPJS_REDACTED___", "***", 1)
		}
		return raw
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		if j := strings.LastIndex(raw, "@"); j > i {
			rest := raw[i+3 : j]
			if k := strings.Index(rest, ":"); k >= 0 {
				return raw[:i+3] + rest[:k] + ":***" + raw[j:]
			}
		}
	}
	return raw
}

func stripURLFromErr(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return "malformed"
}
