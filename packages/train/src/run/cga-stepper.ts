import type * as tf from '@tensorflow/tfjs-core';
import { createCGA } from '@ofq/cga';
import type { NamedParam } from '../optim/adamw.js';

/** CGA's default selection for DeiT (spec §6.2): v, proj, fc1 and fc2 weights of every block. */
export const CGA_DEFAULT_PATTERN = /^blocks\.\d+\.(attn\.v|attn\.proj|mlp\.fc1|mlp\.fc2)\.weight$/;

export interface CGAStepper {
  stepper: { applyGradients(g: tf.NamedTensorMap): void };
  /** Frozen share of the selected weights at the last step (NaN before the first step). */
  frozenFraction(): number;
  dispose(): void;
}

interface QKMaskable {
  setQKGradientMask(mask: ((wqk: tf.Tensor) => tf.Tensor) | null): void;
}

/**
 * Wraps the stage-2 optimizer with @ofq/cga's confidence-guided annealing (spec §6.2): every step, from
 * the pre-step weights, zero the gradients of confident (frozen) entries of the block v/proj/fc1/fc2
 * weights, step, then restore the frozen entries exactly. `includeQK` (decision #2, off by default)
 * also masks the merged W_qk gradient through the model's hook.
 */
export function makeCGAStepper(
  optimizer: tf.Optimizer,
  model: QKMaskable,
  params: NamedParam[],
  o: { bits: number; boundaryRange: number; includeQK: boolean; select?: readonly string[] },
): CGAStepper {
  const cga = createCGA(
    optimizer,
    params.map((p) => ({ name: p.name, variable: p.variable })),
    { bits: o.bits, boundaryRange: o.boundaryRange, includeQK: o.includeQK, qkTarget: o.includeQK ? model : undefined, select: o.select },
  );
  return {
    stepper: cga,
    frozenFraction: () => (cga.lastStats ? cga.frozenFraction : NaN),
    dispose: () => cga.dispose(),
  };
}
