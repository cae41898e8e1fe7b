import { createImage, type RGBImage } from '../image.js';
import type { Interpolation } from '../pil-resize.js';
import { round15 } from '../python-math.js';

/** Affine coefficients (a,b,c,d,e,f): output pixel (x,y) samples the source at `(a·x'+b·y'+c, d·x'+e·y'+f)`, x' = x+0.5. */
export type AffineData = [number, number, number, number, number, number];

const clampX = (x: number, w: number): number => (x < 0 ? 0 : x >= w ? w - 1 : x);

/** PIL's BICUBIC macro: the a = -1 cubic through four samples. */
function cubic(v1: number, v2: number, v3: number, v4: number, d: number): number {
  const p1 = v2;
  const p2 = -v1 + v3;
  const p3 = 2 * (v1 - v2) + v3 - v4;
  const p4 = -v1 + v2 - v3 + v4;
  return p1 + d * (p2 + d * (p3 + d * p4));
}

/**
 * PIL Geometry.c `bilinear_filter32RGB` at source point (xin, yin): taps at floor(src - 0.5), columns
 * clamped, a row below the image reuses the first row's value; the result truncated (Uint8Array store).
 */
function bilinearAt(src: Uint8Array, w: number, h: number, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  const x = Math.floor(xin);
  const y = Math.floor(yin);
  const dx = xin - x;
  const dy = yin - y;
  const x0 = clampX(x, w) * 3;
  const x1 = clampX(x + 1, w) * 3;
  const r0 = clampX(y, h) * w * 3;
  const hasR1 = y + 1 >= 0 && y + 1 < h;
  const r1 = (y + 1) * w * 3;
  for (let b = 0; b < 3; b++) {
    const a0 = src[r0 + x0 + b]!;
    const v1 = a0 + (src[r0 + x1 + b]! - a0) * dx;
    let v2 = v1;
    if (hasR1) {
      const c0 = src[r1 + x0 + b]!;
      v2 = c0 + (src[r1 + x1 + b]! - c0) * dx;
    }
    out[o + b] = v1 + (v2 - v1) * dy;
  }
}

/** PIL Geometry.c `bicubic_filter32RGB`: 4x4 taps, rows outside the image repeat the previous row's value; clamp, truncate. */
function bicubicAt(src: Uint8Array, w: number, h: number, xin: number, yin: number, out: Uint8Array, o: number): void {
  xin -= 0.5;
  yin -= 0.5;
  const x = Math.floor(xin) - 1;
  const y = Math.floor(yin) - 1;
  const dx = xin - (x + 1);
  const dy = yin - (y + 1);
  const c0 = clampX(x, w) * 3;
  const c1 = clampX(x + 1, w) * 3;
  const c2 = clampX(x + 2, w) * 3;
  const c3 = clampX(x + 3, w) * 3;
  const stride = w * 3;
  const r0 = clampX(y, h) * stride;
  const r1 = y + 1 >= 0 && y + 1 < h ? (y + 1) * stride : -1;
  const r2 = y + 2 >= 0 && y + 2 < h ? (y + 2) * stride : -1;
  const r3 = y + 3 >= 0 && y + 3 < h ? (y + 3) * stride : -1;
  for (let b = 0; b < 3; b++) {
    // A row outside the image repeats the previous row's value, as PIL's BICUBIC_BODY.
    const v1 = cubic(src[r0 + c0 + b]!, src[r0 + c1 + b]!, src[r0 + c2 + b]!, src[r0 + c3 + b]!, dx);
    const v2 = r1 < 0 ? v1 : cubic(src[r1 + c0 + b]!, src[r1 + c1 + b]!, src[r1 + c2 + b]!, src[r1 + c3 + b]!, dx);
    const v3 = r2 < 0 ? v2 : cubic(src[r2 + c0 + b]!, src[r2 + c1 + b]!, src[r2 + c2 + b]!, src[r2 + c3 + b]!, dx);
    const v4 = r3 < 0 ? v3 : cubic(src[r3 + c0 + b]!, src[r3 + c1 + b]!, src[r3 + c2 + b]!, src[r3 + c3 + b]!, dx);
    const v = cubic(v1, v2, v3, v4, dy);
    out[o + b] = v <= 0 ? 0 : v >= 255 ? 255 : v;
  }
}

/**
 * PIL `img.transform(img.size, AFFINE, data, resample, fillcolor)` for RGB: a source point outside
 * [0,W)×[0,H) leaves the fill colour; no antialiasing.
 */
export function affinePIL(img: RGBImage, data: AffineData, resample: Interpolation, fill: readonly [number, number, number]): RGBImage {
  const { width: w, height: h } = img;
  const out = createImage(w, h);
  const src = img.data;
  const dst = out.data;
  const [a, b, c, d, e, f] = data;
  const [f0, f1, f2] = fill;
  const sample = resample === 'bicubic' ? bicubicAt : bilinearAt;
  for (let y = 0; y < h; y++) {
    const yin = y + 0.5;
    // The row's constant terms, added in PIL's order: (a·x' + b·y') + c.
    const by = b * yin;
    const ey = e * yin;
    let o = y * w * 3;
    for (let x = 0; x < w; x++, o += 3) {
      const xin = x + 0.5;
      const sx = a * xin + by + c;
      const sy = d * xin + ey + f;
      if (sx < 0 || sx >= w || sy < 0 || sy >= h) {
        dst[o] = f0;
        dst[o + 1] = f1;
        dst[o + 2] = f2;
      } else {
        sample(src, w, h, sx, sy, dst, o);
      }
    }
  }
  return out;
}

/** The affine data of PIL `img.rotate(degrees)` (counter-clockwise about (W/2, H/2), same size), or null for a copy. */
export function rotationData(width: number, height: number, degrees: number): AffineData | null {
  const deg = degrees - 360 * Math.floor(degrees / 360); // Python's float %, sign of the divisor
  if (deg === 0) return null;
  const angle = -(deg * (Math.PI / 180));
  const m: AffineData = [round15(Math.cos(angle)), round15(Math.sin(angle)), 0, round15(-Math.sin(angle)), round15(Math.cos(angle)), 0];
  const cx = width / 2;
  const cy = height / 2;
  m[2] = m[0] * -cx + m[1] * -cy + 0 + cx;
  m[5] = m[3] * -cx + m[4] * -cy + 0 + cy;
  return m;
}
