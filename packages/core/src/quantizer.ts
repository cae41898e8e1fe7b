import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';

/**
 * Integer form of a quantized weight tensor, ready for export:
 * `value = scale[channel] * (codes + offset) / divisor` along `channelAxis`.
 * StatsQ uses offset 0.5 and divisor n = 2^(bits-1); LSQ uses offset 0 and divisor 1.
 */
export interface QuantizedWeights {
  /** Which quantizer produced it (`WeightQuantizer.kind`). */
  kind: string;
  /** Integer codes, row-major, same shape as the float tensor. */
  codes: Int32Array;
  /** One scale per index of `channelAxis` (the last axis in tfjs layouts). */
  scales: Float32Array;
  /** Added to every code before scaling (0.5 for StatsQ's mid-rise grid, 0 for LSQ). */
  offset: number;
  /** Codes are divided by this before the scale is applied (n for StatsQ, 1 for LSQ). */
  divisor: number;
  bits: number;
  /** Smallest and largest legal code. */
  codeRange: [number, number];
  shape: number[];
  channelAxis: number;
}

/** Rebuilds the float values a `QuantizedWeights` record stands for (for checks and export tools). */
export function dequantizeWeights(q: QuantizedWeights): Float32Array {
  const out = new Float32Array(q.codes.length);
  const axis = q.channelAxis < 0 ? q.shape.length + q.channelAxis : q.channelAxis;
  const inner = q.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const channels = q.shape[axis];
  for (let i = 0; i < out.length; i++) {
    const c = Math.floor(i / inner) % channels;
    out[i] = (q.scales[c] * (q.codes[i] + q.offset)) / q.divisor;
  }
  return out;
}

/**
 * A named piece of a quantizer's state (LSQ's learnable step `s`, for instance), so that state dicts,
 * checkpoints and optimizers can reach it without knowing the quantizer's class.
 */
export interface QuantizerState {
  /** Short name, unique within the quantizer (e.g. `s`). */
  readonly name: string;
  /** Whether the optimizer should train it. */
  readonly trainable: boolean;
  /** The variable, or null while lazily uninitialised. */
  variable(): Variable | null;
  /** Overwrites (or creates) the state from a tensor of the state's shape. */
  write(values: Tensor): void;
}

/**
 * The weight-quantizer contract every @ofq consumer (CGA, metrics, model state dicts, QKR, export) uses.
 *
 * A quantizer maps a float weight `w` (tfjs layout: output channels on the last axis) to codes on an
 * integer grid. Its **pre-round values** `v = preRound(w)` are in code units: the code of an entry is
 * `round(clip(v, lo, hi))` (half to even) with `[lo, hi] = codeRange`, and the decision thresholds sit at
 * the half integers `i + 0.5`, `i ∈ [lo, hi − 1]`. The fake-quantized value is
 * `scale[c] · (code + offset) / divisor`.
 *
 * Implementations must not keep references to the tensors they are given; every returned tensor belongs
 * to the caller. Only `quantize` carries a gradient.
 */
export interface WeightQuantizer {
  /** Identifies the grid family (`'statsq'`, `'lsq'`, or a third party's own); recorded in runs. */
  readonly kind: string;
  readonly name: string;
  readonly bits: number;
  /** Smallest and largest code. */
  readonly codeRange: readonly [number, number];
  /** See the class comment: `value = scale · (code + offset) / divisor`. */
  readonly offset: number;
  readonly divisor: number;
  /** Per-channel scale of `w` as it is now, shape `[lastDim]` (no gradient). */
  scale(w: Tensor): Tensor;
  /** Pre-round values in code units, shape of `w` (no gradient). */
  preRound(w: Tensor): Tensor;
  /** Fake-quantized weight (same shape), differentiable with the quantizer's straight-through estimator. */
  quantize(w: Tensor): Tensor;
  /** Integer codes and per-channel scales of `w`, computed now (for export). */
  codes(w: Tensor): QuantizedWeights;
  /** The quantizer's own state (empty for stateless quantizers such as StatsQ). */
  readonly state: readonly QuantizerState[];
  /** Releases every tensor the quantizer owns. */
  dispose(): void;
}

/**
 * A quantized weight of a model, named, with the quantizer that is actually applied to it. Models list
 * these (`quantizedWeights()`), and CGA, the metrics and export consume them, so every consumer sees the
 * grid the forward pass uses.
 */
export interface QuantizedWeightRef {
  /** Display name, e.g. `blocks.0.mlp.fc1.weight`, or `blocks.0.attn.qk` for QKR's merged W_qk. */
  readonly name: string;
  readonly quantizer: WeightQuantizer;
  /**
   * The float weight as the quantizer receives it (tfjs layout, channels last), as a new tensor the caller
   * disposes. Derived weights (QKR's merged W_qk, a q/k/v block of a fused qkv kernel) are recomputed at
   * every call.
   */
  read(): Tensor;
  /** The variable behind it when the weight is one (CGA freezes entries of it), else null. */
  readonly variable: Variable | null;
}

/** Integer codes of `w` under `q` as a float32 tensor: `round(clip(preRound(w), lo, hi))`. No gradient. */
export function weightCodes(q: WeightQuantizer, w: Tensor): Tensor {
  return tf.tidy(() => tf.round(tf.clipByValue(q.preRound(w), q.codeRange[0], q.codeRange[1])));
}

/**
 * The value codes stand for under `q`, with `scale` broadcast on the last axis. No gradient.
 * `(k + offset)/divisor` first: exact in float32 for StatsQ's power-of-two divisor, so the result equals
 * the quantizers' own forward values bit for bit.
 */
export function weightFromCodes(q: WeightQuantizer, codes: Tensor, scale: Tensor): Tensor {
  return tf.tidy(() => tf.mul(tf.div(tf.add(codes, q.offset), q.divisor), scale));
}

/** Fake-quantized value of `w` under `q` without a gradient (what the forward pass uses). */
export function weightFakeQuant(q: WeightQuantizer, w: Tensor): Tensor {
  return tf.tidy(() => weightFromCodes(q, weightCodes(q, w), q.scale(w)));
}

/** The trainable variables among a quantizer's state (e.g. to hand to an optimizer). */
export function quantizerVariables(q: WeightQuantizer): Variable[] {
  return q.state.filter((s) => s.trainable).flatMap((s) => s.variable() ?? []);
}

/** An activation quantizer with (possibly learnable) state, such as an LSQ step. */
export interface ActivationQuantizer {
  readonly name: string;
  readonly bits: number;
  /** True once the data-dependent state (e.g. the LSQ step) has been initialised. */
  readonly initialized: boolean;
  /** Initialise the data-dependent state from a first batch (no gradient). */
  initFrom(x: Tensor): void;
  /** Fake-quantized activation with the quantizer's straight-through gradients. */
  apply(x: Tensor): Tensor;
  /** Release every tensor/variable the quantizer owns. */
  dispose(): void;
}
