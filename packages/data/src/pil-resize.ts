import { createImage, type RGBImage } from './image.js';
import { DataError } from './errors.js';
import { horizontalSIMD, verticalSIMD } from './kernels/resample-wasm.js';

/** The PIL resampling filters timm uses. */
export type Interpolation = 'bilinear' | 'bicubic';

const PRECISION_BITS = 32 - 8 - 2; // PIL's fixed-point weights (Resample.c)
const HALF = 1 << (PRECISION_BITS - 1);

interface Filter {
  support: number;
  fn: (x: number) => number;
}

const FILTERS: Record<Interpolation, Filter> = {
  bilinear: {
    support: 1,
    fn: (x) => {
      const a = Math.abs(x);
      return a < 1 ? 1 - a : 0;
    },
  },
  bicubic: {
    // Keys cubic with a = -0.5, as PIL's resize (its affine transform uses a = -1).
    support: 2,
    fn: (x) => {
      const a = -0.5;
      const t = Math.abs(x);
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
};

/** Per-output-pixel tap windows and 22-bit fixed-point weights (PIL `precompute_coeffs` + `normalize_coeffs_8bpc`). */
interface Coeffs {
  ksize: number;
  bounds: Int32Array; // [xmin, count] per output pixel
  weights: Int32Array; // [out * ksize]
}

function precomputeCoeffs(inSize: number, outSize: number, filter: Filter): Coeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale); // antialias: the kernel widens when downscaling
  const support = filter.support * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      // C's (int) truncates: PIL rounds half away from zero this way.
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

/** PIL's clip8: the fixed-point sum shifted back to 8 bits and clamped. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function resampleHorizontal(src: Uint8Array, srcW: number, rowFirst: number, rows: number, outW: number, c: Coeffs): Uint8Array {
  const out = new Uint8Array(outW * rows * 3);
  const { ksize, bounds, weights } = c;
  for (let y = 0; y < rows; y++) {
    const srow = (y + rowFirst) * srcW * 3;
    let d = y * outW * 3;
    for (let xx = 0; xx < outW; xx++, d += 3) {
      const n = bounds[xx * 2 + 1]!;
      let p = srow + bounds[xx * 2]! * 3;
      let k = xx * ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (const end = k + n; k < end; k++, p += 3) {
        const w = weights[k]!;
        s0 += src[p]! * w;
        s1 += src[p + 1]! * w;
        s2 += src[p + 2]! * w;
      }
      out[d] = clip8(s0);
      out[d + 1] = clip8(s1);
      out[d + 2] = clip8(s2);
    }
  }
  return out;
}

function resampleVertical(src: Uint8Array, w: number, outH: number, c: Coeffs, rowShift: number): Uint8Array {
  const out = new Uint8Array(w * outH * 3);
  const { ksize, bounds, weights } = c;
  const stride = w * 3;
  // Whole-row accumulation (the same integer sums as PIL's per-pixel loop, in contiguous memory).
  const acc = new Int32Array(stride);
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2]! - rowShift;
    const n = bounds[yy * 2 + 1]!;
    acc.fill(HALF);
    for (let t = 0; t < n; t++) {
      const wt = weights[yy * ksize + t]!;
      const row = (ymin + t) * stride;
      for (let i = 0; i < stride; i++) acc[i] = acc[i]! + src[row + i]! * wt;
    }
    const drow = yy * stride;
    for (let i = 0; i < stride; i++) out[drow + i] = clip8(acc[i]!);
  }
  return out;
}

export interface ResizeOptions {
  /** Use the WebAssembly SIMD passes when available (default); false = the scalar JS passes (the definition). */
  simd?: boolean;
}

/**
 * PIL `Image.resize(size, resample)` for RGB, bit for bit: separable (horizontal pass, then vertical),
 * kernel support scaled by max(1, in/out) (antialiased downscaling), border taps cut and renormalised,
 * 22-bit fixed-point weights, each pass rounded to uint8. A side that keeps its size skips its pass.
 */
export function resizePIL(img: RGBImage, width: number, height: number, interpolation: Interpolation, options: ResizeOptions = {}): RGBImage {
  const simd = options.simd ?? true;
  const filter = FILTERS[interpolation];
  if (filter === undefined) throw new DataError(`unknown interpolation '${String(interpolation)}' (use bilinear or bicubic)`);
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new DataError(`resize target must be positive integers, got ${width}x${height}`);
  }
  const needH = width !== img.width;
  const needV = height !== img.height;
  if (!needH && !needV) return createImage(img.width, img.height, img.data.slice());
  const vert = needV ? precomputeCoeffs(img.height, height, filter) : undefined;
  let data = img.data;
  let rowShift = 0;
  if (needH) {
    // Only the source rows the vertical pass reads are resampled horizontally.
    let first = 0;
    let last = img.height;
    if (vert) {
      first = vert.bounds[0]!;
      last = vert.bounds[(height - 1) * 2]! + vert.bounds[(height - 1) * 2 + 1]!;
    }
    const horiz = precomputeCoeffs(img.width, width, filter);
    data =
      (simd ? horizontalSIMD(img.data, img.width, first, last - first, width, horiz) : null) ??
      resampleHorizontal(img.data, img.width, first, last - first, width, horiz);
    rowShift = first;
  }
  if (vert) data = (simd ? verticalSIMD(data, width * 3, height, vert, rowShift) : null) ?? resampleVertical(data, width, height, vert, rowShift);
  return createImage(width, height, data);
}
