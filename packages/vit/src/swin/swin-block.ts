// Swin transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))), on [B, H, W, C].
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { prefixedRefs, type Module } from '../module.js';
import { namedParametersOf, prefixed, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';
import { checkpointed } from '../nn/checkpoint.js';

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

  /**
   * Training forward with gradient checkpointing: each residual branch (norm1 + attention, norm2 + MLP)
   * is recomputed in the backward pass, so at most one branch's intermediates are alive at a time
   * (half a block's). Stochastic depth is random, so a recomputed branch would drop other rows: refused.
   */
  applyCheckpointed(x: Tensor): Tensor {
    if (this.dropPathProb > 0) {
      throw new Error('Swin: gradient checkpointing recomputes each block, so it cannot be combined with stochastic depth (random); set stochasticDepthProb to 0');
    }
    const branch = (norm: LayerNorm, m: Module) => ({
      run: (t: Tensor) => tf.add(t, m.apply(norm.apply(t))),
      variables: namedParametersOf([...norm.params(), ...m.params()]).map((p) => p.variable),
    });
    return tf.tidy(() => {
      const [attn, mlp] = [branch(this.norm1, this.attn), branch(this.norm2, this.mlp)];
      return checkpointed(mlp.run, checkpointed(attn.run, x, attn.variables), mlp.variables);
    });
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
