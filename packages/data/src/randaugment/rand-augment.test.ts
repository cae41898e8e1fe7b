import { describe, expect, it } from 'vitest';
import { applyRandAugmentOp, parseRandAugment, randAugment } from './rand-augment.js';
import { RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS } from './ops.js';
import { rotationData } from './pil-affine.js';
import { goldenEvalCrop, goldenIndex, sha256, TraceDraws } from '../golden-testing.js';

const ra = () => goldenIndex().randaugment;
const flat = (key: 'results' | 'results_input2', input: string) =>
  (ra()[key] as any[]).map((r) => [input, r.op, r.magnitude ?? '-', r.sign ?? '', r.resample ?? '', r] as const);

describe('RandAugment ops (timm AugmentOp on PIL)', () => {
  it.each([...flat('results', 'astronaut'), ...flat('results_input2', 'rocket_portrait')])(
    '%s %s m=%s %s %s is bit-exact',
    async (input, op, _m, _s, _r, r) => {
      const img = await goldenEvalCrop(input);
      const out = applyRandAugmentOp(img, op, { magnitude: r.magnitude ?? 0, sign: r.sign === '-' ? -1 : 1, resample: r.resample ?? 'bilinear' });
      expect(sha256(out.data)).toBe((r.output ?? r.output_digest).sha256_rgb);
    },
  );

  it('rotation matrices equal PIL rotate()s (round(·, 15), the % 360 step)', () => {
    for (const r of (ra().results as any[]).filter((x) => x.op === 'Rotate' && x.pil_transform_call)) {
      expect(rotationData(224, 224, r.level_args[0])).toEqual(r.pil_transform_call[0].affine_data);
    }
  });

  it('the gauss draw is clipped to [0, 10] before the level function', async () => {
    const img = await goldenEvalCrop('astronaut');
    for (const e of ra().magnitude_clip_examples as any[]) {
      const cfg = { ...parseRandAugment('rand-m9-mstd0.5-inc1'), ops: [e.op] };
      // choice, gate (apply), gauss
      const out = randAugment(img, { ...cfg, numLayers: 1 }, new TraceDraws([{ draw: 'choice', n: 1, index: 0 }, { draw: 'random', returned: 0 }, { draw: 'gauss', mu: 9, sigma: 0.5, returned: e.gauss_returned }]));
      expect(sha256(out.data)).toBe(e.output_digest.sha256_rgb);
    }
  });

  it('parses timm config strings, including the inc0 quirk', () => {
    const c = parseRandAugment('rand-m9-mstd0.5-inc1');
    expect([c.magnitude, c.magnitudeStd, c.numLayers, c.ops]).toEqual([9, 0.5, 2, RAND_INCREASING_TRANSFORMS]);
    expect(parseRandAugment('rand-m7-n3').ops).toEqual(RAND_TRANSFORMS);
    expect(parseRandAugment('rand-m9-inc0').ops).toEqual(RAND_INCREASING_TRANSFORMS);
    expect(() => parseRandAugment('auto-m9')).toThrow(/must start with 'rand'/);
    expect(() => parseRandAugment('rand-q9')).toThrow(/cannot read 'q9'/);
    expect(() => applyRandAugmentOp({ width: 1, height: 1, data: new Uint8Array(3) }, 'Blur', { magnitude: 1 })).toThrow(/unknown RandAugment op 'Blur'/);
  });

  it('Posterize, Solarize and SolarizeAdd arguments follow timm\'s level table', () => {
    const t = ra().level_to_arg_table as any[];
    const sample = t.filter((x) => x.op === 'PosterizeIncreasing' || x.op === 'SolarizeIncreasing' || x.op === 'SolarizeAdd');
    expect(sample.length).toBeGreaterThan(0);
    const img = { width: 2, height: 1, data: new Uint8Array([0, 100, 200, 255, 130, 7]) };
    for (const row of sample) {
      const out = applyRandAugmentOp(img, row.op, { magnitude: row.magnitude });
      const arg = row.args[0];
      const expected = Array.from(img.data, (v) =>
        row.op === 'PosterizeIncreasing' ? v & (~(2 ** (8 - arg) - 1) & 0xff) : row.op === 'SolarizeIncreasing' ? (v < arg ? v : 255 - v) : v < 128 ? Math.min(255, v + arg) : v,
      );
      expect(Array.from(out.data)).toEqual(expected);
    }
  });
});
