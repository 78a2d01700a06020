//go:build integration

package amqp

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIntegrationConnectClose(t *testing.T) {
	cfg := testConfig(t)
	c, err := Dial(bg(), cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	var closes atomic.Int32
	var closeErr atomic.Pointer[Error]
	c.OnClose(func(err *Error) {
		closes.Add(1)
		closeErr.Store(err)
	})
	if p, _ := c.ServerProperties()["product"].(string); p != "RabbitMQ" {
		t.Errorf("server product %q", p)
	}
	if caps, _ := c.ServerProperties()["capabilities"].(Table); caps["publisher_confirms"] != true {
		t.Errorf("capabilities %v", caps)
	}
	chMax, frameMax, hb := c.Tuning()
	sc, sf, sh := c.ServerTuning()
	if chMax != sc || frameMax != sf || hb != sh {
		t.Errorf("tuning %d/%d/%d, server proposed %d/%d/%d", chMax, frameMax, hb, sc, sf, sh)
	}
	if _, _, err := net.SplitHostPort(c.LocalAddr()); err != nil {
		t.Errorf("LocalAddr %q: %v", c.LocalAddr(), err)
	}
	if c.RemoteAddr() != net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)) {
		t.Errorf("RemoteAddr %q", c.RemoteAddr())
	}
	if got := brokerConnField(t, c, "client_properties"); !strings.Contains(got, t.Name()) {
		t.Errorf("connection_name not sent: %s", got)
	}
	ch := openCh(t, c)
	if c.ChannelsInUse() != 1 || ch.ID() < 1 || !ch.IsOpen() {
		t.Errorf("ChannelsInUse %d, ID %d, open %v", c.ChannelsInUse(), ch.ID(), ch.IsOpen())
	}
	var chClose atomic.Int32
	ch.OnClose(func(err *Error) {
		if err != nil {
			t.Errorf("channel OnClose(%v), want nil", err)
		}
		chClose.Add(1)
	})
	if err := c.Close(bg(), false); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-c.Done():
	case <-time.After(callTimeout):
		t.Fatal("Done not closed")
	}
	if closes.Load() != 1 || closeErr.Load() != nil || chClose.Load() != 1 {
		t.Errorf("OnClose called %d times with %v; channel OnClose %d", closes.Load(), closeErr.Load(), chClose.Load())
	}
	if ch.IsOpen() || c.ChannelsInUse() != 0 {
		t.Errorf("after close: channel open %v, in use %d", ch.IsOpen(), c.ChannelsInUse())
	}
	asError(t, c.Close(bg(), false), KindConnectionClosed, 0)
	_, err = c.OpenChannel(bg())
	asError(t, err, KindConnectionClosed, 0)
	err = await(t, func(done func(error)) { ch.QueueDelete(bg(), "x", false, false, false, done) })
	asError(t, err, KindConnectionClosed, 0)
	// Registered after the end: still called once.
	got := make(chan *Error, 1)
	c.OnClose(func(err *Error) { got <- err })
	if err := <-got; err != nil {
		t.Errorf("late OnClose got %v", err)
	}
}

func TestIntegrationConnectErrors(t *testing.T) {
	t.Run("BadPassword", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Password = "s3cr3t-wrong-pw"
		e := dialFails(t, cfg, -1)
		want := "authentication failed for user '" + cfg.Login + "' (ACCESS_REFUSED)"
		if e.Reason != want {
			t.Errorf("reason %q, want %q", e.Reason, want)
		}
		if strings.Contains(e.Error(), cfg.Password) {
			t.Errorf("error shows the password: %v", e)
		}
	})
	t.Run("UnknownVhost", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Vhost = "no-such-vhost-" + strconv.Itoa(int(time.Now().UnixNano()))
		e := dialFails(t, cfg, -1)
		if want := "vhost '" + cfg.Vhost + "' not found or access refused"; e.Reason != want {
			t.Errorf("reason %q, want %q", e.Reason, want)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Host, cfg.Port = "127.0.0.1", unusedPort(t)
		e := dialFails(t, cfg, 0)
		if want := "connection refused to 127.0.0.1:" + strconv.Itoa(cfg.Port); e.Reason != want {
			t.Errorf("reason %q, want %q", e.Reason, want)
		}
		if e.Error() != "connect: "+e.Reason {
			t.Errorf("Error() %q", e.Error())
		}
	})
	t.Run("Unresolvable", func(t *testing.T) {
		cfg := testConfig(t)
		cfg.Host = "no-such-host.invalid"
		e := dialFails(t, cfg, 0)
		if !strings.HasPrefix(e.Reason, "cannot resolve host 'no-such-host.invalid'") {
			t.Errorf("reason %q", e.Reason)
		}
	})
	t.Run("Timeout", func(t *testing.T) {
		// A server that accepts and never speaks.
		l, accepted := acceptOne(t)
		cfg := testConfig(t)
		cfg.Host, cfg.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
		cfg.ConnectTimeout = 300 * time.Millisecond
		e := dialFails(t, cfg, 0)
		if e.Reason != "timed out after 300ms" {
			t.Errorf("reason %q", e.Reason)
		}
		if c := <-accepted; c != nil {
			c.Close()
		}
	})
}

