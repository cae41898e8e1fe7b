// Full-precision multi-head self-attention (timm `Attention`): fused qkv, batched heads, proj.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import { Linear } from '../nn/linear.js';

/** `[B, N, C]` → `[B, H, N, d]`. */
export function splitHeads(x: Tensor, numHeads: number): Tensor {
  const [b, n, c] = x.shape;
  return tf.tidy(() => tf.transpose(tf.reshape(x, [b, n, numHeads, c / numHeads]), [0, 2, 1, 3]));
}

/** `[B, H, N, d]` → `[B, N, H·d]`. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, n, d] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, n, h * d]));
}

export class Attention implements Module {
  constructor(
    /** Fused kernel [C, 3C]: columns [0,C) = q, [C,2C) = k, [2C,3C) = v (timm's row order). */
    readonly qkv: Linear,
    readonly proj: Linear,
    readonly numHeads: number,
  ) {}

  get dim(): number {
    return this.proj.inFeatures;
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const [b, n, c] = x.shape;
      const h = this.numHeads;
      const d = c / h;
      // [B, N, 3C] → [B, 3H, N, d] with one transpose, then q, k, v are three [B, H, N, d] slices.
      const qkv = tf.transpose(tf.reshape(this.qkv.apply(x), [b, n, 3 * h, d]), [0, 2, 1, 3]);
      const [q, k, v] = tf.split(qkv, 3, 1);
      const logits = tf.mul(tf.matMul(q, k, false, true), d ** -0.5);
      const probs = tf.softmax(logits);
      return this.proj.apply(mergeHeads(tf.matMul(probs, v)));
    });
  }

  params(): ParamSpec[] {
    return [...prefixed('qkv', this.qkv.params()), ...prefixed('proj', this.proj.params())];
  }

  dispose(): void {
    this.qkv.dispose();
    this.proj.dispose();
  }
}
