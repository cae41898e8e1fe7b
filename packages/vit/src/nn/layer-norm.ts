// LayerNorm over the last axis (biased variance, as PyTorch), eps 1e-6 in DeiT.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { directSpec, type ParamSpec } from '../params.js';
import { onesVar, zerosVar } from './init.js';

export class LayerNorm {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(dim: number, readonly eps = 1e-6, weight?: tf.Variable, bias?: tf.Variable) {
    this.weight = weight ?? onesVar([dim]);
    this.bias = bias ?? zerosVar([dim]);
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => {
      const mean = tf.mean(x, -1, true);
      const centred = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centred), -1, true);
      const normed = tf.mul(centred, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }

  params(): ParamSpec[] {
    return [directSpec('weight', this.weight), directSpec('bias', this.bias)];
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}
