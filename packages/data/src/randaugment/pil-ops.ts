import { createImage, type RGBImage } from '../image.js';

/** Applies one 256-entry table per channel (PIL `point` / `ImageOps._lut`). */
export function applyLUT(img: RGBImage, luts: readonly [Uint8Array, Uint8Array, Uint8Array] | Uint8Array): RGBImage {
  const [l0, l1, l2] = luts instanceof Uint8Array ? [luts, luts, luts] : luts;
  const out = createImage(img.width, img.height);
  const s = img.data;
  const d = out.data;
  for (let p = 0; p < s.length; p += 3) {
    d[p] = l0[s[p]!]!;
    d[p + 1] = l1[s[p + 1]!]!;
    d[p + 2] = l2[s[p + 2]!]!;
  }
  return out;
}

function lut(fn: (v: number) => number): Uint8Array {
  const t = new Uint8Array(256);
  for (let v = 0; v < 256; v++) t[v] = Math.min(255, Math.max(0, fn(v)));
  return t;
}

/** Per-channel histograms of an RGB image. */
function histograms(img: RGBImage): [Float64Array, Float64Array, Float64Array] {
  const h: [Float64Array, Float64Array, Float64Array] = [new Float64Array(256), new Float64Array(256), new Float64Array(256)];
  const s = img.data;
  for (let p = 0; p < s.length; p += 3) {
    h[0][s[p]!]!++;
    h[1][s[p + 1]!]!++;
    h[2][s[p + 2]!]!++;
  }
  return h;
}

export const invert = (img: RGBImage): RGBImage => applyLUT(img, lut((v) => 255 - v));

/** `ImageOps.posterize`: keep the top `bits` bits (0 bits turns the image black). */
export function posterize(img: RGBImage, bits: number): RGBImage {
  const mask = ~(2 ** (8 - bits) - 1) & 0xff;
  return applyLUT(img, lut((v) => v & mask));
}

/** `ImageOps.solarize`: levels ≥ threshold are inverted. */
export const solarize = (img: RGBImage, threshold: number): RGBImage => applyLUT(img, lut((v) => (v < threshold ? v : 255 - v)));

/** timm `solarize_add`: add to levels below 128, clamped at 255. */
export const solarizeAdd = (img: RGBImage, add: number, threshold = 128): RGBImage =>
  applyLUT(img, lut((v) => (v < threshold ? Math.min(255, v + add) : v)));

/** `ImageOps.autocontrast(img)` (cutoff 0): stretch each channel's [min, max] to [0, 255]. */
export function autoContrast(img: RGBImage): RGBImage {
  const tables = histograms(img).map((h) => {
    let lo = 0;
    while (lo < 256 && h[lo] === 0) lo++;
    let hi = 255;
    while (hi >= 0 && h[hi] === 0) hi--;
    if (hi <= lo) return lut((v) => v);
    const scale = 255 / (hi - lo);
    const offset = -lo * scale;
    return lut((v) => Math.trunc(v * scale + offset));
  }) as [Uint8Array, Uint8Array, Uint8Array];
  return applyLUT(img, tables);
}

/** `ImageOps.equalize(img)`: per-channel histogram equalisation with PIL's integer steps. */
export function equalize(img: RGBImage): RGBImage {
  const tables = histograms(img).map((h) => {
    const nonzero = [...h].filter((c) => c !== 0);
    if (nonzero.length <= 1) return lut((v) => v);
    const total = nonzero.reduce((a, c) => a + c, 0);
    const step = Math.floor((total - nonzero[nonzero.length - 1]!) / 255);
    if (step === 0) return lut((v) => v);
    const t = new Uint8Array(256);
    let n = Math.floor(step / 2);
    for (let i = 0; i < 256; i++) {
      t[i] = Math.min(255, Math.floor(n / step));
      n += h[i]!;
    }
    return t;
  }) as [Uint8Array, Uint8Array, Uint8Array];
  return applyLUT(img, tables);
}

/** PIL `convert('L')`: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16. */
export function luminance(img: RGBImage): Uint8Array {
  const s = img.data;
  const l = new Uint8Array(img.width * img.height);
  for (let i = 0, p = 0; i < l.length; i++, p += 3) l[i] = (19595 * s[p]! + 38470 * s[p + 1]! + 7471 * s[p + 2]! + 0x8000) >>> 16;
  return l;
}

/**
 * PIL `Image.blend(degenerate, img, f)` in its float32 arithmetic: `trunc(d + f·(img - d))`, clamped to
 * [0, 255] only when f is outside [0, 1] (inside, the value cannot leave the range).
 */
export function blend(degenerate: Uint8Array, img: RGBImage, factor: number): RGBImage {
  const f = Math.fround(factor);
  const out = createImage(img.width, img.height);
  const s = img.data;
  const d = out.data;
  for (let i = 0; i < s.length; i++) {
    const a = degenerate[i]!;
    const v = Math.fround(a + Math.fround(f * (s[i]! - a)));
    d[i] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
  return out;
}

/** The degenerate images of `ImageEnhance.Color/Contrast/Brightness/Sharpness`, as RGB bytes. */
export function enhanceDegenerate(kind: 'color' | 'contrast' | 'brightness' | 'sharpness', img: RGBImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  if (kind === 'brightness') return out;
  if (kind === 'sharpness') return smooth(img);
  const l = luminance(img);
  if (kind === 'contrast') {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += l[i]!;
    return out.fill(Math.trunc(sum / n + 0.5));
  }
  for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = l[i]!;
  return out;
}

/** PIL `ImageFilter.SMOOTH` (3×3 [[1,1,1],[1,5,1],[1,1,1]]/13 in float32, rounded), the 1-pixel border unchanged. */
export function smooth(img: RGBImage): Uint8Array {
  const { width: w, height: h, data: s } = img;
  const out = s.slice();
  const f = Math.fround;
  const k = f(1 / 13);
  const k5 = f(5 / 13);
  const row = w * 3;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      for (let b = 0; b < 3; b++) {
        const p = y * row + x * 3 + b;
        // Filter.c's order: rows y+1, y, y-1, each left-to-right, summed in float32 from an offset of 0.5.
        let ss = f(0.5);
        ss = f(ss + f(f(f(s[p + row - 3]! * k) + f(s[p + row]! * k)) + f(s[p + row + 3]! * k)));
        ss = f(ss + f(f(f(s[p - 3]! * k) + f(s[p]! * k5)) + f(s[p + 3]! * k)));
        ss = f(ss + f(f(f(s[p - row - 3]! * k) + f(s[p - row]! * k)) + f(s[p - row + 3]! * k)));
        out[p] = ss <= 0 ? 0 : ss >= 255 ? 255 : ss;
      }
    }
  }
  return out;
}
