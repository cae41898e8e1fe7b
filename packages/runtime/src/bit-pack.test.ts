import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { packCodes, packedByteLength, unpackCodes } from './bit-pack.js';
import { PackedModelError } from './errors.js';

describe('bit packing', () => {
  it('round-trips codes of every width 1-8 with any offset (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: -200, max: 200 }), fc.integer({ min: 0, max: 300 }), fc.integer(), (bits, low, n, seed) => {
        let s = seed >>> 0;
        const codes = Array.from({ length: n }, () => {
          s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
          return low + (s % (1 << bits));
        });
        const bytes = packCodes(codes, bits, low);
        expect(bytes.length).toBe(packedByteLength(n, bits));
        expect(Array.from(unpackCodes(bytes, bits, n, low))).toEqual(codes);
      }),
      { numRuns: 300 },
    );
  });

  it('lays codes LSB first in one bit stream (hand-checked 2-, 3- and 8-bit bytes)', () => {
    // 2 bits, low −2: codes −2,−1,0,1 → 0,1,2,3 → 0b11_10_01_00.
    expect(Array.from(packCodes([-2, -1, 0, 1], 2, -2))).toEqual([0b11100100]);
    // 3 bits, low 0: 5, 6, 7 at stream bits 0-2, 3-5, 6-8 → byte0 = 0b11_110_101, byte1 = 0b0000000_1.
    expect(Array.from(packCodes([5, 6, 7], 3, 0))).toEqual([0b11110101, 0b00000001]);
    expect(Array.from(packCodes([-128, 127, 0], 8, -128))).toEqual([0, 255, 128]);
  });

  it('rejects codes outside the width, wrong lengths, out-of-range codes and dirty padding', () => {
    expect(() => packCodes([4], 2, 0)).toThrow(/does not fit 2 bits/);
    expect(() => packCodes([0.5], 2, 0)).toThrow(PackedModelError);
    expect(() => unpackCodes(new Uint8Array(1), 3, 3, 0)).toThrow(/3 codes of 3 bits need 2 bytes, got 1/);
    // A 3-code grid [0, 2] stored at 2 bits: the value 3 is not a code.
    expect(() => unpackCodes(new Uint8Array([0b11]), 2, 1, 0, 2)).toThrow(/outside the code range \[0, 2\]/);
    expect(() => unpackCodes(new Uint8Array([0b0100_0000]), 2, 3, 0)).toThrow(/padding bits/);
    expect(() => packCodes([0], 9, 0)).toThrow(/bit width/);
  });
});
