import { OfqError } from './errors.js';
// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON header
// `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then the data.
// Every field is validated before any byte is read, so a damaged file is a clear error, never an
// out-of-bounds read.

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'U16' | 'U32' | 'BOOL';

export type SafetensorsData =
  | Float64Array | Float32Array | Uint16Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint32Array;

export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Values in the file's dtype. F16 and BF16 hold raw bit patterns (see `toFloat32`). */
  data: SafetensorsData;
}

export interface SafetensorsFile {
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, BOOL: 1,
};

/** Headers larger than this are rejected (the reference implementation uses the same 100 MB bound). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export class SafetensorsError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_SAFETENSORS' });
  }
}

function fail(msg: string): never {
  throw new SafetensorsError(`safetensors: ${msg}`);
}

function makeArray(dtype: SafetensorsDtype, buf: ArrayBuffer): SafetensorsData {
  switch (dtype) {
    case 'F64': return new Float64Array(buf);
    case 'F32': return new Float32Array(buf);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(buf);
    case 'I64': return new BigInt64Array(buf);
    case 'I32': return new Int32Array(buf);
    case 'I16': return new Int16Array(buf);
    case 'I8': return new Int8Array(buf);
    case 'U8': case 'BOOL': return new Uint8Array(buf);
    case 'U32': return new Uint32Array(buf);
  }
}

function isLittleEndianHost(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/** Parses a safetensors file. Data are copied into aligned typed arrays. */
export function readSafetensors(bytes: Uint8Array | ArrayBuffer): SafetensorsFile {
  if (!isLittleEndianHost()) fail('big-endian hosts are not supported');
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.byteLength < 8) fail(`file is ${u8.byteLength} bytes, shorter than the 8-byte header length`);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const headerLen = view.getBigUint64(0, true);
  if (headerLen > BigInt(MAX_HEADER_BYTES)) fail(`header length ${headerLen} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLen);
  if (8 + n > u8.byteLength) fail(`truncated file: header says ${n} bytes but only ${u8.byteLength - 8} follow`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(u8.subarray(8, 8 + n)));
  } catch (e) {
    fail(`header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + n;
  const dataLen = u8.byteLength - dataStart;
  const tensors = new Map<string, SafetensorsEntry>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('__metadata__ must be an object');
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} must be a string`);
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (e === null || typeof e !== 'object') fail(`entry "${name}" must be an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES)) fail(`entry "${name}" has unsupported dtype ${JSON.stringify(e.dtype)}`);
    const dtype = e.dtype as SafetensorsDtype;
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`entry "${name}" has an invalid shape ${JSON.stringify(e.shape)}`);
    }
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`entry "${name}" has invalid data_offsets ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as [number, number];
    if (begin > end) fail(`entry "${name}" has data_offsets with begin ${begin} > end ${end}`);
    if (end > dataLen) fail(`entry "${name}" ends at byte ${end} but the data section holds ${dataLen} bytes (truncated file?)`);
    const numel = shape.reduce((a, b) => a * b, 1);
    if (numel * BYTES[dtype] !== end - begin) {
      fail(`entry "${name}": shape [${shape}] of ${dtype} needs ${numel * BYTES[dtype]} bytes, data_offsets give ${end - begin}`);
    }
    spans.push([begin, end, name]);
    // Uint8Array.prototype.slice always copies (Node's Buffer#slice is a view into a shared pool).
    const copy = Uint8Array.prototype.slice.call(u8, dataStart + begin, dataStart + end).buffer;
    tensors.set(name, { dtype, shape: [...shape], data: makeArray(dtype, copy) });
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cursor = 0;
  for (const [begin, end, name] of spans) {
    if (begin < cursor) fail(`entry "${name}" overlaps the previous tensor`);
    if (begin > cursor) fail(`gap of ${begin - cursor} unused bytes before entry "${name}"`);
    cursor = end;
  }
  if (cursor !== dataLen) fail(`${dataLen - cursor} trailing bytes after the last tensor`);
  return { tensors, metadata };
}

function dtypeOf(data: SafetensorsData): SafetensorsDtype {
  if (data instanceof Float64Array) return 'F64';
  if (data instanceof Float32Array) return 'F32';
  if (data instanceof BigInt64Array) return 'I64';
  if (data instanceof Int32Array) return 'I32';
  if (data instanceof Int16Array) return 'I16';
  if (data instanceof Int8Array) return 'I8';
  if (data instanceof Uint8Array) return 'U8';
  if (data instanceof Uint16Array) return 'U16';
  return 'U32';
}

export interface WritableEntry {
  shape: number[];
  data: SafetensorsData;
  /** Defaults from the array type; set 'F16', 'BF16' (raw Uint16Array bits) or 'BOOL' (Uint8Array) explicitly. */
  dtype?: SafetensorsDtype;
}

/** Serialises tensors (in sorted-name order, like the reference writer) into safetensors bytes. */
export function writeSafetensors(
  tensors: Map<string, WritableEntry> | Record<string, WritableEntry>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  );
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, e] of entries) {
    if (name === '__metadata__') throw new SafetensorsError('safetensors: "__metadata__" is reserved');
    const dtype = e.dtype ?? dtypeOf(e.data);
    const numel = e.shape.reduce((a, b) => a * b, 1);
    if (e.data.length !== numel) {
      throw new SafetensorsError(`safetensors: "${name}" has ${e.data.length} values for shape [${e.shape}]`);
    }
    if (e.data.BYTES_PER_ELEMENT !== BYTES[dtype]) {
      throw new SafetensorsError(`safetensors: "${name}" declared ${dtype} but its array holds ${e.data.BYTES_PER_ELEMENT}-byte elements`);
    }
    header[name] = { dtype, shape: e.shape, data_offsets: [offset, offset + e.data.byteLength] };
    offset += e.data.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces so the data section starts 8-byte aligned.
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).byteLength) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const [, e] of entries) {
    out.set(new Uint8Array(e.data.buffer, e.data.byteOffset, e.data.byteLength), pos);
    pos += e.data.byteLength;
  }
  return out;
}

/** Converts an entry to float32 values (F16/BF16 decoded; integers converted; I64 range-checked). */
export function toFloat32(e: SafetensorsEntry): Float32Array {
  if (e.dtype === 'F32') return e.data as Float32Array;
  const out = new Float32Array(e.data.length);
  if (e.dtype === 'F16') {
    const d = e.data as Uint16Array;
    for (let i = 0; i < d.length; i++) out[i] = halfToFloat(d[i]);
  } else if (e.dtype === 'BF16') {
    const bits = new Uint32Array(out.buffer);
    const d = e.data as Uint16Array;
    for (let i = 0; i < d.length; i++) bits[i] = d[i] << 16;
  } else if (e.dtype === 'I64') {
    const d = e.data as BigInt64Array;
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  } else {
    const d = e.data as Exclude<SafetensorsData, BigInt64Array>;
    for (let i = 0; i < d.length; i++) out[i] = d[i];
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
