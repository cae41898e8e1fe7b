// PatchMerging (torchvision): pad odd maps, gather each 2×2 neighbourhood as [x(0,0), x(1,0), x(0,1), x(1,1)]
// along channels, LayerNorm(4C), then the reduction Linear(4C → 2C) (no bias in FP).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { prefixedRefs, type Module } from '../module.js';
import { prefixed, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';

/** `[B, H, W, C]` → `[B, ⌈H/2⌉, ⌈W/2⌉, 4C]` in torchvision's channel order (row offset fastest). */
export function mergePatches(x: Tensor): Tensor {
  return tf.tidy(() => {
    let t = x;
    const [, h0, w0] = x.shape as number[];
    if (h0 % 2 || w0 % 2) t = tf.pad(t, [[0, 0], [0, h0 % 2], [0, w0 % 2], [0, 0]]);
    const [b, h, w, c] = t.shape as number[];
    // [B·H/2, dy, W/2, (dx, C)] → [B·H/2, W/2, dy, (dx, C)] → [M, dy, dx, C] → [M, dx, dy, C].
    const rows = tf.transpose(tf.reshape(t, [b * (h / 2), 2, w / 2, 2 * c]), [0, 2, 1, 3]);
    const cells = tf.transpose(tf.reshape(rows, [b * (h / 2) * (w / 2), 2, 2, c]), [0, 2, 1, 3]);
    return tf.reshape(cells, [b, h / 2, w / 2, 4 * c]);
  });
}

export class PatchMerging implements Module {
  constructor(
    readonly norm: LayerNorm,
    /** Linear(4C → 2C): the FP Linear without bias, or a QLinear once quantized. */
    readonly reduction: Module,
  ) {}

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.reduction.apply(this.norm.apply(mergePatches(x))));
  }

  quantizedWeights(): QuantizedWeightRef[] {
    return prefixedRefs('reduction', this.reduction);
  }

  params(): ParamSpec[] {
    return [...prefixed('reduction', this.reduction.params()), ...prefixed('norm', this.norm.params())];
  }

  dispose(): void {
    this.norm.dispose();
    this.reduction.dispose();
  }
}
