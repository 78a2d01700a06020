package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEventsToJSONOutput(t *testing.T) {
	reg := NewRegistry()
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reg.Start(start)
	reg.RecordEvent(Event{Time: start.Add(1500 * time.Millisecond), Name: "fault.cut", Tags: NewTags(map[string]string{"scenario": "chaos"})})
	reg.RecordEvent(Event{Time: start.Add(2 * time.Second), Name: "fault.stall", Tags: NewTags(map[string]string{"duration": "10s"})})
	evs := reg.TakeEvents()
	if len(evs) != 2 || evs[0].Name != "fault.cut" || evs[0].Elapsed != 1.5 {
		t.Fatalf("events: %+v", evs)
	}
	if again := reg.TakeEvents(); len(again) != 0 {
		t.Fatalf("taken twice: %+v", again)
	}
	var buf bytes.Buffer
	out := NewJSONOutput(&buf)
	eo, ok := out.(EventOutput)
	if !ok {
		t.Fatal("the JSON output does not write events")
	}
	if err := eo.WriteEvents(evs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	var e JSONEvent
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Type != "event" || e.Event != "fault.cut" || e.Elapsed != 1.5 || e.Tags["scenario"] != "chaos" || !e.Time.Equal(start.Add(1500*time.Millisecond)) {
		t.Fatalf("line: %s", lines[0])
	}
	if _, ok := NewCSVOutput(&buf).(EventOutput); ok {
		t.Fatal("the CSV output has no place for events")
	}
}

func TestEventsBounded(t *testing.T) {
	reg := NewRegistry()
	for range maxPendingEvents + 5 {
		reg.RecordEvent(Event{Name: "fault.cut"})
	}
	evs := reg.TakeEvents()
	last := evs[len(evs)-1]
	if len(evs) != maxPendingEvents+1 || last.Name != "events.dropped" {
		t.Fatalf("%d events, last %+v", len(evs), last)
	}
	if n, _ := last.Tags.Get("count"); n != "5" {
		t.Fatalf("dropped count %q", n)
	}
}
