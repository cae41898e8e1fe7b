import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * Integer form of a quantized weight tensor, ready for export:
 * `value = scale[channel] * (codes + offset) / levelsDivisor` along `channelAxis`.
 * StatsQ uses offset 0.5 and divisor n = 2^(bits-1); LSQ uses offset 0 and divisor 1.
 */
export interface QuantizedWeights {
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
 * A weight quantizer: fake-quantizes a weight with a straight-through gradient, and exports codes.
 * Implementations must not keep references to the tensors they are given.
 */
export interface WeightQuantizer {
  readonly name: string;
  readonly bits: number;
  /** Fake-quantized weight (same shape), differentiable with a straight-through estimator. */
  quantize(w: Tensor): Tensor;
  /** Integer codes and per-channel scales of `w`, computed now. */
  codes(w: Tensor): QuantizedWeights;
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
