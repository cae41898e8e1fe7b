import { describe, expect, it } from 'vitest';
import { randomErasing, randomErasingBoxes } from './random-erasing.js';
import { mixFloatBatch, mixParams, mixUint8Batch, mixupTargets } from './mixup.js';
import { normalizeLUT } from './normalize.js';
import { CounterDraws } from './draws.js';
import { goldenEvalCrop, goldenIndex, sha256, TraceDraws } from './golden-testing.js';
import type { RGBImage } from './image.js';

/** HWC uint8 → the reference's CHW float32 through a normalisation table. */
function chw(img: RGBImage, luts: Float32Array[]): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[c * n + p] = luts[c]![img.data[p * 3 + c]!]!;
  return out;
}
const f32sha = (x: Float32Array) => sha256(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));

describe('RandomErasing (timm _erase box rule)', () => {
  const cases = goldenIndex().random_erasing.cases as any[];
  it.each(cases.map((c) => [c.label, c] as const))('%s: draws and box match', async (_l, c) => {
    const draws = new TraceDraws(c.draw_trace);
    const boxes = randomErasingBoxes(224, 224, draws, { probability: 0.25 });
    expect(draws.remaining).toBe(0);
    if (c.box_top_left_h_w === null) return expect(boxes).toEqual([]);
    const [top, left, h, w] = c.box_top_left_h_w;
    expect(boxes).toEqual([{ top, left, h, w }]);
    // 'const' output: the normalised astronaut crop with the box zeroed, CHW, bit for bit.
    const x = chw(await goldenEvalCrop('astronaut'), normalizeLUT({ formula: 'torchvision' }));
    for (let ch = 0; ch < 3; ch++) for (let y = top; y < top + h; y++) x.fill(0, ch * 224 * 224 + y * 224 + left, ch * 224 * 224 + y * 224 + left + w);
    expect(f32sha(x)).toBe(c.output_sha256_f32);
  });

  it("'pixel' mode fills exactly the box with N(0,1) noise and leaves the rest", () => {
    const H = 224;
    const x = new Float32Array(H * H * 3).fill(7);
    let boxes = randomErasing(x, H, H, new CounterDraws(1, 0, 0), { probability: 1, mode: 'pixel' });
    expect(boxes.length).toBe(1);
    const b = boxes[0]!;
    let n = 0, s = 0, s2 = 0, untouched = 0;
    for (let y = 0; y < H; y++)
      for (let xx = 0; xx < H; xx++)
        for (let c = 0; c < 3; c++) {
          const v = x[(y * H + xx) * 3 + c]!;
          const inside = y >= b.top && y < b.top + b.h && xx >= b.left && xx < b.left + b.w;
          if (inside) (n++, (s += v), (s2 += v * v));
          else if (v === 7) untouched++;
        }
    expect(untouched).toBe(H * H * 3 - n);
    expect(Math.abs(s / n)).toBeLessThan(0.05);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
    boxes = randomErasing(x, H, H, new CounterDraws(1, 0, 0), { probability: 0 });
    expect(boxes).toEqual([]);
  });
});

describe('Mixup / CutMix (batch mode) and targets', () => {
  const m = goldenIndex().mixup;
  async function strip(): Promise<{ u8: Uint8Array; f32: Float32Array }> {
    // the central 48x48 of the four eval crops, as a batch of 4 HWC images
    const u8 = new Uint8Array(4 * 48 * 48 * 3);
    for (let k = 0; k < 4; k++) {
      const img = await goldenEvalCrop(m.batch_images[k]);
      for (let y = 0; y < 48; y++) u8.set(img.data.subarray(((88 + y) * 224 + 88) * 3, ((88 + y) * 224 + 136) * 3), (k * 48 + y) * 48 * 3);
    }
    const l = normalizeLUT({ formula: 'torchvision' });
    const f32 = new Float32Array(u8.length);
    for (let i = 0; i < u8.length; i++) f32[i] = l[i % 3]![u8[i]!]!;
    return { u8, f32 };
  }
  const toStrip = (u8: Uint8Array) => {
    const s = new Uint8Array(u8.length);
    for (let k = 0; k < 4; k++) for (let y = 0; y < 48; y++) s.set(u8.subarray((k * 48 + y) * 144, (k * 48 + y + 1) * 144), (y * 192 + k * 48) * 3);
    return s;
  };
  const toCHW = (f: Float32Array) => {
    const o = new Float32Array(f.length);
    for (let k = 0; k < 4; k++) for (let p = 0; p < 2304; p++) for (let c = 0; c < 3; c++) o[k * 6912 + c * 2304 + p] = f[k * 6912 + p * 3 + c]!;
    return o;
  };

  it.each((m.cases as any[]).map((c) => [c.label, c] as const))('%s: lambda, box, targets, uint8 and float outputs', async (_l, c) => {
    const draws = new TraceDraws(c.draw_trace);
    const p = mixParams(48, 48, draws, { mixupAlpha: 0.8, cutmixAlpha: 1, prob: 1, switchProb: 0.5, labelSmoothing: 0.1, numClasses: 10 });
    expect(draws.remaining).toBe(0);
    expect(p.lam).toBe(c.lam_corrected ?? c.lam);
    if (c.cutmix_box_yl_yh_xl_xh) expect(p.box).toEqual(c.cutmix_box_yl_yh_xl_xh);
    expect(Array.from(mixupTargets(m.targets, 10, p.lam, 0.1))).toEqual(c.targets_mixed_smoothed.flat().map(Math.fround));
    if (!c.uint8_path_output_strip) return;
    const { u8, f32 } = await strip();
    mixUint8Batch(u8, 4, 48, 48, p);
    expect(sha256(toStrip(u8))).toBe(c.uint8_path_output_strip.sha256_rgb);
    mixFloatBatch(f32, 4, 48, 48, p);
    expect(f32sha(toCHW(f32))).toBe(c.float_path_output.sha256_data);
  });

  it('the input strip and the target vectors match; odd batches are refused', async () => {
    const { u8 } = await strip();
    expect(sha256(toStrip(u8))).toBe(m.input_strip.sha256_rgb);
    for (const t of m.mixup_target as any[]) expect(Array.from(mixupTargets(t.targets, t.num_classes, t.lam, t.smoothing))).toEqual(t.out.flat().map(Math.fround));
    expect(() => mixUint8Batch(new Uint8Array(9), 3, 1, 1, { lam: 0.5, cutmix: false })).toThrow(/even batch/);
  });

  it('CutMix boxes at 224 and their corrected lambda', () => {
    for (const b of m.cutmix_bbox_224 as any[]) {
      const d = new TraceDraws([{ draw: 'np.random.rand', returned: 0 }, { draw: 'np.random.beta', alpha: 1, returned: b.lam }, { draw: 'np.random.randint', low: 0, high_exclusive: 224, returned: b.cy }, { draw: 'np.random.randint', low: 0, high_exclusive: 224, returned: b.cx }]);
      const p = mixParams(224, 224, d, { mixupAlpha: 0, cutmixAlpha: 1, numClasses: 10 });
      expect(p.box).toEqual(b.yl_yh_xl_xh);
      expect(p.lam).toBeCloseTo(b.lam_corrected, 15);
    }
  });
});
