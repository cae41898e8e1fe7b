import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { resizePIL } from '../pil-resize.js';
import { createImage } from '../image.js';

describe('WebAssembly SIMD resampling passes', () => {
  it('equal the scalar PIL passes bit for bit (down- and upscaling, both filters, odd sizes)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 1, max: 90 }),
        fc.constantFrom('bilinear' as const, 'bicubic' as const),
        fc.integer(),
        (w, h, ow, oh, filter, seed) => {
          const img = createImage(w, h);
          let s = seed >>> 0;
          for (let i = 0; i < img.data.length; i++) img.data[i] = (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 24;
          const a = resizePIL(img, ow, oh, filter, { simd: true });
          const b = resizePIL(img, ow, oh, filter, { simd: false });
          return Buffer.from(a.data).equals(Buffer.from(b.data));
        },
      ),
      { numRuns: 300 },
    );
  });
});
