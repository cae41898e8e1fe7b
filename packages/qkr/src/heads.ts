// The multi-head layout every attention in @ofq uses (FP, quantized, QKR, windowed): one split and one
// merge, so the head order is defined once.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** `[B, N, C]` → `[B, H, N, d]` with `d = C/H` (head h takes channels `h·d … h·d + d − 1`). */
export function splitHeads(x: Tensor, numHeads: number): Tensor {
  const [b, n, c] = x.shape;
  return tf.tidy(() => tf.transpose(tf.reshape(x, [b, n, numHeads, c / numHeads]), [0, 2, 1, 3]));
}

/** `[B, H, N, d]` → `[B, N, H·d]` (the inverse of `splitHeads`). */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, n, d] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, n, h * d]));
}
