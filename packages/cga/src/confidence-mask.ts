import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { statsLevels, statsPreRound } from '@ofq/statsq';

/**
 * Which decision thresholds count:
 * - `'occupied'` (default, the reference's training loop `cga.py`): thresholds between the lowest and
 *   highest code that actually occurs in the whole tensor, i ∈ [min round(v), max round(v)).
 * - `'all'` (the reference's CGA quantizer): every internal threshold, i ∈ [−n, n−2].
 * They differ only when the extreme codes are unused (e.g. a tiny or constant tensor).
 */
export type ThresholdRange = 'occupied' | 'all';

export interface ConfidenceMaskOptions {
  /** StatsQ bit-width, an integer in [2, 8]. */
  bits: number;
  /** Half-width x of the band around each threshold, in units of one quantization step (reference 0.005). */
  boundaryRange: number;
  thresholdRange?: ThresholdRange;
}

/** Validates a boundary range: the band must be narrower than a step so that at most one threshold is near. */
export function assertBoundaryRange(x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x >= 0.5) {
    throw new RangeError(`boundaryRange must be a number in [0, 0.5) (units of one quantization step), got ${String(x)}`);
  }
  return x;
}

/**
 * CGA's confidence criterion on StatsQ pre-round values `v` (already computed): true where
 * `0.5 − x ≤ v − i ≤ 0.5 + x` for an allowed integer i (near a threshold: stays trainable).
 * Because x < 0.5 the only candidate is i = floor(v), and `v − floor(v)` is exact in float32, so this
 * equals the reference's loop over i bit for bit.
 */
export function maskFromPreRound(v: Tensor, n: number, boundaryRange: number, thresholdRange: ThresholdRange = 'occupied'): Tensor {
  const x = assertBoundaryRange(boundaryRange);
  return tf.tidy(() => {
    const i = tf.floor(v);
    const frac = tf.sub(v, i);
    // Comparisons against float32 scalars, as PyTorch compares a float32 tensor with a Python float.
    const near = tf.logicalAnd(tf.greaterEqual(frac, tf.scalar(0.5 - x)), tf.lessEqual(frac, tf.scalar(0.5 + x)));
    let lo: Tensor | number = -n;
    let hi: Tensor | number = n - 2;
    if (thresholdRange === 'occupied') {
      const codes = tf.round(v);
      lo = tf.min(codes);
      hi = tf.sub(tf.max(codes), 1);
    } else if (thresholdRange !== 'all') {
      throw new RangeError(`thresholdRange must be 'occupied' or 'all', got ${String(thresholdRange)}`);
    }
    return tf.logicalAnd(near, tf.logicalAnd(tf.greaterEqual(i, lo), tf.lessEqual(i, hi)));
  });
}

/**
 * CGA confidence mask of a weight (tfjs layout: channels on the last axis, StatsQ scale per channel,
 * `s = 2·mean|w|` from the weight as it is now). Returns a bool tensor of w's shape:
 * **true = within ±boundaryRange of an internal threshold (low confidence, trainable)**,
 * false = confident (CGA freezes it). No gradient.
 */
export function confidenceMask(w: Tensor, o: ConfidenceMaskOptions): Tensor {
  if (o == null || typeof o !== 'object') throw new TypeError('confidenceMask: options { bits, boundaryRange } are required');
  const n = statsLevels({ bits: o.bits });
  assertBoundaryRange(o.boundaryRange);
  return tf.tidy(() => maskFromPreRound(statsPreRound(w, { bits: o.bits }), n, o.boundaryRange, o.thresholdRange ?? 'occupied'));
}
