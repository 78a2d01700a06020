// Package mgmt is a client of RabbitMQ's management HTTP API (the
// rabbitmq_management plugin, port 15672): the overview, nodes, queues and
// connections, and closing a connection. It knows no JavaScript; the
// amqpjs/rabbitmq module (package bindings) and the broker metrics of
// scenario runs use it.
//
// Every method takes a context and ends when it ends, or after
// [Config.Timeout] when the context has no deadline. Errors are [*Error]: the HTTP status the API answered
// (401 bad credentials, 404 no such object, ...), or status 0 when nothing
// answered — then the message says that the management plugin may be
// missing and how to enable it.
package mgmt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// DefaultPort is the management API's port.
const DefaultPort = 15672

// DefaultTimeout bounds each request when Config.Timeout is 0.
const DefaultTimeout = 10 * time.Second

// Config says where the management API is and how to log in.
type Config struct {
	// URL is the API's base, e.g. "http://localhost:15672" (or with a
	// path, "https://proxy/rabbitmq"). User and password in the URL win
	// over User and Password.
	URL string
	// User and Password are the credentials when the URL has none (the
	// AMQP URL's, by default).
	User, Password string
	// Vhost is the virtual host of calls that do not name one ("/" when
	// empty).
	Vhost string
	// Timeout bounds each request (DefaultTimeout when 0).
	Timeout time.Duration
}

// Client calls the management API. Its methods may be called from any
// goroutine at once. Close releases its idle connections.
type Client struct {
	base       string // scheme://host[:port][/path], no trailing '/', no credentials
	user, pass string
	vhost      string
	timeout    time.Duration
	transport  *http.Transport
	hc         *http.Client
}

// New checks cfg and makes a client. It does not connect.
func New(cfg Config) (*Client, error) {
	raw := strings.TrimSpace(cfg.URL)
	if raw == "" {
		return nil, fmt.Errorf("management URL is empty (want http://host:%d)", DefaultPort)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid management URL %q (want http://host:%d)", Redact(raw), DefaultPort)
	}
	switch u.Scheme {
	case "http", "https":
	default:
		return nil, fmt.Errorf("invalid management URL %q: the scheme must be http or https (e.g. http://host:%d)", Redact(raw), DefaultPort)
	}
	if u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("invalid management URL %q (want http://host:%d)", Redact(raw), DefaultPort)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("invalid management URL %q: no query or fragment", Redact(raw))
	}
	c := &Client{user: cfg.User, pass: cfg.Password, vhost: cfg.Vhost, timeout: cfg.Timeout}
	if u.User != nil {
		c.user = u.User.Username()
		if pw, ok := u.User.Password(); ok {
			c.pass = pw
		}
		u.User = nil
	}
	if c.vhost == "" {
		c.vhost = "/"
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	c.base = strings.TrimRight(u.String(), "/")
	c.transport = &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: c.timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
		TLSHandshakeTimeout: c.timeout,
	}
	c.hc = &http.Client{Transport: c.transport}
	return c, nil
}

// URL is the API's base URL, without credentials.
func (c *Client) URL() string { return c.base }

// Vhost is the virtual host of calls that do not name one.
func (c *Client) Vhost() string { return c.vhost }

// Close closes the client's idle connections. The client stays usable.
func (c *Client) Close() { c.transport.CloseIdleConnections() }

// Redact returns raw with the password of its user part replaced by "***".
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		if at := strings.LastIndex(raw, "@"); at >= 0 {
			if s := strings.Index(raw, "://"); s >= 0 && s < at {
				if k := strings.Index(raw[s+3:at], ":"); k >= 0 {
					return raw[:s+3+k] + ":***" + raw[at:]
				}
			}
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxx")
		return strings.Replace(u.String(), ":xxx@", ":***@", 1)
	}
	return u.String()
}

// Error is a failed call: the API answered with an error status, or did not
// answer (Status 0, Err says why).
type Error struct {
	Method string // GET, DELETE
	URL    string // the request's URL, without credentials
	Status int    // the HTTP status; 0 when the API did not answer
	Reason string // the API's explanation ("Not Found", "Login failed"), if any
	What   string // what was asked for ("queue 'jobs' in vhost '/'"), if known
	Err    error  // the transport error when Status is 0
}

