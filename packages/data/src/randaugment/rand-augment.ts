import type { Draws } from '../draws.js';
import { DataError } from '../errors.js';
import type { RGBImage } from '../image.js';
import type { Interpolation } from '../pil-resize.js';
import { MAX_LEVEL, OPS, RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS, type OpContext, type RandAugmentOpName } from './ops.js';

/** A parsed timm RandAugment config string such as `rand-m9-mstd0.5-inc1`. */
export interface RandAugmentConfig {
  magnitude: number;
  magnitudeStd: number;
  numLayers: number;
  ops: readonly RandAugmentOpName[];
  /** Each chosen op runs iff `random() <= prob`. */
  prob: number;
  fill: readonly [number, number, number];
  translatePct: number;
  /** Geometric ops' filters; two means `random.choice` per call. */
  interpolations: readonly Interpolation[];
}

export interface RandAugmentOptions {
  /** timm's `img_mean` hparam: round(255·mean) of the normalisation mean. */
  fill?: readonly [number, number, number];
  translatePct?: number;
  interpolations?: readonly Interpolation[];
}

/** timm `rand_augment_transform` config parsing: `rand` then `m<int>`, `n<int>`, `mstd<float>`, `inc<x>`. */
export function parseRandAugment(config: string, options: RandAugmentOptions = {}): RandAugmentConfig {
  const parts = config.split('-');
  if (parts[0] !== 'rand') throw new DataError(`RandAugment config '${config}' must start with 'rand' (e.g. rand-m9-mstd0.5-inc1)`);
  let magnitude = MAX_LEVEL;
  let magnitudeStd = 0;
  let numLayers = 2;
  let ops: readonly RandAugmentOpName[] = RAND_TRANSFORMS;
  for (const c of parts.slice(1)) {
    const m = /^(\D*)(\d.*)$/.exec(c);
    if (m === null) continue; // timm skips pieces without a number
    const [, key, val] = m as unknown as [string, string, string];
    const num = Number(val);
    if (key === 'mstd' && Number.isFinite(num)) magnitudeStd = num;
    // timm tests bool(val) on the string, so 'inc0' enables the increasing ops too (a quirk we keep).
    else if (key === 'inc') ops = val.length > 0 ? RAND_INCREASING_TRANSFORMS : ops;
    else if (key === 'm' && Number.isInteger(num)) magnitude = num;
    else if (key === 'n' && Number.isInteger(num)) numLayers = num;
    else throw new DataError(`RandAugment config '${config}': cannot read '${c}' (known: m<int>, n<int>, mstd<float>, inc<0|1>)`);
  }
  return {
    magnitude,
    magnitudeStd,
    numLayers,
    ops,
    prob: 0.5,
    fill: options.fill ?? [124, 116, 104],
    translatePct: options.translatePct ?? 0.45,
    interpolations: options.interpolations ?? ['bilinear', 'bicubic'],
  };
}

/** Settings of one op application (the CLI's `--op NAME --magnitude M`, and tests). */
export interface OpApplication {
  magnitude: number;
  /** +1 or -1 for signed ops. */
  sign?: number;
  resample?: Interpolation;
}

/** One timm `AugmentOp` with its draws already made: deterministic in (op, magnitude, sign, resample). */
export function applyRandAugmentOp(img: RGBImage, name: string, app: OpApplication, config?: Partial<RandAugmentConfig>): RGBImage {
  const spec = OPS[name as RandAugmentOpName];
  if (spec === undefined) throw new DataError(`unknown RandAugment op '${name}' (known: ${Object.keys(OPS).join(', ')})`);
  const m = Math.min(MAX_LEVEL, Math.max(0, app.magnitude));
  const ctx: OpContext = {
    resample: app.resample ?? 'bilinear',
    fill: config?.fill ?? [124, 116, 104],
    translatePct: config?.translatePct ?? 0.45,
  };
  return spec.apply(img, spec.arg(m, spec.signed ? (app.sign ?? 1) : 1, ctx), ctx);
}

/** `AugmentOp.__call__`: gate, magnitude noise, clip, sign, filter — in timm's draw order. */
function augmentOp(img: RGBImage, name: RandAugmentOpName, cfg: RandAugmentConfig, draws: Draws): RGBImage {
  if (cfg.prob < 1 && draws.random() > cfg.prob) return img;
  let m = cfg.magnitude;
  if (cfg.magnitudeStd === Infinity) m = draws.uniform(0, m);
  else if (cfg.magnitudeStd > 0) m = draws.gauss(m, cfg.magnitudeStd);
  const spec = OPS[name];
  const sign = spec.signed && draws.random() > 0.5 ? -1 : 1;
  const resample = spec.geometric && cfg.interpolations.length > 1 ? cfg.interpolations[draws.choice(cfg.interpolations.length)]! : cfg.interpolations[0]!;
  return applyRandAugmentOp(img, name, { magnitude: m, sign, resample }, cfg);
}

/** timm `RandAugment.__call__`: `numLayers` ops chosen with replacement, each applied through `augmentOp`. */
export function randAugment(img: RGBImage, cfg: RandAugmentConfig, draws: Draws): RGBImage {
  const chosen: RandAugmentOpName[] = [];
  for (let k = 0; k < cfg.numLayers; k++) chosen.push(cfg.ops[draws.choice(cfg.ops.length)]!);
  let out = img;
  for (const name of chosen) out = augmentOp(out, name, cfg, draws);
  return out;
}
