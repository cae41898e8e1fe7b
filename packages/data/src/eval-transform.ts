import { cropImage, type RGBImage } from './image.js';
import { resizePIL, type Interpolation } from './pil-resize.js';
import { roundHalfEven } from './python-math.js';
import { DataError } from './errors.js';

/** timm's `transforms_imagenet_eval` settings. */
export interface EvalTransformOptions {
  /** Output side (224 for DeiT). */
  imgSize?: number;
  /** The resize is to `floor(imgSize / cropPct)` on the shorter side (0.9 in OFQ's recipes, timm default 0.875). */
  cropPct?: number;
  interpolation?: Interpolation;
  /** Resize the shorter side to this instead of `floor(imgSize / cropPct)`. */
  scaleSize?: number;
}

/** torchvision `Resize(int)`: the shorter side becomes `size`, the longer `int(size * long / short)`. */
export function resizeShorterSide(img: RGBImage, size: number, interpolation: Interpolation): RGBImage {
  const { width: w, height: h } = img;
  const short = Math.min(w, h);
  const long = Math.max(w, h);
  const newLong = Math.trunc((size * long) / short);
  const [nw, nh] = w <= h ? [size, newLong] : [newLong, size];
  if (nw === w && nh === h) return img;
  return resizePIL(img, nw, nh, interpolation);
}

/** torchvision `CenterCrop`: offsets `int(round((H - h) / 2))` with Python's half-to-even round. */
export function centerCrop(img: RGBImage, width: number, height = width): RGBImage {
  if (width > img.width || height > img.height) {
    throw new DataError(`centre crop ${width}x${height} is larger than the ${img.width}x${img.height} image`);
  }
  const top = roundHalfEven((img.height - height) / 2);
  const left = roundHalfEven((img.width - width) / 2);
  return cropImage(img, left, top, width, height);
}

/** The eval resize side: `floor(imgSize / cropPct)` (248 for 224 at 0.9). */
export function evalScaleSize(imgSize: number, cropPct: number): number {
  if (!(cropPct > 0 && cropPct <= 1)) throw new DataError(`cropPct must be in (0, 1], got ${cropPct}`);
  return Math.floor(imgSize / cropPct);
}

/** Resize the shorter side to `floor(imgSize / cropPct)` (PIL bicubic, antialiased), then centre-crop `imgSize`. */
export function evalTransform(img: RGBImage, options: EvalTransformOptions = {}): RGBImage {
  const imgSize = options.imgSize ?? 224;
  const size = options.scaleSize ?? evalScaleSize(imgSize, options.cropPct ?? 0.875);
  const resized = resizeShorterSide(img, size, options.interpolation ?? 'bicubic');
  return centerCrop(resized, imgSize);
}
