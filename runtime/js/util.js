// util: format and inspect, modelled on Node's util. Evaluated once per
// runtime; `natives` gives promiseState(p) -> ["pending"|"fulfilled"|"rejected", value].
(function (natives) {
  'use strict';
  const defaults = { depth: 2, colors: false, breakLength: 80, maxArrayLength: 100, maxStringLength: 10000, showHidden: false };
  const styles = { number: 'yellow', bigint: 'yellow', boolean: 'yellow', undefined: 'grey', null: 'bold', string: 'green', symbol: 'green', date: 'magenta', regexp: 'red', special: 'cyan', module: 'underline' };
  const colors = { bold: [1, 22], underline: [4, 24], grey: [90, 39], red: [31, 39], green: [32, 39], yellow: [33, 39], magenta: [35, 39], cyan: [36, 39] };

  function stylize(ctx, s, kind) {
    if (!ctx.colors) return s;
    const c = colors[styles[kind]];
    return c ? '\u001b[' + c[0] + 'm' + s + '\u001b[' + c[1] + 'm' : s;
  }

  function quote(s) {
    const q = s.includes("'") ? (s.includes('"') ? (s.includes('`') ? "'" : '`') : '"') : "'";
    let out = '';
    for (const ch of s) {
      const code = ch.codePointAt(0);
      if (ch === q || ch === '\\') out += '\\' + ch;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\r') out += '\\r';
      else if (code < 0x20 || code === 0x7f) out += '\\x' + code.toString(16).padStart(2, '0');
      else out += ch;
    }
    return q + out + q;
  }

  const identRe = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
  function keyString(ctx, k) {
    if (typeof k === 'symbol') return '[' + stylize(ctx, k.toString(), 'symbol') + ']';
    return identRe.test(k) ? k : stylize(ctx, quote(k), 'string');
  }

  function isBuffer(v) { return typeof Buffer === 'function' && v instanceof Buffer; }

  function formatPrimitive(ctx, v) {
    switch (typeof v) {
      case 'string': {
        let s = v;
        let more = '';
        if (s.length > ctx.maxStringLength) { more = `... ${s.length - ctx.maxStringLength} more characters`; s = s.slice(0, ctx.maxStringLength); }
        return stylize(ctx, quote(s), 'string') + more;
      }
      case 'number': return stylize(ctx, Object.is(v, -0) ? '-0' : String(v), 'number');
      case 'bigint': return stylize(ctx, String(v) + 'n', 'bigint');
      case 'boolean': return stylize(ctx, String(v), 'boolean');
      case 'undefined': return stylize(ctx, 'undefined', 'undefined');
      case 'symbol': return stylize(ctx, v.toString(), 'symbol');
    }
    return stylize(ctx, 'null', 'null');
  }

  function ctorName(v) {
    try {
      const p = Object.getPrototypeOf(v);
      if (p === null) return null;
      const c = p.constructor;
      return c && typeof c.name === 'string' ? c.name : '';
    } catch (e) { return ''; }
  }

  function reduceToSingle(ctx, output, base, braces, indent) {
    const start = output.length + ctx.indentation + braces[0].length + base.length + 10;
    // Widths as seen: colour codes take no room (Node's getStringWidth).
    const total = output.reduce((n, s) => n + (ctx.colors ? s.replace(/\u001b\[\d+m/g, '') : s).length + 2, 0);
    if (start + total <= ctx.breakLength && !output.some(s => s.includes('\n'))) {
      return `${base ? base + ' ' : ''}${braces[0]} ${output.join(', ')} ${braces[1]}`;
    }
    const ind = ' '.repeat(indent + 2);
    return `${base ? base + ' ' : ''}${braces[0]}\n${ind}${output.join(`,\n${ind}`)}\n${' '.repeat(indent)}${braces[1]}`;
  }

  function formatError(ctx, err, depth) {
    let stack = '';
    try { stack = err.stack; } catch (e) { /* ignore */ }
    if (typeof stack !== 'string' || !stack) stack = Error.prototype.toString.call(err);
    stack = natives.cleanStack(stack).replace(/\n+$/, '');
    const keys = Object.keys(err).filter(k => k !== 'stack' && k !== 'message');
    if (keys.length === 0) return stack;
    const out = keys.map(k => `${keyString(ctx, k)}: ${formatValue(ctx, err[k], depth + 1)}`);
    return stack + ' ' + reduceToSingle(ctx, out, '', ['{', '}'], ctx.indentation);
  }

  function formatValue(ctx, v, depth) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return formatPrimitive(ctx, v);
    if (ctx.seen.includes(v)) return stylize(ctx, '[Circular *1]', 'special');
    if (typeof v.inspect === 'function' && v.inspect !== inspect && false) return String(v.inspect());
    const custom = v[inspect.custom];
    if (typeof custom === 'function') {
      const r = custom.call(v, ctx.depth - depth, ctx, inspect);
      if (typeof r === 'string') return r;
      if (r !== v) return formatValue(ctx, r, depth);
    }
    if (typeof v === 'function') {
      const name = v.name ? `: ${v.name}` : ' (anonymous)';
      const cls = /^class\s/.test(Function.prototype.toString.call(v)) ? 'class' : (v.constructor && v.constructor.name === 'AsyncFunction' ? 'AsyncFunction' : 'Function');
      const base = stylize(ctx, `[${cls === 'class' ? 'class ' + (v.name || '(anonymous)') : cls + name}]`, 'special');
      const keys = Object.keys(v);
      if (keys.length === 0 || depth > ctx.depth) return base;
      return formatObjectBody(ctx, v, keys, depth, base, ['{', '}']);
    }
    if (v instanceof Error) return formatError(ctx, v, depth);
    if (v instanceof Date) return stylize(ctx, isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString(), 'date');
    if (v instanceof RegExp) return stylize(ctx, String(v), 'regexp');
    if (v instanceof Promise) {
      const st = natives.promiseState(v);
      if (depth > ctx.depth) return '[Promise]';
      const inner = st[0] === 'pending' ? stylize(ctx, '<pending>', 'special')
        : st[0] === 'rejected' ? `${stylize(ctx, '<rejected>', 'special')} ${formatNested(ctx, st[1], depth)}` : formatNested(ctx, st[1], depth);
      return `Promise { ${inner} }`;
    }
    if (isBuffer(v)) {
      let hex = [];
      const n = Math.min(v.length, 50);
      for (let i = 0; i < n; i++) hex.push(v[i].toString(16).padStart(2, '0'));
      return `<Buffer${hex.length ? ' ' + hex.join(' ') : ''}${v.length > 50 ? ` ... ${v.length - 50} more bytes` : ''}>`;
    }
    const name = ctorName(v);
    if (depth > ctx.depth) {
      // Like Node, empty containers are shown even beyond the depth limit.
      if (Object.keys(v).length === 0) {
        if (Array.isArray(v) && v.length === 0) return '[]';
        if ((v instanceof Map || v instanceof Set) && v.size === 0) return `${name}(0) {}`;
        if (name === 'Object') return '{}';
      }
      if (Array.isArray(v)) return stylize(ctx, '[Array]', 'special');
      return stylize(ctx, `[${name || 'Object'}]`, 'special');
    }
    if (Array.isArray(v) || ArrayBuffer.isView(v)) {
      const out = [];
      const n = Math.min(v.length, ctx.maxArrayLength);
      ctx.seen.push(v);
      for (let i = 0; i < n; i++) out.push(formatNested(ctx, v[i], depth));
      if (v.length > n) out.push(`... ${v.length - n} more item${v.length - n > 1 ? 's' : ''}`);
      if (Array.isArray(v)) {
        for (const k of Object.keys(v)) if (!/^\d+$/.test(k)) out.push(`${keyString(ctx, k)}: ${formatNested(ctx, v[k], depth)}`);
      }
      ctx.seen.pop();
      const prefix = Array.isArray(v) ? (name && name !== 'Array' ? `${name}(${v.length})` : '') : `${name}(${v.length})`;
      if (out.length === 0) return prefix ? `${prefix} []` : '[]';
      if (Array.isArray(v) && out.length > 6 && out.every(s => s.length <= 6)) {
        return reduceToSingle(ctx, groupRows(out), prefix, ['[', ']'], ctx.indentation);
      }
      return reduceToSingle(ctx, out, prefix, ['[', ']'], ctx.indentation);
    }
    if (v instanceof ArrayBuffer) {
      return `ArrayBuffer { byteLength: ${formatPrimitive(ctx, v.byteLength)} }`;
    }
    if (v instanceof Map) {
      ctx.seen.push(v);
      const out = [];
      for (const [k, val] of v) out.push(`${formatNested(ctx, k, depth)} => ${formatNested(ctx, val, depth)}`);
      ctx.seen.pop();
      return out.length ? reduceToSingle(ctx, out, `Map(${v.size})`, ['{', '}'], ctx.indentation) : `Map(0) {}`;
    }
    if (v instanceof Set) {
      ctx.seen.push(v);
      const out = [];
      for (const k of v) out.push(formatNested(ctx, k, depth));
      ctx.seen.pop();
      return out.length ? reduceToSingle(ctx, out, `Set(${v.size})`, ['{', '}'], ctx.indentation) : `Set(0) {}`;
    }
    let keys = Object.keys(v);
    const syms = Object.getOwnPropertySymbols(v).filter(s => Object.getOwnPropertyDescriptor(v, s).enumerable);
    keys = keys.concat(syms);
    let base = '';
    if (name === null) base = '[Object: null prototype]';
    else if (name && name !== 'Object') base = name;
    const tag = v[Symbol.toStringTag];
    if (typeof tag === 'string' && tag !== name && tag) base = base ? `${base} [${tag}]` : `Object [${tag}]`;
    if (keys.length === 0) return base ? `${base} {}` : '{}';
    return formatObjectBody(ctx, v, keys, depth, base, ['{', '}']);
  }

  function groupRows(out) { return out; }

  function formatNested(ctx, v, depth) {
    ctx.indentation += 2;
    const s = formatValue(ctx, v, depth + 1);
    ctx.indentation -= 2;
    return s;
  }

  function formatObjectBody(ctx, v, keys, depth, base, braces) {
    ctx.seen.push(v);
    const out = [];
    for (const k of keys) {
      let desc;
      try { desc = Object.getOwnPropertyDescriptor(v, k); } catch (e) { desc = undefined; }
      let s;
      if (desc && (desc.get || desc.set) && !('value' in desc)) {
        s = stylize(ctx, desc.get ? (desc.set ? '[Getter/Setter]' : '[Getter]') : '[Setter]', 'special');
      } else {
        s = formatNested(ctx, desc ? desc.value : v[k], depth);
      }
      out.push(`${keyString(ctx, k)}: ${s}`);
    }
    ctx.seen.pop();
    return reduceToSingle(ctx, out, base, braces, ctx.indentation);
  }

  function inspect(v, opts) {
    const ctx = Object.assign({}, defaults, { seen: [], indentation: 0 });
    if (opts && typeof opts === 'object') Object.assign(ctx, opts);
    if (ctx.depth === null) ctx.depth = Infinity;
    return formatValue(ctx, v, 0);
  }
  inspect.custom = Symbol.for('nodejs.util.inspect.custom');
  inspect.defaultOptions = defaults;

  function formatWithOptions(opts, ...args) {
    const first = args[0];
    let out = '';
    let i = 0;
    if (typeof first === 'string') {
      i = 1;
      let last = 0;
      for (let j = 0; j < first.length - 1; j++) {
        if (first[j] !== '%') continue;
        const c = first[j + 1];
        let rep;
        if (c === '%') { out += first.slice(last, j) + '%'; last = j + 2; j++; continue; }
        if (i >= args.length) continue;
        const a = args[i];
        switch (c) {
          case 's': rep = typeof a === 'string' ? a : (typeof a === 'bigint' ? a + 'n' : (typeof a === 'object' && a !== null ? inspect(a, Object.assign({}, opts, { depth: 1 })) : String(a))); break;
          case 'd': rep = typeof a === 'bigint' ? a + 'n' : (typeof a === 'symbol' ? 'NaN' : String(Number(a))); break;
          case 'i': rep = typeof a === 'bigint' ? a + 'n' : String(parseInt(a)); break;
          case 'f': rep = String(parseFloat(a)); break;
          case 'j': try { rep = JSON.stringify(a); } catch (e) { rep = '[Circular]'; } break;
          case 'o': rep = inspect(a, Object.assign({}, opts, { showHidden: true, depth: 4 })); break;
          case 'O': rep = inspect(a, opts); break;
          case 'c': rep = ''; break;
          default: continue;
        }
        out += first.slice(last, j) + rep;
        last = j + 2;
        j++;
        i++;
      }
      out += first.slice(last);
    }
    for (; i < args.length; i++) {
      const a = args[i];
      if (out.length > 0 || i > 0) out += ' ';
      out += typeof a === 'string' ? a : inspect(a, opts);
    }
    return out;
  }

  function format(...args) { return formatWithOptions({}, ...args); }

  function promisify(fn) {
    if (typeof fn !== 'function') throw new TypeError("promisify: parameter 'original' must be a function");
    return function (...args) {
      return new Promise((resolve, reject) => fn.call(this, ...args, (err, v) => err ? reject(err) : resolve(v)));
    };
  }

  function isDeepStrictEqual(a, b) { return natives.deepEqual(a, b); }

  const types = {
    isPromise: v => v instanceof Promise,
    isDate: v => v instanceof Date,
    isRegExp: v => v instanceof RegExp,
    isNativeError: v => v instanceof Error,
    isUint8Array: v => v instanceof Uint8Array,
    isArrayBuffer: v => v instanceof ArrayBuffer,
  };

  return { format, formatWithOptions, inspect, promisify, isDeepStrictEqual, types, TextEncoder: globalThis.TextEncoder, TextDecoder: globalThis.TextDecoder };
})
