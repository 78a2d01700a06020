//go:build integration

package amqp

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIntegrationTopology(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true, AutoDelete: true})
	if !strings.HasPrefix(q.Name, "amq.gen-") {
		t.Errorf("generated queue name %q", q.Name)
	}
	qn := uniq(t, "q")
	info := declareQ(t, ch, QueueDeclareArgs{Name: qn, AutoDelete: true, Args: Table{"x-max-priority": 4, "x-message-ttl": int64(60000)}})
	if info.Name != qn || info.MessageCount != 0 {
		t.Errorf("declare %+v", info)
	}
	ex, ex2 := uniq(t, "x"), uniq(t, "x2")
	must(t, func(d func(error)) {
		ch.ExchangeDeclare(bg(), ExchangeDeclareArgs{Name: ex, Kind: "topic"}, d)
	})
	t.Cleanup(func() {
		if cch, err := c.OpenChannel(bg()); err == nil {
			_ = await(t, func(d func(error)) { cch.ExchangeDelete(bg(), ex, false, false, d) })
			_ = await(t, func(d func(error)) { cch.ExchangeDelete(bg(), ex2, false, false, d) })
			_ = await(t, func(d func(error)) { cch.QueueDelete(bg(), qn, false, false, false, d) })
		}
	})
	must(t, func(d func(error)) {
		ch.ExchangeDeclare(bg(), ExchangeDeclareArgs{Name: ex2, Kind: "fanout", AutoDelete: true}, d)
	})
	must(t, func(d func(error)) { ch.ExchangeDeclare(bg(), ExchangeDeclareArgs{Name: ex, Passive: true}, d) })
	must(t, func(d func(error)) { ch.QueueBind(bg(), qn, ex, "a.*", false, nil, d) })
	must(t, func(d func(error)) { ch.ExchangeBind(bg(), ex2, ex, "b.#", false, nil, d) })
	must(t, func(d func(error)) { ch.QueueBind(bg(), qn, ex2, "", false, nil, d) })

	for _, key := range []string{"a.1", "b.x.y", "c"} {
		must(t, func(d func(error)) {
			ch.Publish(bg(), &Publishing{Exchange: ex, RoutingKey: key, Body: []byte(key)}, false, d)
		})
	}
	// 2 routed (a.1 directly, b.x.y through ex2); purge says so.
	waitFor(t, 5*time.Second, func() error {
		q := declareQ(t, ch, QueueDeclareArgs{Name: qn, Passive: true})
		if q.MessageCount != 2 {
			return fmt.Errorf("message count %d", q.MessageCount)
		}
		return nil
	})
	var purged int
	must(t, func(d func(error)) { ch.QueuePurge(bg(), qn, false, func(n int, err error) { purged = n; d(err) }) })
	if purged != 2 {
		t.Errorf("purged %d, want 2", purged)
	}
	must(t, func(d func(error)) { ch.QueueUnbind(bg(), qn, ex, "a.*", nil, d) })
	must(t, func(d func(error)) { ch.ExchangeUnbind(bg(), ex2, ex, "b.#", false, nil, d) })
	must(t, func(d func(error)) {
		ch.Publish(bg(), &Publishing{Exchange: ex, RoutingKey: "a.1"}, false, d)
	})
	q2 := declareQ(t, ch, QueueDeclareArgs{Name: qn, Passive: true})
	if q2.MessageCount != 0 {
		t.Errorf("unbind had no effect: %d messages", q2.MessageCount)
	}
	must(t, func(d func(error)) { ch.ExchangeDelete(bg(), ex2, false, false, d) })
	must(t, func(d func(error)) { ch.ExchangeDelete(bg(), ex, false, false, d) })
	must(t, func(d func(error)) { ch.QueueDelete(bg(), qn, false, false, false, d) })
	// Gone: a passive declare now fails with 404 and closes the channel.
	err := await(t, func(d func(error)) { ch.ExchangeDeclare(bg(), ExchangeDeclareArgs{Name: ex, Passive: true}, d) })
	asError(t, err, KindChannelClosed, 404)
}

