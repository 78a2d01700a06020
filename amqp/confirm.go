package amqp

import "sync"

// confirmRing tracks the publishes of one confirming channel that still wait
// for the broker's basic.ack/basic.nack.
//
// Delivery tags are sequential from 1 and count every publish after
// confirm.select. The ring is a FIFO indexed by tag: slot i holds the
// publish with tag base+i, or nil when nobody waits for it (a publish that
// did not ask to wait, or one already settled). A multiple ack pops the
// covered prefix, a single ack clears one slot and pops the settled prefix,
// so every publish costs O(1) however many are in flight.
//
// push is called by the channel's executor, settle by the connection's
// reader goroutine (inside tap.Read) or, while a basic.return is being
// delivered, by the channel's event goroutine; failAll by the channel's end.
// Callbacks run outside mu.
type confirmRing struct {
	mu   sync.Mutex
	buf  []*op // circular, len is a power of two
	head int
	n    int
	base uint64 // tag of buf[head]; equals next when n == 0
	next uint64 // tag of the next publish
	err  *Error // set once the channel ended; push fails from then on

	// returns counts basic.return frames seen by the tap whose Return has
	// not been handed to OnReturn yet. While positive, settlements are
	// queued in deferred so that a return is reported before its confirm.
	returns  int
	deferred []settlement

	scratch []*op // reused by settle
}

type settlement struct {
	tag      uint64
	multiple bool
	ack      bool
}

func newConfirmRing() *confirmRing {
	return &confirmRing{buf: make([]*op, 64), base: 1, next: 1}
}

// push assigns the next delivery tag to a publish. o is nil when nobody
// waits for the confirm. It fails once the channel has ended.
func (r *confirmRing) push(o *op) (uint64, *Error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return 0, r.err
	}
	tag := r.next
	r.next++
	if o == nil && r.n == 0 {
		r.base = r.next
		return tag, nil
	}
	if o != nil {
		o.tag = tag
	}
	if r.n == len(r.buf) {
		nb := make([]*op, 2*len(r.buf))
		for i := 0; i < r.n; i++ {
			nb[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = o
	r.n++
	return tag, nil
}

// unpush takes back the last tag when its publish could not be written.
func (r *confirmRing) unpush(tag uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil || tag != r.next-1 {
		return
	}
	r.next--
	if r.n > 0 && r.base+uint64(r.n) == r.next+1 {
		r.n--
		r.buf[(r.head+r.n)&(len(r.buf)-1)] = nil
	}
	if r.n == 0 {
		r.base = r.next
	}
}

func (r *confirmRing) pop() *op {
	o := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	r.base++
	return o
}

// settle applies a basic.ack (ack) or basic.nack from the broker.
func (r *confirmRing) settle(tag uint64, multiple, ack bool) {
	r.mu.Lock()
	if r.returns > 0 {
		r.deferred = append(r.deferred, settlement{tag, multiple, ack})
		r.mu.Unlock()
		return
	}
	got := r.collect(r.scratch[:0], tag, multiple)
	r.mu.Unlock()
	deliverSettled(got, ack)
	clear(got)
	r.scratch = got[:0]
}

// collect removes the ops a settlement covers and appends them to got.
func (r *confirmRing) collect(got []*op, tag uint64, multiple bool) []*op {
	if multiple {
		for r.n > 0 && r.base <= tag {
			if o := r.pop(); o != nil {
				got = append(got, o)
			}
		}
	} else if tag >= r.base && tag-r.base < uint64(r.n) {
		i := (r.head + int(tag-r.base)) & (len(r.buf) - 1)
		if o := r.buf[i]; o != nil {
			got = append(got, o)
			r.buf[i] = nil
		}
		for r.n > 0 && r.buf[r.head] == nil {
			r.pop()
		}
	}
	if r.n == 0 {
		r.base = r.next
	}
	return got
}

func deliverSettled(got []*op, ack bool) {
	for _, o := range got {
		if !o.complete() {
			continue
		}
		if ack {
			o.deliver(nil)
		} else {
			o.deliver(&Error{Kind: KindPublishNacked, Op: o.name(), Reason: "broker nacked the message", DeliveryTag: o.tag})
		}
	}
}

// returnSeen notes that the tap saw a basic.return on this channel.
func (r *confirmRing) returnSeen() {
	r.mu.Lock()
	r.returns++
	r.mu.Unlock()
}

// returnDone notes that one Return was handed to OnReturn, and applies the
// settlements that waited for it.
func (r *confirmRing) returnDone() {
	r.mu.Lock()
	if r.returns == 0 {
		r.mu.Unlock()
		return
	}
	r.returns--
	if r.returns > 0 || len(r.deferred) == 0 {
		r.mu.Unlock()
		return
	}
	pending := r.deferred
	r.deferred = nil
	type batch struct {
		got []*op
		ack bool
	}
	batches := make([]batch, 0, len(pending))
	for _, s := range pending {
		batches = append(batches, batch{r.collect(nil, s.tag, s.multiple), s.ack})
	}
	r.mu.Unlock()
	for _, b := range batches {
		deliverSettled(b.got, b.ack)
	}
}

// failAll ends the ring: every waiting publish gets err, later pushes fail.
func (r *confirmRing) failAll(err *Error) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	r.err = err
	var got []*op
	for r.n > 0 {
		if o := r.pop(); o != nil {
			got = append(got, o)
		}
	}
	r.deferred = nil
	r.returns = 0
	r.mu.Unlock()
	for _, o := range got {
		o.fail(err)
	}
}

// pending reports how many slots are in the ring (for tests).
func (r *confirmRing) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}
