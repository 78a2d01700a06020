//go:build integration

package amqp

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"
)

// inlineRec is a recorder whose deliveries come straight from the reader
// goroutine (an InlineHandler, as the bindings' consumer is).
type inlineRec struct{ *recorder }

func (inlineRec) InlineDeliveries() {}

// rawConsume consumes queue with amqp091-go itself and returns its first
// delivery, converted as the pump used to.
func rawConsume(t *testing.T, queue string) *Delivery {
	t.Helper()
	conn, ch := rawChannel(t)
	defer conn.Close()
	msgs, err := ch.Consume(queue, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case d := <-msgs:
		return fromAMQPDelivery(&d)
	case <-time.After(callTimeout):
		t.Fatal("no delivery")
	}
	return nil
}

// TestTryPublishRoundTrip: a message published by TryPublish (frames of our
// own) arrives as amqp091-go's own publish of it would: amqp091-go decodes
// it into the same delivery.
func TestTryPublishRoundTrip(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), AutoDelete: true})
	body := bytes.Repeat([]byte("0123456789"), 30000) // 300 KB: several frames
	p := fullPublishing(body)
	p.Exchange, p.RoutingKey, p.Immediate = "", q.Name, false
	// Right after a call, the executor may still be finishing its batch:
	// TryPublish then declines.
	var handled, pending bool
	var err error
	waitFor(t, callTimeout, func() error {
		if handled, pending, err = ch.TryPublish(p, false, nil); !handled {
			return fmt.Errorf("declined")
		}
		return nil
	})
	if pending || err != nil {
		t.Fatalf("TryPublish: pending %v err %v", pending, err)
	}
	ch.Flush()
	d := rawConsume(t, q.Name)
	if !bytes.Equal(d.Body, body) {
		t.Fatal("body differs")
	}
	if want := received(); !reflect.DeepEqual(d.Properties, want) {
		t.Fatalf("properties\n got %#v\nwant %#v", d.Properties, want)
	}
}

// TestTapDeliveriesMatchAmqp091: the same message, consumed through the
// tap and through amqp091-go, gives the same Delivery.
func TestTapDeliveriesMatchAmqp091(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q1 := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "a"), AutoDelete: true})
	q2 := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "b"), AutoDelete: true})
	conn, rch := rawChannel(t)
	defer conn.Close()
	headers, _ := toAMQPTable(fullPublishing(nil).Properties.Headers)
	headers["dec"] = amqp091.Decimal{Scale: 3, Value: 1234}
	headers["f32"] = float32(0.75)
	msgs := []amqp091.Publishing{
		{Body: bytes.Repeat([]byte("x"), 200000), Headers: headers, ContentType: "a/b", DeliveryMode: 2,
			Priority: 3, CorrelationId: "c", ReplyTo: "r", Expiration: "100000", MessageId: "m",
			Timestamp: time.Unix(1500000000, 0), Type: "t", UserId: "guest", AppId: "app"},
		{},
		{Body: []byte("small"), Headers: amqp091.Table{}},
	}
	for _, m := range msgs {
		for _, q := range []string{q1.Name, q2.Name} {
			if err := rch.Publish("", q, false, false, m); err != nil {
				t.Fatal(err)
			}
		}
	}
	rec := newRecorder()
	consume(t, ch, ConsumeArgs{Queue: q1.Name, NoAck: true}, inlineRec{rec})
	rmsgs, err := rch.Consume(q2.Name, "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, callTimeout, func() error {
		if n := rec.count(); n < len(msgs) {
			return fmt.Errorf("%d deliveries", n)
		}
		return nil
	})
	for i := range msgs {
		rd := <-rmsgs
		want := fromAMQPDelivery(&rd)
		got := rec.ds[i]
		want.ConsumerTag, want.RoutingKey = got.ConsumerTag, got.RoutingKey
		if !reflect.DeepEqual(got, want) {
			t.Errorf("message %d:\n tap %#v\n 091 %#v", i, got, want)
		}
	}
}

