// Pre-norm transformer block: x + attn(norm1(x)), then x + mlp(norm2(x)). No drop-path.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import type { LSQQuantizer } from '@ofq/lsq';
import { activationQuantizersOf, prefixedRefs, type Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';

export class Block implements Module {
  constructor(
    readonly norm1: LayerNorm,
    readonly attn: Module,
    readonly norm2: LayerNorm,
    readonly mlp: Module,
  ) {}

  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const y = tf.add(x, this.attn.apply(this.norm1.apply(x)));
      return tf.add(y, this.mlp.apply(this.norm2.apply(y)));
    });
  }

  /** The attention's then the MLP's activation quantizers (none in full precision). */
  activationQuantizers(): LSQQuantizer[] {
    return [this.attn, this.mlp].flatMap((m) => activationQuantizersOf(m));
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
