// Swin transformer block: x + drop_path(attn(norm1(x))), then x + drop_path(mlp(norm2(x))), on [B, H, W, C].
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { Module } from '../module.js';
import { namedParametersOf } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';
import { Block } from '../fp/block.js';
import { checkpointed } from '../nn/checkpoint.js';

/** torchvision `StochasticDepth(p, 'row')` in training: drop a sample's branch with probability p, scale survivors by 1/(1-p). */
export function dropPath(branch: Tensor, p: number): Tensor {
  if (p <= 0) return branch;
  return tf.tidy(() => {
    const keep = tf.floor(tf.add(tf.randomUniform([branch.shape[0], ...branch.shape.slice(1).map(() => 1)]), 1 - p));
    return tf.mul(branch, tf.div(keep, 1 - p));
  });
}

/**
 * The pre-norm block (`Block`: same modules, names, state-dict entries and inference forward) with
 * torchvision's stochastic depth in training and, optionally, gradient checkpointing.
 */
export class SwinBlock extends Block {
  constructor(
    norm1: LayerNorm,
    attn: Module,
    norm2: LayerNorm,
    mlp: Module,
    /** Stochastic-depth probability of this block (used only by `applyTrain`). */
    readonly dropPathProb = 0,
  ) {
    super(norm1, attn, norm2, mlp);
  }

  /** Training forward: stochastic depth on both branches when the block has a drop probability. */
  applyTrain(x: Tensor): Tensor {
    const p = this.dropPathProb;
    if (p <= 0) return this.apply(x);
    return tf.tidy(() => {
      const y = tf.add(x, dropPath(this.attn.apply(this.norm1.apply(x)), p));
      return tf.add(y, dropPath(this.mlp.apply(this.norm2.apply(y)), p));
    });
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
}
