package bindings

import (
	"fmt"
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
