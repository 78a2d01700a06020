//go:build integration

package amqp

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/amqpjs/amqpjs/internal/testcert"
)

// tlsProxy terminates TLS with a certificate from a CA generated for the
// test and forwards to the broker. It returns the proxy's port and the CA
// file.
func tlsProxy(t *testing.T, backend string) (int, string) {
	t.Helper()
	cfg, caFile := testcert.Server(t, "amqpjs test CA")
	l, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			front, err := l.Accept()
			if err != nil {
				return
			}
			track(front)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer front.Close()
				if err := front.(*tls.Conn).Handshake(); err != nil {
					return
				}
				back, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				track(back)
				defer back.Close()
				done := make(chan struct{})
				go func() {
					_, _ = io.Copy(back, front)
					back.Close()
					close(done)
				}()
				_, _ = io.Copy(front, back)
				front.Close()
				<-done
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().(*net.TCPAddr).Port, caFile
}

func TestIntegrationTLS(t *testing.T) {
	base := testConfig(t)
	port, caFile := tlsProxy(t, net.JoinHostPort(base.Host, strconv.Itoa(base.Port)))
	cfg := base
	cfg.Host, cfg.Port = "127.0.0.1", port

	t.Run("WithCA", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{CAFile: caFile}
		c := dial(t, cfg)
		ch := openCh(t, c)
		q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
		must(t, func(d func(error)) {
			ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte("over tls")}, false, d)
		})
		var body string
		must(t, func(d func(error)) {
			ch.Get(bg(), q.Name, true, func(m *Delivery, ok bool, err error) {
				if ok {
					body = string(m.Body)
				}
				d(err)
			})
		})
		if body != "over tls" {
			t.Errorf("got %q", body)
		}
	})
	t.Run("ServerNameLocalhost", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{CAFile: caFile, ServerName: "localhost"}
		dial(t, cfg)
	})
	t.Run("UnknownCA", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{}
		e := dialFails(t, cfg, 0)
		if !strings.HasPrefix(e.Reason, "TLS handshake failed: the server's certificate could not be verified: x509: certificate signed by unknown authority") {
			t.Errorf("reason %q", e.Reason)
		}
	})
	t.Run("WrongName", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{CAFile: caFile, ServerName: "rabbit.example"}
		e := dialFails(t, cfg, 0)
		if !strings.HasPrefix(e.Reason, "TLS handshake failed: the server's certificate could not be verified: x509: certificate is valid for localhost, not rabbit.example") {
			t.Errorf("reason %q", e.Reason)
		}
	})
	t.Run("SkipVerify", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{SkipVerify: true}
		dial(t, cfg)
	})
	t.Run("MissingCAFile", func(t *testing.T) {
		cfg := cfg
		cfg.TLS = &TLSOptions{CAFile: filepath.Join(t.TempDir(), "nope.pem")}
		e := dialFails(t, cfg, 0)
		if !strings.HasPrefix(e.Reason, "TLS configuration: reading CA file") {
			t.Errorf("reason %q", e.Reason)
		}
	})
	t.Run("PlainToTLS", func(t *testing.T) {
		cfg := cfg
		cfg.ConnectTimeout = 2 * time.Second
		e := dialFails(t, cfg, 0)
		t.Logf("AMQP to a TLS port: %v", e)
	})
}

// TestIntegrationCustomDial: Config.Dial is used, and TLS works over it.
func TestIntegrationCustomDial(t *testing.T) {
	base := testConfig(t)
	port, caFile := tlsProxy(t, net.JoinHostPort(base.Host, strconv.Itoa(base.Port)))
	cfg := base
	cfg.Host, cfg.Port = "rabbit.invalid", 1
	var dialled []string
	cfg.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialled = append(dialled, addr)
		var d net.Dialer
		return d.DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(port))
	}
	cfg.TLS = &TLSOptions{CAFile: caFile, ServerName: "localhost"}
	c := dial(t, cfg)
	if len(dialled) != 1 || dialled[0] != "rabbit.invalid:1" {
		t.Errorf("dialled %v", dialled)
	}
	openCh(t, c)
}
