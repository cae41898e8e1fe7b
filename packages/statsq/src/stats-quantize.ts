import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { STATSQ_QUANTIZE_KERNEL, customGrad1, hasKernel, type StatsQKernelAttrs } from '@ofq/core';
import { STATSQ_CLIP_HIGH, preRoundWithScale, statsLevels, statsScale, type StatsQOptions } from './stats-scale.js';

/** Forward value of StatsQ: `s·(round(v) + 0.5)/n` (no gradient bookkeeping). */
export function statsQuantizeValue(w: Tensor, n: number): Tensor {
  return tf.tidy(() => {
    const s = statsScale(w);
    // A fused kernel (registered by @ofq/accel on wasm) does the elementwise chain in one sweep; the
    // composite ops below are the definition and the fallback on every other backend.
    if (hasKernel(STATSQ_QUANTIZE_KERNEL)) {
      const attrs: StatsQKernelAttrs = { levels: n, clipHigh: STATSQ_CLIP_HIGH };
      return tf.engine().runKernel(STATSQ_QUANTIZE_KERNEL, { w, scale: s }, attrs as unknown as tf.NamedAttrMap) as Tensor;
    }
    const k = tf.round(preRoundWithScale(w, s, n));
    // (k + 0.5)/n is exact in float32 (n is a power of two), so this order matches the reference bit for bit.
    return tf.mul(tf.div(tf.add(k, 0.5), n), s);
  });
}

/**
 * StatsQ fake-quantization: `s·(round(clip(w/s, -1, 1-1e-6)·n − 0.5) + 0.5)/n`, one scale per index of
 * the last axis (`s = 2·mean|w|` over the other axes, recomputed every call, detached).
 * Gradient: straight-through identity over the whole tensor (no clip mask), nothing reaches s.
 */
export function statsQuantize(w: Tensor, o: StatsQOptions): Tensor {
  const n = statsLevels(o);
  if (w == null || typeof (w as Tensor).rank !== 'number') throw new TypeError('statsQuantize: expected a tf.Tensor');
  const f = customGrad1((a: Tensor) => ({ value: statsQuantizeValue(a, n), gradFunc: (dy: Tensor) => dy }));
  return f(w);
}
