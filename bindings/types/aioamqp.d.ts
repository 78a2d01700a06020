// TypeScript definitions of amqpjs's `aioamqp` module: Python aioamqp's API
// for RabbitMQ (AMQP 0-9-1) in JavaScript. The contract is docs/api.md; the
// reference is docs/reference/. These definitions are checked against the
// module by bindings/types/types_test.go: every function, property, option
// and exception the module has is declared here, and nothing else.
//
// Calling convention (docs/api.md §2): every method takes its parameters
// positionally in aioamqp's order and/or by name in one trailing options
// object. Argument errors throw a TypeError or RangeError synchronously;
// everything the broker decides rejects the returned promise. So each
// method has one overload per prefix of its positional parameters, each
// followed by an optional options object, and an options-only form.

declare module 'aioamqp' {
  /** A value in an AMQP field table (headers, arguments, client_properties). */
  export type FieldValue =
    | string
    | number
    | boolean
    | bigint
    | Date
    | null
    | Uint8Array
    | FieldValue[]
    | FieldTable;

  /**
   * An AMQP field table. Integers take the smallest signed type that holds
   * them, other numbers are doubles, a BigInt is an int64.
   */
  export interface FieldTable {
    [key: string]: FieldValue;
  }

  /** A message body to publish: a string is sent as UTF-8. */
  export type Payload = string | Uint8Array | ArrayBuffer | DataView;

  /** Basic properties of a message to publish (all optional). */
  export interface Properties {
    content_type?: string;
    content_encoding?: string;
    headers?: FieldTable;
    /** 1 (transient) or 2 (persistent). */
    delivery_mode?: 1 | 2;
    /** 0–255; the broker uses what the queue's x-max-priority allows. */
    priority?: number;
    correlation_id?: string;
    reply_to?: string;
    /** Milliseconds, as a string; a non-negative integer is converted. */
    expiration?: string | number;
    message_id?: string;
    timestamp?: Date;
    type?: string;
    user_id?: string;
    app_id?: string;
    /** Accepted; RabbitMQ drops it. */
    cluster_id?: string;
  }

  /** Properties of a received message: every field is present, absent ones are null. */
  export interface ReceivedProperties {
    content_type: string | null;
    content_encoding: string | null;
    headers: FieldTable | null;
    delivery_mode: 1 | 2 | null;
    priority: number | null;
    correlation_id: string | null;
    reply_to: string | null;
    expiration: string | null;
    message_id: string | null;
    timestamp: Date | null;
    type: string | null;
    user_id: string | null;
    app_id: string | null;
    cluster_id: string | null;
  }

  /** Where a delivery came from (consumer callback, message.envelope). */
  export interface Envelope {
    consumer_tag: string;
    delivery_tag: number;
    exchange_name: string;
    routing_key: string;
    is_redeliver: boolean;
  }

  /** Why a mandatory message came back (return callback). */
  export interface ReturnEnvelope {
    reply_code: number;
    reply_text: string;
    exchange_name: string;
    routing_key: string;
  }

  /** `callback(body, envelope, properties, channel)` of basic_consume. A returned promise holds the consumer's slot until it settles. */
  export type ConsumerCallback = (
    body: Buffer,
    envelope: Envelope,
    properties: ReceivedProperties,
    channel: Channel,
  ) => void | Promise<unknown>;

  /** `return_callback(body, return_envelope, properties, channel)`. */
  export type ReturnCallback = (
    body: Buffer,
    envelope: ReturnEnvelope,
    properties: ReceivedProperties,
    channel: Channel,
  ) => void | Promise<unknown>;

  /** Called when the broker cancels a consumer (its queue was deleted, say). */
  export type CancellationCallback = (consumer_tag: string, channel: Channel) => void | Promise<unknown>;

  /** TLS settings of connect({ ssl }). */
  export interface SSLOptions {
    ca_file?: string;
    cert_file?: string;
    key_file?: string;
    server_name?: string;
  }

