import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LSQ_QUANTIZE_GRAD_KERNEL, LSQ_QUANTIZE_KERNEL, hasKernel, type LSQKernelAttrs } from '@ofq/core';
import { LSQ_MIN_STEP, assertGranularity, lsqRange, sharedAxes, stepAxis, type LSQGranularity } from './lsq-range.js';

export interface LSQQuantizeOptions {
  bits: number;
  /** `[0, 2^b-1]` instead of the signed `[-2^(b-1), 2^(b-1)-1]`. */
  unsigned?: boolean;
  granularity: LSQGranularity;
  /** LSQ's gradient scale g multiplying dL/ds, normally `1/sqrt(Qp·count)`. */
  gradScale: number;
  /**
   * How the learnable step is kept positive (see `LSQStepConstraint`): 'clamp' (default here, the
   * reference) uses `max(s, 1e-5)`; 'abs' uses `max(|s|, 1e-5)` with `dL/ds = sign(s)·dL/d|s|`.
   */
  stepConstraint?: LSQStepConstraint;
}

/**
 * 'clamp': the OFQ reference's `max(s, 1e-5)`: a step pushed below zero sits at 1e-5 and every weight
 * of its channel clips to ±Qp·1e-5 (the channel is silently zeroed). 'abs': the step used is `|s|`
 * (floored at 1e-5), so a step crossing zero keeps its magnitude and its gradient, as LSQ codes that
 * take `s.abs()` before the floor do. Identical to 'clamp' wherever `s ≥ 1e-5` (docs/decisions.md #19).
 */
export type LSQStepConstraint = 'clamp' | 'abs';

type TwoInputGrad = (
  x: Tensor,
  s: Tensor,
  save: (t: Tensor[]) => void,
) => { value: Tensor; gradFunc: (dy: Tensor, saved: Tensor[]) => Tensor[] };

function customGrad2(f: TwoInputGrad): (x: Tensor, s: Tensor) => Tensor {
  return tf.customGrad(f as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: Tensor, s: Tensor) => Tensor;
}

/**
 * LSQ fake-quantization (Esser et al. 2020) as the OFQ reference computes it:
 * `s' = max(s, 1e-5)`, `x̂ = s'·round(clamp(x/s', Qn, Qp))` (round half to even).
 * Gradients: `dx = dy` where `Qn ≤ x/s' ≤ Qp` (inclusive), else 0;
 * `ds = g·Σ dy·(round(x/s') − x/s')` inside, `g·Σ dy·Qn` below, `g·Σ dy·Qp` above (the clip at 1e-5 passes it).
 * `step` has shape `[N]` ('token': axis -2), `[C]` ('channel': axis -1) or one element ('tensor').
 * Non-finite values are not checked here (hot path): ±Inf inputs clip to `Qp·s'` / `Qn·s'`; what a
 * NaN input or a NaN step gives depends on the backend's clamp (NaN on cpu), so treat it as garbage.
 * `LSQQuantizer` refuses non-finite data at its initialisation and non-finite steps in `setStep`.
 */
