// Swin transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))), on [B, H, W, C].
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { prefixedRefs, type Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';

/** torchvision `StochasticDepth(p, 'row')` in training: drop a sample's branch with probability p, scale survivors by 1/(1-p). */
export function dropPath(branch: Tensor, p: number): Tensor {
  if (p <= 0) return branch;
  return tf.tidy(() => {
    const keep = tf.floor(tf.add(tf.randomUniform([branch.shape[0], ...branch.shape.slice(1).map(() => 1)]), 1 - p));
    return tf.mul(branch, tf.div(keep, 1 - p));
  });
}

export class SwinBlock implements Module {
  constructor(
    readonly norm1: LayerNorm,
    readonly attn: Module,
    readonly norm2: LayerNorm,
    readonly mlp: Module,
    /** Stochastic-depth probability of this block (used only by `applyTrain`). */
    readonly dropPathProb = 0,
  ) {}

  /** Inference (and training without stochastic depth). */
  apply(x: Tensor): Tensor {
    return this.forward(x, 0);
  }

  /** Training forward: stochastic depth on both branches when the block has a drop probability. */
  applyTrain(x: Tensor): Tensor {
    return this.forward(x, this.dropPathProb);
  }

  private forward(x: Tensor, p: number): Tensor {
    return tf.tidy(() => {
      const y = tf.add(x, dropPath(this.attn.apply(this.norm1.apply(x)), p));
      return tf.add(y, dropPath(this.mlp.apply(this.norm2.apply(y)), p));
    });
  }

  quantizedWeights(): QuantizedWeightRef[] {
    return [...prefixedRefs('attn', this.attn), ...prefixedRefs('mlp', this.mlp)];
  }

  params(): ParamSpec[] {
    return [
      ...prefixed('norm1', this.norm1.params()),
      ...prefixed('attn', this.attn.params()),
      ...prefixed('norm2', this.norm2.params()),
      ...prefixed('mlp', this.mlp.params()),
    ];
  }

  dispose(): void {
    this.norm1.dispose();
    this.attn.dispose();
    this.norm2.dispose();
    this.mlp.dispose();
  }
}
