// The exception classes of docs/api.md §8. Evaluated once per runtime; the
// returned object's properties are exported by the aioamqp module.
(function () {
  'use strict';
  function named(cls, name) {
    Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
    return cls;
  }
  // text is String(message), except that an array too long to join throws a
  // RangeError at once, as V8 does, instead of joining billions of holes in
  // a loop that no interrupt (--timeout, Ctrl-C) can stop; and that an
  // object with no way to become a string (a null prototype) gets V8's
  // message, not the engine's dump of its Go internals.
  function text(message) {
    if (message === undefined) return '';
    if (Array.isArray(message) && message.length > 0x1fffffe8) throw new RangeError('Invalid string length');
    try {
      return String(message);
    } catch (e) {
      if (e instanceof TypeError && /^Could not convert /.test(e.message)) {
        throw new TypeError('Cannot convert object to primitive value');
      }
      throw e;
    }
  }
  const AioamqpException = named(class AioamqpException extends Error {
    constructor(message, code) {
      super(text(message));
      if (code !== undefined) this.code = code;
    }
  }, 'AioamqpException');
  // AmqpClosedConnection(message = 'Connection is closed', code = 0)
  const AmqpClosedConnection = named(class AmqpClosedConnection extends AioamqpException {
    constructor(message = 'Connection is closed', code = 0) { super(message, code); }
  }, 'AmqpClosedConnection');
  // ChannelClosed(code = 0, message = 'Channel is closed') — aioamqp's order.
  const ChannelClosed = named(class ChannelClosed extends AioamqpException {
    constructor(code = 0, message = 'Channel is closed') { super(message, code); }
  }, 'ChannelClosed');
  const DuplicateConsumerTag = named(class DuplicateConsumerTag extends ChannelClosed {
    constructor(consumer_tag, message) {
      super(530, message || `consumer tag '${text(consumer_tag)}' is already in use on this channel`);
      this.consumer_tag = consumer_tag;
    }
  }, 'DuplicateConsumerTag');
  const ConsumerCancelled = named(class ConsumerCancelled extends AioamqpException {
    constructor(consumer_tag, message) {
      super(message || `consumer '${text(consumer_tag)}' was cancelled by the broker`);
      this.consumer_tag = consumer_tag;
    }
  }, 'ConsumerCancelled');
  const EmptyQueue = named(class EmptyQueue extends AioamqpException {
    constructor(message = 'queue is empty') { super(message); }
  }, 'EmptyQueue');
  const NoChannelAvailable = named(class NoChannelAvailable extends AioamqpException {
    constructor(message = 'no channel id available under channel_max') { super(message); }
  }, 'NoChannelAvailable');
  const PublishFailed = named(class PublishFailed extends AioamqpException {
    constructor(delivery_tag, message) {
      super(message || `the broker nacked the message with delivery tag ${text(delivery_tag)}`);
      this.delivery_tag = delivery_tag;
    }
  }, 'PublishFailed');
  const SynchronizationError = named(class SynchronizationError extends AioamqpException {
    constructor(message = 'protocol desynchronised') { super(message); }
  }, 'SynchronizationError');
  const TimeoutError = named(class TimeoutError extends AioamqpException {
    constructor(timeout, message) {
      super(message || `timed out after ${text(timeout)} s`);
      this.timeout = timeout;
    }
  }, 'TimeoutError');
  return {
    AioamqpException, AmqpClosedConnection, ChannelClosed, DuplicateConsumerTag, ConsumerCancelled,
    EmptyQueue, NoChannelAvailable, PublishFailed, SynchronizationError, TimeoutError,
  };
})
