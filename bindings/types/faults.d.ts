// TypeScript definitions of the 'amqpjs/faults' module: faults on cue, on
// the connections the script (or, in a scenario run, any VU of the run)
// opened. docs/reference/faults.md; checked against the bindings by
// runtime/types/types_test.go (module exports).

declare module 'amqpjs/faults' {
  /** An open connection of the run, as listed by connections(). */
  export interface FaultConnection {
    /** The scenario of the VU that opened it ('' outside scenarios). */
    readonly scenario: string;
    /** That VU's __VU (0 outside scenarios). */
    readonly vu: number;
    /** The connection's local "host:port": the broker names it by this. */
    readonly local_address: string;
  }

  /** A connection: the protocol of aioamqp.connect(), or one of connections(). */
  export type FaultTarget = import('aioamqp').Protocol | FaultConnection;

  /** A duration: '10s', '1m30s', '500ms', or a number of milliseconds. */
  export type Duration = string | number;

  /** Bytes per second: a number, or '1MB' (10^6), '512KiB' (2^10), '2.5kB'. */
  export type Size = string | number;

  /**
   * Drops the TCP connection as a dead network does: no close frame, an RST
   * to the broker. on_error gets AmqpClosedConnection (code 0, "connection
   * lost: … connection reset by peer"); pending calls reject with it.
   * Returns false when there was nothing to cut (already cut or closed).
   */
  export function cut(protocol: FaultTarget): boolean;

  /**
   * No byte moves either way for `duration`. A heartbeat timeout shorter
   * than that ends the connection ("missed heartbeats"). Settles when the
   * stall is over, or when the connection ended first.
   */
  export function stall(protocol: FaultTarget, duration: Duration): Promise<void>;

  /** Delays each direction by `duration` (0: none), until clear(). */
  export function latency(protocol: FaultTarget, duration: Duration): void;

  /** Limits each direction to `size` bytes per second, until clear(). */
  export function bandwidth(protocol: FaultTarget, size: Size): void;

  /** Ends a stall and removes latency and the bandwidth limit (a cut is final). */
  export function clear(protocol: FaultTarget): void;

  /**
   * The open connections of the run (every VU's, in a scenario run; else
   * the script's own), oldest first, optionally only those of a scenario
   * or a VU.
   */
  export function connections(filter?: { scenario?: string; vu?: number }): FaultConnection[];

  const faults: typeof import('amqpjs/faults');
  export default faults;
}
