import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights, QuantizerState, WeightQuantizer } from '@ofq/core';

/**
 * A `WeightQuantizer` for DepthwiseConv2D kernels `[kh, kw, inC, mult]`, whose output channel
 * `c·mult + m` spans the last TWO axes: the inner quantizer sees the kernel as `[kh, kw, 1, inC·mult]`
 * (channels last, one scale per output channel) and results come back in the kernel's shape.
 * `scale(w)` is `[inC, mult]`, which broadcasts over the kernel like a per-channel scale does, so
 * `weightFromCodes(q, codes, q.scale(w))` holds. `codes(w)` reports the `[kh, kw, 1, inC·mult]` view.
 */
export class ChannelViewQuantizer implements WeightQuantizer {
  readonly kind: string;
  readonly name: string;
  readonly bits: number;
  readonly codeRange: readonly [number, number];
  readonly offset: number;
  readonly divisor: number;

  constructor(readonly inner: WeightQuantizer) {
    this.kind = inner.kind;
    this.name = inner.name;
    this.bits = inner.bits;
    this.codeRange = inner.codeRange;
    this.offset = inner.offset;
    this.divisor = inner.divisor;
  }

  get state(): readonly QuantizerState[] {
    return this.inner.state;
  }

  private view(w: Tensor): Tensor {
    if (w.rank !== 4) throw new RangeError(`${this.name}: a depthwise kernel is [kh, kw, inC, mult], got [${w.shape}]`);
    const [kh, kw, c, m] = w.shape;
    return tf.reshape(w, [kh, kw, 1, c * m]);
  }

  scale(w: Tensor): Tensor {
    return tf.tidy(() => tf.reshape(this.inner.scale(this.view(w)), w.shape.slice(2)));
  }

  preRound(w: Tensor): Tensor {
    return tf.tidy(() => tf.reshape(this.inner.preRound(this.view(w)), w.shape));
  }

  quantize(w: Tensor): Tensor {
    // Reshapes carry the gradient, so the straight-through estimator of the inner quantizer applies.
    return tf.tidy(() => tf.reshape(this.inner.quantize(this.view(w)), w.shape));
  }

  codes(w: Tensor): QuantizedWeights {
    const v = this.view(w);
    try {
      return this.inner.codes(v);
    } finally {
      v.dispose();
    }
  }

  dispose(): void {
    this.inner.dispose();
  }
}
