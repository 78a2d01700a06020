//go:build integration

package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testutil"
)

const callTimeout = 15 * time.Second

func amqpURL() string {
	if u := os.Getenv("AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

// testConfig returns the Config of AMQP_URL, naming the connection after
// the test.
func testConfig(t testing.TB) Config {
	t.Helper()
	u, err := ParseURL(amqpURL())
	if err != nil {
		t.Fatalf("AMQP_URL: %v", err)
	}
	cfg := Config{Host: u.Host, Port: u.Port, Login: u.Login, Password: u.Password, Vhost: u.Vhost}
	cfg.ClientProperties = Table{"connection_name": t.Name()}
	cfg.ConnectTimeout = 10 * time.Second
	return cfg
}

// dial connects with cfg and closes the connection at the end of the test.
func dial(t testing.TB, cfg Config) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v (is RabbitMQ running at %s?)", err, cfg.Host)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		_ = c.Close(ctx, false)
		select {
		case <-c.Done():
		case <-ctx.Done():
			t.Errorf("connection did not end")
		}
	})
	return c
}

func dialT(t testing.TB) *Conn {
	t.Helper()
	return dial(t, testConfig(t))
}

func openCh(t testing.TB, c *Conn) *Channel {
	t.Helper()
	ch, err := c.OpenChannel(context.Background())
	if err != nil {
		t.Fatalf("OpenChannel: %v", err)
	}
	return ch
}

// uniq returns a name unique to the test.
func uniq(t testing.TB, what string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := strings.NewReplacer("/", ".", " ", "_").Replace(t.Name())
	return "amqpjs-test." + n + "." + what + "." + hex.EncodeToString(b[:])
}

// await runs f and waits for the error its done callback gets.
func await(t testing.TB, f func(done func(error))) error {
	t.Helper()
	return testutil.AwaitDone(t, "done callback", callTimeout, f)
}

func must(t testing.TB, f func(done func(error))) {
	t.Helper()
	if err := await(t, f); err != nil {
		t.Fatalf("%v", err)
	}
}

func declareQ(t testing.TB, ch *Channel, a QueueDeclareArgs) QueueInfo {
	t.Helper()
	var info QueueInfo
	must(t, func(done func(error)) {
		ch.QueueDeclare(context.Background(), a, func(q QueueInfo, err error) { info = q; done(err) })
	})
	return info
}

func bg() context.Context { return context.Background() }

// dialFails dials cfg, which must fail with a KindConnectionClosed error
// (of code, when code >= 0), and returns the error.
func dialFails(t *testing.T, cfg Config, code int) *Error {
	t.Helper()
	_, err := Dial(bg(), cfg)
	return asError(t, err, KindConnectionClosed, code)
}

// asError asserts err is an *Error of kind k (and code when code >= 0).
func asError(t testing.TB, err error, k Kind, code int) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("got %T %v, want *Error", err, err)
	}
	if e.Kind != k || (code >= 0 && e.Code != code) {
		t.Fatalf("got %v (kind %v, code %d), want kind %v code %d", e, e.Kind, e.Code, k, code)
	}
	return e
}

func waitFor(t testing.TB, d time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %v: %v", d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// recorder is a ConsumerHandler that records what happens.
type recorder struct {
	mu        sync.Mutex
	ds        []*Delivery
	cancelled []string
	ended     bool
	endErr    error
	events    []string
	onDeliver func(*Delivery)
	endc      chan struct{}
}

func newRecorder() *recorder { return &recorder{endc: make(chan struct{})} }

func (r *recorder) Delivery(d *Delivery) {
	r.mu.Lock()
	r.ds = append(r.ds, d)
	r.events = append(r.events, "delivery")
	fn := r.onDeliver
	r.mu.Unlock()
	if fn != nil {
		fn(d)
	}
}

func (r *recorder) Cancelled(tag string) {
	r.mu.Lock()
	r.cancelled = append(r.cancelled, tag)
	r.events = append(r.events, "cancelled")
	r.mu.Unlock()
}

func (r *recorder) End(err error) {
	r.mu.Lock()
	if r.ended {
		r.mu.Unlock()
		panic("End called twice")
	}
	r.ended = true
	r.endErr = err
	r.events = append(r.events, "end")
	r.mu.Unlock()
	close(r.endc)
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ds)
}

func (r *recorder) waitEnd(t testing.TB) error {
	t.Helper()
	select {
	case <-r.endc:
	case <-time.After(callTimeout):
		t.Fatalf("End not called")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.endErr
}

func consume(t testing.TB, ch *Channel, a ConsumeArgs, h ConsumerHandler) string {
	t.Helper()
	var tag string
	must(t, func(done func(error)) {
		ch.Consume(bg(), a, h, func(tg string, err error) { tag = tg; done(err) })
	})
	return tag
}

// rabbitmqctl runs rabbitmqctl, failing the test when it is missing.
func rabbitmqctl(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", append([]string{"-q"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// brokerConnField returns a field of our connection as rabbitmqctl lists it,
// found by the connection's local address.
func brokerConnField(t testing.TB, c *Conn, field string) string {
	t.Helper()
	local := c.LocalAddr()
	var got string
	waitFor(t, 5*time.Second, func() error {
		out := rabbitmqctl(t, "list_connections", "name", field)
		for _, line := range strings.Split(out, "\n") {
			parts := strings.Split(line, "\t")
			if len(parts) == 2 && strings.HasPrefix(parts[0], local+" ") {
				got = parts[1]
				return nil
			}
		}
		return errNotListed
	})
	return got
}

var errNotListed = &Error{Reason: "connection not listed by rabbitmqctl"}

// unusedPort returns a local port nobody listens on.
func unusedPort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}
