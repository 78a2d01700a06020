package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/runtime"
	"github.com/amqpjs/amqpjs/runtime/metrics"
)

// reportRun gives the outputs that record the end of a run
// ([metrics.SummaryOutput]: the JSON lines and the HTML report) the run's
// description and its summary. Finish calls it before closing the outputs.
func (s *Scenario) reportRun(sum *metrics.Summary) {
	info := metrics.RunInfo{
		Script:  s.opts.Script,
		Version: runtime.Version,
		Broker:  s.reg.Info(metrics.InfoBroker),
		Start:   s.started,
		End:     s.ended,
	}
	if !s.opts.Segment.IsWhole() {
		info.Segment = s.opts.Segment.String()
	}
	if s.plan != nil {
		var parts []string
		for _, c := range s.plan.Scenarios {
			d := c.Executor + ", " + describe(c)
			if s.plan.Named {
				d = c.Name + ": " + d
			}
			parts = append(parts, d)
		}
		info.Scenario = strings.Join(parts, "; ")
		if b, err := json.Marshal(readable(reflect.ValueOf(s.plan))); err == nil {
			info.Config = b
		}
	}
	if s.interrupted.Load() {
		info.Status = "interrupted"
	} else if s.aborted.Load() {
		info.Status = "aborted by a threshold"
	}
	for _, o := range s.opts.Outputs {
		if so, ok := o.(metrics.SummaryOutput); ok {
			if err := so.WriteSummary(info, sum); err != nil {
				fmt.Fprintf(s.opts.Stderr, "amqpjs: --out: %v\n", err)
			}
		}
	}
}

// readable turns a configuration value into JSON-ready data for people:
// durations as "30s", zero fields left out, struct fields by their Go name.
func readable(v reflect.Value) any {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	if v.Type() == reflect.TypeOf(time.Duration(0)) {
		return time.Duration(v.Int()).String()
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() || v.Field(i).IsZero() {
				continue
			}
			m[f.Name] = readable(v.Field(i))
		}
		return m
	case reflect.Slice, reflect.Array:
		l := make([]any, v.Len())
		for i := range l {
			l[i] = readable(v.Index(i))
		}
		return l
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[fmt.Sprint(k.Interface())] = readable(v.MapIndex(k))
		}
		return m
	}
	return v.Interface()
}
