import type { Draws } from './draws.js';
import { cropImage, type RGBImage } from './image.js';
import { resizePIL, type Interpolation } from './pil-resize.js';
import { roundHalfEven } from './python-math.js';

/** timm `RandomResizedCropAndInterpolation` settings. */
export interface RandomResizedCropOptions {
  size?: number;
  /** Area fraction range (0.08, 1). */
  scale?: [number, number];
  /** Aspect range (3/4, 4/3), drawn log-uniformly. */
  ratio?: [number, number];
  /** 'random' picks bilinear or bicubic per call, as timm's `interpolation='random'`. */
  interpolation?: Interpolation | 'random';
  attempts?: number;
}

/** A crop box in torchvision's order: top row i, left column j, height h, width w. */
export interface CropBox {
  i: number;
  j: number;
  h: number;
  w: number;
}

/** timm's `get_params`: up to `attempts` tries, then a centred crop clamped to the ratio range. */
export function randomResizedCropParams(width: number, height: number, draws: Draws, options: RandomResizedCropOptions = {}): CropBox {
  const [s0, s1] = options.scale ?? [0.08, 1];
  const [r0, r1] = options.ratio ?? [3 / 4, 4 / 3];
  const area = width * height;
  const logRatio: [number, number] = [Math.log(r0), Math.log(r1)];
  for (let attempt = 0; attempt < (options.attempts ?? 10); attempt++) {
    const targetArea = draws.uniform(s0, s1) * area;
    const aspect = Math.exp(draws.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w <= width && h <= height) {
      const i = draws.randint(0, height - h);
      const j = draws.randint(0, width - w);
      return { i, j, h, w };
    }
  }
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(r0, r1)) h = roundHalfEven(w / Math.min(r0, r1));
  else if (inRatio > Math.max(r0, r1)) w = roundHalfEven(h * Math.max(r0, r1));
  return { i: Math.floor((height - h) / 2), j: Math.floor((width - w) / 2), h, w };
}

/** torchvision `F.resized_crop`: crop first (the filter never reads outside the box), then PIL resize. */
export function resizedCrop(img: RGBImage, box: CropBox, size: number, interpolation: Interpolation): RGBImage {
  return resizePIL(cropImage(img, box.j, box.i, box.w, box.h), size, size, interpolation);
}

/** The whole op: parameters, then (for 'random') `random.choice((BILINEAR, BICUBIC))`, then the crop. */
export function randomResizedCrop(img: RGBImage, draws: Draws, options: RandomResizedCropOptions = {}): RGBImage {
  const box = randomResizedCropParams(img.width, img.height, draws, options);
  const mode = options.interpolation ?? 'random';
  const interpolation: Interpolation = mode === 'random' ? (draws.choice(2) === 0 ? 'bilinear' : 'bicubic') : mode;
  return resizedCrop(img, box, options.size ?? 224, interpolation);
}