  /** Options of connect(); what is not given comes from --url / AMQP_URL, else aioamqp's defaults. */
  export interface ConnectOptions {
    /** Default 'localhost'. */
    host?: string;
    /** Default 5672, or 5671 with ssl. */
    port?: number;
    /** Default 'guest'. */
    login?: string;
    /** Default 'guest'. */
    password?: string;
    /** Default '/'. */
    virtualhost?: string;
    /** true, or the TLS files to use. */
    ssl?: boolean | SSLOptions | null;
    /** Default 'PLAIN'. */
    login_method?: 'PLAIN' | 'AMQPLAIN' | 'EXTERNAL';
    /** Accepted; no effect in AMQP 0-9-1. */
    insist?: boolean;
    /** Verify the server certificate (default true). */
    verify_ssl?: boolean;
    /** Seconds; not given: the server's proposal; 0 turns heartbeats off. */
    heartbeat?: number;
    channel_max?: number;
    /** 0 (no limit) or at least 4096. */
    frame_max?: number;
    /** Merged over amqpjs's defaults. */
    client_properties?: FieldTable | null;
    /**
     * Called once when the open connection ends other than by the script's
     * protocol.close(): broker close, socket loss (transport.close() on an
     * open connection included), missed heartbeats.
     */
    on_error?: ((exception: AmqpClosedConnection) => void | Promise<unknown>) | null;
    /** The broker blocked the connection (connection.blocked, e.g. a memory alarm). */
    on_blocked?: ((reason: string) => void | Promise<unknown>) | null;
    /** The broker unblocked the connection. */
    on_unblocked?: (() => void | Promise<unknown>) | null;
    /** Connect timeout in seconds (default 30). */
    timeout?: number | null;
    /** Python-only (asyncio): passing it throws a TypeError. */
    loop?: never;
    /** Python-only (asyncio): passing it throws a TypeError. */
    protocol_factory?: never;
  }

  /** Options of from_url(); the URL gives host, port, login, password and vhost. */
  export interface FromURLOptions {
    url?: string;
    login_method?: 'PLAIN' | 'AMQPLAIN' | 'EXTERNAL';
    insist?: boolean;
    ssl?: boolean | SSLOptions | null;
    verify_ssl?: boolean;
    heartbeat?: number;
    channel_max?: number;
    frame_max?: number;
    client_properties?: FieldTable | null;
    on_error?: ((exception: AmqpClosedConnection) => void | Promise<unknown>) | null;
    on_blocked?: ((reason: string) => void | Promise<unknown>) | null;
    on_unblocked?: (() => void | Promise<unknown>) | null;
    timeout?: number | null;
    /** Python-only (asyncio): passing it throws a TypeError. */
    loop?: never;
    /** Python-only (asyncio): passing it throws a TypeError. */
    protocol_factory?: never;
  }

  /** Options of protocol.channel(). */
  export interface ChannelOptions {
    return_callback?: ReturnCallback | null;
    timeout?: number | null;
  }

  /** Options of protocol.close(). */
  export interface ProtocolCloseOptions {
    no_wait?: boolean;
    timeout?: number | null;
  }

  /** Options of protocol.wait_closed(). */
  export interface WaitClosedOptions {
    timeout?: number | null;
  }

  /** The socket of a connection. */
  export interface Transport {
    /**
     * Closes the socket at once, without Connection.Close. On an open
     * connection this is an abrupt loss (as in aioamqp's own tests):
     * on_error is called once, pending calls reject AmqpClosedConnection,
     * consumers stop, wait_closed() resolves. After protocol.close() it
     * stays the script's own close (on_error is not called).
     */
    close(): void;
    /** "host:port" ("[::1]:5672" for IPv6). */
    readonly local_address: string;
    /** "host:port" ("[::1]:5672" for IPv6). */
    readonly remote_address: string;
  }

