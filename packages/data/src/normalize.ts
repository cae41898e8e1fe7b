import type { RGBImage } from './image.js';

/** timm's IMAGENET_DEFAULT_MEAN / STD. */
export const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export interface NormalizeOptions {
  mean?: readonly number[];
  std?: readonly number[];
  /**
   * 'prefetcher' (OFQ's default `--prefetcher` path): `(v - 255·mean) / (255·std)` in float32.
   * 'torchvision' (`ToTensor` + `Normalize`): `(v/255 - mean) / std` in float32. They differ by ≤ 4.8e-7.
   */
  formula?: 'prefetcher' | 'torchvision';
}

/** Per-channel tables uint8 level → normalised float32, computed with the reference's float32 steps. */
export function normalizeLUT(options: NormalizeOptions = {}): Float32Array[] {
  const mean = options.mean ?? IMAGENET_MEAN;
  const std = options.std ?? IMAGENET_STD;
  const f = Math.fround;
  return [0, 1, 2].map((c) => {
    const m = mean[c] ?? mean[0]!;
    const s = std[c] ?? std[0]!;
    const lut = new Float32Array(256);
    for (let v = 0; v < 256; v++) {
      lut[v] = options.formula === 'torchvision' ? f(f(f(v / 255) - f(m)) / f(s)) : f(f(v - f(m * 255)) / f(s * 255));
    }
    return lut;
  });
}

/** Writes the normalised image into `out` (HWC float32, tfjs NHWC layout) at `offset`. */
export function normalizeInto(img: RGBImage, luts: Float32Array[], out: Float32Array, offset = 0): void {
  const [l0, l1, l2] = luts as [Float32Array, Float32Array, Float32Array];
  const d = img.data;
  for (let p = 0; p < d.length; p += 3) {
    out[offset + p] = l0[d[p]!]!;
    out[offset + p + 1] = l1[d[p + 1]!]!;
    out[offset + p + 2] = l2[d[p + 2]!]!;
  }
}
