package bench

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The "raw" client: the benchmark's workload written directly against
// amqp091-go, as a Go program would, so that amqpjs can be compared with the
// library it sits on. The workload must stay the same as amqpjs.js and
// amqplib.js do.

// PhaseResult is the measurement of one phase, as every client of the
// benchmark reports it (JSON field names are the protocol).
type PhaseResult struct {
	Phase    string  `json:"phase"`
	N        int     `json:"n"`
	Secs     float64 `json:"secs"`      // phase start → last message enqueued / received / confirmed
	LoopSecs float64 `json:"loop_secs"` // publish phases: until the publishing loop ended
	CPU      float64 `json:"cpu"`       // client CPU seconds spent in the phase
	P50      float64 `json:"p50_ms,omitempty"`
	P99      float64 `json:"p99_ms,omitempty"`
}

// rawBench runs the workload with amqp091-go and calls report after each
// phase.
func rawBench(cfg config, report func(PhaseResult)) error {
	conn, err := amqp091.Dial(cfg.URL)
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		return err
	}
	body := make([]byte, cfg.Size)
	for i := range body {
		body[i] = 'x'
	}
	n := cfg.N
	now := time.Now
	waitCount := func(want int) error {
		for {
			qi, err := ch.QueueDeclarePassive(q.Name, false, false, true, false, nil)
			if err != nil {
				return err
			}
			if qi.Messages >= want {
				return nil
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	// consume takes n messages from q; ack acknowledges each one.
	consume := func(c *amqp091.Channel, noAck bool) error {
		msgs, err := c.Consume(q.Name, "bench", noAck, false, false, false, nil)
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			d, ok := <-msgs
			if !ok {
				return errors.New("consumer closed")
			}
			if !noAck {
				if err := d.Ack(false); err != nil {
					return err
				}
			}
		}
		if err := c.Cancel("bench", false); err != nil {
			return err
		}
		for range msgs {
		}
		return nil
	}
	run := func(p string) bool { return slices.Contains(cfg.Phases, p) }

	if run("publish") {
		c0, t0 := cpuSeconds(), now()
		msg := amqp091.Publishing{Body: body}
		for i := 0; i < n; i++ {
			if err := ch.Publish("", q.Name, false, false, msg); err != nil {
				return err
			}
		}
		tl := time.Since(t0)
		if err := waitCount(n); err != nil {
			return err
		}
		report(PhaseResult{Phase: "publish", N: n, Secs: time.Since(t0).Seconds(), LoopSecs: tl.Seconds(), CPU: cpuSeconds() - c0})
	}

	if run("consume") {
		c0, t0 := cpuSeconds(), now()
		if err := consume(ch, true); err != nil {
			return err
		}
		report(PhaseResult{Phase: "consume", N: n, Secs: time.Since(t0).Seconds(), CPU: cpuSeconds() - c0})
	}

	if run("confirm") {
		cc, err := conn.Channel()
		if err != nil {
			return err
		}
		if err := cc.Confirm(false); err != nil {
			return err
		}
		c0, t0 := cpuSeconds(), now()
		msg := amqp091.Publishing{Body: body}
		ring := make([]*amqp091.DeferredConfirmation, cfg.Window)
		for i := 0; i < n; i++ {
			k := i % cfg.Window
			if dc := ring[k]; dc != nil && !dc.Wait() {
				return errors.New("publish nacked")
			}
			if ring[k], err = cc.PublishWithDeferredConfirm("", q.Name, false, false, msg); err != nil {
				return err
			}
		}
		tl := time.Since(t0)
		for _, dc := range ring {
			if dc != nil && !dc.Wait() {
				return errors.New("publish nacked")
			}
		}
		report(PhaseResult{Phase: "confirm", N: n, Secs: time.Since(t0).Seconds(), LoopSecs: tl.Seconds(), CPU: cpuSeconds() - c0})
		if err := cc.Close(); err != nil {
			return err
		}
	}

	if run("consume_ack") {
		c0, t0 := cpuSeconds(), now()
		if err := ch.Qos(cfg.Prefetch, 0, false); err != nil {
			return err
		}
		if err := consume(ch, false); err != nil {
			return err
		}
		report(PhaseResult{Phase: "consume_ack", N: n, Secs: time.Since(t0).Seconds(), CPU: cpuSeconds() - c0})
	}

	if run("latency") {
		r, err := rawLatency(conn, cfg)
		if err != nil {
			return err
		}
		report(r)
	}
	return nil
}

// rawLatency publishes cfg.Rate messages per second for cfg.Duration, each
// carrying its send time (float64 milliseconds, little-endian, in its first
// 8 bytes), and consumes them on another channel of the same connection.
func rawLatency(conn *amqp091.Connection, cfg config) (PhaseResult, error) {
	ch, err := conn.Channel()
	if err != nil {
		return PhaseResult{}, err
	}
	defer ch.Close()
	q, err := ch.QueueDeclare("", false, false, true, false, nil)
	if err != nil {
		return PhaseResult{}, err
	}
	total := int(math.Round(float64(cfg.Rate) * cfg.Duration))
	if total < 1 {
		return PhaseResult{}, errors.New("latency phase: rate × duration is less than one message")
	}
	size := max(cfg.Size, 8)
	msgs, err := ch.Consume(q.Name, "lat", true, false, false, false, nil)
	if err != nil {
		return PhaseResult{}, err
	}
	pub, err := conn.Channel()
	if err != nil {
		return PhaseResult{}, err
	}
	defer pub.Close()
	c0 := cpuSeconds()
	start := time.Now()
	ms := func() float64 { return float64(time.Since(start)) / float64(time.Millisecond) }
	lat := make([]float64, 0, total)
	var wg sync.WaitGroup
	wg.Add(1)
	var cerr error
	go func() {
		defer wg.Done()
		for d := range msgs {
			if len(d.Body) < 8 {
				cerr = fmt.Errorf("latency phase: short body")
				return
			}
			lat = append(lat, ms()-math.Float64frombits(binary.LittleEndian.Uint64(d.Body)))
			if len(lat) == total {
				return
			}
		}
	}()
	sent := 0
	tick := time.NewTicker(time.Millisecond)
	for sent < total {
		due := min(total, int(ms()*float64(cfg.Rate)/1000))
		for ; sent < due; sent++ {
			b := make([]byte, size)
			binary.LittleEndian.PutUint64(b, math.Float64bits(ms()))
			if err := pub.Publish("", q.Name, false, false, amqp091.Publishing{Body: b}); err != nil {
				tick.Stop()
				return PhaseResult{}, err
			}
		}
		if sent < total {
			<-tick.C
		}
	}
	tick.Stop()
	wg.Wait()
	if cerr != nil {
		return PhaseResult{}, cerr
	}
	secs := time.Since(start).Seconds()
	cpu := cpuSeconds() - c0
	if err := ch.Cancel("lat", false); err != nil {
		return PhaseResult{}, err
	}
	p50, p99 := percentiles(lat)
	return PhaseResult{Phase: "latency", N: total, Secs: secs, CPU: cpu, P50: p50, P99: p99}, nil
}

// percentiles returns the 50th and 99th percentiles of xs (sorted in place),
// by the nearest-rank rule the benchmark's scripts use too.
func percentiles(xs []float64) (p50, p99 float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	slices.Sort(xs)
	at := func(p float64) float64 { return xs[min(len(xs)-1, int(p*float64(len(xs))))] }
	return at(0.50), at(0.99)
}
