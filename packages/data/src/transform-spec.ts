import { CounterDraws } from './draws.js';
import { evalTransform, type EvalTransformOptions } from './eval-transform.js';
import type { RGBImage } from './image.js';
import { createTrainTransform, type TrainTransform, type TrainTransformOptions } from './train-transform.js';

/** What a worker does to one image: plain data, so it can cross a thread boundary. */
export type TransformSpec = { kind: 'train'; options: TrainTransformOptions; seed: number } | { kind: 'eval'; options: EvalTransformOptions };

/** Identifies the draws of one sample: the epoch and its slot (position) in the epoch's order. */
export interface SampleKey {
  epoch: number;
  slot: number;
}

/** The per-image transform of a spec; train draws come from `CounterDraws(seed, epoch, slot)`. */
export function compileTransform(spec: TransformSpec): (img: RGBImage, key: SampleKey) => RGBImage {
  if (spec.kind === 'eval') return (img) => evalTransform(img, spec.options);
  const t: TrainTransform = createTrainTransform(spec.options);
  return (img, key) => t.apply(img, new CounterDraws(spec.seed, key.epoch, key.slot));
}
