// JS-side helpers of the aioamqp module. Evaluated once per runtime with the
// exception classes.
(function (exc) {
  'use strict';

  // makeIterator builds the async iterable of channel.consume() (docs/api.md §5).
  // Go calls push(message) for each delivery and end(error|null, drop) once
  // when the consumer ends: null after cancel() or a close by the script, an
  // exception otherwise (ConsumerCancelled, ChannelClosed, …). For an
  // emulated no_ack consumer, autoAck(delivery_tag) acks a message as it is
  // handed to the script. drop (the channel is gone and the messages were
  // to be acked) discards what was not handed over yet: the broker
  // requeues it.
  function makeIterator(channel, consumer_tag, cancelFn, autoAck) {
    const buffer = [];
    const waiters = [];
    let finished = false;
    let failure = null;
    function handOver(msg) {
      if (autoAck) autoAck(msg.envelope.delivery_tag);
      return { value: msg, done: false };
    }
    function settleWaiters() {
      while (waiters.length && (buffer.length || finished)) {
        const w = waiters.shift();
        if (buffer.length) w.resolve(handOver(buffer.shift()));
        else if (failure) w.reject(failure);
        else w.resolve({ value: undefined, done: true });
      }
    }
    const iter = {
      consumer_tag,
      channel,
      next() {
        if (buffer.length) return Promise.resolve(handOver(buffer.shift()));
        if (finished) {
          if (failure) { const f = failure; return Promise.reject(f); }
          return Promise.resolve({ value: undefined, done: true });
        }
        return new Promise((resolve, reject) => { waiters.push({ resolve, reject }); });
      },
      async return(value) {
        if (!finished) await iter.cancel();
        return { value, done: true };
      },
      async cancel() {
        if (finished) return { consumer_tag };
        const r = await cancelFn();
        return r;
      },
      [Symbol.asyncIterator]() { return this; },
    };
    function push(msg) {
      buffer.push(msg);
      settleWaiters();
    }
    function end(err, drop) {
      if (finished) return;
      finished = true;
      failure = err || null;
      if (drop) buffer.length = 0;
      settleWaiters();
    }
    return { iter, push, end };
  }

  // message wraps a delivery for channel.consume() with ack/nack/reject.
  function message(channel, body, envelope, properties) {
    const tag = envelope.delivery_tag;
    return {
      body, envelope, properties,
      ack() { return channel.basic_client_ack(tag); },
      nack(opts) {
        const requeue = opts && opts.requeue !== undefined ? opts.requeue : true;
        return channel.basic_client_nack(tag, { requeue });
      },
      reject(opts) {
        const requeue = opts && opts.requeue !== undefined ? opts.requeue : false;
        return channel.basic_reject(tag, { requeue });
      },
    };
  }

  return { makeIterator, message };
})