  /** An AMQP connection. */
  export interface Protocol {
    /** Opens a channel; rejects NoChannelAvailable past channel_max, AmqpClosedConnection when closed. */
    channel(options?: ChannelOptions): Promise<Channel>;
    /** Graceful Connection.Close; resolves null; on a closed connection rejects AmqpClosedConnection. */
    close(options?: ProtocolCloseOptions): Promise<null>;
    close(no_wait?: boolean, options?: ProtocolCloseOptions): Promise<null>;
    /** Resolves null once the connection is closed, for any reason. */
    wait_closed(options?: WaitClosedOptions): Promise<null>;
    /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3). */
    readonly state: 0 | 1 | 2 | 3;
    /** From Connection.Start: product, version, capabilities, … */
    readonly server_properties: FieldTable;
    readonly server_channel_max: number;
    readonly server_frame_max: number;
    /** Seconds. */
    readonly server_heartbeat: number;
    /** What the script passed in client_properties. */
    readonly client_properties: FieldTable;
    /** The tuning options the script gave (heartbeat, channel_max, frame_max). */
    readonly connection_tunning: { heartbeat?: number; channel_max?: number; frame_max?: number };
    /** Number of channel ids in use. */
    readonly channels_ids_count: number;
  }

  export interface QueueDeclareOptions {
    /** '' lets the broker name the queue (amq.gen-…). */
    queue_name?: string;
    passive?: boolean;
    durable?: boolean;
    exclusive?: boolean;
    auto_delete?: boolean;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    timeout?: number | null;
  }

  export interface QueueDeleteOptions {
    queue_name?: string;
    if_unused?: boolean;
    if_empty?: boolean;
    no_wait?: boolean;
    timeout?: number | null;
  }

  export interface QueueBindOptions {
    queue_name?: string;
    exchange_name?: string;
    routing_key?: string;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    timeout?: number | null;
  }

  export interface QueueUnbindOptions {
    queue_name?: string;
    exchange_name?: string;
    routing_key?: string;
    arguments?: FieldTable | null;
    timeout?: number | null;
  }

  export interface QueuePurgeOptions {
    queue_name?: string;
    no_wait?: boolean;
    timeout?: number | null;
  }

  export interface ExchangeDeclareOptions {
    exchange_name?: string;
    /** direct (default), fanout, topic, headers, or a plugin's type. */
    type_name?: string;
    passive?: boolean;
    durable?: boolean;
    auto_delete?: boolean;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    timeout?: number | null;
  }

  export interface ExchangeDeleteOptions {
    exchange_name?: string;
    if_unused?: boolean;
    no_wait?: boolean;
    timeout?: number | null;
  }

  export interface ExchangeBindOptions {
    exchange_destination?: string;
    exchange_source?: string;
    routing_key?: string;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    timeout?: number | null;
  }

  export interface PublishOptions {
    payload?: Payload;
    exchange_name?: string;
    routing_key?: string;
    properties?: Properties | null;
    mandatory?: boolean;
    immediate?: boolean;
    timeout?: number | null;
  }

  export interface ConfirmSelectOptions {
    no_wait?: boolean;
    timeout?: number | null;
  }

  export interface BasicQosOptions {
    prefetch_size?: number;
    prefetch_count?: number;
    connection_global?: boolean;
    timeout?: number | null;
  }

  export interface BasicConsumeOptions {
    callback?: ConsumerCallback;
    queue_name?: string;
    /** Generated by the broker when empty. */
    consumer_tag?: string;
    no_local?: boolean;
    no_ack?: boolean;
    exclusive?: boolean;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    /** Callbacks running at once (default 1: one at a time, in delivery order). */
    concurrency?: number;
    timeout?: number | null;
    /**
     * With no_ack: how many messages may wait on the client side (no_ack is
     * emulated with manual acks, each message acked as it is handed to the
     * script; default 1000); 0 uses the broker's own no_ack, unbounded.
     */
    no_ack_window?: number;
  }

  export interface ConsumeOptions {
    queue_name?: string;
    consumer_tag?: string;
    no_local?: boolean;
    no_ack?: boolean;
    exclusive?: boolean;
    no_wait?: boolean;
    arguments?: FieldTable | null;
    concurrency?: number;
    timeout?: number | null;
    /** See BasicConsumeOptions.no_ack_window. */
    no_ack_window?: number;
  }

  export interface BasicCancelOptions {
    consumer_tag?: string;
    no_wait?: boolean;
    timeout?: number | null;
  }

  export interface BasicGetOptions {
    queue_name?: string;
    no_ack?: boolean;
    timeout?: number | null;
  }

  export interface BasicAckOptions {
    delivery_tag?: number;
    multiple?: boolean;
  }

  export interface BasicNackOptions {
    delivery_tag?: number;
    multiple?: boolean;
    /** Default true. */
    requeue?: boolean;
  }

  export interface BasicRejectOptions {
    delivery_tag?: number;
    /** Default false. */
    requeue?: boolean;
  }

  export interface BasicRecoverOptions {
    /** Default true. */
    requeue?: boolean;
    timeout?: number | null;
  }

  export interface BasicRecoverAsyncOptions {
    requeue?: boolean;
  }

  export interface FlowOptions {
    active?: boolean;
    timeout?: number | null;
  }

  export interface ChannelCloseOptions {
    /** Default 200. */
    reply_code?: number;
    /** Default 'Normal Shutdown'. */
    reply_text?: string;
    timeout?: number | null;
  }

  export interface QueueDeclareResult {
    queue: string;
    message_count: number;
    consumer_count: number;
  }

  export interface QueuePurgeResult {
    message_count: number;
  }

  export interface ConsumerTagResult {
    consumer_tag: string;
  }

  export interface BasicGetResult {
    delivery_tag: number;
    redelivered: boolean;
    exchange_name: string;
    routing_key: string;
    message_count: number;
    message: Buffer;
    properties: ReceivedProperties;
  }

  export interface FlowResult {
    active: boolean;
  }

  /**
   * An AMQP channel. Calls made without awaiting reach the broker in call
   * order. A call with no_wait resolves null as soon as it is written.
   */
  export interface Channel {
    /** Resolves { queue, message_count, consumer_count }; null with no_wait. An empty queue_name lets the broker name the queue. */
    queue_declare(options?: QueueDeclareOptions): Promise<QueueDeclareResult>;
    queue_declare(queue_name?: string, options?: QueueDeclareOptions): Promise<QueueDeclareResult>;
    queue_declare(queue_name?: string, passive?: boolean, options?: QueueDeclareOptions): Promise<QueueDeclareResult>;
    queue_declare(queue_name?: string, passive?: boolean, durable?: boolean, options?: QueueDeclareOptions): Promise<QueueDeclareResult>;
    queue_declare(
      queue_name?: string,
      passive?: boolean,
      durable?: boolean,
      exclusive?: boolean,
      options?: QueueDeclareOptions,
    ): Promise<QueueDeclareResult>;
    queue_declare(
      queue_name?: string,
      passive?: boolean,
      durable?: boolean,
      exclusive?: boolean,
      auto_delete?: boolean,
      options?: QueueDeclareOptions,
    ): Promise<QueueDeclareResult>;
    queue_declare(
      queue_name?: string,
      passive?: boolean,
      durable?: boolean,
      exclusive?: boolean,
      auto_delete?: boolean,
      no_wait?: boolean,
      options?: QueueDeclareOptions,
    ): Promise<QueueDeclareResult>;
    /** Resolves true; null with no_wait. */
    queue_delete(queue_name: string, options?: QueueDeleteOptions): Promise<true>;
    queue_delete(queue_name: string, if_unused?: boolean, options?: QueueDeleteOptions): Promise<true>;
    queue_delete(queue_name: string, if_unused?: boolean, if_empty?: boolean, options?: QueueDeleteOptions): Promise<true>;
    queue_delete(queue_name: string, if_unused?: boolean, if_empty?: boolean, no_wait?: boolean, options?: QueueDeleteOptions): Promise<true>;
    queue_delete(options: QueueDeleteOptions): Promise<true>;
    /** Resolves true; null with no_wait. */
    queue_bind(queue_name: string, exchange_name: string, routing_key: string, options?: QueueBindOptions): Promise<true>;
    queue_bind(queue_name: string, exchange_name: string, routing_key: string, no_wait?: boolean, options?: QueueBindOptions): Promise<true>;
    queue_bind(options: QueueBindOptions): Promise<true>;
    /** Resolves true. */
    queue_unbind(queue_name: string, exchange_name: string, routing_key: string, options?: QueueUnbindOptions): Promise<true>;
    queue_unbind(options: QueueUnbindOptions): Promise<true>;
    /** Resolves { message_count }; null with no_wait. */
    queue_purge(queue_name: string, options?: QueuePurgeOptions): Promise<QueuePurgeResult>;
    queue_purge(queue_name: string, no_wait?: boolean, options?: QueuePurgeOptions): Promise<QueuePurgeResult>;
    queue_purge(options: QueuePurgeOptions): Promise<QueuePurgeResult>;
    /** Resolves true; null with no_wait. type_name defaults to 'direct'. */
    exchange_declare(exchange_name: string, options?: ExchangeDeclareOptions): Promise<true>;
    exchange_declare(exchange_name: string, type_name?: string, options?: ExchangeDeclareOptions): Promise<true>;
    exchange_declare(exchange_name: string, type_name?: string, passive?: boolean, options?: ExchangeDeclareOptions): Promise<true>;
    exchange_declare(
      exchange_name: string,
      type_name?: string,
      passive?: boolean,
      durable?: boolean,
      options?: ExchangeDeclareOptions,
    ): Promise<true>;
    exchange_declare(
      exchange_name: string,
      type_name?: string,
      passive?: boolean,
      durable?: boolean,
      auto_delete?: boolean,
      options?: ExchangeDeclareOptions,
    ): Promise<true>;
    exchange_declare(
      exchange_name: string,
      type_name?: string,
      passive?: boolean,
      durable?: boolean,
      auto_delete?: boolean,
      no_wait?: boolean,
      options?: ExchangeDeclareOptions,
    ): Promise<true>;
    exchange_declare(options: ExchangeDeclareOptions): Promise<true>;
    /** Resolves true; null with no_wait. */
    exchange_delete(exchange_name: string, options?: ExchangeDeleteOptions): Promise<true>;
    exchange_delete(exchange_name: string, if_unused?: boolean, options?: ExchangeDeleteOptions): Promise<true>;
    exchange_delete(exchange_name: string, if_unused?: boolean, no_wait?: boolean, options?: ExchangeDeleteOptions): Promise<true>;
    exchange_delete(options: ExchangeDeleteOptions): Promise<true>;
    /** Resolves true; null with no_wait. */
    exchange_bind(exchange_destination: string, exchange_source: string, routing_key: string, options?: ExchangeBindOptions): Promise<true>;
    exchange_bind(
      exchange_destination: string,
      exchange_source: string,
      routing_key: string,
      no_wait?: boolean,
      options?: ExchangeBindOptions,
    ): Promise<true>;
    exchange_bind(options: ExchangeBindOptions): Promise<true>;
    /** Resolves true; null with no_wait. */
    exchange_unbind(exchange_destination: string, exchange_source: string, routing_key: string, options?: ExchangeBindOptions): Promise<true>;
    exchange_unbind(
      exchange_destination: string,
      exchange_source: string,
      routing_key: string,
      no_wait?: boolean,
      options?: ExchangeBindOptions,
    ): Promise<true>;
    exchange_unbind(options: ExchangeBindOptions): Promise<true>;
    /** Resolves null once written — in confirm mode, once the broker acks it (rejects PublishFailed on a nack). */
    publish(payload: Payload, exchange_name: string, routing_key: string, options?: PublishOptions): Promise<null>;
    publish(payload: Payload, exchange_name: string, routing_key: string, properties?: Properties | null, options?: PublishOptions): Promise<null>;
    publish(
      payload: Payload,
      exchange_name: string,
      routing_key: string,
      properties?: Properties | null,
      mandatory?: boolean,
      options?: PublishOptions,
    ): Promise<null>;
    publish(
      payload: Payload,
      exchange_name: string,
      routing_key: string,
      properties?: Properties | null,
      mandatory?: boolean,
      immediate?: boolean,
      options?: PublishOptions,
    ): Promise<null>;
    publish(options: PublishOptions): Promise<null>;
    /** Like publish, but resolves once written even in confirm mode. */
    basic_publish(payload: Payload, exchange_name: string, routing_key: string, options?: PublishOptions): Promise<null>;
    basic_publish(
      payload: Payload,
      exchange_name: string,
      routing_key: string,
      properties?: Properties | null,
      options?: PublishOptions,
    ): Promise<null>;
    basic_publish(
      payload: Payload,
      exchange_name: string,
      routing_key: string,
      properties?: Properties | null,
      mandatory?: boolean,
      options?: PublishOptions,
    ): Promise<null>;
    basic_publish(
      payload: Payload,
      exchange_name: string,
      routing_key: string,
      properties?: Properties | null,
      mandatory?: boolean,
      immediate?: boolean,
      options?: PublishOptions,
    ): Promise<null>;
    basic_publish(options: PublishOptions): Promise<null>;
    /** Turns on publisher confirms; resolves true (null with no_wait); a second call rejects a TypeError. */
    confirm_select(options?: ConfirmSelectOptions): Promise<true>;
    confirm_select(no_wait?: boolean, options?: ConfirmSelectOptions): Promise<true>;
    /** Resolves true. */
    basic_qos(options?: BasicQosOptions): Promise<true>;
    basic_qos(prefetch_size?: number, options?: BasicQosOptions): Promise<true>;
    basic_qos(prefetch_size?: number, prefetch_count?: number, options?: BasicQosOptions): Promise<true>;
    basic_qos(prefetch_size?: number, prefetch_count?: number, connection_global?: boolean, options?: BasicQosOptions): Promise<true>;
    /** Starts a consumer; resolves { consumer_tag } once the broker confirmed it. Deliveries call callback one at a time per consumer, in order (concurrency: N for more). */
    basic_consume(callback: ConsumerCallback, options?: BasicConsumeOptions): Promise<ConsumerTagResult>;
    basic_consume(callback: ConsumerCallback, queue_name?: string, options?: BasicConsumeOptions): Promise<ConsumerTagResult>;
    basic_consume(callback: ConsumerCallback, queue_name?: string, consumer_tag?: string, options?: BasicConsumeOptions): Promise<ConsumerTagResult>;
    basic_consume(
      callback: ConsumerCallback,
      queue_name?: string,
      consumer_tag?: string,
      no_local?: boolean,
      options?: BasicConsumeOptions,
    ): Promise<ConsumerTagResult>;
    basic_consume(
      callback: ConsumerCallback,
      queue_name?: string,
      consumer_tag?: string,
      no_local?: boolean,
      no_ack?: boolean,
      options?: BasicConsumeOptions,
    ): Promise<ConsumerTagResult>;
    basic_consume(
      callback: ConsumerCallback,
      queue_name?: string,
      consumer_tag?: string,
      no_local?: boolean,
      no_ack?: boolean,
      exclusive?: boolean,
      options?: BasicConsumeOptions,
    ): Promise<ConsumerTagResult>;
    basic_consume(
      callback: ConsumerCallback,
      queue_name?: string,
      consumer_tag?: string,
      no_local?: boolean,
      no_ack?: boolean,
      exclusive?: boolean,
      no_wait?: boolean,
      options?: BasicConsumeOptions,
    ): Promise<ConsumerTagResult>;
    basic_consume(options: BasicConsumeOptions): Promise<ConsumerTagResult>;
    /** Cancels a consumer; resolves { consumer_tag } (null with no_wait). */
    basic_cancel(consumer_tag: string, options?: BasicCancelOptions): Promise<ConsumerTagResult>;
    basic_cancel(consumer_tag: string, no_wait?: boolean, options?: BasicCancelOptions): Promise<ConsumerTagResult>;
    basic_cancel(options: BasicCancelOptions): Promise<ConsumerTagResult>;
    /** One message; rejects EmptyQueue when the queue is empty. */
    basic_get(options?: BasicGetOptions): Promise<BasicGetResult>;
    basic_get(queue_name?: string, options?: BasicGetOptions): Promise<BasicGetResult>;
    basic_get(queue_name?: string, no_ack?: boolean, options?: BasicGetOptions): Promise<BasicGetResult>;
    /** Acks a delivery; resolves null once written. */
    basic_client_ack(delivery_tag: number, options?: BasicAckOptions): Promise<null>;
    basic_client_ack(delivery_tag: number, multiple?: boolean, options?: BasicAckOptions): Promise<null>;
    basic_client_ack(options: BasicAckOptions): Promise<null>;
    /** Nacks a delivery (requeue: true by default); resolves null once written. */
    basic_client_nack(delivery_tag: number, options?: BasicNackOptions): Promise<null>;
    basic_client_nack(delivery_tag: number, multiple?: boolean, options?: BasicNackOptions): Promise<null>;
    basic_client_nack(delivery_tag: number, multiple?: boolean, requeue?: boolean, options?: BasicNackOptions): Promise<null>;
    basic_client_nack(options: BasicNackOptions): Promise<null>;
    /** Rejects a delivery (requeue: false by default); resolves null once written. */
    basic_reject(delivery_tag: number, options?: BasicRejectOptions): Promise<null>;
    basic_reject(delivery_tag: number, requeue?: boolean, options?: BasicRejectOptions): Promise<null>;
    basic_reject(options: BasicRejectOptions): Promise<null>;
    /** Redelivers unacked messages (requeue: true by default); resolves true. */
    basic_recover(options?: BasicRecoverOptions): Promise<true>;
    basic_recover(requeue?: boolean, options?: BasicRecoverOptions): Promise<true>;
    /** basic_recover without waiting; resolves null. */
    basic_recover_async(options?: BasicRecoverAsyncOptions): Promise<null>;
    basic_recover_async(requeue?: boolean, options?: BasicRecoverAsyncOptions): Promise<null>;
    /** Channel.Flow; resolves { active }. */
    flow(active: boolean, options?: FlowOptions): Promise<FlowResult>;
    flow(options: FlowOptions): Promise<FlowResult>;
    /** Closes the channel; resolves true; on a closed channel rejects ChannelClosed. */
    close(options?: ChannelCloseOptions): Promise<true>;
    close(reply_code?: number, options?: ChannelCloseOptions): Promise<true>;
    close(reply_code?: number, reply_text?: string, options?: ChannelCloseOptions): Promise<true>;
    /** fn(consumer_tag, channel) runs, in registration order, when the broker cancels a consumer of this channel. */
    add_cancellation_callback(fn: CancellationCallback): void;
    /** An async iterable of messages, resolved once the broker confirmed the consumer. */
    consume(queue_name: string, options?: ConsumeOptions): Promise<ConsumeIterator>;
    consume(options: ConsumeOptions): Promise<ConsumeIterator>;
    readonly channel_id: number;
    /** The connection the channel belongs to. */
    readonly protocol: Protocol;
    readonly is_open: boolean;
    /** Whether confirm_select was called (and took effect). */
    readonly publisher_confirms: boolean;
    /** Called with mandatory messages the broker returned; null prints a warning instead. */
    return_callback: ReturnCallback | null;
    /** The tags of the consumers active on this channel. */
    readonly consumer_tags: string[];
  }

  /** A message from channel.consume(). */
  export interface Message {
    body: Buffer;
    envelope: Envelope;
    properties: ReceivedProperties;
    /** basic_client_ack of this message. */
    ack(): Promise<null>;
    /** basic_client_nack of this message (requeue: true by default). */
    nack(options?: { requeue?: boolean }): Promise<null>;
    /** basic_reject of this message (requeue: false by default). */
    reject(options?: { requeue?: boolean }): Promise<null>;
  }

  /**
   * What channel.consume() resolves to: `for await (const m of it)`. The
   * loop ends after cancel() or a close by the script; next() rejects
   * ConsumerCancelled when the broker cancels the consumer, and the close
   * error when the channel or connection dies.
   */
  export interface ConsumeIterator extends AsyncIterableIterator<Message> {
    readonly consumer_tag: string;
    readonly channel: Channel;
    next(): Promise<IteratorResult<Message, undefined>>;
    /** Cancels the consumer (a `break` out of for await calls it). */
    return(value?: unknown): Promise<IteratorResult<Message, undefined>>;
    /** basic_cancel of this consumer; resolves { consumer_tag }. */
    cancel(): Promise<ConsumerTagResult>;
    [Symbol.asyncIterator](): ConsumeIterator;
  }

  /** Connects; a string first argument is host, then aioamqp's positional order; options last. */
  export function connect(options?: ConnectOptions): Promise<[Transport, Protocol]>;
  export function connect(host?: string, options?: ConnectOptions): Promise<[Transport, Protocol]>;
  export function connect(host?: string, port?: number, options?: ConnectOptions): Promise<[Transport, Protocol]>;
  export function connect(host?: string, port?: number, login?: string, options?: ConnectOptions): Promise<[Transport, Protocol]>;
  export function connect(host?: string, port?: number, login?: string, password?: string, options?: ConnectOptions): Promise<[Transport, Protocol]>;
  export function connect(
    host?: string,
    port?: number,
    login?: string,
    password?: string,
    virtualhost?: string,
    options?: ConnectOptions,
  ): Promise<[Transport, Protocol]>;
  export function connect(
    host?: string,
    port?: number,
    login?: string,
    password?: string,
    virtualhost?: string,
    ssl?: boolean | SSLOptions | null,
    options?: ConnectOptions,
  ): Promise<[Transport, Protocol]>;
  export function connect(
    host?: string,
    port?: number,
    login?: string,
    password?: string,
    virtualhost?: string,
    ssl?: boolean | SSLOptions | null,
    login_method?: 'PLAIN' | 'AMQPLAIN' | 'EXTERNAL',
    options?: ConnectOptions,
  ): Promise<[Transport, Protocol]>;
  export function connect(
    host?: string,
    port?: number,
    login?: string,
    password?: string,
    virtualhost?: string,
    ssl?: boolean | SSLOptions | null,
    login_method?: 'PLAIN' | 'AMQPLAIN' | 'EXTERNAL',
    insist?: boolean,
    options?: ConnectOptions,
  ): Promise<[Transport, Protocol]>;

  /** Connects to an amqp:// or amqps:// URL; another scheme throws a TypeError. */
  export function from_url(url: string, options?: FromURLOptions): Promise<[Transport, Protocol]>;
  export function from_url(options: FromURLOptions): Promise<[Transport, Protocol]>;

  /** protocol.state values. */
  export const CONNECTING: 0;
  export const OPEN: 1;
  export const CLOSING: 2;
  export const CLOSED: 3;

  /** The amqpjs version. */
  export const version: string;

  /** Base class of every aioamqp exception; also a call while still connecting. */
  export class AioamqpException extends Error {
    constructor(message?: string, code?: number);
    /** The AMQP reply code, when there is one. */
    code?: number;
  }

  /** Connecting failed, a call on a closed connection, or the connection was lost. */
  export class AmqpClosedConnection extends AioamqpException {
    constructor(message?: string, code?: number);
    code: number;
  }

  /** The broker closed the channel (404, 405, 406, 403…) or the connection while a call was pending; a call on a closed channel (code 0). */
  export class ChannelClosed extends AioamqpException {
    constructor(code?: number, message?: string);
    code: number;
  }

  /** basic_consume with a tag already active on the channel (code 530), raised before anything is sent. */
  export class DuplicateConsumerTag extends ChannelClosed {
    constructor(consumer_tag: string, message?: string);
    consumer_tag: string;
  }

  /** Ends a channel.consume() iterator that the broker cancelled. */
  export class ConsumerCancelled extends AioamqpException {
    constructor(consumer_tag: string, message?: string);
    consumer_tag: string;
  }

  /** basic_get on an empty queue. */
  export class EmptyQueue extends AioamqpException {
    constructor(message?: string);
  }

  /** No channel id left under channel_max. */
  export class NoChannelAvailable extends AioamqpException {
    constructor(message?: string);
  }

  /** The broker nacked a publish in confirm mode. */
  export class PublishFailed extends AioamqpException {
    constructor(delivery_tag: number, message?: string);
    delivery_tag: number;
  }

  /** The broker's reply did not match the call. */
  export class SynchronizationError extends AioamqpException {
    constructor(message?: string);
  }

  /** A call's timeout expired. */
  export class TimeoutError extends AioamqpException {
    constructor(timeout: number, message?: string);
    /** Seconds. */
    timeout: number;
  }

  /** The exception classes, also exported one by one. */
  export interface Exceptions {
    AioamqpException: typeof AioamqpException;
    AmqpClosedConnection: typeof AmqpClosedConnection;
    ChannelClosed: typeof ChannelClosed;
    DuplicateConsumerTag: typeof DuplicateConsumerTag;
    ConsumerCancelled: typeof ConsumerCancelled;
    EmptyQueue: typeof EmptyQueue;
    NoChannelAvailable: typeof NoChannelAvailable;
    PublishFailed: typeof PublishFailed;
    SynchronizationError: typeof SynchronizationError;
    TimeoutError: typeof TimeoutError;
  }

  export const exceptions: Exceptions;

  const aioamqp: typeof import('aioamqp');
  /** The module itself: `import aioamqp from 'aioamqp'`. */
  export default aioamqp;
}

declare module 'node:aioamqp' {
  export * from 'aioamqp';
  export { default } from 'aioamqp';
}
