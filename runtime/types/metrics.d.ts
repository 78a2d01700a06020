// TypeScript definitions for load and test scenarios (docs/scenarios.md):
// the 'amqpjs/metrics' module, the __VU and __ITER globals, and the shape
// of a scenario's `export const options`. Checked against the scenario
// package by runtime/types/types_test.go.

/** The number of the VU running this code: 0 in the runtime that runs setup and teardown, 1, 2, … in VUs. */
declare var __VU: number;
/** The number of the VU's current iteration, from 0. */
declare var __ITER: number;
/** process.env, as k6 scripts read their environment. */
declare var __ENV: Record<string, string | undefined>;

declare module 'amqpjs/metrics' {
  /** Tags of a sample: they make sub-series (`name{tag:value}`). */
  export interface Tags {
    [tag: string]: string | number | boolean;
  }

  /** A sum: add(1) per event. Summary: count, rate. */
  export class Counter {
    /** A metric of the same name made again (in every VU) is the same metric. */
    constructor(name: string, isTime?: boolean);
    readonly name: string;
    readonly type: 'counter';
    add(value: number, tags?: Tags): void;
  }

  /** The last value. Summary: value, min, max. */
  export class Gauge {
    constructor(name: string, isTime?: boolean);
    readonly name: string;
    readonly type: 'gauge';
    add(value: number, tags?: Tags): void;
  }

  /** The share of non-zero (true) samples. Summary: rate, passes, fails. */
  export class Rate {
    constructor(name: string, isTime?: boolean);
    readonly name: string;
    readonly type: 'rate';
    add(value: number | boolean, tags?: Tags): void;
  }

  /** A distribution (HdrHistogram). Summary: avg, min, med, max, p(90), p(95), p(99). isTime: values are milliseconds. */
  export class Trend {
    constructor(name: string, isTime?: boolean);
    readonly name: string;
    readonly type: 'trend';
    add(value: number, tags?: Tags): void;
  }

  /**
   * Runs each check on value (a function called with value, or a boolean),
   * records each result in `checks{check:<name>}` and returns whether all
   * passed. It never throws.
   */
  export function check<T>(value: T, checks: { [name: string]: ((value: T) => unknown) | boolean }, tags?: Tags): boolean;

  /** A ramping stage: go linearly to target (VUs; for ramping-arrival-rate, iterations per timeUnit) over duration. */
  export interface Stage {
    /** A Go duration ('30s', '1m30s') or milliseconds. */
    duration: string | number;
    target: number;
  }

  /** The executors of named scenarios (the shorthand options take all but 'ramping-arrival-rate'). */
  export type Executor =
    | 'constant-vus'
    | 'ramping-vus'
    | 'shared-iterations'
    | 'per-vu-iterations'
    | 'constant-arrival-rate'
    | 'ramping-arrival-rate';

  /**
   * One scenario of options.scenarios. Each executor takes executor, exec,
   * startTime, gracefulStop, env, tags and its own keys (any other key is an
   * error, exit 2):
   * constant-vus: vus, duration; ramping-vus: startVUs, stages;
   * shared-iterations and per-vu-iterations: vus, iterations, maxDuration;
   * constant-arrival-rate: rate, timeUnit, duration, preAllocatedVUs, maxVUs;
   * ramping-arrival-rate: startRate, timeUnit, stages, preAllocatedVUs, maxVUs.
   */
  export interface Scenario {
    executor: Executor;
    /** The exported function its VUs run (default 'default'). */
    exec?: string;
    /** How long after the run's start the scenario starts (default 0). */
    startTime?: string | number;
    /** How long iterations still running at its end may finish (default 30 s). */
    gracefulStop?: string | number;
    /** Added to process.env in its VUs. */
    env?: { [name: string]: string };
    /** Added to every sample its VUs record, besides scenario:<name>. */
    tags?: { [tag: string]: string };
    /** VUs (default 1). */
    vus?: number;
    /** constant-vus, constant-arrival-rate: how long. */
    duration?: string | number;
    /** shared-iterations: in all; per-vu-iterations: per VU (default 1). */
    iterations?: number;
    /** The most time the iterations may take (default 10 m). */
    maxDuration?: string | number;
    /** ramping-vus: VUs before the first stage (default 1). */
    startVUs?: number;
    stages?: Stage[];
    /** constant-arrival-rate: iterations started per timeUnit. */
    rate?: number;
    /** ramping-arrival-rate: the rate before the first stage (default 0). */
    startRate?: number;
    /** Arrival rates: the rate's unit (default '1s'). */
    timeUnit?: string | number;
    /** Arrival rates: VUs made before the start (default 1). */
    preAllocatedVUs?: number;
    /** Arrival rates: the most VUs (default the larger of preAllocatedVUs and 100). */
    maxVUs?: number;
  }

  /** A threshold with options (thresholds: { metric: [ '…' | ThresholdObject ] }). */
  export interface ThresholdObject {
    /** 'p(95)<50', 'rate==1', 'count==0', … */
    threshold: string;
    /** Stop the run as soon as the threshold fails. */
    abortOnFail?: boolean;
    /** Wait this long before abortOnFail applies. */
    delayAbortEval?: string | number;
  }

  /**
   * A scenario's `export const options` (k6's names): either named
   * scenarios, or the shorthand options for one scenario named 'default'
   * (which the flags override), not both.
   */
  export interface ScenarioOptions {
    /** Several scenarios, run at once, by name (letters, digits, '_', '-'); samples carry scenario:<name>. */
    scenarios?: { [name: string]: Scenario };
    /** 'constant-vus', 'shared-iterations', 'per-vu-iterations', 'ramping-vus' or 'constant-arrival-rate'; inferred from the other options when not given. */
    executor?: Exclude<Executor, 'ramping-arrival-rate'>;
    vus?: number;
    duration?: string | number;
    iterations?: number;
    stages?: Stage[];
    startVUs?: number;
    /** Iterations started per timeUnit (constant-arrival-rate). */
    rate?: number;
    timeUnit?: string | number;
    preAllocatedVUs?: number;
    maxVUs?: number;
    maxDuration?: string | number;
    /** How long iterations still running at the end may finish (default 30 s). */
    gracefulStop?: string | number;
    thresholds?: { [metric: string]: (string | ThresholdObject)[] };
    /** Accepted, ignored. */
    summaryTrendStats?: string[];
    /** In a run split between instances (--execution-segment, --instance): only the instance whose segment starts at 0 runs setup(); the others' VUs get undefined. */
    setupOnce?: boolean;
    /** In a run split between instances: only the instance whose segment starts at 0 runs teardown(). */
    teardownOnce?: boolean;
  }
}
