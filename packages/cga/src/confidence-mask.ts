import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { WeightQuantizer } from '@ofq/core';

/**
 * Which decision thresholds count:
 * - `'occupied'` (default, the reference's training loop `cga.py`): thresholds between the lowest and
 *   highest code that actually occurs in the whole tensor, i ∈ [min round(v), max round(v)).
 * - `'all'` (the reference's CGA quantizer): every internal threshold, i ∈ [lo, hi − 1] for codes in
 *   [lo, hi] (StatsQ: [−n, n−2]).
 * They differ only when the extreme codes are unused (e.g. a tiny or constant tensor).
 */
export type ThresholdRange = 'occupied' | 'all';

export interface ConfidenceMaskOptions {
  /** The quantizer applied to the weight: its pre-round values and code range define the thresholds. */
  quantizer: WeightQuantizer;
  /** Half-width x of the band around each threshold, in units of one quantization step (reference 0.005). */
  boundaryRange: number;
  thresholdRange?: ThresholdRange;
}

/** Checks that a value implements the parts of the `WeightQuantizer` contract CGA uses. */
export function assertQuantizer(q: unknown, what: string): asserts q is WeightQuantizer {
  const w = q as Partial<WeightQuantizer> | null;
  if (!w || typeof w.preRound !== 'function' || !Array.isArray(w.codeRange) || typeof w.bits !== 'number') {
    throw new TypeError(`${what}: quantizer must implement WeightQuantizer (preRound, codeRange, bits), e.g. new StatsQuantizer({ bits: 2 }) from @ofq/statsq`);
  }
}

/** Validates a boundary range: the band must be narrower than a step so that at most one threshold is near. */
export function assertBoundaryRange(x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x >= 0.5) {
    throw new RangeError(`boundaryRange must be a number in [0, 0.5) (units of one quantization step), got ${String(x)}`);
  }
  return x;
}

/**
 * CGA's confidence criterion on pre-round values `v` in code units (already computed, codes in
 * `codeRange`): true where `0.5 − x ≤ v − i ≤ 0.5 + x` for an allowed integer i (near a threshold: stays
 * trainable). Because x < 0.5 the only candidate is i = floor(v), and `v − floor(v)` is exact in float32,
 * so this equals the reference's loop over i bit for bit.
 */
export function maskFromPreRound(v: Tensor, codeRange: readonly [number, number], boundaryRange: number, thresholdRange: ThresholdRange = 'occupied'): Tensor {
  const x = assertBoundaryRange(boundaryRange);
  return tf.tidy(() => {
    const i = tf.floor(v);
    const frac = tf.sub(v, i);
    // Comparisons against float32 scalars, as PyTorch compares a float32 tensor with a Python float.
    const near = tf.logicalAnd(tf.greaterEqual(frac, tf.scalar(0.5 - x)), tf.lessEqual(frac, tf.scalar(0.5 + x)));
    let lo: Tensor | number = codeRange[0];
    let hi: Tensor | number = codeRange[1] - 1;
    if (thresholdRange === 'occupied') {
      const codes = tf.round(tf.clipByValue(v, codeRange[0], codeRange[1]));
      lo = tf.min(codes);
      hi = tf.sub(tf.max(codes), 1);
    } else if (thresholdRange !== 'all') {
      throw new RangeError(`thresholdRange must be 'occupied' or 'all', got ${String(thresholdRange)}`);
    }
    return tf.logicalAnd(near, tf.logicalAnd(tf.greaterEqual(i, lo), tf.lessEqual(i, hi)));
  });
}

/**
 * CGA confidence mask of a weight under its quantizer (tfjs layout: channels on the last axis; the scale
 * is the quantizer's, from the weight as it is now: StatsQ's `2·mean|w|`, LSQ's learned step). Returns a
 * bool tensor of w's shape:
 * **true = within ±boundaryRange of an internal threshold (low confidence, trainable)**,
 * false = confident (CGA freezes it). No gradient.
 */
export function confidenceMask(w: Tensor, o: ConfidenceMaskOptions): Tensor {
  if (o == null || typeof o !== 'object') throw new TypeError('confidenceMask: options { quantizer, boundaryRange } are required');
  assertQuantizer(o.quantizer, 'confidenceMask');
  assertBoundaryRange(o.boundaryRange);
  const q = o.quantizer;
  return tf.tidy(() => maskFromPreRound(q.preRound(w), q.codeRange, o.boundaryRange, o.thresholdRange ?? 'occupied'));
}
