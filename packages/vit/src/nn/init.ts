// Random initialisers (seeded) for DeiT parameters.
import * as tf from '@tensorflow/tfjs-core';

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
  return tf.variable(tf.truncatedNormal(shape, 0, std, 'float32', seeds.take()));
}

/** PyTorch's default Linear/Conv init: U(±1/sqrt(fanIn)) for weight and bias (reference random init). */
export function torchDefaultUniform(shape: number[], fanIn: number, seeds: SeedSequence): tf.Variable {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.variable(tf.randomUniform(shape, -bound, bound, 'float32', seeds.take()));
}

export function zerosVar(shape: number[]): tf.Variable {
  return tf.variable(tf.zeros(shape));
}

export function onesVar(shape: number[]): tf.Variable {
  return tf.variable(tf.ones(shape));
}

/** A new variable holding a copy of `v` (conversions never share variables with the source model). */
export function copyVar(v: tf.Tensor): tf.Variable {
  return tf.variable(tf.clone(v));
}
