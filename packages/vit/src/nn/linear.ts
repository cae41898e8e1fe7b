// Full-precision Dense layer on tokens: kernel [in, out] (tfjs layout), optional bias.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { directSpec, linearWeightSpec, type ParamSpec } from '../params.js';

/** `y = x·K + b` over the last axis of any-rank `x`, as one 2-D matmul (fastest on wasm). */
export function dense(x: Tensor, kernel: Tensor, bias: Tensor | null): Tensor {
  return tf.tidy(() => {
    const [inF, outF] = kernel.shape as number[];
    if (x.shape[x.shape.length - 1] !== inF) {
      throw new Error(`dense: input has ${x.shape[x.shape.length - 1]} features, kernel expects ${inF}`);
    }
    const flat = x.rank === 2 ? x : tf.reshape(x, [-1, inF]);
    let y: Tensor = tf.matMul(flat as tf.Tensor2D, kernel as tf.Tensor2D);
    if (bias) y = tf.add(y, bias);
    return x.rank === 2 ? y : tf.reshape(y, [...x.shape.slice(0, -1), outF]);
  });
}

export class Linear {
  constructor(
    readonly kernel: tf.Variable,
    readonly bias: tf.Variable | null,
  ) {}

  get inFeatures(): number {
    return (this.kernel.shape as number[])[0];
  }
  get outFeatures(): number {
    return (this.kernel.shape as number[])[1];
  }

  apply(x: Tensor): Tensor {
    return dense(x, this.kernel, this.bias);
  }

  params(): ParamSpec[] {
    const out = [linearWeightSpec('weight', this.kernel)];
    if (this.bias) out.push(directSpec('bias', this.bias));
    return out;
  }

  dispose(): void {
    this.kernel.dispose();
    this.bias?.dispose();
  }
}