// Error says what failed and, for the common cases, what to do.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Status == 0:
		where, _, _ := strings.Cut(e.URL, "?")
		fmt.Fprintf(&b, "cannot reach the RabbitMQ management API at %s: %v", where, unwrapNet(e.Err))
		if isRefused(e.Err) {
			b.WriteString("; the management plugin may be missing: enable it with 'rabbitmq-plugins enable rabbitmq_management', or give the API's address with --management-url")
		}
		return b.String()
	case e.Status == http.StatusNotFound && e.What != "":
		fmt.Fprintf(&b, "%s not found (HTTP 404 from %s %s)", e.What, e.Method, e.URL)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s: HTTP %d %s", e.Method, e.URL, e.Status, http.StatusText(e.Status))
	if e.Reason != "" && !strings.EqualFold(e.Reason, http.StatusText(e.Status)) {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	switch e.Status {
	case http.StatusUnauthorized:
		b.WriteString(" (check the user and password: those of the AMQP URL, or of --management-url; the user needs a management tag)")
	case http.StatusForbidden:
		b.WriteString(" (the user lacks the permission or the management tag this needs)")
	}
	return b.String()
}

// Unwrap returns the transport error.
func (e *Error) Unwrap() error { return e.Err }

func isRefused(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }

// unwrapNet shortens net/http's "Get \"url\": dial tcp ...: connect:
// connection refused" to its last part (the URL is already in the message).
func unwrapNet(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		var se *net.DNSError
		if errors.As(oe.Err, &se) {
			return se
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return errors.New("connection refused")
		}
		return oe.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return errors.New("timed out")
	}
	return err
}

// do makes one request to path (already escaped, from "/api/") and decodes
// a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path, what string, hdr http.Header, out any) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	full := c.base + path
	req, err := http.NewRequestWithContext(ctx, method, full, nil)
	if err != nil {
		return &Error{Method: method, URL: full, What: what, Err: err}
	}
	if c.user != "" || c.pass != "" {
		req.SetBasicAuth(c.user, c.pass)
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Method: method, URL: full, What: what, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return &Error{Method: method, URL: full, What: what, Err: err}
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Method: method, URL: full, Status: resp.StatusCode, What: what}
		var apiErr struct {
			Error  string `json:"error"`
			Reason any    `json:"reason"`
		}
		if json.Unmarshal(body, &apiErr) == nil {
			switch r := apiErr.Reason.(type) {
			case string:
				e.Reason = r
			case nil:
				e.Reason = apiErr.Error
			default:
				rb, _ := json.Marshal(r)
				e.Reason = string(rb)
			}
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &Error{Method: method, URL: full, Status: resp.StatusCode, What: what, Reason: "the answer is not the expected JSON: " + err.Error()}
	}
	return nil
}

func (c *Client) vh(vhost string) string {
	if vhost == "" {
		return c.vhost
	}
	return vhost
}

// Rates are message rates per second over the broker's last sampling
// window.
type Rates struct {
	Publish    float64 `json:"publish"`    // published into the queue / the broker
	Deliver    float64 `json:"deliver"`    // delivered to consumers and basic.get (deliver_get)
	Ack        float64 `json:"ack"`        // acknowledged by consumers
	Redeliver  float64 `json:"redeliver"`  // redelivered
	Confirm    float64 `json:"confirm"`    // confirmed to publishers (overview)
	Unroutable float64 `json:"unroutable"` // returned or dropped as unroutable (overview)
}

type detail struct {
	Rate float64 `json:"rate"`
}

type messageStats struct {
	Publish          detail `json:"publish_details"`
	DeliverGet       detail `json:"deliver_get_details"`
	Ack              detail `json:"ack_details"`
	Redeliver        detail `json:"redeliver_details"`
	Confirm          detail `json:"confirm_details"`
	ReturnUnroutable detail `json:"return_unroutable_details"`
	DropUnroutable   detail `json:"drop_unroutable_details"`
}

func (m *messageStats) rates() Rates {
	return Rates{
		Publish: m.Publish.Rate, Deliver: m.DeliverGet.Rate, Ack: m.Ack.Rate, Redeliver: m.Redeliver.Rate,
		Confirm: m.Confirm.Rate, Unroutable: m.ReturnUnroutable.Rate + m.DropUnroutable.Rate,
	}
}

// Overview is GET /api/overview.
type Overview struct {
	RabbitMQVersion string
	ErlangVersion   string
	ClusterName     string
	Node            string
	Messages        int64 // in all queues
	Ready           int64
	Unacknowledged  int64
	Rates           Rates
	Connections     int64
	Channels        int64
	Queues          int64
	Consumers       int64
	Exchanges       int64
	Raw             json.RawMessage // the whole answer
}

