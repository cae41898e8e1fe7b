// Full-precision patch embedding: conv with kernel = stride = patch, computed as patchify + matmul.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { convWeightSpec, directSpec, type ParamSpec } from '../params.js';
import { patchify } from '../nn/patchify.js';

export class PatchEmbed implements Module {
  constructor(
    /** Conv kernel [p, p, inChans, embedDim] (tfjs Conv2D layout). */
    readonly kernel: tf.Variable,
    readonly bias: tf.Variable,
  ) {}

  get patchSize(): number {
    return this.kernel.shape[0];
  }

  /** NHWC images `[B, H, W, C]` → tokens `[B, (H/p)·(W/p), embedDim]`. */
  apply(x: Tensor): Tensor {
    return tf.tidy(() => embedPatches(x, this.kernel, this.bias));
  }

  params(): ParamSpec[] {
    return [convWeightSpec('proj.weight', this.kernel), directSpec('proj.bias', this.bias)];
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias.dispose();
  }
}

/** Patch conv of NHWC `x` with kernel `[p, p, C, O]`: `[B, P, O]` tokens. */
export function embedPatches(x: Tensor, kernel: Tensor, bias: Tensor): Tensor {
  const [p, , c, o] = kernel.shape;
  const [b, h, w] = x.shape;
  const rows = patchify(x, p);
  const y = tf.add(tf.matMul(rows as tf.Tensor2D, tf.reshape(kernel, [p * p * c, o]) as tf.Tensor2D), bias);
  return tf.reshape(y, [b, (h / p) * (w / p), o]);
}
