import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../errors.js';

/** A decoded IDX file (the MNIST container): uint8 payload with its dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

export { DataError };

const UINT8_TYPE = 0x08;

/**
 * Parses an IDX byte buffer: big-endian header `00 00 08 NDIM`, NDIM uint32 sizes, then uint8 data.
 * Only the uint8 element type is supported (MNIST and Fashion-MNIST use it).
 */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  if (bytes.length < 4) throw new DataError(`${source}: truncated IDX file (${bytes.length} bytes, header needs at least 4)`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new DataError(`${source}: not an IDX file (magic bytes ${hex(bytes[0]!)} ${hex(bytes[1]!)}, expected 00 00)`);
  }
  if (bytes[2] !== UINT8_TYPE) {
    throw new DataError(`${source}: unsupported IDX element type ${hex(bytes[2]!)} (only 0x08 = uint8 is supported)`);
  }
  const ndim = bytes[3]!;
  if (ndim < 1 || ndim > 4) throw new DataError(`${source}: IDX header declares ${ndim} dimensions (expected 1 to 4)`);
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) {
    throw new DataError(`${source}: truncated IDX header (${bytes.length} bytes, need ${headerBytes})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerBytes;
  if (have < count) {
    throw new DataError(
      `${source}: truncated IDX data: header says [${dims.join(', ')}] = ${count} bytes, file has ${have}`,
    );
  }
  if (have > count) {
    throw new DataError(`${source}: corrupt IDX file: ${have - count} trailing bytes after [${dims.join(', ')}]`);
  }
  return { dims, data: bytes.subarray(headerBytes, headerBytes + count) };
}

/** Reads an IDX file from disk; gzip-compressed files (`.gz` or gzip magic) are inflated with node:zlib. */
export function readIdxFile(path: string): IdxArray {
  if (!existsSync(path)) throw new DataError(`IDX file not found: ${path}`);
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new DataError(`${path}: corrupt or truncated gzip stream (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

function hex(b: number): string {
  return b.toString(16).padStart(2, '0');
}
