package amqp

import (
	"fmt"
	"testing"
)

// pubOp returns a publish op that records its result in got.
func pubOp(got map[int]error, i int) *op {
	return &op{kind: opPublish, done: func(err error) {
		if _, dup := got[i]; dup {
			panic(fmt.Sprintf("op %d completed twice", i))
		}
		got[i] = err
	}}
}

func TestConfirmRing(t *testing.T) {
	t.Run("MixedWaitersInStep", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		ops := map[uint64]int{}
		for i := 1; i <= 200; i++ {
			var o *op
			if i%3 != 0 {
				o = pubOp(got, i)
			}
			tag, err := r.push(o)
			if err != nil || tag != uint64(i) {
				t.Fatalf("push %d: tag %d err %v", i, tag, err)
			}
			if o != nil {
				ops[tag] = i
				if o.tag != tag {
					t.Fatalf("op tag %d", o.tag)
				}
			}
		}
		r.settle(5, false, true) // single, out of order
		if len(got) != 1 || got[5] != nil {
			t.Fatalf("after ack 5: %v", got)
		}
		r.settle(10, true, true) // multiple: 1..10
		if len(got) != 7 {       // 1,2,4,5,7,8,10
			t.Fatalf("after ack ≤10: %d settled %v", len(got), got)
		}
		r.settle(11, false, false)
		e, ok := got[11].(*Error)
		if !ok || e.Kind != KindPublishNacked || e.DeliveryTag != 11 || e.Op != "basic_publish" {
			t.Fatalf("nack 11: %v", got[11])
		}
		r.settle(11, false, true)   // duplicate: ignored
		r.settle(5, true, true)     // below base: ignored
		r.settle(1000, false, true) // beyond: ignored
		r.settle(150, true, false)
		r.settle(200, true, true)
		if len(got) != 134 {
			t.Fatalf("settled %d, want 134", len(got))
		}
		for tag, i := range ops {
			if tag > 11 && tag <= 150 {
				if e, _ := got[i].(*Error); e == nil || e.DeliveryTag != tag {
					t.Fatalf("op %d (tag %d): %v", i, tag, got[i])
				}
			} else if tag > 150 && got[i] != nil {
				t.Fatalf("op %d: %v", i, got[i])
			}
		}
		if r.pending() != 0 {
			t.Fatalf("%d pending", r.pending())
		}
		if tag, _ := r.push(nil); tag != 201 {
			t.Fatalf("next tag %d", tag)
		}
	})
	t.Run("OutOfOrderSingles", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		for i := 1; i <= 100; i++ {
			r.push(pubOp(got, i))
		}
		for i := 100; i >= 1; i-- {
			r.settle(uint64(i), false, true)
			if len(got) != 101-i {
				t.Fatalf("after %d: %d settled", i, len(got))
			}
		}
		if r.pending() != 0 {
			t.Fatal("ring not empty")
		}
	})
	t.Run("Unpush", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		r.push(pubOp(got, 1))
		tag, _ := r.push(pubOp(got, 2))
		r.unpush(tag)
		if tag, _ := r.push(pubOp(got, 3)); tag != 2 {
			t.Fatalf("tag after unpush %d", tag)
		}
		r.settle(2, true, true)
		if len(got) != 2 || got[2] != nil || got[1] != nil || got[3] != nil {
			t.Fatalf("%v", got)
		}
		if _, has := got[2]; has {
			t.Fatal("unpushed op settled")
		}
		tag, _ = r.push(nil)
		r.unpush(tag)
		if tag, _ := r.push(nil); tag != 3 {
			t.Fatalf("tag %d", tag)
		}
	})
	t.Run("FailAll", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		for i := 1; i <= 70; i++ { // grows past the initial 64
			r.push(pubOp(got, i))
		}
		r.settle(3, true, true)
		closed := &Error{Kind: KindChannelClosed, Code: 406, Reason: "x"}
		r.failAll(closed)
		if len(got) != 70 {
			t.Fatalf("%d settled", len(got))
		}
		if e := got[70].(*Error); e.Code != 406 || e.Op != "basic_publish" {
			t.Fatalf("%v", e)
		}
		if _, err := r.push(pubOp(got, 71)); err != closed {
			t.Fatalf("push after failAll: %v", err)
		}
		r.settle(70, true, true) // no effect, no panic
		r.failAll(closed)
	})
	t.Run("ReturnBeforeConfirm", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		r.push(pubOp(got, 1))
		r.push(pubOp(got, 2))
		r.returnSeen()
		r.settle(1, false, true)
		r.settle(2, false, true)
		if len(got) != 0 {
			t.Fatalf("settled before the return was delivered: %v", got)
		}
		r.returnDone()
		if len(got) != 2 {
			t.Fatalf("%v", got)
		}
		r.returnDone() // unmatched: ignored
		r.push(pubOp(got, 3))
		r.settle(3, false, true)
		if len(got) != 3 {
			t.Fatal("settle after unmatched returnDone")
		}
	})
	t.Run("TimedOutSkipped", func(t *testing.T) {
		r := newConfirmRing()
		got := map[int]error{}
		o := pubOp(got, 1)
		r.push(o)
		if !o.complete() {
			t.Fatal("complete")
		}
		r.settle(1, false, true)
		if len(got) != 0 {
			t.Fatal("completed op called again")
		}
	})
}

// BenchmarkConfirmRing: 100 000 in flight, multiple acks of 50: cost per
// publish stays flat however many are outstanding.
func BenchmarkConfirmRing(b *testing.B) {
	for _, inflight := range []int{1000, 100000} {
		b.Run(fmt.Sprint(inflight), func(b *testing.B) {
			r := newConfirmRing()
			done := func(error) {}
			ops := make([]op, inflight)
			for i := range ops {
				ops[i].done = done
				r.push(&ops[i])
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				o := &ops[i%inflight]
				o.state.Store(0)
				tag, _ := r.push(o)
				if i%50 == 49 {
					r.settle(tag-uint64(inflight), true, true)
				}
			}
		})
	}
}
