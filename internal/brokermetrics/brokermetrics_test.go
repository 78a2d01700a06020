package brokermetrics

import (
	"reflect"
	"strings"
	"testing"

	"github.com/amqpjs/amqpjs/amqp"
	"github.com/amqpjs/amqpjs/bindings"
)

func TestManagementConfigFromAMQPURL(t *testing.T) {
	d, err := amqp.ParseURL("amqp://alice:s%40cret@broker.example:5673/prod")
	if err != nil {
		t.Fatal(err)
	}
	cfg := bindings.ManagementConfig(&d, "")
	if cfg.URL != "http://broker.example:15672" || cfg.User != "alice" || cfg.Password != "s@cret" || cfg.Vhost != "prod" {
		t.Errorf("from the AMQP URL: %+v", cfg)
	}
	if cfg := bindings.ManagementConfig(nil, ""); cfg.URL != "http://localhost:15672" || cfg.User != "guest" || cfg.Vhost != "/" {
		t.Errorf("aioamqp's defaults: %+v", cfg)
	}
	v6, _ := amqp.ParseURL("amqp://[::1]:5672/")
	if cfg := bindings.ManagementConfig(&v6, ""); cfg.URL != "http://[::1]:15672" {
		t.Errorf("IPv6 host: %s", cfg.URL)
	}
	if cfg := bindings.ManagementConfig(&d, "https://mgmt:443/rmq"); cfg.URL != "https://mgmt:443/rmq" || cfg.User != "alice" {
		t.Errorf("--management-url keeps the AMQP credentials unless it has its own: %+v", cfg)
	}
}

func TestSplitQueueList(t *testing.T) {
	for in, want := range map[string][]string{
		"jobs":           {"jobs"},
		"jobs, other ,":  {"jobs", "other"},
		`jobs,/^load\./`: {"jobs", `/^load\./`},
		`/a{1,3}/i,b`:    {`/a{1,3}/i`, "b"},
		`/x\/y/,z`:       {`/x\/y/`, "z"},
	} {
		got, err := SplitQueueList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("SplitQueueList(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", " , ", "/unclosed"} {
		if _, err := SplitQueueList(in); err == nil {
			t.Errorf("SplitQueueList(%q): no error", in)
		}
	}
}

func TestQueueMatcher(t *testing.T) {
	m, err := newQueueMatcher([]string{"jobs", `/^load\./`, "/^TMP-/i"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"jobs": true, "jobs2": false, "load.1": true, "xload.1": false, "tmp-a": true, "loadx": false} {
		if got := m.matches(name); got != want {
			t.Errorf("matches(%q) = %v, want %v", name, got, want)
		}
	}
	for spec, msg := range map[string]string{"/(?<=a)b/": "RE2", "/a/q": "unknown flag", "": "empty"} {
		if _, err := newQueueMatcher([]string{spec}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("newQueueMatcher(%q) = %v, want an error mentioning %q", spec, err, msg)
		}
	}
}
