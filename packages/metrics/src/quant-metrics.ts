import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { assertBits } from '@ofq/core';
import { STATSQ_CLIP_HIGH, statsLevels, statsScale } from '@ofq/statsq';

/** The boundary ranges of the OFQ README figure (units of one quantization step). */
export const DEFAULT_BOUNDARY_RANGES: readonly number[] = [0.003, 0.005, 0.007, 0.01];

/**
 * How a tracked weight is quantized. Codes are always compared with the scale current at that step.
 * - `statsq`: per-channel `s = 2·mean|w|`, `v = clip(w/s, -1, 1-1e-6)·n − 0.5`, codes `round(v)` ∈ [−n, n−1].
 * - `lsq`: a per-channel (or scalar) step `s`, `v = w/s`, codes `round(clip(v, Qn, Qp))` ∈ [−2^(b−1), 2^(b−1)−1].
 */
export type WeightQuantizerSpec = { kind: 'statsq'; bits: number } | { kind: 'lsq'; bits: number; step: Tensor };

/** Smallest and largest code of a quantizer. */
export function codeRange(q: WeightQuantizerSpec): [number, number] {
  if (q.kind === 'statsq') {
    const n = statsLevels({ bits: q.bits });
    return [-n, n - 1];
  }
  const n = 2 ** (assertBits(q.bits, 'LSQ bits') - 1);
  return [-n, n - 1];
}

/** Per-channel scale of a weight (shape [lastDim], or the LSQ step as given). Caller disposes. */
export function weightScale(w: Tensor, q: WeightQuantizerSpec): Tensor {
  return q.kind === 'statsq' ? statsScale(w) : q.step.clone();
}

/**
 * Pre-round values v of `w` given its scale `s` (broadcast on the last axis): the codes are `round(v)`
 * (after clipping to the code range for LSQ) and the decision thresholds sit at half-integers of v.
 * Same op order as @ofq/statsq, so the codes agree bit for bit.
 */
export function preRoundWithScale(w: Tensor, s: Tensor, q: WeightQuantizerSpec): Tensor {
  return tf.tidy(() => {
    if (q.kind === 'statsq') {
      const n = statsLevels({ bits: q.bits });
      return tf.sub(tf.mul(tf.clipByValue(tf.div(w, s), -1, STATSQ_CLIP_HIGH), n), 0.5);
    }
    return tf.div(w, s);
  });
}

/** Integer codes from pre-round values. */
export function codesFromPreRound(v: Tensor, q: WeightQuantizerSpec): Tensor {
  return tf.tidy(() => {
    if (q.kind === 'statsq') return tf.round(v);
    const [lo, hi] = codeRange(q);
    return tf.round(tf.clipByValue(v, lo, hi));
  });
}

/** Dequantized value from codes and scale: StatsQ `s·(k+0.5)/n`, LSQ `s·k`. */
export function dequantize(codes: Tensor, s: Tensor, q: WeightQuantizerSpec): Tensor {
  return tf.tidy(() => {
    if (q.kind === 'statsq') return tf.mul(tf.div(tf.add(codes, 0.5), statsLevels({ bits: q.bits })), s);
    return tf.mul(codes, s);
  });
}

/**
 * Distance (in units of one step) from each pre-round value to the nearest internal decision threshold
 * `i + 0.5`, i ∈ [lo, hi−1] for codes in [lo, hi] (StatsQ: i ∈ [−n, n−2], spec §9.3). In [0, 0.5] inside
 * the grid; values beyond the outer thresholds (clipped weights) measure to the outermost one.
 */
export function thresholdDistance(v: Tensor, range: [number, number]): Tensor {
  const [lo, hi] = range;
  return tf.tidy(() => tf.abs(tf.sub(v, tf.add(tf.clipByValue(tf.floor(v), lo, hi - 1), 0.5))));
}

/** Distance to the nearest threshold for a weight, computed with its current scale. */
export function weightThresholdDistance(w: Tensor, q: WeightQuantizerSpec): Tensor {
  return tf.tidy(() => thresholdDistance(preRoundWithScale(w, weightScale(w, q), q), codeRange(q)));
}

/** Fraction of distances ≤ x, for each boundary range x (BR_x occupancy), as a [ranges] tensor. */
export function boundaryOccupancyTensor(dist: Tensor, ranges: readonly number[] = DEFAULT_BOUNDARY_RANGES): Tensor {
  return tf.tidy(() => tf.stack(ranges.map((x) => tf.mean(tf.cast(tf.lessEqual(dist, x), 'float32')))));
}

/** BR_x occupancy of a weight for each x (fraction of entries within ±x of a threshold). */
export function boundaryOccupancy(w: Tensor, q: WeightQuantizerSpec, ranges: readonly number[] = DEFAULT_BOUNDARY_RANGES): number[] {
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
export function weightSQNR(w: Tensor, q: WeightQuantizerSpec): number {
  const t = tf.tidy(() => {
    const s = weightScale(w, q);
    return sqnrTensor(w, dequantize(codesFromPreRound(preRoundWithScale(w, s, q), q), s, q));
  });
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
