import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { weightFakeQuant, type WeightQuantizer } from '@ofq/core';

/** The boundary ranges of the OFQ README figure (units of one quantization step). */
export const DEFAULT_BOUNDARY_RANGES: readonly number[] = [0.003, 0.005, 0.007, 0.01];

/**
 * Distance (in units of one step) from each pre-round value to the nearest internal decision threshold
 * `i + 0.5`, i ∈ [lo, hi−1] for codes in [lo, hi] (StatsQ: i ∈ [−n, n−2], docs/algorithm.md §9.3). In [0, 0.5] inside
 * the grid; values beyond the outer thresholds (clipped weights) measure to the outermost one.
 */
export function thresholdDistance(v: Tensor, range: readonly [number, number]): Tensor {
  const [lo, hi] = range;
  return tf.tidy(() => tf.abs(tf.sub(v, tf.add(tf.clipByValue(tf.floor(v), lo, hi - 1), 0.5))));
}

/** Distance to the nearest threshold of `w` under its quantizer (current scale). */
export function weightThresholdDistance(w: Tensor, q: WeightQuantizer): Tensor {
  return tf.tidy(() => thresholdDistance(q.preRound(w), q.codeRange));
}

/** Fraction of distances ≤ x, for each boundary range x (BR_x occupancy), as a [ranges] tensor. */
export function boundaryOccupancyTensor(dist: Tensor, ranges: readonly number[] = DEFAULT_BOUNDARY_RANGES): Tensor {
  return tf.tidy(() => tf.stack(ranges.map((x) => tf.mean(tf.cast(tf.lessEqual(dist, x), 'float32')))));
}

/** BR_x occupancy of a weight for each x (fraction of entries within ±x of a threshold). */
export function boundaryOccupancy(w: Tensor, q: WeightQuantizer, ranges: readonly number[] = DEFAULT_BOUNDARY_RANGES): number[] {
  const t = tf.tidy(() => boundaryOccupancyTensor(weightThresholdDistance(w, q), ranges));
  const out = Array.from(t.dataSync());
  t.dispose();
  return out;
}

/** SQNR in dB as a scalar tensor: 10·log10(Σw² / Σ(w − wq)²) (Infinity when wq == w). */
export function sqnrTensor(w: Tensor, wq: Tensor): Tensor {
  return tf.tidy(() => {
    const signal = tf.sum(tf.square(w));
    const noise = tf.sum(tf.square(tf.sub(w, wq)));
    return tf.mul(tf.div(tf.log(tf.div(signal, noise)), Math.LN10), 10);
  });
}

/** Signal-to-quantization-noise ratio of a weight under its quantizer, in dB. */
export function weightSQNR(w: Tensor, q: WeightQuantizer): number {
  const t = tf.tidy(() => sqnrTensor(w, weightFakeQuant(q, w)));
  const out = t.dataSync()[0];
  t.dispose();
  return out;
}

/**
 * Gradient-direction flips [reconstructed metric, spec §9.4]: per element, whether sign(g_t) differs from
 * sign(g_{t−1}) with both non-zero, counted separately inside and outside a band (e.g. BR_x).
 * Owns the previous signs; `dispose()` releases them.
 */
export class GradientFlipCounter {
  private prevSign: Tensor | null = null;

  /**
   * Feeds this step's gradient (any shape, fixed across calls) and the in-band mask (bool, same shape).
   * Returns a [4] tensor: flips inside, eligible inside, flips outside, eligible outside (caller disposes).
   * The first call has nothing to compare with and returns zeros.
   */
  update(grad: Tensor, inBand: Tensor): Tensor {
    const sign = tf.sign(grad);
    if (!this.prevSign) {
      this.prevSign = sign;
      return tf.zeros([4]);
    }
    const out = tf.tidy(() => {
      const eligible = tf.logicalAnd(tf.notEqual(sign, 0), tf.notEqual(this.prevSign!, 0));
      const flip = tf.logicalAnd(eligible, tf.notEqual(sign, this.prevSign!));
      const outBand = tf.logicalNot(inBand);
      const count = (a: Tensor, b: Tensor) => tf.sum(tf.cast(tf.logicalAnd(a, b), 'float32'));
      return tf.stack([count(flip, inBand), count(eligible, inBand), count(flip, outBand), count(eligible, outBand)]);
    });
    this.prevSign.dispose();
    this.prevSign = sign;
    return out;
  }

  dispose(): void {
    this.prevSign?.dispose();
    this.prevSign = null;
  }
}
