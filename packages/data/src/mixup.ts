import type { Draws } from './draws.js';
import { DataError } from './errors.js';

/** timm `Mixup` / `FastCollateMixup` settings in 'batch' mode (OFQ's DeiT-S W3/W4: 0.8 / 1.0 / 1 / 0.5 / 0.1). */
export interface MixupOptions {
  mixupAlpha: number;
  cutmixAlpha: number;
  /** Probability of mixing a batch at all. */
  prob?: number;
  /** Probability of CutMix instead of Mixup when both are on. */
  switchProb?: number;
  labelSmoothing?: number;
  numClasses: number;
}

/** A batch's mixing parameters: `lam` (corrected for the CutMix box) and the box when CutMix. */
export interface MixParams {
  lam: number;
  cutmix: boolean;
  /** yl, yh, xl, xh (half-open), for CutMix. */
  box?: [number, number, number, number];
}

/** `_params_per_batch` + `cutmix_bbox_and_lam` (correct_lam), in timm's draw order. */
export function mixParams(height: number, width: number, draws: Draws, o: MixupOptions): MixParams {
  let lam = 1;
  let cutmix = false;
  if (draws.random() < (o.prob ?? 1)) {
    if (o.mixupAlpha > 0 && o.cutmixAlpha > 0) {
      cutmix = draws.random() < (o.switchProb ?? 0.5);
      lam = cutmix ? draws.beta(o.cutmixAlpha, o.cutmixAlpha) : draws.beta(o.mixupAlpha, o.mixupAlpha);
    } else if (o.mixupAlpha > 0) {
      lam = draws.beta(o.mixupAlpha, o.mixupAlpha);
    } else if (o.cutmixAlpha > 0) {
      cutmix = true;
      lam = draws.beta(o.cutmixAlpha, o.cutmixAlpha);
    }
  }
  if (!cutmix) return { lam, cutmix };
  const ratio = Math.sqrt(1 - lam);
  const cutH = Math.trunc(height * ratio);
  const cutW = Math.trunc(width * ratio);
  const cy = draws.randint(0, height - 1); // np.random.randint(0, H): high end exclusive
  const cx = draws.randint(0, width - 1);
  const clip = (v: number, hi: number): number => Math.min(hi, Math.max(0, v));
  const box: [number, number, number, number] = [
    clip(cy - Math.floor(cutH / 2), height),
    clip(cy + Math.floor(cutH / 2), height),
    clip(cx - Math.floor(cutW / 2), width),
    clip(cx + Math.floor(cutW / 2), width),
  ];
  return { lam: 1 - ((box[1] - box[0]) * (box[3] - box[2])) / (height * width), cutmix, box };
}

function checkBatch(batch: number): void {
  if (batch % 2 !== 0) throw new DataError(`mixup/cutmix in batch mode needs an even batch size, got ${batch}`);
}

/** Pairs image i with image B-1-i in place (HWC images, `pixels` = H·W). Rounds and casts for uint8 data. */
function mixBatch<T extends Uint8Array | Float32Array>(x: T, batch: number, height: number, width: number, p: MixParams, round: boolean): void {
  checkBatch(batch);
  if (p.lam === 1) return;
  const px = height * width * 3;
  const src = x.slice() as T; // the partner images, unmodified
  const f = Math.fround;
  const lam = f(p.lam);
  const lam1 = f(1 - p.lam);
  for (let i = 0; i < batch; i++) {
    const a = i * px;
    const b = (batch - 1 - i) * px;
    if (p.cutmix) {
      const [yl, yh, xl, xh] = p.box!;
      for (let y = yl; y < yh; y++) {
        const r = (y * width + xl) * 3;
        x.set(src.subarray(b + r, b + r + (xh - xl) * 3), a + r);
      }
    } else {
      for (let k = 0; k < px; k++) {
        const v = f(f(src[a + k]! * lam) + f(src[b + k]! * lam1));
        x[a + k] = round ? roundEven(v) : v;
      }
    }
  }
}

function roundEven(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** FastCollateMixup (OFQ's prefetcher path): mixes uint8 images as `rint(a·lam + b·(1-lam))` in float32. */
export function mixUint8Batch(x: Uint8Array, batch: number, height: number, width: number, p: MixParams): void {
  mixBatch(x, batch, height, width, p, true);
}

/** timm `Mixup` on normalised float images: `x·lam + flip(x)·(1-lam)` in float32. */
export function mixFloatBatch(x: Float32Array, batch: number, height: number, width: number, p: MixParams): void {
  mixBatch(x, batch, height, width, p, false);
}

/** timm `mixup_target`: smoothed one-hots, `lam·y(t) + (1-lam)·y(flip(t))` in float32, [B, numClasses]. */
export function mixupTargets(labels: ArrayLike<number>, numClasses: number, lam: number, smoothing = 0): Float32Array {
  const f = Math.fround;
  const off = f(smoothing / numClasses);
  const on = f(1 - smoothing + smoothing / numClasses);
  const l = f(lam);
  const l1 = f(1 - lam);
  const n = labels.length;
  const y = new Float32Array(n * numClasses);
  for (let i = 0; i < n; i++) {
    const t1 = labels[i]!;
    const t2 = labels[n - 1 - i]!;
    for (let c = 0; c < numClasses; c++) {
      y[i * numClasses + c] = f(f((c === t1 ? on : off) * l) + f((c === t2 ? on : off) * l1));
    }
  }
  return y;
}
