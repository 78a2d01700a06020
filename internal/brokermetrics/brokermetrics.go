// Package brokermetrics samples RabbitMQ's management API during a
// scenario run (options.rabbitmq, --broker-metrics) into gauges: a
// [scenario.SamplerOption] that the host plugs into the run, so that
// package scenario knows metrics, not sockets.
package brokermetrics

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/amqpjs/amqpjs/internal/mgmt"
	"github.com/amqpjs/amqpjs/runtime/metrics"
	"github.com/amqpjs/amqpjs/runtime/scenario"
)

// The broker's gauges.
const (
	MetricQueueMessages  = "rabbitmq_queue_messages"         // gauge, tag queue: ready + unacknowledged
	MetricQueueUnacked   = "rabbitmq_queue_messages_unacked" // gauge, tag queue: delivered, not yet acknowledged
	MetricQueueConsumers = "rabbitmq_queue_consumers"        // gauge, tag queue
	MetricNodeMemUsed    = "rabbitmq_node_mem_used"          // gauge (bytes), tag node
)

// Key is the options key of broker metrics.
const Key = "rabbitmq"

// DefaultInterval is the sampling interval when options.rabbitmq does not
// set one.
const DefaultInterval = time.Second

// Option is the sampler of options.rabbitmq, reading the management API of
// cfg (bindings.ManagementConfig finds it from the AMQP URL):
//
//	options.rabbitmq = { queues: ['jobs', /^load\./], interval: '1s', vhost: '/' }
//
// Every interval it records, for each queue of vhost that a name or
// pattern matches, rabbitmq_queue_messages, rabbitmq_queue_messages_unacked
// and rabbitmq_queue_consumers tagged queue, and rabbitmq_node_mem_used
// tagged node. flagQueues (--broker-metrics; "" when not given) is a
// comma-separated list of names and /patterns/ that replaces
// options.rabbitmq.queues, and turns sampling on without options.rabbitmq.
func Option(cfg mgmt.Config, flagQueues string) scenario.SamplerOption {
	return scenario.SamplerOption{Key: Key, New: func(raw json.RawMessage, reg *metrics.Registry) (scenario.Sampler, error) {
		if raw == nil && flagQueues == "" {
			return nil, nil
		}
		var o brokerOptionsJSON
		if raw != nil {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&o); err != nil {
				msg := strings.TrimPrefix(err.Error(), "json: ")
				if name, ok := strings.CutPrefix(msg, "unknown field "); ok {
					return nil, fmt.Errorf("unknown option %s (expected one of: queues, interval, vhost)", name)
				}
				return nil, fmt.Errorf("must be an object {queues, interval, vhost}: %s", msg)
			}
		}
		var specs []string
		if q := bytes.TrimSpace(o.Queues); len(q) > 0 && string(q) != "null" {
			if err := json.Unmarshal(q, &specs); err != nil {
				return nil, fmt.Errorf("queues: must be an array of queue names and RegExps, e.g. ['jobs', /^load\\./]")
			}
		}
		if flagQueues != "" {
			var err error
			if specs, err = SplitQueueList(flagQueues); err != nil {
				return nil, fmt.Errorf("--broker-metrics: %v", err)
			}
		}
		match, err := newQueueMatcher(specs)
		if err != nil {
			if flagQueues != "" {
				return nil, fmt.Errorf("--broker-metrics: %v", err)
			}
			return nil, fmt.Errorf("queues: %v", err)
		}
		every := DefaultInterval
		if o.Interval != nil {
			d, err := scenario.ParseDuration(o.Interval)
			if err != nil {
				return nil, fmt.Errorf("interval: %v", err)
			}
			if d < 100*time.Millisecond {
				return nil, fmt.Errorf("interval: must be at least 100ms, got %s", d)
			}
			every = d
		}
		if o.Vhost != nil {
			cfg.Vhost = *o.Vhost
		}
		c, err := mgmt.New(cfg)
		if err != nil {
			return nil, fmt.Errorf("--management-url: %v", err)
		}
		Register(reg)
		return &brokerSampler{c: c, every: every, match: match, series: map[string]*queueSeries{}, seen: map[string]bool{}}, nil
	}}
}

// brokerOptionsJSON is options.rabbitmq (BrokerMetricsOptions in
// bindings/types/rabbitmq.d.ts).
type brokerOptionsJSON struct {
	Queues   json.RawMessage `json:"queues"`
	Interval json.RawMessage `json:"interval"`
	Vhost    *string         `json:"vhost"`
}

// Register creates the broker's gauges in reg.
func Register(reg *metrics.Registry) {
	for _, name := range []string{MetricQueueMessages, MetricQueueUnacked, MetricQueueConsumers} {
		reg.MustNew(name, metrics.Gauge, metrics.Default)
	}
	reg.MustNew(MetricNodeMemUsed, metrics.Gauge, metrics.Data)
}