func TestIntegrationChannelErrors(t *testing.T) {
	c := dialT(t)
	t.Run("PassiveMissing404", func(t *testing.T) {
		ch := openCh(t, c)
		var closed atomic.Pointer[Error]
		ch.OnClose(func(err *Error) { closed.Store(err) })
		// Three calls queued at once: the first fails, the two pending
		// ones get the broker's code too, a later one gets code 0.
		errs := make(chan error, 3)
		ch.QueueDeclare(bg(), QueueDeclareArgs{Name: uniq(t, "missing"), Passive: true}, func(_ QueueInfo, err error) { errs <- err })
		ch.QueueDeclare(bg(), QueueDeclareArgs{Exclusive: true}, func(_ QueueInfo, err error) { errs <- err })
		ch.Publish(bg(), &Publishing{RoutingKey: "x"}, false, func(err error) { errs <- err })
		e := asError(t, <-errs, KindChannelClosed, 404)
		if e.Op != "queue_declare" || !strings.Contains(e.Reason, "NOT_FOUND") {
			t.Errorf("error %v", e)
		}
		asError(t, <-errs, KindChannelClosed, 404)
		asError(t, <-errs, KindChannelClosed, 404)
		waitFor(t, 5*time.Second, func() error {
			if closed.Load() == nil {
				return fmt.Errorf("OnClose not called")
			}
			return nil
		})
		if closed.Load().Code != 404 || ch.IsOpen() {
			t.Errorf("OnClose %v, open %v", closed.Load(), ch.IsOpen())
		}
		err := await(t, func(d func(error)) { ch.QueueDelete(bg(), "x", false, false, false, d) })
		asError(t, err, KindChannelClosed, 0)
		err = await(t, func(d func(error)) { ch.Close(bg(), 200, "", d) })
		asError(t, err, KindChannelClosed, 0)
	})
	t.Run("Redeclare406", func(t *testing.T) {
		ch := openCh(t, c)
		qn := uniq(t, "q")
		declareQ(t, ch, QueueDeclareArgs{Name: qn, AutoDelete: true})
		t.Cleanup(func() {
			if cch, err := c.OpenChannel(bg()); err == nil {
				_ = await(t, func(d func(error)) { cch.QueueDelete(bg(), qn, false, false, false, d) })
			}
		})
		err := await(t, func(d func(error)) {
			ch.QueueDeclare(bg(), QueueDeclareArgs{Name: qn, Durable: true}, func(_ QueueInfo, err error) { d(err) })
		})
		e := asError(t, err, KindChannelClosed, 406)
		if !strings.Contains(e.Reason, "PRECONDITION_FAILED") {
			t.Errorf("%v", e)
		}
		ch = openCh(t, c)
		qa := uniq(t, "qa")
		declareQ(t, ch, QueueDeclareArgs{Name: qa, Exclusive: true, Args: Table{"x-max-length": 10}})
		err = await(t, func(d func(error)) {
			ch.QueueDeclare(bg(), QueueDeclareArgs{Name: qa, Exclusive: true, Args: Table{"x-max-length": 20}}, func(_ QueueInfo, err error) { d(err) })
		})
		asError(t, err, KindChannelClosed, 406)
	})
	t.Run("Exclusive405", func(t *testing.T) {
		ch := openCh(t, c)
		q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), Exclusive: true})
		other := dial(t, testConfig(t))
		ch2 := openCh(t, other)
		err := await(t, func(d func(error)) {
			ch2.QueueDeclare(bg(), QueueDeclareArgs{Name: q.Name, Exclusive: true}, func(_ QueueInfo, err error) { d(err) })
		})
		asError(t, err, KindChannelClosed, 405)
	})
	t.Run("DuplicateConsumer", func(t *testing.T) {
		ch := openCh(t, c)
		q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
		tag := consume(t, ch, ConsumeArgs{Queue: q.Name, Tag: "dup"}, newRecorder())
		err := await(t, func(d func(error)) {
			ch.Consume(bg(), ConsumeArgs{Queue: q.Name, Tag: tag}, newRecorder(), func(_ string, err error) { d(err) })
		})
		e := asError(t, err, KindDuplicateConsumer, 530)
		if e.ConsumerTag != "dup" {
			t.Errorf("consumer tag %q", e.ConsumerTag)
		}
		// Nothing was sent: the channel is still usable.
		declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
		if got := ch.ConsumerTags(); !reflect.DeepEqual(got, []string{"dup"}) {
			t.Errorf("tags %v", got)
		}
	})
	t.Run("Invalid", func(t *testing.T) {
		ch := openCh(t, c)
		err := await(t, func(d func(error)) {
			ch.Publish(bg(), &Publishing{RoutingKey: strings.Repeat("k", 256)}, false, d)
		})
		asError(t, err, KindInvalid, 0)
		err = await(t, func(d func(error)) {
			ch.Publish(bg(), &Publishing{Properties: Properties{Headers: Table{"f": func() {}}}}, false, d)
		})
		asError(t, err, KindInvalid, 0)
		declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	})
	t.Run("Timeout", func(t *testing.T) {
		ch := openCh(t, c)
		ctx, cancel := context.WithCancel(bg())
		cancel()
		err := await(t, func(d func(error)) {
			ch.QueueDeclare(ctx, QueueDeclareArgs{Exclusive: true}, func(_ QueueInfo, err error) { d(err) })
		})
		asError(t, err, KindTimeout, 0)
		ctx, cancel = context.WithTimeout(bg(), time.Nanosecond)
		defer cancel()
		err = await(t, func(d func(error)) {
			ch.Get(ctx, "nope", false, func(_ *Delivery, _ bool, err error) { d(err) })
		})
		asError(t, err, KindTimeout, 0)
		declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	})
}