export function lsqQuantize(x: Tensor, step: Tensor, o: LSQQuantizeOptions): Tensor {
  if (o == null || typeof o !== 'object') throw new TypeError('lsqQuantize: options { bits, granularity, gradScale } are required');
  const { qn, qp } = lsqRange(o.bits, o.unsigned ?? false);
  const granularity = assertGranularity(o.granularity);
  const g = o.gradScale;
  const constraint = o.stepConstraint ?? 'clamp';
  if (constraint !== 'clamp' && constraint !== 'abs') {
    throw new RangeError(`lsqQuantize: stepConstraint must be 'clamp' or 'abs', got ${JSON.stringify(constraint)}`);
  }
  const useAbs = constraint === 'abs';
  if (typeof g !== 'number' || !Number.isFinite(g) || g <= 0) {
    throw new RangeError(`lsqQuantize: gradScale must be a positive finite number, got ${String(g)}`);
  }
  if (x == null || step == null || typeof x.rank !== 'number' || typeof step.rank !== 'number') {
    throw new TypeError('lsqQuantize: x and step must be tf.Tensors');
  }
  const axis = stepAxis(granularity, x.rank, 'lsq-quantize');
  const expected = axis < 0 ? 1 : x.shape[axis];
  if (step.size !== expected || (axis >= 0 && step.rank !== 1)) {
    throw new RangeError(
      `lsqQuantize: '${granularity}' step for input [${x.shape}] must have ${axis < 0 ? 'one element' : `shape [${expected}]`}, got [${step.shape}]`,
    );
  }
  // Shape that broadcasts the step against x.
  const bshape = axis < 0 ? [] : axis === x.rank - 1 ? [expected] : [expected, 1];
  const reduceAxes = sharedAxes(granularity, x.rank, 'lsq-quantize');
  const stepShape = step.shape.slice();

  // Forward step as PyTorch's grad_scale computes it: (s − s·g) + s·g, then (|·| and) clipped at 1e-5.
  const forwardStep = (s: Tensor) => {
    const sg = tf.mul(s, g);
    const scaled = tf.add(tf.sub(s, sg), sg);
    return tf.maximum(useAbs ? tf.abs(scaled) : scaled, LSQ_MIN_STEP);
  };
  // d|s|/ds: −1 where s < 0, else 1 (at 0 the floor is active and either sign is a subgradient).
  const chain = (ds: Tensor, s: Tensor) => (useAbs ? tf.where(tf.less(s, 0), tf.neg(ds), ds) : ds);

  // A fused kernel (registered by @ofq/accel on wasm/cpu) does each pass in one sweep; the composite
  // ops below are the definition and the fallback on every other backend. Looked up per pass, so the
  // backward pass stays correct if the kernels are (un)registered in between.
  const attrs: LSQKernelAttrs = { qn, qp, axis };
  const kernelAttrs = attrs as unknown as tf.NamedAttrMap;

  const f = customGrad2((xIn, sIn, save) => {
    const value = tf.tidy(() => {
      if (hasKernel(LSQ_QUANTIZE_KERNEL)) {
        const sp = tf.reshape(forwardStep(sIn), [-1]);
        return tf.engine().runKernel(LSQ_QUANTIZE_KERNEL, { x: xIn, step: sp }, kernelAttrs) as Tensor;
      }
      const sp = forwardStep(tf.reshape(sIn, bshape));
      return tf.mul(tf.round(tf.clipByValue(tf.div(xIn, sp), qn, qp)), sp);
    });
    save([xIn, sIn]);
    return {
      value,
      // tidy: the temporaries are freed per node, not at the end of the whole backward pass (the
      // difference between fitting and overflowing the wasm heap for a quantized DeiT-Tiny at batch 8).
      gradFunc: (dy, [xs, ss]) => tf.tidy(() => {
        if (hasKernel(LSQ_QUANTIZE_GRAD_KERNEL)) {
          const sp = tf.reshape(forwardStep(ss), [-1]);
          const [dx, dStepSum] = tf.engine().runKernel(LSQ_QUANTIZE_GRAD_KERNEL, { dy, x: xs, step: sp }, kernelAttrs) as Tensor[];
          return [dx, chain(tf.reshape(tf.mul(dStepSum, g), stepShape), ss)];
        }
        const sp = forwardStep(tf.reshape(ss, bshape));
        const ratio = tf.div(xs, sp);
        const inside = tf.cast(tf.logicalAnd(tf.greaterEqual(ratio, qn), tf.lessEqual(ratio, qp)), 'float32');
        const q = tf.round(tf.clipByValue(ratio, qn, qp));
        // Autograd of x̂ = q·s', q = round_ste(clamp(x/s')): the upstream of x/s' is dy·s'·mask.
        const gIn = tf.mul(tf.mul(dy, sp), inside);
        const dx = tf.div(gIn, sp);
        const viaProduct = tf.mul(dy, q);
        const viaRatio = tf.neg(tf.div(tf.mul(gIn, xs), tf.mul(sp, sp)));
        const sumShared = (t: Tensor) => (reduceAxes.length ? tf.sum(t, reduceAxes) : t);
        const ds = tf.reshape(tf.mul(tf.add(sumShared(viaProduct), sumShared(viaRatio)), g), stepShape);
        return [dx, chain(ds, ss)];
      }),
    };
  });
  return f(x, step);
}
