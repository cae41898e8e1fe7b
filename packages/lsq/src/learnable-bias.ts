import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

function assertSize(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new RangeError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Learnable shift (reference `LearnableBias`): a trainable vector initialised to zeros and added along
 * the last axis. OFQ wraps most activation quantizers as `x → x + b_before → LSQ → + b_after`.
 */
export class LearnableBias {
  readonly name: string;
  readonly size: number;
  readonly variable: tf.Variable;

  constructor(size: number, name?: string) {
    this.size = assertSize(size, 'LearnableBias size');
    this.name = name ?? `learnable-bias-${size}`;
    this.variable = tf.tidy(() => tf.variable(tf.zeros([size]), true));
  }

  /** `x + b`, broadcast over every leading axis. */
  apply(x: Tensor): Tensor {
    const last = x.shape[x.rank - 1];
    if (x.rank < 1 || last !== this.size) {
      throw new RangeError(`${this.name}: input [${x.shape}] must have ${this.size} features on its last axis`);
    }
    return tf.add(x, this.variable);
  }

  dispose(): void {
    this.variable.dispose();
  }
}

/**
 * Per-pixel learnable image shift (reference `LearnableBias4img`, sized from the actual image, decision
 * #12): an `[H, W]` zero-initialised map added to an NHWC image, shared across batch and channels.
 */
export class PixelBias {
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly variable: tf.Variable;

  constructor(height: number, width: number, name?: string) {
    this.height = assertSize(height, 'PixelBias height');
    this.width = assertSize(width, 'PixelBias width');
    this.name = name ?? `pixel-bias-${height}x${width}`;
    this.variable = tf.tidy(() => tf.variable(tf.zeros([height, width]), true));
  }

  /** `x + b[h, w]` for NHWC `x`. */
  apply(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.height || x.shape[2] !== this.width) {
      throw new RangeError(`${this.name}: expected an NHWC image [B, ${this.height}, ${this.width}, C], got [${x.shape}]`);
    }
    return tf.add(x, tf.reshape(this.variable, [1, this.height, this.width, 1]));
  }

  dispose(): void {
    this.variable.dispose();
  }
}