func TestIntegrationHeartbeat(t *testing.T) {
	t.Run("Off", func(t *testing.T) {
		cfg := testConfig(t)
		zero := 0
		cfg.Heartbeat = &zero
		c := dial(t, cfg)
		if _, _, hb := c.Tuning(); hb != 0 {
			t.Fatalf("heartbeat %d, want 0", hb)
		}
		if _, _, sh := c.ServerTuning(); sh == 0 {
			t.Logf("server proposes no heartbeat; test is weak")
		}
		if got := brokerConnField(t, c, "timeout"); got != "0" {
			t.Errorf("broker says timeout %s, want 0", got)
		}
	})
	t.Run("One", func(t *testing.T) {
		cfg := testConfig(t)
		one := 1
		cfg.Heartbeat = &one
		counted := countingDial(&cfg)
		c := dial(t, cfg)
		if _, _, hb := c.Tuning(); hb != 1 {
			t.Fatalf("heartbeat %d, want 1", hb)
		}
		if got := brokerConnField(t, c, "timeout"); got != "1" {
			t.Errorf("broker says timeout %s, want 1", got)
		}
		waitFor(t, 5*time.Second, func() error {
			if in, out, _ := counted().stats(); out == 0 || in == 0 {
				return errNotListed
			}
			return nil
		})
	})
	t.Run("LoweredToServer", func(t *testing.T) {
		cfg := testConfig(t)
		big := 100000
		cfg.Heartbeat = &big
		c := dial(t, cfg)
		_, _, sh := c.ServerTuning()
		if _, _, hb := c.Tuning(); sh != 0 && hb != sh {
			t.Errorf("heartbeat %d, want the server's %d", hb, sh)
		}
	})
}

func TestIntegrationTuning(t *testing.T) {
	t.Run("ChannelMax", func(t *testing.T) {
		cfg := testConfig(t)
		n := 3
		cfg.ChannelMax = &n
		c := dial(t, cfg)
		if chMax, _, _ := c.Tuning(); chMax != 3 {
			t.Fatalf("channel_max %d", chMax)
		}
		for i := 0; i < 3; i++ {
			openCh(t, c)
		}
		_, err := c.OpenChannel(bg())
		asError(t, err, KindNoChannel, -1)
		if c.ChannelsInUse() != 3 {
			t.Errorf("in use %d", c.ChannelsInUse())
		}
	})
	t.Run("FrameMaxLowerOfBoth", func(t *testing.T) {
		cfg := testConfig(t)
		n := 1 << 30
		cfg.FrameMax = &n
		c := dial(t, cfg)
		_, sf, _ := c.ServerTuning()
		if _, fm, _ := c.Tuning(); fm != sf {
			t.Errorf("frame_max %d, want the server's %d", fm, sf)
		}
		zero := 0
		cfg.FrameMax = &zero
		c2 := dial(t, cfg)
		if _, fm, _ := c2.Tuning(); fm != sf {
			t.Errorf("frame_max 0 (no limit) gave %d, want the server's %d", fm, sf)
		}
	})
}

// TestIntegrationBigBody round-trips a 5 MB body with frame_max 4096.
func TestIntegrationBigBody(t *testing.T) {
	cfg := testConfig(t)
	fm := 4096
	cfg.FrameMax = &fm
	counted := countingDial(&cfg)
	c := dial(t, cfg)
	if _, got, _ := c.Tuning(); got != 4096 {
		t.Fatalf("frame_max %d", got)
	}
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true, AutoDelete: true})
	body := make([]byte, 5<<20)
	for i := range body {
		body[i] = byte(i*7 + i>>13)
	}
	must(t, func(done func(error)) {
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: body}, false, done)
	})
	if _, _, m := counted().stats(); m > 4096 {
		t.Errorf("largest frame written is %d bytes, frame_max is 4096", m)
	}
	r := newRecorder()
	consume(t, ch, ConsumeArgs{Queue: q.Name, NoAck: true}, r)
	waitFor(t, 20*time.Second, func() error {
		if r.count() == 0 {
			return errNotListed
		}
		return nil
	})
	if got := r.ds[0].Body; !bytes.Equal(got, body) {
		t.Fatalf("body differs (len %d, want %d)", len(got), len(body))
	}
}

// freezeProxy forwards to the broker until frozen, then drops everything.
type freezeProxy struct {
	l      net.Listener
	frozen atomic.Bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	conns  []net.Conn
}

func newFreezeProxy(t *testing.T, backend string) *freezeProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezeProxy{l: l}
	pipe := func(dst, src net.Conn) {
		defer p.wg.Done()
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if err != nil {
				dst.Close()
				return
			}
			if p.frozen.Load() {
				continue
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			back, err := net.Dial("tcp", backend)
			if err != nil {
				front.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, front, back)
			p.mu.Unlock()
			p.wg.Add(2)
			go pipe(back, front)
			go pipe(front, back)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// TestIntegrationMissedHeartbeats: with heartbeat 1 and a network that goes
// silent, the connection ends within a few seconds and says why.
func TestIntegrationMissedHeartbeats(t *testing.T) {
	cfg := testConfig(t)
	p := newFreezeProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)))
	cfg.Host, cfg.Port = "127.0.0.1", p.l.Addr().(*net.TCPAddr).Port
	one := 1
	cfg.Heartbeat = &one
	c := dial(t, cfg)
	ch := openCh(t, c)
	closed := make(chan *Error, 1)
	c.OnClose(func(err *Error) { closed <- err })
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	p.frozen.Store(true)
	pending := make(chan error, 1)
	ch.QueueDeclare(bg(), QueueDeclareArgs{Name: q.Name, Passive: true}, func(_ QueueInfo, err error) { pending <- err })
	select {
	case err := <-closed:
		if err == nil || err.Kind != KindConnectionClosed || !strings.Contains(err.Reason, "missed heartbeats") {
			t.Errorf("OnClose(%v)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("connection did not notice the silence")
	}
	e := asError(t, <-pending, KindConnectionClosed, 0)
	if !strings.Contains(e.Reason, "missed heartbeats") {
		t.Errorf("pending call: %v", e)
	}
}
