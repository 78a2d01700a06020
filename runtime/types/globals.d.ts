// TypeScript definitions of the globals amqpjs adds to JavaScript (docs/api.md
// §1): console, timers, process, Buffer (buffer.d.ts), TextEncoder,
// TextDecoder, URL, performance, require. Use them with TypeScript's "lib":
// ["es2020"] and without @types/node (whose globals these replace). They
// are checked against a real runtime by runtime/types/types_test.go.

/** Loads a module: a built-in ('aioamqp', 'assert', 'util', …) or a relative .js, .mjs, .ts or .json file. */
declare function require(id: string): any;

/** The CommonJS module object of the current file (scripts are CommonJS or ES modules). */
declare var module: { exports: any };
/** module.exports of the current file. */
declare var exports: any;
/** The absolute path of the current file. */
declare var __filename: string;
/** The directory of the current file. */
declare var __dirname: string;

/** The handle of setTimeout, setInterval and setImmediate; pass it to clear*(). */
interface Timeout {
  /** Keeps the process alive while the timer is pending (the default). */
  ref(): this;
  /** Lets the process end while the timer is pending. */
  unref(): this;
  hasRef(): boolean;
  /** Restarts the timer with its original delay. */
  refresh(): this;
  /** The timer's id. */
  [Symbol.toPrimitive](): number;
}

declare function setTimeout<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): Timeout;
declare function setInterval<A extends unknown[]>(callback: (...args: A) => void, ms?: number, ...args: A): Timeout;
declare function setImmediate<A extends unknown[]>(callback: (...args: A) => void, ...args: A): Timeout;
declare function clearTimeout(timeout: Timeout | number | undefined | null): void;
declare function clearInterval(timeout: Timeout | number | undefined | null): void;
declare function clearImmediate(immediate: Timeout | number | undefined | null): void;
declare function queueMicrotask(callback: () => void): void;

/** console.log and friends format their arguments like util.format (%s %d %i %f %j %o %O %c). */
interface Console {
  /** To stdout. */
  log(...args: unknown[]): void;
  /** To stdout. */
  info(...args: unknown[]): void;
  /** To stdout. */
  debug(...args: unknown[]): void;
  /** To stderr. */
  warn(...args: unknown[]): void;
  /** To stderr. */
  error(...args: unknown[]): void;
  /** To stderr. */
  trace(...args: unknown[]): void;
  /** Prints "Assertion failed" (and the message) on stderr when value is falsy. */
  assert(value: unknown, ...message: unknown[]): void;
  time(label?: string): void;
  timeEnd(label?: string): void;
  timeLog(label?: string): void;
  /** Prints util.inspect(value) on stdout. */
  dir(value: unknown): void;
}
declare var console: Console;

/** A writable stream of process. */
interface ProcessWriteStream {
  write(chunk: string | Uint8Array): boolean;
}

interface MemoryUsage {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
}

interface CpuUsage {
  /** Microseconds. */
  user: number;
  /** Microseconds. */
  system: number;
}

interface HRTime {
  /** [seconds, nanoseconds] since an arbitrary time. */
  (time?: [number, number]): [number, number];
  /** Nanoseconds since an arbitrary time. */
  bigint(): bigint;
}

interface Process {
  /** The environment the runtime was given. */
  env: { [name: string]: string | undefined };
  /** [program, absolute script path, ...the arguments after --]. */
  argv: string[];
  platform: string;
  /** "v" and the amqpjs version. */
  version: string;
  versions: { amqpjs: string; [name: string]: string };
  pid: number;
  /** The exit code when the script ends on its own (0 when unset). */
  exitCode: number | undefined;
  /** Ends the run at once with code (default: exitCode, else 0); open connections are closed. */
  exit(code?: number): never;
  cwd(): string;
  nextTick<A extends unknown[]>(callback: (...args: A) => void, ...args: A): void;
  hrtime: HRTime;
  memoryUsage(): MemoryUsage;
  /** CPU time used by the process, minus previousValue when given. */
  cpuUsage(previousValue?: CpuUsage): CpuUsage;
  stdout: ProcessWriteStream;
  stderr: ProcessWriteStream;
}
declare var process: Process;

interface Performance {
  /** Milliseconds since timeOrigin, with sub-millisecond precision. */
  now(): number;
  /** When the runtime started, in milliseconds since the Unix epoch. */
  timeOrigin: number;
}
declare var performance: Performance;

/** UTF-8 only. */
declare class TextEncoder {
  readonly encoding: 'utf-8';
  encode(input?: string): Uint8Array;
}

/** UTF-8 only; another label throws a RangeError. */
declare class TextDecoder {
  constructor(label?: 'utf-8' | 'utf8');
  readonly encoding: 'utf-8';
  decode(input?: ArrayBuffer | ArrayBufferView): string;
}

declare class URL {
  constructor(url: string, base?: string | URL);
  hash: string;
  host: string;
  hostname: string;
  href: string;
  readonly origin: string;
  password: string;
  pathname: string;
  port: string;
  protocol: string;
  search: string;
  readonly searchParams: URLSearchParams;
  username: string;
  toString(): string;
  toJSON(): string;
}

declare class URLSearchParams {
  constructor(init?: string | { [name: string]: string } | Iterable<[string, string]>);
  append(name: string, value: string): void;
  delete(name: string, value?: string): void;
  entries(): IterableIterator<[string, string]>;
  forEach(callback: (value: string, name: string, params: URLSearchParams) => void): void;
  get(name: string): string | null;
  getAll(name: string): string[];
  has(name: string, value?: string): boolean;
  keys(): IterableIterator<string>;
  set(name: string, value: string): void;
  sort(): void;
  readonly size: number;
  toString(): string;
  values(): IterableIterator<string>;
  [Symbol.iterator](): IterableIterator<[string, string]>;
}

declare module 'console' {
  const console: Console;
  export = console;
}

declare module 'process' {
  const process: Process;
  export = process;
}
