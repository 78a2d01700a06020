//go:build integration

package amqp

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestIntegrationGetAckNack(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	get := func() (*Delivery, bool) {
		var d *Delivery
		var ok bool
		must(t, func(done func(error)) {
			ch.Get(bg(), q.Name, false, func(dd *Delivery, got bool, err error) { d, ok = dd, got; done(err) })
		})
		return d, ok
	}
	if _, ok := get(); ok {
		t.Fatal("Get on an empty queue said ok")
	}
	for i := 0; i < 3; i++ {
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte{byte(i)}}, false, func(error) {})
	}
	d, ok := get()
	if !ok || d.Body[0] != 0 || d.MessageCount != 2 {
		t.Fatalf("Get %+v %v", d, ok)
	}
	must(t, func(done func(error)) { ch.Nack(d.DeliveryTag, false, true, done) })
	d, _ = get()
	if d.Body[0] != 0 || !d.Redelivered {
		t.Errorf("requeued %+v", d)
	}
	must(t, func(done func(error)) { ch.Reject(d.DeliveryTag, false, done) })
	d, _ = get()
	must(t, func(done func(error)) { ch.Ack(d.DeliveryTag, false, done) })
	d, _ = get()
	if d.Body[0] != 2 {
		t.Errorf("last %+v", d)
	}
	must(t, func(done func(error)) { ch.Recover(bg(), true, done) })
	must(t, func(done func(error)) {
		ch.Flow(bg(), true, func(active bool, err error) {
			if !active {
				t.Errorf("flow active %v", active)
			}
			done(err)
		})
	})
}

func TestIntegrationConsumerCancel(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	t.Run("Client", func(t *testing.T) {
		q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
		for i := 0; i < 20; i++ {
			ch.Publish(bg(), &Publishing{RoutingKey: q.Name, Body: []byte{byte(i)}}, false, func(error) {})
		}
		r := newRecorder()
		var cancelDone atomic.Bool
		r.onDeliver = func(*Delivery) {}
		tag := consume(t, ch, ConsumeArgs{Queue: q.Name, NoAck: true}, r)
		waitFor(t, 5*time.Second, func() error {
			if r.count() < 20 {
				return fmt.Errorf("%d deliveries", r.count())
			}
			return nil
		})
		must(t, func(done func(error)) {
			ch.Cancel(bg(), tag, false, func(err error) { cancelDone.Store(true); done(err) })
		})
		if err := r.waitEnd(t); err != nil {
			t.Errorf("End(%v)", err)
		}
		if len(ch.ConsumerTags()) != 0 || len(r.cancelled) != 0 {
			t.Errorf("tags %v, cancelled %v", ch.ConsumerTags(), r.cancelled)
		}
	})
	t.Run("Server", func(t *testing.T) {
		qn := uniq(t, "q")
		declareQ(t, ch, QueueDeclareArgs{Name: qn, AutoDelete: true})
		r := newRecorder()
		tag := consume(t, ch, ConsumeArgs{Queue: qn}, r)
		other := openCh(t, c)
		must(t, func(d func(error)) { other.QueueDelete(bg(), qn, false, false, false, d) })
		e := asError(t, r.waitEnd(t), KindConsumerCancelled, 0)
		if e.ConsumerTag != tag || !reflect.DeepEqual(r.events, []string{"cancelled", "end"}) || r.cancelled[0] != tag {
			t.Errorf("events %v, cancelled %v, err %v", r.events, r.cancelled, e)
		}
		if len(ch.ConsumerTags()) != 0 || !ch.IsOpen() {
			t.Errorf("tags %v open %v", ch.ConsumerTags(), ch.IsOpen())
		}
		declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	})
}

func TestIntegrationQos(t *testing.T) {
	c := dialT(t)
	ch := openCh(t, c)
	q := declareQ(t, ch, QueueDeclareArgs{Exclusive: true})
	const total = 60
	for i := 0; i < total; i++ {
		ch.Publish(bg(), &Publishing{RoutingKey: q.Name}, false, func(error) {})
	}
	must(t, func(d func(error)) { ch.Qos(bg(), 0, 10, false, d) })
	var mu sync.Mutex
	var held []uint64
	maxHeld := 0
	r := newRecorder()
	r.onDeliver = func(d *Delivery) {
		mu.Lock()
		held = append(held, d.DeliveryTag)
		maxHeld = max(maxHeld, len(held))
		mu.Unlock()
	}
	consume(t, ch, ConsumeArgs{Queue: q.Name}, r)
	for r.count() < total {
		waitFor(t, 5*time.Second, func() error {
			mu.Lock()
			defer mu.Unlock()
			if len(held) < 10 && r.count() < total {
				return fmt.Errorf("holding %d", len(held))
			}
			return nil
		})
		// Holding 10: give the broker a moment to (wrongly) send more.
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		tags := held
		held = nil
		mu.Unlock()
		for _, tag := range tags {
			ch.Ack(tag, false, func(error) {})
		}
	}
	if maxHeld != 10 {
		t.Errorf("max unacked held %d, want 10", maxHeld)
	}
}
