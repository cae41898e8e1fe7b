// CGA's optional includeQK fix (docs/decisions.md #2): scale the gradient that reaches W_qk (and through it W_q
// and W_k) by a mask computed from the current merged weight.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { customGrad1 } from '@ofq/core';

export type GradientMask = (w: Tensor) => Tensor;

/** Identity in the forward pass; the backward pass multiplies the gradient by `mask(w)` (bool or 0/1). */
export function maskGradient(w: Tensor, mask: GradientMask): Tensor {
  const f = customGrad1((a: Tensor, save: (t: Tensor[]) => void) => {
    save([a]);
    return {
      value: tf.clone(a),
      gradFunc: (dy: Tensor, saved: Tensor[]) =>
        tf.tidy(() => {
          const m = mask(saved[0]);
          if (m.shape.join(',') !== dy.shape.join(',')) throw new Error(`QKR gradient mask: mask shape [${m.shape}] != weight shape [${dy.shape}]`);
          return tf.mul(dy, m.dtype === 'float32' ? m : tf.cast(m, 'float32'));
        }),
    };
  });
  return f(w);
}
