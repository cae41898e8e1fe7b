import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeights } from '@ofq/core';
import { preRoundWithScale, statsLevels, statsScale, type StatsQOptions } from './stats-scale.js';

/**
 * Integer form of StatsQ: codes `k ∈ [-n, n-1]` (int32, same shape as w) and per-channel scales, with
 * `value = scale[c]·(k + 0.5)/n` along the last axis. `dequantizeWeights` from @ofq/core rebuilds the
 * exact values `statsQuantize` produces.
 */
export function statsCodes(w: Tensor, o: StatsQOptions): QuantizedWeights {
  const n = statsLevels(o);
  const [codesT, scalesT] = tf.tidy(() => {
    const s = statsScale(w);
    return [tf.cast(tf.round(preRoundWithScale(w, s, n)), 'int32'), s];
  });
  const codes = new Int32Array(codesT.dataSync());
  const scales = new Float32Array(scalesT.dataSync());
  tf.dispose([codesT, scalesT]);
  return {
    kind: 'statsq',
    codes,
    scales,
    offset: 0.5,
    divisor: n,
    bits: o.bits,
    codeRange: [-n, n - 1],
    shape: w.shape.slice(),
    channelAxis: -1,
  };
}
