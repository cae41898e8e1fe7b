import type * as tf from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { createCGA, toPredicate, type QKGradientMaskTarget } from '@ofq/cga';

export interface CGAStepper {
  stepper: { applyGradients(g: tf.NamedTensorMap): void };
  /** Frozen share of the selected weights at the last step (NaN before the first step). */
  frozenFraction(): number;
  dispose(): void;
}

export interface CGAStepperOptions {
  boundaryRange: number;
  includeQK: boolean;
  /** Which quantized weights to anneal (default: @ofq/cga's, v/proj/fc1/fc2 of every block). */
  select?: Parameters<typeof toPredicate>[0];
}

/**
 * Wraps the stage-2 optimizer with @ofq/cga's confidence-guided annealing (docs/algorithm.md §6.2):
 * every step, from the pre-step weights, zero the gradients of confident (frozen) entries of the selected
 * quantized weights — each measured on the grid of the quantizer its forward pass applies (StatsQ or
 * LSQ) — step, then restore the frozen entries exactly. `includeQK` (docs/decisions.md #2, off by
 * default) also masks the merged W_qk gradient through the model's hook.
 */
export function makeCGAStepper(optimizer: tf.Optimizer, model: QKGradientMaskTarget & { quantizedWeights(): QuantizedWeightRef[] }, o: CGAStepperOptions): CGAStepper {
  const pick = toPredicate(o.select);
  const params = model
    .quantizedWeights()
    .filter((r): r is QuantizedWeightRef & { variable: tf.Variable } => r.variable !== null && pick(r.name))
    .map((r) => ({ name: r.name, variable: r.variable, quantizer: r.quantizer }));
  const cga = createCGA(optimizer, params, {
    boundaryRange: o.boundaryRange,
    select: () => true,
    includeQK: o.includeQK,
    qkTarget: o.includeQK ? model : undefined,
  });
  return {
    stepper: cga,
    frozenFraction: () => (cga.lastStats ? cga.frozenFraction : NaN),
    dispose: () => cga.dispose(),
  };
}
