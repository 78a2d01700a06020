// TypeScript definitions of amqpjs's built-in modules beside aioamqp:
// assert, util, timers/promises and url (docs/api.md §1). Node's names and
// behaviour, for the subset amqpjs has. Checked against a real runtime by
// runtime/types/types_test.go.

declare module 'assert' {
  /** assert(value, message): throws an AssertionError when value is falsy. */
  function assert(value: unknown, message?: string | Error): asserts value;
  namespace assert {
    /** What the assertions throw. */
    export class AssertionError extends Error {
      constructor(options: { message?: string; actual?: unknown; expected?: unknown; operator?: string });
      code: 'ERR_ASSERTION';
      actual: unknown;
      expected: unknown;
      operator: string | undefined;
      generatedMessage: boolean;
    }
    export function ok(value: unknown, message?: string | Error): asserts value;
    export function fail(message?: string | Error): never;
    /** ==, as Node's legacy assert.equal. */
    export function equal(actual: unknown, expected: unknown, message?: string | Error): void;
    export function notEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    /** Object.is. */
    export function strictEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T;
    export function notStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    export function deepStrictEqual<T>(actual: unknown, expected: T, message?: string | Error): asserts actual is T;
    export function notDeepStrictEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    export function deepEqual(actual: unknown, expected: unknown, message?: string | Error): void;
    /** Expects fn to throw, optionally an error matching a class, a RegExp, an object of fields or a validation function. */
    export function throws(fn: () => unknown, expected?: AssertPredicate, message?: string | Error): void;
    export function throws(fn: () => unknown, message?: string): void;
    export function doesNotThrow(fn: () => unknown, message?: string | Error): void;
    /** Expects the promise (or the promise fn returns) to reject. */
    export function rejects(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), expected?: AssertPredicate, message?: string | Error): Promise<void>;
    export function rejects(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), message?: string): Promise<void>;
    export function doesNotReject(promiseOrFn: Promise<unknown> | (() => Promise<unknown>), message?: string | Error): Promise<void>;
    export function match(value: string, regexp: RegExp, message?: string | Error): void;
    export function isDeepStrictEqual(a: unknown, b: unknown): boolean;
    /** The module itself (its comparisons are already strict). */
    export const strict: typeof assert;
    export type AssertPredicate = RegExp | (new (...args: any[]) => Error) | ((error: unknown) => boolean) | object;
  }
  export = assert;
}

declare module 'node:assert' {
  import assert = require('assert');
  export = assert;
}

declare module 'assert/strict' {
  import assert = require('assert');
  export = assert;
}

declare module 'node:assert/strict' {
  import assert = require('assert');
  export = assert;
}

declare module 'util' {
  /** Options of inspect (and of formatWithOptions). */
  export interface InspectOptions {
    /** Nesting depth to show (default 2; null: all). */
    depth?: number | null;
    /** ANSI colours. */
    colors?: boolean;
    /** Line width before objects are broken over lines (default 80). */
    breakLength?: number;
    /** Array items shown (default 100). */
    maxArrayLength?: number;
    /** String characters shown (default 10000). */
    maxStringLength?: number;
    /** Non-enumerable properties too. */
    showHidden?: boolean;
  }

  export interface Inspect {
    /** Renders value like Node's util.inspect. */
    (value: unknown, options?: InspectOptions): string;
    /** Symbol.for('nodejs.util.inspect.custom'): a method under this key renders its object. */
    custom: symbol;
    defaultOptions: InspectOptions;
  }

  export interface UtilTypes {
    isPromise(value: unknown): value is Promise<unknown>;
    isDate(value: unknown): value is Date;
    isRegExp(value: unknown): value is RegExp;
    isNativeError(value: unknown): value is Error;
    isUint8Array(value: unknown): value is Uint8Array;
    isArrayBuffer(value: unknown): value is ArrayBuffer;
  }

  /** printf-like: %s %d %i %f %j %o %O %c %%; extra arguments are inspected. */
  export function format(format?: unknown, ...args: unknown[]): string;
  export function formatWithOptions(options: InspectOptions, format?: unknown, ...args: unknown[]): string;
  export const inspect: Inspect;
  /** Turns a function taking a (err, value) callback last into one returning a promise. */
  export function promisify<T = unknown>(fn: (...args: any[]) => void): (...args: any[]) => Promise<T>;
  export function isDeepStrictEqual(a: unknown, b: unknown): boolean;
  export const types: UtilTypes;
  const TextEncoderClass: typeof TextEncoder;
  const TextDecoderClass: typeof TextDecoder;
  export { TextEncoderClass as TextEncoder, TextDecoderClass as TextDecoder };
}

declare module 'node:util' {
  export * from 'util';
}

declare module 'timers/promises' {
  export interface Scheduler {
    /** Resolves after ms milliseconds. */
    wait(ms: number): Promise<void>;
  }
  /** Resolves with value after ms milliseconds. */
  export function setTimeout<T = void>(ms?: number, value?: T): Promise<T>;
  /** Resolves with value on the next turn of the event loop. */
  export function setImmediate<T = void>(value?: T): Promise<T>;
  export const scheduler: Scheduler;
}

declare module 'node:timers/promises' {
  export * from 'timers/promises';
}

declare module 'url' {
  const URLClass: typeof URL;
  const URLSearchParamsClass: typeof URLSearchParams;
  export { URLClass as URL, URLSearchParamsClass as URLSearchParams };
  /** The ASCII (punycode) form of a domain name. */
  export function domainToASCII(domain: string): string;
  /** The Unicode form of a domain name. */
  export function domainToUnicode(domain: string): string;
}

declare module 'node:url' {
  export * from 'url';
}
