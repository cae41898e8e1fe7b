// Full-precision shifted-window attention (torchvision `ShiftedWindowAttention`): fused qkv, q scaled
// by d^-0.5 before q·kᵀ, relative position bias, shifted-window mask, softmax, proj.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import type { Linear } from '../nn/linear.js';
import { mergeHeads } from '@ofq/qkr';
import type { RelativePositionBias } from './relative-position-bias.js';
import type { WindowFrame } from './window-frame.js';

export class WindowAttention implements Module {
  constructor(
    /** Fused kernel [C, 3C]: columns q | k | v (torchvision's row order). */
    readonly qkv: Linear,
    readonly proj: Linear,
    readonly numHeads: number,
    readonly frame: WindowFrame,
    readonly relativeBias: RelativePositionBias,
  ) {}

  get dim(): number {
    return this.proj.inFeatures;
  }

  /** `[B, H, W, C]` → `[B, H, W, C]`. */
  apply(x: Tensor): Tensor {
    return this.frame.run(x, this.relativeBias, (win, addBias) => this.attend(win, addBias));
  }

  /** Softmax attention probabilities `[B·nW, H, N, N]` (for inspection and tests). */
  probabilities(x: Tensor): Tensor {
    let probs: Tensor | null = null;
    const y = this.frame.run(x, this.relativeBias, (win, addBias) => {
      const { p, out } = this.attendWithProbs(win, addBias);
      probs = tf.keep(p);
      return out;
    });
    y.dispose();
    return probs as unknown as Tensor;
  }

  private attend(win: Tensor, addBias: (l: Tensor) => Tensor): Tensor {
    return this.attendWithProbs(win, addBias).out;
  }

  private attendWithProbs(win: Tensor, addBias: (l: Tensor) => Tensor): { p: Tensor; out: Tensor } {
    const [bn, n, c] = win.shape as number[];
    const h = this.numHeads;
    const d = c / h;
    // [B·nW, N, 3C] → [B·nW, 3H, N, d] → three leading-axis slices (as the DeiT attention).
    const heads = tf.transpose(tf.reshape(this.qkv.apply(win), [bn, n, 3 * h, d]), [0, 2, 1, 3]);
    const qkv = tf.transpose(tf.reshape(heads, [bn, 3, h * n * d]), [1, 0, 2]);
    const [q, k, v] = tf.unstack(qkv).map((t) => tf.reshape(t, [bn, h, n, d]));
    const p = tf.softmax(addBias(tf.matMul(tf.mul(q, d ** -0.5), k, false, true)));
    return { p, out: this.proj.apply(mergeHeads(tf.matMul(p, v))) };
  }

  params(): ParamSpec[] {
    return [...this.relativeBias.params(), ...prefixed('qkv', this.qkv.params()), ...prefixed('proj', this.proj.params())];
  }

  dispose(): void {
    this.qkv.dispose();
    this.proj.dispose();
    this.relativeBias.dispose();
    this.frame.dispose();
  }
}
