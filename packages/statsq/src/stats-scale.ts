import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { assertBits } from '@ofq/core';

export interface StatsQOptions {
  /** Bit-width: an integer in [2, 8]. */
  bits: number;
}

/** Smallest scale StatsQ uses: an all-zero channel would otherwise divide by zero (docs/decisions.md #7). */
export const STATSQ_MIN_SCALE = 1e-8;
/** Upper clip edge in units of s: keeps `v = n - 0.5` from rounding (half to even) up to the out-of-grid code n. */
export const STATSQ_CLIP_HIGH = 1 - 1e-6;

/** n = 2^(bits-1), after checking that bits is an integer in [2, 8]. */
export function statsLevels(o: StatsQOptions): number {
  if (o == null || typeof o !== 'object') throw new TypeError('StatsQ options must be an object like { bits: 4 }');
  const bits = assertBits(o.bits, 'StatsQ bits');
  return 2 ** (bits - 1);
}

function assertWeight(w: Tensor, what: string): void {
  if (w == null || typeof (w as Tensor).rank !== 'number') throw new TypeError(`${what}: expected a tf.Tensor`);
  if (w.rank < 1) throw new RangeError(`${what}: expected a tensor of rank >= 1 (channels on the last axis), got a scalar`);
  if (w.dtype !== 'float32') throw new TypeError(`${what}: expected a float32 tensor, got ${w.dtype}`);
}

/**
 * Per-channel StatsQ scale, shape `[lastDim]`: `s_c = 2·mean|w|` over every axis but the last
 * (the output channel in tfjs layouts), floored at 1e-8. Carries no gradient: StatsQ detaches it.
 */
export function statsScale(w: Tensor): Tensor {
  assertWeight(w, 'stats-scale');
  return tf.tidy(() => {
    const axes = Array.from({ length: w.rank - 1 }, (_, i) => i);
    const meanAbs = axes.length === 0 ? tf.abs(w) : tf.mean(tf.abs(w), axes);
    return tf.maximum(tf.mul(meanAbs, 2), STATSQ_MIN_SCALE);
  });
}

/** `v = clip(w/s, -1, 1-1e-6)·n − 0.5` with the scale broadcast on the last axis (shared by the ops below). */
export function preRoundWithScale(w: Tensor, s: Tensor, n: number): Tensor {
  return tf.tidy(() => tf.sub(tf.mul(tf.clipByValue(tf.div(w, s), -1, STATSQ_CLIP_HIGH), n), 0.5));
}

/**
 * StatsQ pre-round values `v = clip(w/s, -1, 1-1e-6)·n − 0.5` (same shape as w), n = 2^(bits-1).
 * The integer code is `round(v)` (half to even); decision thresholds sit at half-integers of v.
 * No gradient (a plain value, e.g. for CGA's confidence mask).
 */
export function statsPreRound(w: Tensor, o: StatsQOptions): Tensor {
  const n = statsLevels(o);
  assertWeight(w, 'statsPreRound');
  return tf.tidy(() => preRoundWithScale(w, statsScale(w), n));
}
