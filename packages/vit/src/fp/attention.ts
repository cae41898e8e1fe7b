// Full-precision multi-head self-attention (timm `Attention`): fused qkv, batched heads, proj.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import { Linear } from '../nn/linear.js';
import { mergeHeads } from '@ofq/qkr';


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
      // [B, N, 3C] → [B, 3H, N, d] (heads), then [3, B, H·N·d] so that q, k, v are leading-axis
      // slices: contiguous, so @ofq/accel's wasm Unpack hands out views instead of copies (a split
      // on axis 1 copies for B > 1). Two transposes of rank ≤ 4: tfjs-wasm's rank-5 transpose is
      // ~100× slower; the second one moves whole H·N·d blocks (a no-op for B = 1).
      const heads = tf.transpose(tf.reshape(this.qkv.apply(x), [b, n, 3 * h, d]), [0, 2, 1, 3]);
      const qkv = tf.transpose(tf.reshape(heads, [b, 3, h * n * d]), [1, 0, 2]);
      const [q, k, v] = tf.unstack(qkv).map((t) => tf.reshape(t, [b, h, n, d]));
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
