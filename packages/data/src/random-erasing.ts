import type { Draws } from './draws.js';
import { roundHalfEven } from './python-math.js';

/** timm `RandomErasing` settings (OFQ: probability 0.25, mode 'pixel', one box). */
export interface RandomErasingOptions {
  probability?: number;
  /** 'const' writes 0 (the mean colour after normalisation), 'rand' one N(0,1) per channel, 'pixel' N(0,1) per element. */
  mode?: 'const' | 'rand' | 'pixel';
  minArea?: number;
  maxArea?: number;
  minAspect?: number;
  maxAspect?: number;
  minCount?: number;
  maxCount?: number;
}

/** An erased box: rows [top, top+h), columns [left, left+w). */
export interface ErasingBox {
  top: number;
  left: number;
  h: number;
  w: number;
}

/** timm `_erase`'s box draws: the gate, then up to 10 attempts per box (h gets the aspect factor, bounds strict). */
export function randomErasingBoxes(height: number, width: number, draws: Draws, o: RandomErasingOptions = {}): ErasingBox[] {
  const p = o.probability ?? 0.25;
  if (draws.random() > p) return [];
  const minCount = o.minCount ?? 1;
  const maxCount = o.maxCount ?? minCount;
  const count = minCount === maxCount ? minCount : draws.randint(minCount, maxCount);
  const minAspect = o.minAspect ?? 0.3;
  const logAspect: [number, number] = [Math.log(minAspect), Math.log(o.maxAspect ?? 1 / minAspect)];
  const area = height * width;
  const boxes: ErasingBox[] = [];
  for (let k = 0; k < count; k++) {
    for (let attempt = 0; attempt < 10; attempt++) {
      const target = (draws.uniform(o.minArea ?? 0.02, o.maxArea ?? 1 / 3) * area) / count;
      const aspect = Math.exp(draws.uniform(logAspect[0], logAspect[1]));
      const h = roundHalfEven(Math.sqrt(target * aspect));
      const w = roundHalfEven(Math.sqrt(target / aspect));
      if (w < width && h < height) {
        const top = draws.randint(0, height - h);
        const left = draws.randint(0, width - w);
        boxes.push({ top, left, h, w });
        break;
      }
    }
  }
  return boxes;
}

/**
 * Erases boxes of a normalised HWC float image in place. The fill noise of 'rand'/'pixel' comes from
 * `draws` too (timm uses torch's CUDA RNG there, which no port can reproduce: only the box is golden).
 */
export function randomErasing(x: Float32Array, height: number, width: number, draws: Draws, o: RandomErasingOptions = {}, offset = 0): ErasingBox[] {
  const boxes = randomErasingBoxes(height, width, draws, o);
  const mode = o.mode ?? 'pixel';
  const noise = mode === 'const' ? null : normalStream(draws);
  for (const b of boxes) {
    const colour = mode === 'rand' ? [noise!(), noise!(), noise!()] : null;
    for (let y = b.top; y < b.top + b.h; y++) {
      let p = offset + (y * width + b.left) * 3;
      for (let xx = 0; xx < b.w; xx++, p += 3) {
        for (let c = 0; c < 3; c++) x[p + c] = mode === 'const' ? 0 : colour !== null ? colour[c]! : noise!();
      }
    }
  }
  return boxes;
}

/** Fast N(0,1) values for the fill: an xorshift128+ seeded from two draws, polar Box-Muller in pairs. */
function normalStream(draws: Draws): () => number {
  let s0 = (draws.random() * 4294967296) >>> 0 || 1;
  let s1 = (draws.random() * 4294967296) >>> 0 || 2;
  const uniform = (): number => {
    let t = s0;
    const s = s1;
    s0 = s;
    t ^= t << 11;
    t ^= t >>> 8;
    s1 = (t ^ s ^ (s >>> 19)) >>> 0;
    return ((s1 >>> 0) + 0.5) / 4294967296;
  };
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    for (;;) {
      const u = 2 * uniform() - 1;
      const v = 2 * uniform() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const m = Math.sqrt((-2 * Math.log(s)) / s);
        spare = v * m;
        return u * m;
      }
    }
  };
}
