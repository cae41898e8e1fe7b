import { describe, expect, it } from 'vitest';
import { loadGolden } from '@ofq/core/testing';
import { decodeImage } from './decode.js';
import { centerCrop, evalScaleSize, evalTransform, resizeShorterSide } from './eval-transform.js';
import { createImage } from './image.js';
import { normalizeInto, normalizeLUT } from './normalize.js';
import { GOLDEN_IMAGES, goldenIndex, goldenSource, sha256 } from './golden-testing.js';
import { loadGoldenBytes } from '@ofq/core/testing';

describe('decode', () => {
  it.each(GOLDEN_IMAGES)('decodes %s.jpg exactly as Pillow (libjpeg-turbo, ISLOW, fancy upsampling)', async (name) => {
    const rec = goldenIndex().images.find((r: any) => r.name === name);
    const img = await goldenSource(name);
    expect([img.width, img.height]).toEqual([rec.width, rec.height]);
    expect(sha256(img.data)).toBe(rec.decoded_sha256_rgb);
  });

  it('converts grey and RGBA like PIL convert(RGB): grey replicated, alpha dropped', async () => {
    const sharp = (await import('sharp')).default;
    const grey = await sharp(new Uint8Array([0, 100, 200, 255]), { raw: { width: 2, height: 2, channels: 1 } }).png().toBuffer();
    expect(Array.from((await decodeImage(grey)).data)).toEqual([0, 0, 0, 100, 100, 100, 200, 200, 200, 255, 255, 255]);
    const rgba = await sharp(new Uint8Array([10, 20, 30, 0, 40, 50, 60, 128]), { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    expect(Array.from((await decodeImage(rgba)).data)).toEqual([10, 20, 30, 40, 50, 60]);
  });

  it('names the file of corrupt data', async () => {
    const jpg = loadGoldenBytes('transforms/src/coffee.jpg');
    await expect(decodeImage(jpg.subarray(0, 2000), 'train/cat/broken.jpg')).rejects.toThrow(/train\/cat\/broken\.jpg/);
    await expect(decodeImage(new Uint8Array([1, 2, 3]), 'x.png')).rejects.toMatchObject({ code: 'E_DATA' });
  });
});

describe('eval transform (timm transforms_imagenet_eval)', () => {
  const cases = goldenIndex().eval.cases as any[];
  it.each(cases.map((c) => [c.image, c.crop_pct, c] as const))('%s at crop_pct %s: resize and centre crop are bit-exact', async (name, cp, c) => {
    const src = await goldenSource(name);
    const resized = resizeShorterSide(src, evalScaleSize(224, cp), 'bicubic');
    expect([resized.width, resized.height]).toEqual(c.resized_wh);
    expect(sha256(resized.data)).toBe(c.resized.sha256_rgb);
    const out = evalTransform(src, { cropPct: cp });
    expect(sha256(out.data)).toBe(c.crop.sha256_rgb);
  });

  it('scale sizes: 248 at 0.9, 256 at 0.875', () => {
    expect(evalScaleSize(224, 0.9)).toBe(248);
    expect(evalScaleSize(224, 0.875)).toBe(256);
    expect(() => evalScaleSize(224, 0)).toThrow(/cropPct/);
  });

  it('centre crop rounds half to even (58.5 -> 58, 71.5 -> 72)', () => {
    const mk = (w: number, h: number) => {
      const img = createImage(w, h);
      for (let y = 0; y < h; y++) img.data[(y * w) * 3] = y; // row index in the red channel of column 0
      return img;
    };
    expect(centerCrop(mk(4, 341), 4, 224).data[0]).toBe(58);
    expect(centerCrop(mk(4, 367), 4, 224).data[0]).toBe(72);
    expect(centerCrop(mk(4, 379), 4, 224).data[0]).toBe(78);
  });
});

describe('normalise', () => {
  const luts = loadGolden('transforms/eval/normalize_luts.json');
  it.each([
    ['prefetcher', 'timm_PrefetchLoader'],
    ['torchvision', 'torchvision_ToTensor_Normalize'],
  ] as const)('%s formula equals the reference per-level table exactly', (formula, key) => {
    const ours = normalizeLUT({ formula });
    for (let c = 0; c < 3; c++) expect(Array.from(ours[c]!)).toEqual(luts[key][c].map(Math.fround));
  });

  it('writes HWC floats through the tables', () => {
    const img = createImage(1, 1, new Uint8Array([0, 128, 255]));
    const out = new Float32Array(4);
    const l = normalizeLUT();
    normalizeInto(img, l, out, 1);
    expect(Array.from(out)).toEqual([0, l[0]![0]!, l[1]![128]!, l[2]![255]!]);
  });
});
