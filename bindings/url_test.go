package bindings

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// showDefaults renders d compactly: pointers as their value or "-".
func showDefaults(d ConnectDefaults) string {
	p := func(v *int) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprint(*v)
	}
	return fmt.Sprintf("host=%s port=%d login=%s password=%s vhost=%s ssl=%v heartbeat=%s frame_max=%s channel_max=%s timeout=%v",
		d.Host, d.Port, d.Login, d.Password, d.Vhost, d.SSL, p(d.Heartbeat), p(d.FrameMax), p(d.ChannelMax), d.ConnectTimeout)
}

func TestParseURL(t *testing.T) {
	const tail = " heartbeat=- frame_max=- channel_max=- timeout=0s"
	cases := []struct{ url, want string }{
		// Port 0 is "the default": connect uses 5672, or 5671 with TLS.
		{"amqp://", "host=localhost port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://localhost", "host=localhost port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqps://localhost", "host=localhost port=0 login=guest password=guest vhost=/ ssl=true" + tail},
		{"AMQPS://Rabbit.Example", "host=Rabbit.Example port=0 login=guest password=guest vhost=/ ssl=true" + tail},
		{"amqp://rabbit:5673", "host=rabbit port=5673 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqps://rabbit:1", "host=rabbit port=1 login=guest password=guest vhost=/ ssl=true" + tail},
		{"amqp://rabbit:65535/", "host=rabbit port=65535 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://[::1]:5673", "host=::1 port=5673 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://127.0.0.1", "host=127.0.0.1 port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://:5673", "host=localhost port=5673 login=guest password=guest vhost=/ ssl=false" + tail},

		// user, password and vhost are percent-decoded
		{"amqp://user:pass@h", "host=h port=0 login=user password=pass vhost=/ ssl=false" + tail},
		{"amqp://us%40er:p%40ss%3Aw%2Fd%25@h", "host=h port=0 login=us@er password=p@ss:w/d% vhost=/ ssl=false" + tail},
		{"amqp://user@h", "host=h port=0 login=user password=guest vhost=/ ssl=false" + tail},
		{"amqp://user:@h", "host=h port=0 login=user password= vhost=/ ssl=false" + tail},
		{"amqp://:pw@h", "host=h port=0 login=guest password=pw vhost=/ ssl=false" + tail},
		{"amqp://u:p%20w@h", "host=h port=0 login=u password=p w vhost=/ ssl=false" + tail},
		{"amqp://u:%E2%9C%93@h", "host=h port=0 login=u password=✓ vhost=/ ssl=false" + tail},

		// vhost: empty path and "/" are the default "/"; "%2F" is "/"
		{"amqp://h/", "host=h port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://h/%2F", "host=h port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://h/%2f", "host=h port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://h/vhost", "host=h port=0 login=guest password=guest vhost=vhost ssl=false" + tail},
		{"amqp://h/a%2Fb", "host=h port=0 login=guest password=guest vhost=a/b ssl=false" + tail},
		{"amqp://h/%2Fprod", "host=h port=0 login=guest password=guest vhost=/prod ssl=false" + tail},
		{"amqp://h/my%20vhost", "host=h port=0 login=guest password=guest vhost=my vhost ssl=false" + tail},
		{"amqp://h/%D1%82%D0%B5%D1%81%D1%82", "host=h port=0 login=guest password=guest vhost=тест ssl=false" + tail},
		{"amqps://u:p@rabbit:5671/%2F", "host=rabbit port=5671 login=u password=p vhost=/ ssl=true" + tail},

		// query: heartbeat (s), frame_max, channel_max, connection_timeout (ms)
		{"amqp://h/?heartbeat=10&frame_max=131072&channel_max=100&connection_timeout=2500",
			"host=h port=0 login=guest password=guest vhost=/ ssl=false heartbeat=10 frame_max=131072 channel_max=100 timeout=2.5s"},
		{"amqp://h?heartbeat=0", "host=h port=0 login=guest password=guest vhost=/ ssl=false heartbeat=0 frame_max=- channel_max=- timeout=0s"},
		{"amqp://h/v?heartbeat=", "host=h port=0 login=guest password=guest vhost=v ssl=false" + tail},
		{"amqp://h/?connection_timeout=0", "host=h port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://h/?connection_timeout=1", "host=h port=0 login=guest password=guest vhost=/ ssl=false heartbeat=- frame_max=- channel_max=- timeout=1ms"},
		{"amqp://h/?unknown=1&auth_mechanism=external", "host=h port=0 login=guest password=guest vhost=/ ssl=false" + tail},
		{"amqp://h/?heartbeat=5&heartbeat=7", "host=h port=0 login=guest password=guest vhost=/ ssl=false heartbeat=5 frame_max=- channel_max=- timeout=0s"},
	}
	for _, c := range cases {
		d, err := ParseURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got := showDefaults(d); got != c.want {
			t.Errorf("%s:\n got  %s\n want %s", c.url, got, c.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	const pw = "s3cr3tPW"
	cases := []struct{ url, want string }{
		{"amqp://u:" + pw + "@h:0/", `invalid port "0" in URL amqp://u:***@h:0/`},
		{"amqp://u:" + pw + "@h:65536/", `invalid port "65536" in URL amqp://u:***@h:65536/`},
		{"amqp://u:" + pw + "@h:99999999999999999999/", `invalid port "99999999999999999999" in URL amqp://u:***@h:99999999999999999999/`},
		{"amqp://u:" + pw + "@h/?heartbeat=abc", `invalid heartbeat="abc" in URL amqp://u:***@h/?heartbeat=abc (want an integer from 0 to 65535)`},
		{"amqp://u:" + pw + "@h/?heartbeat=-1", `invalid heartbeat="-1" in URL amqp://u:***@h/?heartbeat=-1 (want an integer from 0 to 65535)`},
		{"amqp://u:" + pw + "@h/?frame_max=1.5", `invalid frame_max="1.5" in URL amqp://u:***@h/?frame_max=1.5 (want an integer from 0 to 4294967295)`},
		{"amqp://u:" + pw + "@h/?channel_max=x", `invalid channel_max="x" in URL amqp://u:***@h/?channel_max=x (want an integer from 0 to 65535)`},
		{"amqp://u:" + pw + "@h/?connection_timeout=-5", `invalid connection_timeout="-5" in URL amqp://u:***@h/?connection_timeout=-5 (want an integer from 0 to 2147483647)`},
		{"amqp://u:" + pw + "@h/?connection_timeout=1e3", `invalid connection_timeout="1e3" in URL amqp://u:***@h/?connection_timeout=1e3 (want an integer from 0 to 2147483647)`},
		{"amqp://u:" + pw + "@h/%zz", `invalid URL amqp://u:***@h/%zz: malformed (check the port and that special characters are percent-encoded)`},
		{"amqp://u:" + pw + "@[::1/", `invalid URL amqp://u:***@[::1/: malformed (check the port and that special characters are percent-encoded)`},
		{"amqp://u:" + pw + "@h:port/", `invalid URL amqp://u:***@h:port/: malformed (check the port and that special characters are percent-encoded)`},
		{"amqp://u:s3cr 3t@h/", `invalid URL amqp://u:***@h/: malformed (check the port and that special characters are percent-encoded)`},
		{"amqp://u:" + pw + "\x7f@h/", `invalid URL amqp://u:***@h/: malformed (check the port and that special characters are percent-encoded)`},
	}
	for _, c := range cases {
		d, err := ParseURL(c.url)
		if err == nil {
			t.Errorf("%q: no error, got %s", c.url, showDefaults(d))
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%q:\n got  %q\n want %q", c.url, err, c.want)
		}
		for _, secret := range []string{pw, "s3cr 3t", "s3cr"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%q: error %q contains the password", c.url, err)
			}
		}
		var ise *InvalidSchemeError
		if errors.As(err, &ise) {
			t.Errorf("%q: an InvalidSchemeError", c.url)
		}
	}
}

func TestParseURLInvalidScheme(t *testing.T) {
	for url, scheme := range map[string]string{
		"http://h":                   "http",
		"https://u:s3cr3t@h:443/v":   "https",
		"amqp+ssl://h":               "amqp+ssl",
		"rabbitmq://guest:guest@h":   "rabbitmq",
		"localhost:5672":             "localhost",
		"amqpx://h":                  "amqpx",
		"ws://u:s3cr3t@h/?heartbeat": "ws",
	} {
		_, err := ParseURL(url)
		var ise *InvalidSchemeError
		if !errors.As(err, &ise) {
			t.Errorf("%s: got %v, want an InvalidSchemeError", url, err)
			continue
		}
		if ise.Scheme != scheme {
			t.Errorf("%s: scheme %q, want %q", url, ise.Scheme, scheme)
		}
		if want := "Invalid protocol " + scheme + ", valid protocols are amqp or amqps"; err.Error() != want {
			t.Errorf("%s:\n got  %q\n want %q", url, err, want)
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("%s: error contains the password", url)
		}
	}
	// The documented message, exactly.
	if _, err := ParseURL("http://localhost"); err == nil || err.Error() != "Invalid protocol http, valid protocols are amqp or amqps" {
		t.Errorf("http: %v", err)
	}
}

func TestDefaultsFromURL(t *testing.T) {
	d, err := DefaultsFromURL("")
	if d != nil || err != nil {
		t.Errorf(`"": got %v, %v; want nil, nil (aioamqp's defaults)`, d, err)
	}
	d, err = DefaultsFromURL("amqps://bob:pw@mq.example:5674/prod?heartbeat=30&connection_timeout=5000")
	if err != nil || d == nil {
		t.Fatalf("got %v, %v", d, err)
	}
	want := "host=mq.example port=5674 login=bob password=pw vhost=prod ssl=true heartbeat=30 frame_max=- channel_max=- timeout=5s"
	if got := showDefaults(*d); got != want {
		t.Errorf("\n got  %s\n want %s", got, want)
	}
	if d.ConnectTimeout != 5*time.Second {
		t.Errorf("timeout %v", d.ConnectTimeout)
	}
	d, err = DefaultsFromURL("http://bob:pw@h")
	if d != nil || err == nil {
		t.Errorf("http: got %v, %v; want nil and an error", d, err)
	}
	if b := builtinDefaults(); showDefaults(b) != "host=localhost port=0 login=guest password=guest vhost=/ ssl=false heartbeat=- frame_max=- channel_max=- timeout=0s" {
		t.Errorf("builtin defaults: %s", showDefaults(b))
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"amqp://u:secret@h:5672/v?heartbeat=5": "amqp://u:***@h:5672/v?heartbeat=5",
		"amqps://u:secret@h/%2F":               "amqps://u:***@h/%2F",
		"amqp://u:p%40ss%2Fw@h/":               "amqp://u:***@h/",
		"amqp://u:@h":                          "amqp://u:***@h",
		"amqp://:secret@h":                     "amqp://:***@h",
		"amqp://us%40er:secret@h":              "amqp://us%40er:***@h",
		"amqp://u@h/v":                         "amqp://u@h/v",
		"amqp://h/v":                           "amqp://h/v",
		"amqp://":                              "amqp://",
		"":                                     "",
		"not a url":                            "not a url",
		// not parseable: everything from the first ':' after the user to the last '@' goes
		"amqp://u:sec ret@h/":   "amqp://u:***@h/",
		"amqp://u:s%zz@h/":      "amqp://u:***@h/",
		"amqp://u:a@b@c@h:1/v":  "amqp://u:***@h:1/v",
		"amqp://u:sec\x7fret@h": "amqp://u:***@h",
	} {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "secret") || strings.Contains(got, "sec ret") {
			t.Errorf("RedactURL(%q) = %q shows the password", in, got)
		}
	}
}