func TestIntegrationChannelClose(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	var onClose atomic.Int32
	ch.OnClose(func(err *Error) {
		if err != nil {
			t.Errorf("OnClose(%v)", err)
		}
		onClose.Add(1)
	})
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	r := newRecorder()
	consume(t, ch, ConsumeArgs{Queue: q.Name}, r)
	errs := make(chan error, 2)
	ch.Close(bg(), 200, "Normal Shutdown", func(err error) { errs <- err })
	ch.Close(bg(), 200, "Normal Shutdown", func(err error) { errs <- err })
	if err := <-errs; err != nil {
		t.Fatalf("Close: %v", err)
	}
	asError(t, <-errs, KindChannelClosed, 0)
	if err := r.waitEnd(t); err != nil {
		t.Errorf("consumer End(%v), want nil", err)
	}
	if onClose.Load() != 1 || ch.IsOpen() {
		t.Errorf("OnClose %d times, open %v", onClose.Load(), ch.IsOpen())
	}
	// A custom code and text go out (the tap rewrites amqp091's frame).
	ch2 := openCh(t, c)
	must(t, func(d func(error)) { ch2.Close(bg(), 320, strings.Repeat("t", 255), d) })
	ch3 := openCh(t, c)
	declareQ(t, ch3, QueueDeclareArgs{Exclusive: true})
}

