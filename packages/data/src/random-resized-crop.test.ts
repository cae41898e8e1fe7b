import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomResizedCrop, randomResizedCropParams } from './random-resized-crop.js';
import { CounterDraws, ScriptedDraws } from './draws.js';
import { goldenIndex, goldenSource, sha256, TraceDraws } from './golden-testing.js';

describe('RandomResizedCrop (timm RandomResizedCropAndInterpolation, interpolation random)', () => {
  const cases = goldenIndex().random_resized_crop.cases as any[];
  it.each(cases.map((c) => [c.image, c.label, c.interpolation, c] as const))('%s %s %s: draws, box and pixels match', async (_n, _l, _i, c) => {
    const src = await goldenSource(c.image);
    const draws = new TraceDraws(c.draw_trace);
    const [i, j, h, w] = c.params_i_j_h_w;
    const out = randomResizedCrop(src, draws, {});
    expect(draws.remaining).toBe(0);
    expect(sha256(out.data)).toBe(c.output.sha256_rgb);
    expect(randomResizedCropParams(src.width, src.height, new TraceDraws(c.draw_trace))).toEqual({ i, j, h, w });
  });

  it.each((goldenIndex().random_resized_crop.fallback_cases as any[]).map((c) => [c.input_wh.join('x'), c] as const))(
    'fallback centre crop of %s after 10 failed attempts',
    (_s, c) => {
      const [W, H] = c.input_wh;
      // scale 1 and the aspect that cannot fit, ten times (u = 1 gives the top of each range).
      const u = W / H < 4 / 3 ? 1 : 0;
      const draws = new ScriptedDraws(Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? 1 : u)));
      const [i, j, h, w] = c.params_i_j_h_w;
      expect(randomResizedCropParams(W, H, draws)).toEqual({ i, j, h, w });
      expect(draws.used).toBe(20);
    },
  );

  it('every box lies inside the image and respects the area/aspect ranges or is the fallback', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 900 }), fc.integer({ min: 1, max: 900 }), fc.integer(), (W, H, seed) => {
        const b = randomResizedCropParams(W, H, new CounterDraws(seed, 0, 0));
        return b.i >= 0 && b.j >= 0 && b.h >= 1 && b.w >= 1 && b.i + b.h <= H && b.j + b.w <= W;
      }),
    );
  });
});