// Overview returns the cluster's overview.
func (c *Client) Overview(ctx context.Context) (*Overview, error) {
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/api/overview", "", nil, &raw); err != nil {
		return nil, err
	}
	var o struct {
		RabbitMQVersion string       `json:"rabbitmq_version"`
		ErlangVersion   string       `json:"erlang_version"`
		ClusterName     string       `json:"cluster_name"`
		Node            string       `json:"node"`
		MessageStats    messageStats `json:"message_stats"`
		QueueTotals     struct {
			Messages       int64 `json:"messages"`
			Ready          int64 `json:"messages_ready"`
			Unacknowledged int64 `json:"messages_unacknowledged"`
		} `json:"queue_totals"`
		ObjectTotals struct {
			Connections int64 `json:"connections"`
			Channels    int64 `json:"channels"`
			Queues      int64 `json:"queues"`
			Consumers   int64 `json:"consumers"`
			Exchanges   int64 `json:"exchanges"`
		} `json:"object_totals"`
	}
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, &Error{Method: http.MethodGet, URL: c.base + "/api/overview", Status: 200, Reason: "the answer is not the expected JSON: " + err.Error()}
	}
	return &Overview{
		RabbitMQVersion: o.RabbitMQVersion, ErlangVersion: o.ErlangVersion, ClusterName: o.ClusterName, Node: o.Node,
		Messages: o.QueueTotals.Messages, Ready: o.QueueTotals.Ready, Unacknowledged: o.QueueTotals.Unacknowledged,
		Rates:       o.MessageStats.rates(),
		Connections: o.ObjectTotals.Connections, Channels: o.ObjectTotals.Channels, Queues: o.ObjectTotals.Queues,
		Consumers: o.ObjectTotals.Consumers, Exchanges: o.ObjectTotals.Exchanges,
		Raw: raw,
	}, nil
}

// Node is one entry of GET /api/nodes.
type Node struct {
	Name          string `json:"name"`
	Running       bool   `json:"running"`
	MemUsed       int64  `json:"mem_used"`
	MemLimit      int64  `json:"mem_limit"`
	MemAlarm      bool   `json:"mem_alarm"`
	DiskFree      int64  `json:"disk_free"`
	DiskFreeLimit int64  `json:"disk_free_limit"`
	DiskFreeAlarm bool   `json:"disk_free_alarm"`
	FDUsed        int64  `json:"fd_used"`
	FDTotal       int64  `json:"fd_total"`
}

// Nodes returns the cluster's nodes (memory, disk, file descriptors).
func (c *Client) Nodes(ctx context.Context) ([]Node, error) {
	var nodes []Node
	cols := "?columns=name,running,mem_used,mem_limit,mem_alarm,disk_free,disk_free_limit,disk_free_alarm,fd_used,fd_total"
	if err := c.do(ctx, http.MethodGet, "/api/nodes"+cols, "", nil, &nodes); err != nil {
		return nil, err
	}
	return nodes, nil
}

// Queue is a queue as GET /api/queues reports it. Message counts are the
// broker's statistics, refreshed every collect_statistics_interval (5 s by
// default): a queue declared a moment ago may show 0 and HasStats false.
type Queue struct {
	Name           string
	Vhost          string
	Type           string // classic, quorum, stream
	State          string // running, idle, ...
	Durable        bool
	AutoDelete     bool
	Exclusive      bool
	Messages       int64 // ready + unacknowledged
	Ready          int64
	Unacknowledged int64
	Consumers      int64
	Memory         int64 // bytes
	Rates          Rates
	HasStats       bool            // the broker has reported the counts yet
	Raw            json.RawMessage // the queue's object as the API gave it
}

type queueJSON struct {
	Name           string       `json:"name"`
	Vhost          string       `json:"vhost"`
	Type           string       `json:"type"`
	State          string       `json:"state"`
	Durable        bool         `json:"durable"`
	AutoDelete     bool         `json:"auto_delete"`
	Exclusive      bool         `json:"exclusive"`
	Messages       *int64       `json:"messages"`
	Ready          int64        `json:"messages_ready"`
	Unacknowledged int64        `json:"messages_unacknowledged"`
	Consumers      int64        `json:"consumers"`
	Memory         int64        `json:"memory"`
	MessageStats   messageStats `json:"message_stats"`
}

