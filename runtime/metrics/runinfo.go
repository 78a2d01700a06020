package metrics

import (
	"encoding/json"
	"time"
)

// RunInfo describes a finished run, for outputs that record more than the
// time series (see [SummaryOutput]).
type RunInfo struct {
	Script  string `json:"script,omitempty"`
	Version string `json:"amqpjs_version"`
	// Broker is the broker's product and version as its connection.start
	// properties tell them ("RabbitMQ 3.12.1"); "" when no connection was
	// opened during the run.
	Broker string    `json:"broker,omitempty"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Scenario is the executor and its parameters in words.
	Scenario string `json:"scenario,omitempty"`
	// Config is the resolved configuration, JSON.
	Config json.RawMessage `json:"config,omitempty"`
	// Status is "" for a run that ended on its own, else "interrupted" or
	// "aborted by a threshold".
	Status string `json:"status,omitempty"`
	// Segment is the part of a run split between instances that this
	// instance ran, as --execution-segment reads it ("1/3:2/3"); "" for
	// the whole run.
	Segment string `json:"segment,omitempty"`
}

// SummaryOutput is an [Output] that also records how the run ended: a
// scenario's Finish calls WriteSummary once, after the last Write and
// before Close (not at all when the run never started its VUs).
type SummaryOutput interface {
	Output
	WriteSummary(info RunInfo, sum *Summary) error
}

// InfoBroker is the [Registry.SetInfo] key of the broker's product and
// version, set by the AMQP bindings when a connection opens.
const InfoBroker = "broker"

// SetInfo records a fact about the run (such as [InfoBroker]); the first
// value set for a key is kept. Any goroutine.
func (r *Registry) SetInfo(key, value string) { r.info.LoadOrStore(key, value) }

// Info returns the fact recorded for key, or "".
func (r *Registry) Info(key string) string {
	v, _ := r.info.Load(key)
	s, _ := v.(string)
	return s
}

// JSONRunLine is the last line of the JSON lines output of a scenario run
// that started: how it ran and its summary. It has no "metric" key, which
// tells it from the points.
//
//	{"run":{"amqpjs_version":"…","start":"…","end":"…",…},"summary":{…the --summary-export document…}}
type JSONRunLine struct {
	Run     RunInfo     `json:"run"`
	Summary JSONSummary `json:"summary"`
}

// WriteSummary writes the [JSONRunLine].
func (o *jsonOutput) WriteSummary(info RunInfo, sum *Summary) error {
	info.Start, info.End = info.Start.UTC(), info.End.UTC()
	if err := json.NewEncoder(o.w).Encode(JSONRunLine{Run: info, Summary: sum.JSON()}); err != nil {
		return err
	}
	return o.w.Flush()
}
