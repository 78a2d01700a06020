// TypeScript definitions of amqpjs's `amqpjs/rabbitmq` module: RabbitMQ's
// management HTTP API (docs/api.md, "The broker's view"; reference:
// docs/reference/rabbitmq.md), and options.rabbitmq, the broker metrics of
// a scenario run. Checked against the module by
// bindings/types/rabbitmq_test.go.
//
// Calling convention: as aioamqp's (docs/api.md §2), positional parameters
// and/or one trailing options object; bad arguments throw a TypeError or
// RangeError at once; what the API answers settles the promise.

declare module 'amqpjs/rabbitmq' {
  /** Message rates per second, over the broker's last sampling window. */
  export interface Rates {
    publish: number;
    /** deliver_get: to consumers and basic.get. */
    deliver: number;
    ack: number;
    redeliver: number;
  }

  /** The cluster-wide rates of overview(): a queue's, and confirms and unroutable messages. */
  export interface OverviewRates extends Rates {
    confirm: number;
    unroutable: number;
  }

  /**
   * A queue. Counts are the broker's statistics, refreshed every
   * collect_statistics_interval (5 s by default): a queue declared a moment
   * ago has has_stats false and counts 0.
   */
  export interface Queue {
    name: string;
    vhost: string;
    /** 'classic', 'quorum' or 'stream'. */
    type: string;
    state: string;
    durable: boolean;
    auto_delete: boolean;
    exclusive: boolean;
    /** ready + unacknowledged. */
    messages: number;
    ready: number;
    unacknowledged: number;
    consumers: number;
    /** Bytes. */
    memory: number;
    rates: Rates;
    /** Whether the broker has reported the counts yet. */
    has_stats: boolean;
    /** The queue's object as the API gave it. */
    raw: { [key: string]: unknown };
  }

  export interface ObjectTotals {
    connections: number;
    channels: number;
    queues: number;
    consumers: number;
    exchanges: number;
  }

  /** GET /api/overview. */
  export interface Overview {
    rabbitmq_version: string;
    erlang_version: string;
    cluster_name: string;
    /** The node that answered. */
    node: string;
    /** In all queues. */
    messages: number;
    ready: number;
    unacknowledged: number;
    rates: OverviewRates;
    object_totals: ObjectTotals;
    raw: { [key: string]: unknown };
  }

  /** A node of the cluster. Bytes for memory and disk. */
  export interface Node {
    name: string;
    running: boolean;
    mem_used: number;
    mem_limit: number;
    mem_alarm: boolean;
    disk_free: number;
    disk_free_limit: number;
    disk_free_alarm: boolean;
    fd_used: number;
    fd_total: number;
  }

  /** A client connection. */
  export interface Connection {
    /** The broker's name for it, "127.0.0.1:50312 -> 127.0.0.1:5672": closeConnection()'s argument. */
    name: string;
    /** The client's connection_name property ('' when it set none). */
    connection_name: string;
    user: string;
    vhost: string;
    state: string;
    peer_host: string;
    /** The client's port: a transport's local_address ends with it. */
    peer_port: number;
    channels: number;
    /** Unix milliseconds. */
    connected_at: number;
    client_properties: { [key: string]: unknown };
    raw: { [key: string]: unknown };
  }

  /** Options of every call. */
  export interface CallOptions {
    /** Seconds (default: configure()'s timeout, 10 s). */
    timeout?: number | null;
  }

  export interface QueuesOptions extends CallOptions {
    /** Default: the AMQP URL's vhost ('/'); '*' means every vhost. */
    vhost?: string;
  }

  export interface QueueOptions extends CallOptions {
    /** The queue (also the first positional parameter). */
    name?: string;
    /** Default: the AMQP URL's vhost ('/'). */
    vhost?: string;
  }

  export interface CloseConnectionOptions extends CallOptions {
    /** The broker's name of the connection (also the first positional parameter). */
    name?: string;
    /** The close's text (default 'closed by amqpjs'). */
    reason?: string;
  }

  export interface ConfigureOptions {
    /** http(s)://[user:password@]host:port[/path]; '' goes back to the one derived from the AMQP URL. */
    url?: string;
    user?: string;
    password?: string;
    vhost?: string;
    /** Seconds, for every call. */
    timeout?: number | null;
  }

  /**
   * A call to the management API failed: status is the HTTP status (401 bad
   * credentials, 404 no such queue or connection, …), or 0 when the API did
   * not answer (then the message says the plugin may be missing and how to
   * enable it).
   */
  export class ManagementError extends Error {
    constructor(message?: string, status?: number, url?: string, method?: string, reason?: string);
    status: number;
    /** The request's URL, without credentials. */
    url: string;
    method: string;
    /** The API's own explanation ('Login failed', 'Not Found'), or ''. */
    reason: string;
  }

  /** The management API of this runtime's (VU's) next calls. */
  export function configure(options: ConfigureOptions): void;
  export function overview(options?: CallOptions): Promise<Overview>;
  export function nodes(options?: CallOptions): Promise<Node[]>;
  export function queue(name: string, options?: QueueOptions): Promise<Queue>;
  export function queue(options: QueueOptions & { name: string }): Promise<Queue>;
  export function queues(options?: QueuesOptions): Promise<Queue[]>;
  export function connections(options?: CallOptions): Promise<Connection[]>;
  /** The broker closes the connection with 320 CONNECTION_FORCED and reason (default 'closed by amqpjs'). */
  export function closeConnection(name: string, options?: CloseConnectionOptions): Promise<void>;
  export function closeConnection(name: string, reason?: string, options?: CloseConnectionOptions): Promise<void>;
  export function closeConnection(options: CloseConnectionOptions & { name: string }): Promise<void>;

  const rabbitmq: typeof import('amqpjs/rabbitmq');
  /** The module itself: `import rabbitmq from 'amqpjs/rabbitmq'`. */
  export default rabbitmq;
}

declare module 'node:amqpjs/rabbitmq' {
  export * from 'amqpjs/rabbitmq';
  export { default } from 'amqpjs/rabbitmq';
}

declare module 'amqpjs/metrics' {
  /**
   * options.rabbitmq: sample the broker during the run into the gauges
   * rabbitmq_queue_messages, rabbitmq_queue_messages_unacked,
   * rabbitmq_queue_consumers (tag queue) and rabbitmq_node_mem_used (tag
   * node), for thresholds such as
   * 'rabbitmq_queue_messages{queue:jobs}': ['max<10000'].
   */
  export interface BrokerMetricsOptions {
    /** Queue names, and RegExps matching names. */
    queues?: (string | RegExp)[];
    /** Between samples (default '1s', at least 100 ms). */
    interval?: string | number;
    /** The queues' vhost (default: the AMQP URL's). */
    vhost?: string;
  }

  export interface ScenarioOptions {
    rabbitmq?: BrokerMetricsOptions;
  }
}
