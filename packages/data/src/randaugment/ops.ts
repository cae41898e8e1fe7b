import type { RGBImage } from '../image.js';
import type { Interpolation } from '../pil-resize.js';
import { affinePIL, rotationData } from './pil-affine.js';
import { autoContrast, blend, enhanceDegenerate, equalize, invert, posterize, solarize, solarizeAdd } from './pil-ops.js';

/** timm's `_MAX_LEVEL`. */
export const MAX_LEVEL = 10;

/** timm's `_RAND_TRANSFORMS` and `_RAND_INCREASING_TRANSFORMS` (`inc1`). */
export const RAND_TRANSFORMS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'Posterize', 'Solarize', 'SolarizeAdd', 'Color', 'Contrast',
  'Brightness', 'Sharpness', 'ShearX', 'ShearY', 'TranslateXRel', 'TranslateYRel',
] as const;
export const RAND_INCREASING_TRANSFORMS = [
  'AutoContrast', 'Equalize', 'Invert', 'Rotate', 'PosterizeIncreasing', 'SolarizeIncreasing', 'SolarizeAdd',
  'ColorIncreasing', 'ContrastIncreasing', 'BrightnessIncreasing', 'SharpnessIncreasing', 'ShearX', 'ShearY',
  'TranslateXRel', 'TranslateYRel',
] as const;

export type RandAugmentOpName = (typeof RAND_TRANSFORMS)[number] | (typeof RAND_INCREASING_TRANSFORMS)[number];

/** How an op turns its clipped magnitude m into arguments (`level_to_arg`), and applies them. */
interface OpSpec {
  /** Signed ops negate their argument iff a `random()` draw is > 0.5. */
  signed: boolean;
  /** Geometric ops draw `random.choice((BILINEAR, BICUBIC))` when applied. */
  geometric: boolean;
  /** Argument from the magnitude and the sign (+1/-1), in timm's exact float expressions. */
  arg: (m: number, sign: number, ctx: OpContext) => number;
  apply: (img: RGBImage, arg: number, ctx: OpContext) => RGBImage;
}

export interface OpContext {
  resample: Interpolation;
  /** Fill of geometric ops: timm's `img_mean` = round(255·mean) = (124, 116, 104). */
  fill: readonly [number, number, number];
  /** `translate_pct` hparam (0.45). */
  translatePct: number;
}

const enhanceIncreasing = (m: number, s: number): number => Math.max(0.1, 1.0 + s * ((m / MAX_LEVEL) * 0.9));
const enhance = (m: number): number => (m / MAX_LEVEL) * 1.8 + 0.1;
const none = (): number => 0;
const signedScale = (k: number) => (m: number, s: number): number => s * ((m / MAX_LEVEL) * k);

function enhanceOp(kind: 'color' | 'contrast' | 'brightness' | 'sharpness', increasing: boolean): OpSpec {
  return {
    signed: increasing,
    geometric: false,
    arg: increasing ? enhanceIncreasing : enhance,
    apply: (img, f) => (f === 1 ? img : blend(enhanceDegenerate(kind, img), img, f)),
  };
}

const shear = (axis: 'x' | 'y'): OpSpec => ({
  signed: true,
  geometric: true,
  arg: signedScale(0.3),
  apply: (img, f, c) => affinePIL(img, axis === 'x' ? [1, f, 0, 0, 1, 0] : [1, 0, 0, f, 1, 0], c.resample, c.fill),
});

const translateRel = (axis: 'x' | 'y'): OpSpec => ({
  signed: true,
  geometric: true,
  arg: (m, s, c) => s * ((m / MAX_LEVEL) * c.translatePct),
  // Fractional pixels, not rounded: positive values move the content left / up.
  apply: (img, p, c) =>
    affinePIL(img, axis === 'x' ? [1, 0, p * img.width, 0, 1, 0] : [1, 0, 0, 0, 1, p * img.height], c.resample, c.fill),
});

export const OPS: Record<RandAugmentOpName, OpSpec> = {
  AutoContrast: { signed: false, geometric: false, arg: none, apply: (img) => autoContrast(img) },
  Equalize: { signed: false, geometric: false, arg: none, apply: (img) => equalize(img) },
  Invert: { signed: false, geometric: false, arg: none, apply: (img) => invert(img) },
  Rotate: {
    signed: true,
    geometric: true,
    arg: signedScale(30),
    apply: (img, deg, c) => {
      const data = rotationData(img.width, img.height, deg);
      return data === null ? img : affinePIL(img, data, c.resample, c.fill);
    },
  },
  Posterize: { signed: false, geometric: false, arg: (m) => Math.trunc((m / MAX_LEVEL) * 4), apply: (img, b) => posterize(img, b) },
  PosterizeIncreasing: { signed: false, geometric: false, arg: (m) => 4 - Math.trunc((m / MAX_LEVEL) * 4), apply: (img, b) => posterize(img, b) },
  Solarize: { signed: false, geometric: false, arg: (m) => Math.trunc((m / MAX_LEVEL) * 256), apply: (img, t) => solarize(img, t) },
  SolarizeIncreasing: { signed: false, geometric: false, arg: (m) => 256 - Math.trunc((m / MAX_LEVEL) * 256), apply: (img, t) => solarize(img, t) },
  SolarizeAdd: { signed: false, geometric: false, arg: (m) => Math.trunc((m / MAX_LEVEL) * 110), apply: (img, a) => solarizeAdd(img, a) },
  Color: enhanceOp('color', false),
  ColorIncreasing: enhanceOp('color', true),
  Contrast: enhanceOp('contrast', false),
  ContrastIncreasing: enhanceOp('contrast', true),
  Brightness: enhanceOp('brightness', false),
  BrightnessIncreasing: enhanceOp('brightness', true),
  Sharpness: enhanceOp('sharpness', false),
  SharpnessIncreasing: enhanceOp('sharpness', true),
  ShearX: shear('x'),
  ShearY: shear('y'),
  TranslateXRel: translateRel('x'),
  TranslateYRel: translateRel('y'),
};
