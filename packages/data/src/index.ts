export { DataError } from './errors.js';
export { createImage, cropImage, flipHorizontal, type RGBImage } from './image.js';
export { decodeImage, encodeJPEG, encodePNG } from './decode.js';
export { resizePIL, type Interpolation } from './pil-resize.js';
export { centerCrop, evalScaleSize, evalTransform, resizeShorterSide, type EvalTransformOptions } from './eval-transform.js';
export { IMAGENET_MEAN, IMAGENET_STD, normalizeInto, normalizeLUT, type NormalizeOptions } from './normalize.js';
export {
  randomResizedCrop,
  randomResizedCropParams,
  resizedCrop,
  type CropBox,
  type RandomResizedCropOptions,
} from './random-resized-crop.js';
export { CounterDraws, ScriptedDraws, UniformDraws, type Draws } from './draws.js';
export { IMAGE_EXTENSIONS, samplePath, scanImageFolder, scanImageNetFolder, type ImageFolder, type ImageFolderOptions } from './image-folder.js';
export { affinePIL, rotationData, type AffineData } from './randaugment/pil-affine.js';
export { MAX_LEVEL, OPS as RAND_AUGMENT_OPS, RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS, type RandAugmentOpName } from './randaugment/ops.js';
export {
  applyRandAugmentOp,
  parseRandAugment,
  randAugment,
  type OpApplication,
  type RandAugmentConfig,
  type RandAugmentOptions,
} from './randaugment/rand-augment.js';
export { randomErasing, randomErasingBoxes, type ErasingBox, type RandomErasingOptions } from './random-erasing.js';
export { mixFloatBatch, mixParams, mixUint8Batch, mixupTargets, type MixParams, type MixupOptions } from './mixup.js';
export { createTrainTransform, type TrainTransform, type TrainTransformOptions } from './train-transform.js';
export { epochOrder, type SamplerOptions } from './sampler.js';
export { compileTransform, type SampleKey, type TransformSpec } from './transform-spec.js';
export { createTransformPool, defaultWorkerCount, type TransformPool } from './worker-pool.js';
export { FolderLoader, type FolderBatch, type FolderLoaderOptions } from './folder-loader.js';
