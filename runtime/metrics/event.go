package metrics

import (
	"encoding/json"
	"strconv"
	"sync"
	"time"
)

// Event is something that happened at one instant of a run, as opposed to
// a sample of a metric: a fault the script injected ("fault.cut",
// "fault.stall", … from the amqpjs/faults module). Outputs that can show
// events implement [EventOutput]; the others never see them.
type Event struct {
	Time    time.Time
	Elapsed float64 // seconds since the run's start, at Time
	Name    string
	Tags    Tags
}

// EventOutput is an [Output] that also records events: the run calls
// WriteEvents with the events of each interval, after Write.
type EventOutput interface {
	WriteEvents(events []Event) error
}

// maxPendingEvents bounds the events held between two samples; more are
// dropped (and counted in a last "events.dropped" event).
const maxPendingEvents = 10000

type eventLog struct {
	mu      sync.Mutex
	pending []Event
	dropped int
}

// RecordEvent records e (Time defaults to now) for the outputs. Safe for
// concurrent use.
func (r *Registry) RecordEvent(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if st := r.StartTime(); !st.IsZero() {
		e.Elapsed = e.Time.Sub(st).Seconds()
	}
	l := &r.events
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) >= maxPendingEvents {
		l.dropped++
		return
	}
	l.pending = append(l.pending, e)
}

// TakeEvents returns the events recorded since the last call, oldest first.
func (r *Registry) TakeEvents() []Event {
	l := &r.events
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.pending
	l.pending = nil
	if l.dropped > 0 {
		evs = append(evs, Event{Time: time.Now(), Name: "events.dropped", Tags: NewTags(map[string]string{"count": strconv.Itoa(l.dropped)})})
		l.dropped = 0
	}
	return evs
}

// JSONEvent is the JSON form of an [Event] in the JSON lines output:
//
//	{"type":"event","event":"fault.cut","time":"…","elapsed":12.5,"tags":{"scenario":"chaos"}}
type JSONEvent struct {
	Type    string            `json:"type"` // "event"
	Event   string            `json:"event"`
	Time    time.Time         `json:"time"`
	Elapsed float64           `json:"elapsed"`
	Tags    map[string]string `json:"tags"`
}

// WriteEvents implements [EventOutput]: one line per event.
func (o *jsonOutput) WriteEvents(evs []Event) error {
	enc := json.NewEncoder(o.w)
	for _, e := range evs {
		if err := enc.Encode(JSONEvent{Type: "event", Event: e.Name, Time: e.Time.UTC(), Elapsed: round3(e.Elapsed), Tags: e.Tags.Map()}); err != nil {
			return err
		}
	}
	return o.w.Flush()
}
