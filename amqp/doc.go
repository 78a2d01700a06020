/*
Package amqp is amqpjs's session layer over github.com/rabbitmq/amqp091-go
(imported as amqp091; besides this package and its wire codec, only bench/,
for its raw amqp091-go client, imports it: TestImportRule). It knows
nothing of JavaScript: the bindings call it with plain Go values and get
plain Go values and *Error back.

# Usage

	conn, err := amqp.Dial(ctx, amqp.Config{Host: "localhost", Login: "guest", Password: "guest"})
	conn.OnClose(func(err *amqp.Error) { ... })
	ch, err := conn.OpenChannel(ctx)
	ch.QueueDeclare(ctx, amqp.QueueDeclareArgs{Name: "jobs"}, func(q amqp.QueueInfo, err error) { ... })
	ch.Publish(ctx, &amqp.Publishing{RoutingKey: "jobs", Body: body}, false, func(err error) { ... })

[Dial], [Conn.OpenChannel] and [Conn.Close] block. Everything a [Channel]
sends to the broker is asynchronous and ordered: the call queues an operation
on the channel's executor and returns; its done callback is called exactly
once, later, from a goroutine of this package, and must only do quick,
non-blocking work (the bindings post to their event loop). Every call takes a
context: when it ends first, done gets KindTimeout at once.

Errors are always *[Error] with a [Kind]; [classify] is the one place that
maps amqp091-go's errors and sentinels to kinds.

# What amqp091-go does, what the tap does

amqp091-go runs the connection: the handshake (protocol header, start/tune/
open), heartbeats, channel lifecycle (open, close, the broker's close) and
every synchronous method, which the executor calls and waits for
(queue/exchange declare, bind, delete, purge, basic.qos, consume, cancel,
get, recover, flow). It is handed a frame tap (tap.go) instead of the socket,
and the tap owns the message paths: publish, deliver, ack and confirm. The
frames themselves are encoded and decoded by package wire (amqp/wire), which
the benchmark's library-free client and the fake broker use too.

Which path a frame takes, client to broker (tapWriter):
  - basic.publish and its content, basic.ack/nack/reject: encoded by this
    package straight into the tap's write buffer (direct.go) when the
    channel's executor is idle; otherwise the executor calls amqp091
    (Publish, Ack, ...), whose bytes pass through the tap, corked per batch;
  - confirm.select: injected by the tap at a frame boundary (Confirm);
  - channel.close: amqp091's, rewritten by the tap to carry the script's
    reply code and text;
  - everything else: amqp091's, passed through unchanged (the tap notes
    channel.open's id and when connection.close was written).

Broker to client (tapReader, on amqp091's reader goroutine):
  - basic.deliver with its content header and body, for a consumer this
    package started: assembled and handed to the consumer by the tap;
    amqp091 never sees them (it gets a heartbeat frame now and then instead);
  - basic.ack/nack on a confirming channel: settle its confirmRing, then go
    on to amqp091, which ignores them;
  - confirm.select-ok for an injected select: consumed;
  - connection.tune: rewritten to the negotiated values, then amqp091's;
  - basic.return and connection.close: noted by the tap, then amqp091's;
  - everything else (method replies, channel.close, basic.cancel,
    basic.get-ok and its content, heartbeats): amqp091's, unchanged.

# Publisher confirms

amqp091-go's confirm mode keeps a map of every outstanding
DeferredConfirmation and scans it on each multiple ack. This package never
calls amqp091's Channel.Confirm. Instead the socket handed to amqp091.Open is
a frame tap (see tap): it injects confirm.select into the outgoing stream at a
frame boundary, swallows the select-ok, and observes basic.ack/basic.nack
(which amqp091 ignores when it is not in confirm mode itself) to settle a
per-channel ring of pending publishes indexed by delivery tag (confirmRing),
O(1) per publish. The same tap rewrites connection.tune to apply
[Config]'s channel_max / frame_max / heartbeat rules (amqp091's own pick()
cannot turn heartbeats off) and rewrites a client channel.close to carry the
script's reply code and text.

Body frames carry at most frame_max − 8 bytes, whether amqp091-go splits
them (its Channel.sendOpen) or direct writes do; a received Body is a fresh
slice per message, so Delivery.Body is handed over without a copy.

# Fast paths

The message paths bypass amqp091-go where it costs most (see direct.go and
deliver.go; "amqpjs bench" and the benchmarks measure them):

  - Direct writes: Channel.TryPublish and TryAck/TryNack/TryReject run on
    the caller's goroutine when the channel's executor is idle (executor
    claim), encode the frames themselves (the same bytes amqp091 would
    write; bodies split at frame_max − 8) straight into the tap's write
    buffer, and return. Channel.Flush writes the buffer out: what the socket
    takes at once with one non-blocking write, the rest from the executor.
    No goroutine handoff, no allocation per frame, one socket write per run
    of messages. Past directMax buffered bytes they decline, and the queued
    path's executor waits for the socket instead of the caller.
  - Deliveries: the tap's read side assembles basic.deliver, its content
    header and body frames for the consumers this package started, decodes
    the properties as amqp091 would (then fromAMQPDelivery), and hands each
    Delivery over from the reader goroutine: to an InlineHandler directly
    (the bindings', which only queues it for the event loop), to any other
    handler through its pump, in batches. amqp091 never sees those frames;
    the tap gives it a heartbeat frame now and then so that its read
    deadline keeps moving.

# Concurrency

Goroutines, per connection:
  - amqp091's reader (reads frames through tap.Read: the tap's read side,
    delivery assembly, confirm settlement and their done callbacks run
    here) and heartbeater;
  - Conn.watch: drains amqp091's NotifyClose and NotifyBlocked, calls
    OnBlocked/OnUnblocked, and when the connection ends waits for every
    channel to finish, calls the OnClose callbacks and closes Done();
  - short-lived helpers of OpenChannel and Close (they end with the
    handshake they wait for, or with the connection);
  - once a fault was set (Cut, Stall, SetLatency, SetBandwidth; see
    fault.go), the fault layer's read pump and write pump, which move the
    socket's bytes through its queues until the socket is closed.

Per channel:
  - the executor (executor.loop): runs the channel's operations in call
    order, one at a time, blocking in amqp091 calls. Its queue is a
    mutex-guarded slice; each wakeup drains everything queued as a batch;
  - the event goroutine (Channel.events): drains amqp091's NotifyClose,
    NotifyCancel and NotifyReturn (buffered, always read, so amqp091's reader
    never waits on us), calls OnReturn, handles broker cancels, and ends the
    channel: fails queued operations and pending confirms, finishes
    consumers, calls OnClose, then waits for the executor and pumps;
  - one pump per consumer (Channel.pump): hands the deliveries the tap
    assembled to a handler that is not an InlineHandler (amqp091's own
    delivery channel stays idle but is drained too), and at the end, once
    amqp091 closed that channel, calls Cancelled/End.

Every goroutine ends when its channel or connection ends; goleak checks this
in the tests.

Ownership: an op's arguments belong to the executor once submitted; its
callback belongs to whoever wins op.complete (executor, ctx timer, confirm
ring, channel end). The tap's read state belongs to amqp091's reader
goroutine (tapReader); its write state (tapWriter) is guarded by tapWriter.wmu (amqp091 writes under its
own sendM; the executor injects under wmu alone). The tap's channel table is
copy-on-write (atomic pointer), so the reader never locks to find a ring.

Locks: Conn.openMu is held around amqp091's Connection.Channel; tapWriter.wmu
is taken inside amqp091's sendM (amqp091 → tap.Write); tapWriter.sockMu,
which serialises socket writes, inside tapWriter.wmu (or alone, by
flushAsync); tapChans.mu inside Channel.cbmu (Channel.deliveries);
faultConn.mu (fault.go) is taken inside tapWriter.sockMu, or alone. Every other lock of this
package (Conn.mu, Channel.cmu, confirmRing.mu, executor.mu,
tapDeliveries.mu, tapConsumer.mu) is a leaf: nothing else is locked while it
is held. An executor claim (TryPublish, TryAck) is not a lock: it makes the
executor wait, never the caller. No callback
(done, OnClose, OnReturn, ConsumerHandler) runs with a lock of this package
or of amqp091 held, so callbacks may call back into this package (except
Conn.Close, which waits for the channels' goroutines to end).

Writes are corked per executor batch (see tap): a run of publishes and acks
leaves in one socket write at the end of the batch. Their done callbacks run
as each is buffered (aioamqp resolves a publish once the transport holds
the bytes), so they always precede any broker reply to a later call.

Handlers and callbacks must not block: a blocked ConsumerHandler stalls its
pump (and, by the end of the channel, Conn.Close); a blocked confirm callback
stalls the whole connection's reader.
*/
package amqp
