// State-dict entries of the quantizer state, in the reference's names and layouts.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { WeightQuantizer } from '@ofq/core';
import { type LearnableBias, type LSQQuantizer, LSQWeightQuantizer, type PixelBias } from '@ofq/lsq';
import { constantSpec, directSpec, type ParamSpec } from '../params.js';

/** An LSQ step `[...]` (`s` in the reference); `shape` is known before the lazy init creates it. */
export function lsqStepSpec(name: string, q: LSQQuantizer | LSQWeightQuantizer, shape: number[]): ParamSpec {
  return {
    name, torchShape: shape, kind: 'parameter',
    variable: () => q.step,
    read: () => {
      if (!q.step) throw new Error('LSQ step not initialised (run initActivationSteps or a first forward)');
      const step = q.step;
      return tf.tidy(() => tf.reshape(tf.clone(step), shape));
    },
    write: (t) => q.setStep(tf.reshape(t, shape)),
    toTorch: (t) => tf.reshape(t, shape),
  };
}

/** A learnable shift (`move_*.bias`). */
export function shiftSpec(name: string, b: LearnableBias): ParamSpec {
  return directSpec(name, b.variable);
}

/** A per-pixel image shift: `[H, W]` here, flat `[H·W]` in the reference (`LearnableBias4img`). */
export function pixelShiftSpec(name: string, b: PixelBias): ParamSpec {
  const v = b.variable;
  return {
    name, torchShape: [v.size], kind: 'parameter',
    variable: () => v,
    read: () => tf.reshape(v, [v.size]),
    toTorch: (t) => tf.reshape(t, [t.size]),
    write: (t) => v.assign(tf.reshape(t, v.shape)),
  };
}

/** The image quantizer's `signed` buffer (1 once a negative input has been seen). */
export function signedBufferSpec(name: string, q: LSQQuantizer): ParamSpec {
  return {
    name, torchShape: [1], kind: 'buffer',
    variable: () => null,
    read: () => tf.tensor1d([q.signed ? 1 : 0]),
    toTorch: (t) => tf.clone(t),
    write: (t: Tensor) => q.setSigned(t.dataSync()[0] > 0.5),
  };
}

/** StatsQ has no state (the reference's fixed `clip_val` 2 is exported for parity); LSQ weights have a step. */
export function weightQuantizerSpec(prefixStatsQ: string, prefixLSQ: string, wq: WeightQuantizer, stepShape: number[]): ParamSpec {
  if (wq instanceof LSQWeightQuantizer) return lsqStepSpec(`${prefixLSQ}.s`, wq, stepShape);
  return constantSpec(`${prefixStatsQ}.clip_val`, 2);
}
