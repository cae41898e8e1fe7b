// Bit-packing of integer codes: each code is stored as `code − low` in `bits` bits, LSB first, in one
// little-endian bit stream (code i occupies stream bits [i·bits, (i+1)·bits)), so 3-bit codes cross
// byte boundaries and 8-bit codes are plain bytes. The unused high bits of the last byte are zero.
import { packedFail } from './errors.js';

/** Bytes needed for `count` codes of `bits` bits. */
export function packedByteLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

function checkBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) packedFail(`bit width must be an integer in [1, 8], got ${bits}`);
}

/** Packs integer codes in `[low, low + 2^bits − 1]`. */
export function packCodes(codes: ArrayLike<number>, bits: number, low: number): Uint8Array {
  checkBits(bits);
  const out = new Uint8Array(packedByteLength(codes.length, bits));
  const max = (1 << bits) - 1;
  let pos = 0;
  for (let i = 0; i < codes.length; i++) {
    const u = codes[i] - low;
    if (!Number.isInteger(u) || u < 0 || u > max) packedFail(`code ${codes[i]} at index ${i} does not fit ${bits} bits above ${low}`);
    const byte = pos >>> 3;
    const shift = pos & 7;
    out[byte] |= u << shift;
    if (shift + bits > 8) out[byte + 1] |= u >>> (8 - shift);
    pos += bits;
  }
  return out;
}

/**
 * Unpacks `count` codes. Fails when the byte length is wrong, when a code exceeds `maxCode − low`
 * (a grid narrower than 2^bits, e.g. a tampered byte) or when the padding bits are not zero.
 */
export function unpackCodes(bytes: Uint8Array, bits: number, count: number, low: number, maxCode = low + (1 << bits) - 1, what = 'codes'): Int32Array {
  checkBits(bits);
  const need = packedByteLength(count, bits);
  if (bytes.length !== need) packedFail(`${what}: ${count} codes of ${bits} bits need ${need} bytes, got ${bytes.length}`);
  const out = new Int32Array(count);
  const mask = (1 << bits) - 1;
  const maxU = maxCode - low;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const byte = pos >>> 3;
    const shift = pos & 7;
    let u = bytes[byte] >>> shift;
    if (shift + bits > 8) u |= bytes[byte + 1] << (8 - shift);
    u &= mask;
    if (u > maxU) packedFail(`${what}: code ${u + low} at index ${i} is outside the code range [${low}, ${maxCode}]`);
    out[i] = u + low;
    pos += bits;
  }
  const used = (count * bits) & 7;
  if (used !== 0 && bytes[need - 1] >>> used !== 0) packedFail(`${what}: the padding bits of the last byte are not zero (damaged file?)`);
  return out;
}