func TestIntegrationOrdering(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	const n = 1000
	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		record := func(err error) {
			if err != nil {
				t.Errorf("op %d: %v", i, err)
			}
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			wg.Done()
		}
		switch i % 4 {
		case 0, 1:
			ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte(strconv.Itoa(i))}, false, record)
		case 2:
			ch.QueueDeclare(bg(), QueueDeclareArgs{Name: q.Name, Passive: true}, func(_ QueueInfo, err error) { record(err) })
		case 3:
			ch.QueueBind(bg(), q.Name, "amq.direct", "k"+strconv.Itoa(i), false, nil, record)
		}
	}
	wg.Wait()
	for i, v := range order {
		if v != i {
			t.Fatalf("done #%d was op %d", i, v)
		}
	}
	r := newRecorder()
	consume(t, ch, ConsumeArgs{Queue: q.Name, NoAck: true}, r)
	waitFor(t, 10*time.Second, func() error {
		if r.count() < n/2 {
			return fmt.Errorf("%d deliveries", r.count())
		}
		return nil
	})
	j := 0
	for i := 0; i < n; i++ {
		if i%4 < 2 {
			if got := string(r.ds[j].Body); got != strconv.Itoa(i) {
				t.Fatalf("delivery %d is %q, want %d", j, got, i)
			}
			j++
		}
	}
}

func TestIntegrationProperties(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true, Args: Table{"x-max-priority": 9}})
	ts := time.Unix(1700000000, 0).UTC()
	props := Properties{
		ContentType:     "application/json",
		ContentEncoding: "gzip",
		Headers: Table{
			"s": "str", "i8": int8(-5), "i16": int16(300), "i32": int32(-70000), "i64": int64(1) << 40,
			"f": 1.5, "b": true, "n": nil, "bytes": []byte{0, 1, 255}, "t": ts,
			"arr":    []any{int32(1), "two", []any{true}},
			"nested": Table{"deep": Table{"x": int64(42)}, "list": []any{}},
		},
		DeliveryMode:  2,
		Priority:      7,
		CorrelationID: "corr",
		ReplyTo:       "reply",
		Expiration:    "60000",
		MessageID:     "mid",
		Timestamp:     ts,
		Type:          "type",
		UserID:        testConfig(t).Login,
		AppID:         "app",
	}
	body := []byte("payload")
	must(t, func(d func(error)) {
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: body, Properties: props}, false, d)
	})
	r := newRecorder()
	tag := consume(t, ch, ConsumeArgs{Queue: q.Name}, r)
	if !strings.HasPrefix(tag, "ctag"+strconv.Itoa(ch.ID())+".") || len(tag) != len("ctag"+strconv.Itoa(ch.ID())+".")+32 {
		t.Errorf("generated tag %q", tag)
	}
	waitFor(t, 5*time.Second, func() error {
		if r.count() == 0 {
			return fmt.Errorf("no delivery")
		}
		return nil
	})
	d := r.ds[0]
	if !bytes.Equal(d.Body, body) || d.ConsumerTag != tag || d.DeliveryTag != 1 || d.Redelivered || d.Exchange != "" || d.RoutingKey != q.Name {
		t.Errorf("delivery %+v", d)
	}
	want := props
	want.Headers = Table{
		"s": "str", "i8": int64(-5), "i16": int64(300), "i32": int64(-70000), "i64": int64(1) << 40,
		"f": 1.5, "b": true, "n": nil, "bytes": []byte{0, 1, 255}, "t": ts,
		"arr":    []any{int64(1), "two", []any{true}},
		"nested": Table{"deep": Table{"x": int64(42)}, "list": []any{}},
	}
	if !reflect.DeepEqual(d.Properties, want) {
		t.Errorf("properties\n got %#v\nwant %#v", d.Properties, want)
	}
	must(t, func(done func(error)) { ch.Ack(d.DeliveryTag, false, done) })
}