func (q *queueJSON) queue(raw json.RawMessage) Queue {
	out := Queue{
		Name: q.Name, Vhost: q.Vhost, Type: q.Type, State: q.State, Durable: q.Durable, AutoDelete: q.AutoDelete,
		Exclusive: q.Exclusive, Ready: q.Ready, Unacknowledged: q.Unacknowledged, Consumers: q.Consumers,
		Memory: q.Memory, Rates: q.MessageStats.rates(), HasStats: q.Messages != nil, Raw: raw,
	}
	if q.Messages != nil {
		out.Messages = *q.Messages
	}
	return out
}

// Queue returns the queue name of vhost ("" for the client's vhost). A
// missing queue is an *Error with Status 404.
func (c *Client) Queue(ctx context.Context, vhost, name string) (*Queue, error) {
	vhost = c.vh(vhost)
	var raw json.RawMessage
	what := fmt.Sprintf("queue '%s' in vhost '%s'", name, vhost)
	if err := c.do(ctx, http.MethodGet, "/api/queues/"+url.PathEscape(vhost)+"/"+url.PathEscape(name), what, nil, &raw); err != nil {
		return nil, err
	}
	var qj queueJSON
	if err := json.Unmarshal(raw, &qj); err != nil {
		return nil, &Error{Method: http.MethodGet, URL: c.base + "/api/queues", Status: 200, Reason: "the answer is not the expected JSON: " + err.Error()}
	}
	q := qj.queue(raw)
	return &q, nil
}

// queueColumns are the fields Queues asks for when counts is set.
const queueColumns = "name,vhost,type,state,messages,messages_ready,messages_unacknowledged,consumers"

// Queues returns the queues of vhost ("" for the client's vhost; "*" for
// every vhost). With countsOnly, the API sends only the names, states and
// counts (cheaper on a broker with many queues; Raw then holds only those).
func (c *Client) Queues(ctx context.Context, vhost string, countsOnly bool) ([]Queue, error) {
	path := "/api/queues"
	what := "queues"
	if vhost != "*" {
		vhost = c.vh(vhost)
		path += "/" + url.PathEscape(vhost)
		what = fmt.Sprintf("vhost '%s'", vhost)
	}
	if countsOnly {
		path += "?columns=" + queueColumns
	}
	var raws []json.RawMessage
	if err := c.do(ctx, http.MethodGet, path, what, nil, &raws); err != nil {
		return nil, err
	}
	out := make([]Queue, 0, len(raws))
	for _, raw := range raws {
		var qj queueJSON
		if err := json.Unmarshal(raw, &qj); err != nil {
			return nil, &Error{Method: http.MethodGet, URL: c.base + path, Status: 200, Reason: "the answer is not the expected JSON: " + err.Error()}
		}
		out = append(out, qj.queue(raw))
	}
	return out, nil
}

// Connection is a client connection as GET /api/connections reports it.
type Connection struct {
	Name             string          `json:"name"`               // "127.0.0.1:50312 -> 127.0.0.1:5672"
	ConnectionName   string          `json:"user_provided_name"` // the client's connection_name property
	User             string          `json:"user"`
	Vhost            string          `json:"vhost"`
	State            string          `json:"state"`
	PeerHost         string          `json:"peer_host"`
	PeerPort         int             `json:"peer_port"`
	Channels         int64           `json:"channels"`
	ConnectedAt      int64           `json:"connected_at"` // Unix milliseconds
	ClientProperties json.RawMessage `json:"client_properties"`
	Raw              json.RawMessage `json:"-"`
}

// Connections returns the broker's client connections (of every vhost the
// user may see).
func (c *Client) Connections(ctx context.Context) ([]Connection, error) {
	var raws []json.RawMessage
	if err := c.do(ctx, http.MethodGet, "/api/connections", "", nil, &raws); err != nil {
		return nil, err
	}
	out := make([]Connection, 0, len(raws))
	for _, raw := range raws {
		var cn Connection
		if err := json.Unmarshal(raw, &cn); err != nil {
			return nil, &Error{Method: http.MethodGet, URL: c.base + "/api/connections", Status: 200, Reason: "the answer is not the expected JSON: " + err.Error()}
		}
		cn.Raw = raw
		out = append(out, cn)
	}
	return out, nil
}

// CloseConnection has the broker close the connection name with
// connection.close 320 (CONNECTION_FORCED) and reason as its text. A
// connection that is not there is an *Error with Status 404.
func (c *Client) CloseConnection(ctx context.Context, name, reason string) error {
	hdr := http.Header{}
	if reason != "" {
		hdr.Set("X-Reason", reason)
	}
	return c.do(ctx, http.MethodDelete, "/api/connections/"+url.PathEscape(name), fmt.Sprintf("connection '%s'", name), hdr, nil)
}