// SplitQueueList splits --broker-metrics's value: names and /patterns/
// (with flags i, m, s) separated by commas; a comma inside a pattern is
// part of it.
func SplitQueueList(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		if s[i] == '/' {
			j := i + 1
			for j < len(s) && s[j] != '/' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("pattern %q has no closing '/'", s[i:])
			}
			j++
			for j < len(s) && s[j] != ',' {
				j++
			}
			out = append(out, s[i:j])
			i = j + 1
			continue
		}
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			j = len(s) - i
		}
		if name := strings.TrimSpace(s[i : i+j]); name != "" {
			out = append(out, name)
		}
		i += j + 1
	}
	if len(out) == 0 {
		return nil, errors.New("no queue named (want names and /patterns/ separated by commas, e.g. 'jobs,/^load\\./')")
	}
	return out, nil
}

// queueMatcher selects the sampled queues: exact names, and patterns
// written /source/flags (a script's RegExp arrives so).
type queueMatcher struct {
	names    []string // exact, in order
	exact    map[string]bool
	patterns []*regexp.Regexp
}

var patternRE = regexp.MustCompile(`^/(.+)/([a-z]*)$`)

func newQueueMatcher(specs []string) (*queueMatcher, error) {
	m := &queueMatcher{exact: map[string]bool{}}
	for _, s := range specs {
		if p := patternRE.FindStringSubmatch(s); p != nil {
			prefix := ""
			for _, f := range p[2] {
				switch f {
				case 'i', 'm', 's':
					if !strings.ContainsRune(prefix, f) {
						prefix += string(f)
					}
				case 'g', 'y', 'u', 'd', 'v':
				default:
					return nil, fmt.Errorf("pattern %s: unknown flag %q", s, f)
				}
			}
			src := p[1]
			if prefix != "" {
				src = "(?" + prefix + ")" + src
			}
			re, err := regexp.Compile(src)
			if err != nil {
				return nil, fmt.Errorf("pattern %s is not one Go's regexp package (RE2) accepts: %v", s, err)
			}
			m.patterns = append(m.patterns, re)
			continue
		}
		if s == "" {
			return nil, errors.New("a queue name is empty")
		}
		if !m.exact[s] {
			m.exact[s] = true
			m.names = append(m.names, s)
		}
	}
	return m, nil
}

func (m *queueMatcher) matches(name string) bool {
	if m.exact[name] {
		return true
	}
	for _, re := range m.patterns {
		if re.MatchString(name) {
			return true
		}
	}
	return false
}

type queueSeries struct{ messages, unacked, consumers *metrics.Series }

// brokerSampler is the sampler of Option. Its state is the sampler
// goroutine's (Sample is never concurrent with itself; Close comes after).
type brokerSampler struct {
	c       *mgmt.Client
	every   time.Duration
	match   *queueMatcher
	series  map[string]*queueSeries
	nodes   map[string]*metrics.Series
	seen    map[string]bool
	sampled bool // a queue list came back
}

func (b *brokerSampler) Interval() time.Duration { return b.every }

func (b *brokerSampler) Sample(ctx context.Context, reg *metrics.Registry) error {
	var errs []error
	if len(b.match.names) > 0 || len(b.match.patterns) > 0 {
		qs, err := b.c.Queues(ctx, "", true)
		if err != nil {
			errs = append(errs, err)
		} else {
			b.sampled = true
			for i := range qs {
				q := &qs[i]
				if !q.HasStats || !b.match.matches(q.Name) {
					continue
				}
				b.seen[q.Name] = true
				s := b.series[q.Name]
				if s == nil {
					tags := metrics.Tags{{Key: "queue", Value: q.Name}}
					s = &queueSeries{
						messages:  reg.Get(MetricQueueMessages).Series(tags),
						unacked:   reg.Get(MetricQueueUnacked).Series(tags),
						consumers: reg.Get(MetricQueueConsumers).Series(tags),
					}
					b.series[q.Name] = s
				}
				s.messages.Add(float64(q.Messages))
				s.unacked.Add(float64(q.Unacknowledged))
				s.consumers.Add(float64(q.Consumers))
			}
		}
	}
	nodes, err := b.c.Nodes(ctx)
	if err != nil {
		errs = append(errs, err)
	} else {
		if b.nodes == nil {
			b.nodes = map[string]*metrics.Series{}
		}
		for _, n := range nodes {
			s := b.nodes[n.Name]
			if s == nil {
				s = reg.Get(MetricNodeMemUsed).Series(metrics.Tags{{Key: "node", Value: n.Name}})
				b.nodes[n.Name] = s
			}
			if n.Running {
				s.Add(float64(n.MemUsed))
			}
		}
	}
	if len(errs) > 0 {
		return errs[0] // one cause is enough: the warning is printed once
	}
	return nil
}

// Close says which queues named exactly were never seen (a typo, or a
// queue not yet declared by the end).
func (b *brokerSampler) Close() error {
	b.c.Close()
	if !b.sampled {
		return nil
	}
	var missing []string
	for _, n := range b.match.names {
		if !b.seen[n] {
			missing = append(missing, "'"+n+"'")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("no statistics for queue %s in vhost '%s' during the run (not declared, or a typo?)", strings.Join(missing, ", "), b.c.Vhost())
}