func TestIntegrationReturn(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	returns := make(chan *Return, 1)
	var order []string
	var mu sync.Mutex
	ch.OnReturn(func(r *Return) {
		mu.Lock()
		order = append(order, "return")
		mu.Unlock()
		returns <- r
	})
	key := uniq(t, "nowhere")
	p := &Publishing{RoutingKey: key, Mandatory: true, Body: []byte("lost"), Properties: Properties{MessageID: "m1"}}
	must(t, func(d func(error)) { ch.Publish(bg(), p, false, d) })
	r := <-returns
	if r.ReplyCode != 312 || r.ReplyText != "NO_ROUTE" || r.RoutingKey != key || string(r.Body) != "lost" || r.Properties.MessageID != "m1" {
		t.Errorf("return %+v", r)
	}
	// In confirm mode the return comes before the confirm.
	must(t, func(d func(error)) { ch.Confirm(bg(), false, d) })
	mu.Lock()
	order = nil
	mu.Unlock()
	for i := 0; i < 20; i++ {
		must(t, func(d func(error)) {
			ch.Publish(bg(), p, true, func(err error) {
				mu.Lock()
				order = append(order, "ack")
				mu.Unlock()
				d(err)
			})
		})
		<-returns
	}
	for i := 0; i < len(order); i += 2 {
		if order[i] != "return" || order[i+1] != "ack" {
			t.Fatalf("order %v", order)
		}
	}
}

func TestIntegrationConfirms(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	if ch.Confirming() {
		t.Fatal("confirming before Confirm")
	}
	must(t, func(d func(error)) { ch.Confirm(bg(), false, d) })
	if !ch.Confirming() {
		t.Fatal("not confirming")
	}
	err := await(t, func(d func(error)) { ch.Confirm(bg(), false, d) })
	asError(t, err, KindInvalid, 0)

	const n = 10000
	var acked, written atomic.Int32
	var wg sync.WaitGroup
	body := []byte("m")
	for i := 0; i < n; i++ {
		wait := i%3 != 0
		wg.Add(1)
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: body}, wait, func(err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("publish %d: %v", i, err)
			}
			if wait {
				acked.Add(1)
			} else {
				written.Add(1)
			}
		})
	}
	wg.Wait()
	if acked.Load() != n-(n+2)/3 || written.Load() != (n+2)/3 {
		t.Errorf("acked %d, written %d", acked.Load(), written.Load())
	}
	// The last publishes did not wait: their acks may still be on the way.
	waitFor(t, 5*time.Second, func() error {
		if p := ch.ring.Load().pending(); p != 0 {
			return fmt.Errorf("%d confirms left in the ring", p)
		}
		return nil
	})
	// The broker closes the channel: publishes waiting for confirms get its
	// error.
	errs := make(chan error, 3)
	for i := 0; i < 3; i++ {
		ch.Publish(bg(), &Publishing{Exchange: uniq(t, "missing"), RoutingKey: "k"}, true, func(err error) { errs <- err })
	}
	for i := 0; i < 3; i++ {
		e := asError(t, <-errs, KindChannelClosed, 404)
		if e.Op != "basic_publish" {
			t.Errorf("op %q", e.Op)
		}
	}
}

func TestIntegrationNack(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true, Args: Table{"x-max-length": 1, "x-overflow": "reject-publish"}})
	must(t, func(d func(error)) { ch.Confirm(bg(), true, d) })
	// Tag 1 (not waited for) fills the queue; tags 2 and 3 are rejected.
	errs := make(chan error, 3)
	ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, false, func(err error) { errs <- err })
	ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, true, func(err error) { errs <- err })
	ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, true, func(err error) { errs <- err })
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	for _, tag := range []uint64{2, 3} {
		e := asError(t, <-errs, KindPublishNacked, 0)
		if e.DeliveryTag != tag || e.Op != "basic_publish" {
			t.Errorf("nack %v tag %d, want %d", e, e.DeliveryTag, tag)
		}
	}
}

// consumingConn dials a connection whose channel, in confirm mode, consumes
// from an exclusive queue into r; closed receives what OnClose is called
// with.
func consumingConn(t *testing.T) (c *Conn, ch *Channel, q QueueInfo, r *recorder, closed chan *Error) {
	t.Helper()
	c = dialT(t)
	ch = openCh(t, c)
	closed = make(chan *Error, 1)
	c.OnClose(func(err *Error) { closed <- err })
	q = declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	r = newRecorder()
	consume(t, ch, ConsumeArgs{Queue: q.Name}, r)
	must(t, func(d func(error)) { ch.Confirm(bg(), false, d) })
	return c, ch, q, r, closed
}

