// Swin's `features.0`: the 4×4 patch conv (FP PatchEmbed or the 8-bit QPatchEmbed), then LayerNorm,
// giving the channels-last map `[B, H/p, W/p, C]`.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import type { Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';

export class SwinPatchEmbed implements Module {
  constructor(
    /** The patch conv: NHWC images → tokens `[B, P, C]`; its entries are named `proj.*`. */
    readonly conv: Module,
    readonly norm: LayerNorm,
    readonly patchSize: number,
  ) {}

  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const [b, h, w] = x.shape as number[];
      const tokens = this.conv.apply(x);
      const c = tokens.shape[2] as number;
      return this.norm.apply(tf.reshape(tokens, [b, h / this.patchSize, w / this.patchSize, c]));
    });
  }

  /** The conv weight as `0.weight` (none in FP). */
  quantizedWeights(): QuantizedWeightRef[] {
    return (this.conv.quantizedWeights?.() ?? []).map((r) => ({ ...r, name: `0.${r.name.replace(/^proj\./, '')}` }));
  }

  /** `features.0.0.*` (the conv, torchvision's Sequential index 0) and `features.0.2.*` (the norm). */
  params(): ParamSpec[] {
    const conv = this.conv.params().map((s) => ({ ...s, name: s.name.replace(/^proj\./, '') }));
    return [...prefixed('0', conv), ...prefixed('2', this.norm.params())];
  }

  dispose(): void {
    this.conv.dispose();
    this.norm.dispose();
  }
}
