// Buffer methods goja_nodejs's Buffer lacks, as Node defines them.
(function () {
  'use strict';
  const def = (obj, name, fn) => {
    if (!(name in obj)) Object.defineProperty(obj, name, { value: fn, writable: true, configurable: true });
  };
  def(Buffer, 'isBuffer', (v) => v instanceof Buffer);
  def(Buffer, 'byteLength', (v, encoding) => {
    if (typeof v === 'string') return Buffer.from(v, encoding).length;
    if (v instanceof ArrayBuffer) return v.byteLength;
    if (ArrayBuffer.isView(v)) return v.byteLength;
    throw new TypeError("Buffer.byteLength: parameter 'string' must be a string, Buffer, TypedArray, DataView or ArrayBuffer");
  });
  function compare(a, b) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) {
      throw new TypeError("Buffer.compare: arguments must be Buffers or Uint8Arrays");
    }
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }
  def(Buffer, 'compare', compare);
  const proto = Buffer.prototype;
  def(proto, 'compare', function (target) { return compare(this, target); });
  def(proto, 'copy', function (target, targetStart = 0, sourceStart = 0, sourceEnd = this.length) {
    if (!(target instanceof Uint8Array)) throw new TypeError("buf.copy: parameter 'target' must be a Buffer or Uint8Array");
    sourceEnd = Math.min(sourceEnd, this.length);
    let n = Math.max(0, sourceEnd - sourceStart);
    n = Math.min(n, target.length - targetStart);
    if (n <= 0) return 0;
    target.set(this.subarray(sourceStart, sourceStart + n), targetStart);
    return n;
  });
})();
