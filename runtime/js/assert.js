// assert: the subset of Node's assert module that docs/api.md §1 lists, plus a few
// common extras. Evaluated once per runtime with the util module.
(function (util) {
  'use strict';

  class AssertionError extends Error {
    constructor(options) {
      super(options.message);
      this.name = 'AssertionError';
      this.code = 'ERR_ASSERTION';
      this.actual = options.actual;
      this.expected = options.expected;
      this.operator = options.operator;
      this.generatedMessage = !options.userMessage;
    }
  }

  function fail(actual, expected, message, operator, defaultMsg) {
    if (message instanceof Error) throw message;
    throw new AssertionError({
      message: message !== undefined ? String(message) : defaultMsg(),
      userMessage: message !== undefined, actual, expected, operator,
    });
  }

  const show = v => util.inspect(v, { depth: 4 });

  function isDeepStrictEqual(a, b, seen) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    seen = seen || [];
    for (const [x, y] of seen) if (x === a && y === b) return true;
    seen.push([a, b]);
    if (a instanceof Date) return a.getTime() === b.getTime();
    if (a instanceof RegExp) return String(a) === String(b);
    if (ArrayBuffer.isView(a)) {
      if (a.length !== b.length) return false;
      for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
      return true;
    }
    if (a instanceof Map) {
      if (a.size !== b.size) return false;
      for (const [k, v] of a) if (!b.has(k) || !isDeepStrictEqual(v, b.get(k), seen)) return false;
      return true;
    }
    if (a instanceof Set) {
      if (a.size !== b.size) return false;
      for (const k of a) if (!b.has(k)) return false;
      return true;
    }
    if (a instanceof Error && (a.message !== b.message || a.name !== b.name)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (const k of ka) {
      if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
      if (!isDeepStrictEqual(a[k], b[k], seen)) return false;
    }
    return true;
  }

  function isDeepLooseEqual(a, b) {
    // eslint-disable-next-line eqeqeq
    if (a == b) return true;
    return isDeepStrictEqual(a, b);
  }

  function ok(value, message) {
    if (!value) fail(value, true, message, '==', () => `The expression evaluated to a falsy value:\n\n  assert.ok(${show(value)})\n`);
  }
  const assert = function (value, message) { ok(value, message); };
  assert.ok = ok;
  assert.AssertionError = AssertionError;
  assert.fail = function (message) {
    fail(undefined, undefined, message === undefined ? 'Failed' : message, 'fail', () => 'Failed');
  };
  assert.equal = function (actual, expected, message) {
    // eslint-disable-next-line eqeqeq
    if (!(actual == expected || (actual !== actual && expected !== expected))) fail(actual, expected, message, '==', () => `${show(actual)} == ${show(expected)}`);
  };
  assert.notEqual = function (actual, expected, message) {
    // eslint-disable-next-line eqeqeq
    if (actual == expected) fail(actual, expected, message, '!=', () => `${show(actual)} != ${show(expected)}`);
  };
  assert.strictEqual = function (actual, expected, message) {
    if (!Object.is(actual, expected)) fail(actual, expected, message, 'strictEqual', () => `Expected values to be strictly equal:\n\n${show(actual)} !== ${show(expected)}\n`);
  };
  assert.notStrictEqual = function (actual, expected, message) {
    if (Object.is(actual, expected)) fail(actual, expected, message, 'notStrictEqual', () => `Expected "actual" to be strictly unequal to: ${show(expected)}`);
  };
  assert.deepStrictEqual = function (actual, expected, message) {
    if (!isDeepStrictEqual(actual, expected)) fail(actual, expected, message, 'deepStrictEqual', () => `Expected values to be strictly deep-equal:\n+ actual - expected\n\n+ ${show(actual)}\n- ${show(expected)}\n`);
  };
  assert.notDeepStrictEqual = function (actual, expected, message) {
    if (isDeepStrictEqual(actual, expected)) fail(actual, expected, message, 'notDeepStrictEqual', () => `Expected "actual" not to be strictly deep-equal to: ${show(expected)}`);
  };
  assert.deepEqual = function (actual, expected, message) {
    if (!isDeepLooseEqual(actual, expected)) fail(actual, expected, message, 'deepEqual', () => `Expected values to be loosely deep-equal:\n\n${show(actual)}\n\nshould loosely deep-equal\n\n${show(expected)}`);
  };

  function matches(err, expected, message, fnName) {
    if (expected === undefined) return;
    if (typeof expected === 'function') {
      if (expected.prototype !== undefined && err instanceof expected) return;
      if (Error.isPrototypeOf(expected) || expected === Error) {
        fail(err, expected, message, fnName, () => `The error is expected to be an instance of "${expected.name}". Received "${err && err.constructor ? err.constructor.name : typeof err}"\n\nError message:\n\n${err && err.message}`);
      }
      if (expected.call({}, err) === true) return;
      fail(err, expected, message, fnName, () => `The validation function is expected to return "true". Received false`);
    }
    if (expected instanceof RegExp) {
      if (expected.test(String(err))) return;
      fail(err, expected, message, fnName, () => `The input did not match the regular expression ${expected}. Input:\n\n${show(String(err))}\n`);
    }
    if (typeof expected === 'object' && expected !== null) {
      for (const k of Object.keys(expected)) {
        const want = expected[k];
        const got = err == null ? undefined : err[k];
        if (want instanceof RegExp && typeof got === 'string') {
          if (!want.test(got)) fail(err, expected, message, fnName, () => `Expected property '${k}' ${show(got)} to match ${want}`);
        } else if (!isDeepStrictEqual(got, want)) {
          fail(err, expected, message, fnName, () => `Expected values to be strictly deep-equal for property '${k}':\n+ actual - expected\n\n+ ${show(got)}\n- ${show(want)}\n`);
        }
      }
      return;
    }
  }

  assert.throws = function (fn, expected, message) {
    if (typeof fn !== 'function') throw new TypeError("assert.throws: parameter 'fn' must be a function");
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    let threw = false, err;
    try { fn(); } catch (e) { threw = true; err = e; }
    if (!threw) fail(undefined, expected, message, 'throws', () => 'Missing expected exception.');
    matches(err, expected, message, 'throws');
  };
  assert.doesNotThrow = function (fn, message) {
    try { fn(); } catch (e) { fail(e, undefined, message, 'doesNotThrow', () => `Got unwanted exception.\nActual message: "${e && e.message}"`); }
  };
  assert.rejects = async function (promiseOrFn, expected, message) {
    if (typeof expected === 'string') { message = expected; expected = undefined; }
    let p = promiseOrFn;
    if (typeof promiseOrFn === 'function') p = promiseOrFn();
    if (!p || typeof p.then !== 'function') throw new TypeError("assert.rejects: parameter 'promiseFn' must be a promise or a function returning one");
    let threw = false, err;
    try { await p; } catch (e) { threw = true; err = e; }
    if (!threw) fail(undefined, expected, message, 'rejects', () => 'Missing expected rejection.');
    matches(err, expected, message, 'rejects');
  };
  assert.doesNotReject = async function (promiseOrFn, message) {
    let p = typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn;
    try { await p; } catch (e) { fail(e, undefined, message, 'doesNotReject', () => `Got unwanted rejection.\nActual message: "${e && e.message}"`); }
  };
  assert.match = function (string, re, message) {
    if (!re.test(string)) fail(string, re, message, 'match', () => `The input did not match the regular expression ${re}. Input:\n\n${show(string)}\n`);
  };
  assert.strict = assert;
  assert.isDeepStrictEqual = isDeepStrictEqual;
  return assert;
})
