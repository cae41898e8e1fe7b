// State-dict entries of the quantizer state, in the reference's names and layouts.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizerState, WeightQuantizer } from '@ofq/core';
import { LearnableBias, LSQQuantizer, LSQWeightQuantizer, PixelBias } from '@ofq/lsq';
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

/** One piece of a weight quantizer's state (LSQ's step `s`) as a state-dict entry of `shape`. */
function quantizerStateSpec(name: string, s: QuantizerState, shape: number[]): ParamSpec {
  return {
    name, torchShape: shape, kind: s.trainable ? 'parameter' : 'buffer',
    variable: () => s.variable(),
    read: () => {
      const v = s.variable();
      if (!v) throw new Error(`${name}: quantizer state not initialised`);
      return tf.tidy(() => tf.reshape(tf.clone(v), shape));
    },
    write: (t) => s.write(tf.reshape(t, [t.size])),
    toTorch: (t) => tf.reshape(t, shape),
  };
}

/**
 * A weight quantizer's state-dict entries, through the contract: each state piece under `prefixStateful`
 * (LSQ: `<prefix>.s` of `stepShape`). A stateless quantizer (StatsQ) exports the reference's fixed
 * `clip_val` 2 under `prefixStateless`, for parity with its state dicts.
 */
export function weightQuantizerSpec(prefixStateless: string, prefixStateful: string, wq: WeightQuantizer, stepShape: number[]): ParamSpec[] {
  if (wq.state.length === 0) return [constantSpec(`${prefixStateless}.clip_val`, 2)];
  return wq.state.map((s) => quantizerStateSpec(`${prefixStateful}.${s.name}`, s, stepShape));
}