// TestDirectOrder: TryPublish, TryAck and queued calls interleaved reach
// the broker in call order; a TryPublish in confirm mode settles on the
// broker's ack; a pumped (not inline) consumer gets everything before End.
func TestDirectOrder(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	must(t, func(d func(error)) { ch.Confirm(bg(), false, d) })
	q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), Exclusive: true})
	const n = 3000
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	direct := 0
	for i := 0; i < n; i++ {
		p := &Publishing{RoutingKey: q.Name, Body: []byte(strconv.Itoa(i))}
		wg.Add(1)
		done := func(err error) {
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
			wg.Done()
		}
		switch {
		case i%100 == 50:
			ch.QueueDeclare(bg(), QueueDeclareArgs{Name: q.Name, Passive: true}, func(_ QueueInfo, err error) { done(err) })
		case i%7 == 3:
			ch.Publish(bg(), p, true, done) // queued
		default:
			handled, pending, err := ch.TryPublish(p, true, done)
			switch {
			case err != nil:
				t.Fatal(err)
			case !handled:
				ch.Publish(bg(), p, true, done)
			case !pending:
				t.Fatal("a confirm-mode TryPublish is not pending")
			default:
				direct++
			}
		}
		if i%50 == 0 {
			ch.Flush()
		}
	}
	ch.Flush()
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	if direct == 0 {
		t.Fatal("no publish took the direct path")
	}
	ch2 := openCh(t, c)
	rec := newRecorder()
	tag := consume(t, ch2, ConsumeArgs{Queue: q.Name}, rec)
	waitFor(t, callTimeout, func() error {
		if k := rec.count(); k < n-n/100 {
			return fmt.Errorf("%d delivered", k)
		}
		return nil
	})
	rec.mu.Lock()
	ds := append([]*Delivery(nil), rec.ds...)
	rec.mu.Unlock()
	var acks []uint64
	next := 0
	for _, d := range ds {
		acks = append(acks, d.DeliveryTag)
		i, _ := strconv.Atoi(string(d.Body))
		if i%100 == 50 {
			t.Fatalf("message %d was a declare", i)
		}
		for next%100 == 50 {
			next++
		}
		if i != next {
			t.Fatalf("got message %d, want %d", i, next)
		}
		next++
	}
	for i, tag := range acks {
		if i%2 == 0 && !ch2.TryAck(tag, false) {
			must(t, func(d func(error)) { ch2.Ack(tag, false, d) })
		} else if i%2 == 1 {
			must(t, func(d func(error)) { ch2.Ack(tag, false, d) })
		}
	}
	ch2.Flush()
	must(t, func(d func(error)) { ch2.Cancel(bg(), tag, false, d) })
	if err := rec.waitEnd(t); err != nil {
		t.Fatal(err)
	}
	waitFor(t, callTimeout, func() error {
		info := declareQ(t, ch, QueueDeclareArgs{Name: q.Name, Passive: true})
		if info.MessageCount != 0 {
			return fmt.Errorf("%d messages left: acks lost", info.MessageCount)
		}
		return nil
	})
}

// TestAckCoalescingBroker: acks made with TryAck in runs, which leave as
// multiple acks (also over the tags of an earlier no_ack consumer of the
// channel), are what the broker applies: every delivery acked is gone, and
// the one never acked (in the middle of the runs) is not — closing the
// channel requeues exactly that one.
func TestAckCoalescingBroker(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q"), Exclusive: true})
	const n, skip = 2000, 1234
	for i := 0; i < n; i++ {
		must(t, func(d func(error)) {
			ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte(strconv.Itoa(i))}, false, d)
		})
	}
	// First, on the same channel, deliveries to a no_ack consumer: tags
	// that need no ack, below the ones acked later.
	q0 := declareQ(t, ch, QueueDeclareArgs{Name: uniq(t, "q0"), Exclusive: true})
	for i := 0; i < 500; i++ {
		must(t, func(d func(error)) { ch.Publish(bg(), &Publishing{RoutingKey: q0.Name, Body: []byte("x")}, false, d) })
	}
	ch2 := openCh(t, c)
	rec0 := newRecorder()
	tag0 := consume(t, ch2, ConsumeArgs{Queue: q0.Name, NoAck: true}, rec0)
	waitFor(t, callTimeout, func() error {
		if k := rec0.count(); k < 500 {
			return fmt.Errorf("%d delivered", k)
		}
		return nil
	})
	must(t, func(d func(error)) { ch2.Cancel(bg(), tag0, false, d) })
	rec := newRecorder()
	consume(t, ch2, ConsumeArgs{Queue: q.Name}, rec)
	waitFor(t, callTimeout, func() error {
		if k := rec.count(); k < n {
			return fmt.Errorf("%d delivered", k)
		}
		return nil
	})
	rec.mu.Lock()
	ds := append([]*Delivery(nil), rec.ds...)
	rec.mu.Unlock()
	direct := 0
	for i, d := range ds {
		if string(d.Body) == strconv.Itoa(skip) {
			continue
		}
		if ch2.TryAck(d.DeliveryTag, false) {
			direct++
		} else {
			must(t, func(done func(error)) { ch2.Ack(d.DeliveryTag, false, done) })
		}
		if i%300 == 299 {
			ch2.Flush()
		}
	}
	ch2.Flush()
	if direct == 0 {
		t.Fatal("no ack took the direct path")
	}
	// A round trip on ch2 after the acks: they have been applied.
	declareQ(t, ch2, QueueDeclareArgs{Name: q.Name, Passive: true})
	must(t, func(d func(error)) { ch2.Close(bg(), 0, "", d) })
	waitFor(t, callTimeout, func() error {
		if info := declareQ(t, ch, QueueDeclareArgs{Name: q.Name, Passive: true}); info.MessageCount != 1 {
			return fmt.Errorf("%d messages in the queue, want 1 (the one never acked)", info.MessageCount)
		}
		return nil
	})
	type got struct {
		d   *Delivery
		ok  bool
		err error
	}
	res := make(chan got, 1)
	ch.Get(bg(), q.Name, true, func(d *Delivery, ok bool, err error) { res <- got{d, ok, err} })
	select {
	case g := <-res:
		if g.err != nil || !g.ok || string(g.d.Body) != strconv.Itoa(skip) {
			t.Fatalf("basic.get: %v %v %+v, want the message %d", g.err, g.ok, g.d, skip)
		}
	case <-time.After(callTimeout):
		t.Fatal("basic.get did not answer")
	}
}
