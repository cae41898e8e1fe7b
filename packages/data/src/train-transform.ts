import type { Draws } from './draws.js';
import { flipHorizontal, type RGBImage } from './image.js';
import type { Interpolation } from './pil-resize.js';
import { randomResizedCrop } from './random-resized-crop.js';
import { parseRandAugment, randAugment, type RandAugmentConfig } from './randaugment/rand-augment.js';

/** timm `transforms_imagenet_train` settings (DeiT: 224, (0.08, 1), (3/4, 4/3), random, 0.5, rand-m9-mstd0.5-inc1). */
export interface TrainTransformOptions {
  imgSize?: number;
  scale?: [number, number];
  ratio?: [number, number];
  interpolation?: Interpolation | 'random';
  /** Horizontal flip probability. */
  hflip?: number;
  /** A timm RandAugment string, or null for none. */
  randAugment?: string | null;
  /** Fill of RandAugment's geometric ops; default round(255·IMAGENET_MEAN). */
  fill?: readonly [number, number, number];
}

/** A train transform with its RandAugment config parsed once. */
export interface TrainTransform {
  options: Required<Omit<TrainTransformOptions, 'randAugment' | 'fill'>>;
  randAugment: RandAugmentConfig | null;
  apply(img: RGBImage, draws: Draws): RGBImage;
}

/**
 * The DeiT training transform of the paper's recipes (docs/algorithm.md §7.3).
 * RandomResizedCrop → horizontal flip → RandAugment, on uint8 pixels (timm's chain up to `ToNumpy`;
 * normalisation and RandomErasing run at batch assembly, as OFQ's prefetcher does). The draws are taken
 * in timm's order from one `Draws`.
 */
export function createTrainTransform(o: TrainTransformOptions = {}): TrainTransform {
  const options = {
    imgSize: o.imgSize ?? 224,
    scale: o.scale ?? ([0.08, 1] as [number, number]),
    ratio: o.ratio ?? ([3 / 4, 4 / 3] as [number, number]),
    interpolation: o.interpolation ?? 'random',
    hflip: o.hflip ?? 0.5,
  };
  const interpolations: Interpolation[] = options.interpolation === 'random' ? ['bilinear', 'bicubic'] : [options.interpolation];
  const ra = o.randAugment ? parseRandAugment(o.randAugment, { fill: o.fill, interpolations }) : null;
  return {
    options,
    randAugment: ra,
    apply(img, draws) {
      let out = randomResizedCrop(img, draws, { size: options.imgSize, scale: options.scale, ratio: options.ratio, interpolation: options.interpolation });
      // torchvision RandomHorizontalFlip: flip iff rand < p (timm leaves the op out when p is 0).
      if (options.hflip > 0 && draws.random() < options.hflip) out = flipHorizontal(out);
      if (ra !== null) out = randAugment(out, ra, draws);
      return out;
    },
  };
}
