import * as tf from '@tensorflow/tfjs-core';

/**
 * Gradient accumulation to reach a target global batch on one device: the mean of the micro-batch
 * gradients (each already a batch mean) equals the gradient of the global-batch mean when the
 * micro-batches are equal in size; unequal ones are weighted by their size.
 */
export class GradAccumulator {
  private sum: tf.NamedTensorMap | null = null;
  private weight = 0;

  get count(): number {
    return this.weight;
  }

  /** Adds one micro-batch's gradients (taken over; disposed here). `size` weights unequal micro-batches. */
  add(grads: tf.NamedTensorMap, size = 1): void {
    if (this.sum === null) {
      this.sum = {};
      for (const k of Object.keys(grads)) {
        this.sum[k] = size === 1 ? grads[k]! : tf.tidy(() => tf.mul(grads[k]!, size));
        if (size !== 1) grads[k]!.dispose();
      }
    } else {
      for (const k of Object.keys(grads)) {
        const prev = this.sum[k];
        this.sum[k] = tf.tidy(() => (prev ? tf.add(prev, size === 1 ? grads[k]! : tf.mul(grads[k]!, size)) : tf.mul(grads[k]!, size)));
        prev?.dispose();
        grads[k]!.dispose();
      }
    }
    this.weight += size;
  }

  /** The weighted mean; resets the accumulator. The caller disposes the result. */
  takeMean(): tf.NamedTensorMap {
    if (!this.sum) throw new Error('GradAccumulator: no gradients accumulated');
    const out: tf.NamedTensorMap = {};
    const w = this.weight;
    for (const k of Object.keys(this.sum)) {
      out[k] = w === 1 ? this.sum[k]! : tf.tidy(() => tf.div(this.sum![k]!, w));
      if (w !== 1) this.sum[k]!.dispose();
    }
    this.sum = null;
    this.weight = 0;
    return out;
  }

  dispose(): void {
    if (this.sum) for (const t of Object.values(this.sum)) t.dispose();
    this.sum = null;
    this.weight = 0;
  }
}
