// TypeScript definitions of Buffer (a global, and the 'buffer' module):
// goja_nodejs's Buffer with amqpjs's additions — a Uint8Array subclass;
// received message bodies are Buffers. Checked against a real runtime by
// runtime/types/types_test.go.

/** The encodings Buffer.from and buf.toString accept. */
type BufferEncoding = 'utf8' | 'utf-8' | 'hex' | 'base64' | 'base64Url';

interface Buffer extends Uint8Array {
  /** Decodes the bytes (UTF-8 by default). */
  toString(encoding?: BufferEncoding, start?: number, end?: number): string;
  equals(other: Uint8Array): boolean;
  /** -1, 0 or 1, byte by byte, then by length. */
  compare(target: Uint8Array): -1 | 0 | 1;
  /** Copies into target; returns the number of bytes copied. */
  copy(target: Uint8Array, targetStart?: number, sourceStart?: number, sourceEnd?: number): number;
  /** Writes string at offset; returns the number of bytes written. */
  write(string: string, offset?: number, length?: number, encoding?: BufferEncoding): number;
  /** Reads a number at offset (default 0). */
  readInt8(offset?: number): number;
  readInt16BE(offset?: number): number;
  readInt16LE(offset?: number): number;
  readInt32BE(offset?: number): number;
  readInt32LE(offset?: number): number;
  readUInt8(offset?: number): number;
  readUInt16BE(offset?: number): number;
  readUInt16LE(offset?: number): number;
  readUInt32BE(offset?: number): number;
  readUInt32LE(offset?: number): number;
  readUint8(offset?: number): number;
  readUint16BE(offset?: number): number;
  readUint16LE(offset?: number): number;
  readUint32BE(offset?: number): number;
  readUint32LE(offset?: number): number;
  readFloatBE(offset?: number): number;
  readFloatLE(offset?: number): number;
  readDoubleBE(offset?: number): number;
  readDoubleLE(offset?: number): number;
  readBigInt64BE(offset?: number): bigint;
  readBigInt64LE(offset?: number): bigint;
  readBigUInt64BE(offset?: number): bigint;
  readBigUint64BE(offset?: number): bigint;
  readBigUInt64LE(offset?: number): bigint;
  readBigUint64LE(offset?: number): bigint;
  /** Reads an integer of byteLength (1–6) bytes at offset. */
  readIntBE(offset: number, byteLength: number): number;
  readIntLE(offset: number, byteLength: number): number;
  readUIntBE(offset: number, byteLength: number): number;
  readUintBE(offset: number, byteLength: number): number;
  readUIntLE(offset: number, byteLength: number): number;
  readUintLE(offset: number, byteLength: number): number;
  /** Writes value at offset (default 0); returns offset plus the bytes written. */
  writeInt8(value: number, offset?: number): number;
  writeInt16BE(value: number, offset?: number): number;
  writeInt16LE(value: number, offset?: number): number;
  writeInt32BE(value: number, offset?: number): number;
  writeInt32LE(value: number, offset?: number): number;
  writeUInt8(value: number, offset?: number): number;
  writeUInt16BE(value: number, offset?: number): number;
  writeUInt16LE(value: number, offset?: number): number;
  writeUInt32BE(value: number, offset?: number): number;
  writeUInt32LE(value: number, offset?: number): number;
  writeUint8(value: number, offset?: number): number;
  writeUint16BE(value: number, offset?: number): number;
  writeUint16LE(value: number, offset?: number): number;
  writeUint32BE(value: number, offset?: number): number;
  writeUint32LE(value: number, offset?: number): number;
  writeFloatBE(value: number, offset?: number): number;
  writeFloatLE(value: number, offset?: number): number;
  writeDoubleBE(value: number, offset?: number): number;
  writeDoubleLE(value: number, offset?: number): number;
  writeBigInt64BE(value: bigint, offset?: number): number;
  writeBigInt64LE(value: bigint, offset?: number): number;
  writeBigUInt64BE(value: bigint, offset?: number): number;
  writeBigUint64BE(value: bigint, offset?: number): number;
  writeBigUInt64LE(value: bigint, offset?: number): number;
  writeBigUint64LE(value: bigint, offset?: number): number;
  /** Writes an integer of byteLength (1–6) bytes at offset. */
  writeIntBE(value: number, offset: number, byteLength: number): number;
  writeIntLE(value: number, offset: number, byteLength: number): number;
  writeUIntBE(value: number, offset: number, byteLength: number): number;
  writeUintBE(value: number, offset: number, byteLength: number): number;
  writeUIntLE(value: number, offset: number, byteLength: number): number;
  writeUintLE(value: number, offset: number, byteLength: number): number;
}

interface BufferConstructor {
  new (size: number): Buffer;
  /** A copy of the bytes of an array, a string (UTF-8 by default), a Buffer or a view of an ArrayBuffer. */
  from(data: string, encoding?: BufferEncoding): Buffer;
  from(data: ArrayLike<number> | Uint8Array | readonly number[]): Buffer;
  from(arrayBuffer: ArrayBuffer, byteOffset?: number, length?: number): Buffer;
  /** size bytes, zeroed or filled with fill. */
  alloc(size: number, fill?: string | number | Uint8Array, encoding?: BufferEncoding): Buffer;
  concat(list: readonly Uint8Array[], totalLength?: number): Buffer;
  isBuffer(value: unknown): value is Buffer;
  /** The number of bytes of string in encoding (UTF-8 by default), or of a buffer. */
  byteLength(value: string | ArrayBuffer | ArrayBufferView, encoding?: BufferEncoding): number;
  compare(a: Uint8Array, b: Uint8Array): -1 | 0 | 1;
  poolSize: number;
}

declare var Buffer: BufferConstructor;

declare module 'buffer' {
  const BufferValue: BufferConstructor;
  export { BufferValue as Buffer };
}

declare module 'node:buffer' {
  export * from 'buffer';
}