func TestIntegrationBrokerClose(t *testing.T) {
	c, ch, _, r, closed := consumingConn(t)
	// A Get on a queue that another connection holds exclusively would
	// fail; instead keep a publish pending on the confirm.
	pending := make(chan error, 1)
	ch.Publish(bg(), &Publishing{Exchange: "amq.direct", RoutingKey: "none"}, true, func(err error) { pending <- err })
	<-pending
	pid := ""
	waitFor(t, 5*time.Second, func() error {
		out := rabbitmqctl(t, "list_connections", "pid", "name")
		for _, line := range strings.Split(out, "\n") {
			f := strings.Split(line, "\t")
			if len(f) == 2 && strings.HasPrefix(f[1], c.LocalAddr()+" ") {
				pid = f[0]
				return nil
			}
		}
		return errNotListed
	})
	rabbitmqctl(t, "close_connection", pid, "test says bye")
	var err *Error
	select {
	case err = <-closed:
	case <-time.After(callTimeout):
		t.Fatal("OnClose not called")
	}
	if err == nil || err.Kind != KindConnectionClosed || err.Code != 320 || !strings.Contains(err.Reason, "test says bye") {
		t.Fatalf("OnClose(%v)", err)
	}
	e := asError(t, r.waitEnd(t), KindChannelClosed, 320)
	_ = e
	err2 := await(t, func(d func(error)) { ch.QueueDelete(bg(), "x", false, false, false, d) })
	asError(t, err2, KindConnectionClosed, 0)
}

func TestIntegrationAbort(t *testing.T) {
	c, ch, q, r, closed := consumingConn(t)
	c.Abort()
	if err := <-closed; err != nil {
		t.Errorf("OnClose(%v), want nil", err)
	}
	if err := r.waitEnd(t); err != nil {
		t.Errorf("End(%v)", err)
	}
	err := await(t, func(d func(error)) { ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, true, d) })
	asError(t, err, KindConnectionClosed, 0)
}

// Drop ends the connection as a lost one (aioamqp's transport.close() on an
// open connection): OnClose, the consumer's End and later calls get a
// KindConnectionClosed error saying so, and the broker lets the connection
// go (its exclusive queue is deleted).
func TestIntegrationDrop(t *testing.T) {
	c, ch, q, r, closed := consumingConn(t)
	c.Drop()
	var err *Error
	select {
	case err = <-closed:
	case <-time.After(callTimeout):
		t.Fatal("OnClose not called")
	}
	if err == nil || err.Kind != KindConnectionClosed || err.Code != 0 || err.Reason != droppedReason {
		t.Fatalf("OnClose(%v), want KindConnectionClosed %q", err, droppedReason)
	}
	end := asError(t, r.waitEnd(t), KindConnectionClosed, 0)
	if end.Reason != droppedReason {
		t.Errorf("End(%v), want %q", end, droppedReason)
	}
	perr := await(t, func(d func(error)) { ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, true, d) })
	asError(t, perr, KindConnectionClosed, 0)
	if _, oerr := c.OpenChannel(bg()); oerr == nil {
		t.Error("OpenChannel after Drop succeeded")
	}

	c2 := dialT(t)
	ch2 := openCh(t, c2)
	waitFor(t, 10*time.Second, func() error {
		err := await(t, func(d func(error)) {
			ch2.QueueDeclare(bg(), QueueDeclareArgs{Name: q.Name, Passive: true}, func(_ QueueInfo, err error) { d(err) })
		})
		if err == nil {
			return fmt.Errorf("queue %s still exists", q.Name) // the broker has not seen the close yet
		}
		if e, ok := err.(*Error); ok && e.Code == 404 {
			return nil
		}
		t.Fatalf("passive declare: %v", err)
		return nil
	})
}
