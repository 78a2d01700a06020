package bindings

import (
	"testing"
	"time"
)

// DefaultsFromURL: "" means aioamqp's defaults (nil); a URL gives what
// amqp.ParseURL makes of it; a bad one an error.
func TestDefaultsFromURL(t *testing.T) {
	d, err := DefaultsFromURL("")
	if d != nil || err != nil {
		t.Errorf(`"": got %v, %v; want nil, nil (aioamqp's defaults)`, d, err)
	}
	d, err = DefaultsFromURL("amqps://bob:pw@mq.example:5674/prod?heartbeat=30&connection_timeout=5000")
	if err != nil || d == nil {
		t.Fatalf("got %v, %v", d, err)
	}
	if d.Host != "mq.example" || d.Port != 5674 || d.Login != "bob" || d.Password != "pw" || d.Vhost != "prod" || !d.SSL ||
		d.Heartbeat == nil || *d.Heartbeat != 30 || d.FrameMax != nil || d.ChannelMax != nil || d.ConnectTimeout != 5*time.Second {
		t.Errorf("got %+v", *d)
	}
	d, err = DefaultsFromURL("http://bob:pw@h")
	if d != nil || err == nil {
		t.Errorf("http: got %v, %v; want nil and an error", d, err)
	}
	if b := builtinDefaults(); b.Host != "localhost" || b.Login != "guest" || b.Password != "guest" || b.Vhost != "/" || b.Port != 0 || b.SSL {
		t.Errorf("builtin defaults: %+v", b)
	}
}
