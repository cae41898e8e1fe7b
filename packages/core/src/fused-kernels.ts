// Optional fused kernels. A library op (e.g. LSQ fake-quantization) is a chain of elementwise tfjs
// ops; a backend-specific package (@ofq/accel) may register one kernel doing the whole chain in a
// single pass. The op then calls it through `tf.engine().runKernel` when the active backend has it,
// and falls back to the plain composite ops everywhere else (webgl, tfjs-node, no accel).
import { getBackend, getKernel } from '@tensorflow/tfjs-core';

/**
 * LSQ forward: `y = s·round_half_even(clamp(x/s, qn, qp))`, elementwise, `s` broadcast along `axis`.
 * Inputs `{ x, step }` (float32; `step` 1-D with `x.shape[axis]` elements, or 1 element when axis = -1).
 * Attributes {@link LSQKernelAttrs}. Output: float32, the shape of x.
 */
export const LSQ_QUANTIZE_KERNEL = 'OfqLsqQuantize';

/**
 * LSQ backward. Inputs `{ dy, x, step }`; attributes {@link LSQKernelAttrs}. Outputs
 * `[dx, dStepSum]`: `dx = dy` where `qn ≤ x/s ≤ qp` (inclusive) else 0, and, per step,
 * `dStepSum = Σ dy·q − [inside]·dy·x/s` over the elements sharing it (q = the rounded clamped
 * ratio): LSQ's step gradient before the gradient scale. The composite fallback in @ofq/lsq is the
 * definition; kernels must match it to float32 precision.
 */
export const LSQ_QUANTIZE_GRAD_KERNEL = 'OfqLsqQuantizeGrad';

export interface LSQKernelAttrs {
  /** Lower clamp (integer, e.g. -2 for signed 2-bit). */
  qn: number;
  /** Upper clamp (integer). */
  qp: number;
  /** Axis of x the step runs along; -1: one step for the whole tensor. */
  axis: number;
}

/**
 * StatsQ forward: `y = s·(round_half_even(clip(w/s, −1, clipHigh)·n − 0.5) + 0.5)/n`, elementwise,
 * every op in float32 and in this order (so a kernel gives the composite's bits). Inputs `{ w, scale }`
 * (float32; `scale` 1-D with `w`'s last dimension, the per-channel StatsQ scale already floored).
 * Attributes {@link StatsQKernelAttrs}. Output: float32, the shape of w. The composite in @ofq/statsq
 * is the definition.
 */
export const STATSQ_QUANTIZE_KERNEL = 'OfqStatsQuantize';

export interface StatsQKernelAttrs {
  /** n = 2^(bits−1): the number of levels on each side of zero. */
  levels: number;
  /** Upper clip edge in units of s (just below 1, so the top code stays in the grid). */
  clipHigh: number;
}

/** Whether the active backend has a kernel registered under `name` (never initialises a backend). */
export function hasKernel(name: string): boolean {
  const backend = getBackend();
  return backend != null && getKernel(name, backend) != null;
}
