// Random initialisers (seeded) for DeiT parameters.
import * as tf from '@tensorflow/tfjs-core';

/** A variable owning `make()`'s result (tf.variable does not dispose its initial tensor, so wrap in tidy). */
export function newVar(make: () => tf.Tensor): tf.Variable {
  return tf.tidy(() => tf.variable(make()));
}

/** A small deterministic seed sequence so every tensor of a seeded model gets its own draw. */
export class SeedSequence {
  private next: number;
  constructor(seed?: number) {
    this.next = seed ?? Math.floor(Math.random() * 2 ** 31);
  }
  take(): number {
    this.next = (this.next * 1103515245 + 12345) % 2 ** 31;
    return this.next;
  }
}

/** timm's ViT init: truncated normal, std 0.02. */
export function truncNormal(shape: number[], seeds: SeedSequence, std = 0.02): tf.Variable {
  const seed = seeds.take();
  return newVar(() => tf.truncatedNormal(shape, 0, std, 'float32', seed));
}

/** PyTorch's default Linear/Conv init: U(±1/sqrt(fanIn)) for weight and bias (reference random init). */
export function torchDefaultUniform(shape: number[], fanIn: number, seeds: SeedSequence): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  const seed = seeds.take();
  return newVar(() => tf.randomUniform(shape, -bound, bound, 'float32', seed));
}

export function zerosVar(shape: number[]): tf.Variable {
  return newVar(() => tf.zeros(shape));
}

export function onesVar(shape: number[]): tf.Variable {
  return newVar(() => tf.ones(shape));
}

/** A new variable holding a copy of `v` (conversions never share variables with the source model). */
export function copyVar(v: tf.Tensor): tf.Variable {
  return newVar(() => tf.clone(v));
}
