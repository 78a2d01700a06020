package mgmt

import (
	"context"
	"net"
	"strings"
	"testing"
)

func TestNewChecksTheURL(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"", "management URL is empty"},
		{"localhost:15672", "scheme must be http or https"},
		{"ftp://h:1", "scheme must be http or https"},
		{"http://", "invalid management URL"},
		{"http://u:secret@h:1/?x=1", "no query or fragment"},
	} {
		_, err := New(Config{URL: tc.url})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%q) = %v, want an error containing %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%q): the error shows the password: %v", tc.url, err)
		}
	}
}

func TestURLCredentialsWin(t *testing.T) {
	c, err := New(Config{URL: "http://admin:s3cret@broker:15672/", User: "guest", Password: "guest"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.user != "admin" || c.pass != "s3cret" {
		t.Errorf("credentials %q/%q, want admin/s3cret from the URL", c.user, c.pass)
	}
	if c.URL() != "http://broker:15672" {
		t.Errorf("URL() = %q, want it without credentials or trailing slash", c.URL())
	}
	if c.Vhost() != "/" {
		t.Errorf("Vhost() = %q, want /", c.Vhost())
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:pw@h:1/x": "http://u:***@h:1/x",
		"http://u@h:1":      "http://u@h:1",
		"http://h:1":        "http://h:1",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// A port nothing listens on answers "connection refused": the error says
// the plugin may be missing and how to enable it.
func TestRefusedSaysHowToEnableThePlugin(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, err := New(Config{URL: "http://" + addr})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Overview(context.Background())
	var me *Error
	if !asError(err, &me) || me.Status != 0 {
		t.Fatalf("Overview on a closed port: %v, want an *Error with Status 0", err)
	}
	for _, want := range []string{"cannot reach the RabbitMQ management API at http://" + addr + "/api/overview", "connection refused", "rabbitmq-plugins enable rabbitmq_management"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	if ok {
		*target = e
	}
	return ok
}
