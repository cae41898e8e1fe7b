// The LSQ weight step constraint (docs/decisions.md #19): 'abs' (default) keeps a step that crossed zero
// alive as |s|; 'clamp' (the reference) floors it at 1e-5, which zeroes its channel.
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { LSQWeightQuantizer, lsqQuantize, LSQ_MIN_STEP } from './index.js';

/** Value and gradients w.r.t. the weight and the step of `sum(quantize(w)·G)`. */
function valueAndGrads(q: LSQWeightQuantizer, w: tf.Tensor, G: tf.Tensor) {
  const step = q.step!;
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(q.quantize(w), G)) as tf.Scalar, [step]);
  const dw = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(q.quantize(x), G)))(w);
  const outT = q.quantize(w);
  const out = { out: Array.from(outT.dataSync()), value: value.dataSync()[0]!, ds: Array.from(grads[step.name]!.dataSync()), dw: Array.from(dw.dataSync()) };
  tf.dispose([outT, value, dw, ...Object.values(grads)]);
  return out;
}

function make(stepConstraint: 'abs' | 'clamp' | undefined, steps: number[]): LSQWeightQuantizer {
  const q = new LSQWeightQuantizer({ bits: 4, stepConstraint });
  q.setStep(steps);
  return q;
}

for (const backend of TEST_BACKENDS) {
  describe(`LSQ weight step constraint on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it("default is 'abs'; a bad constraint is rejected by name", () => {
      expect(new LSQWeightQuantizer({ bits: 4 }).stepConstraint).toBe('abs');
      expect(() => new LSQWeightQuantizer({ bits: 4, stepConstraint: 'relu' as never })).toThrow(/stepConstraint must be 'abs' or 'clamp', got "relu"/);
      const x = tf.ones([2, 2]);
      expect(() => lsqQuantize(x, tf.ones([2]), { bits: 4, granularity: 'channel', gradScale: 1, stepConstraint: 'x' as never })).toThrow(/stepConstraint/);
      x.dispose();
    });

    it("'abs' and 'clamp' agree exactly (values, dL/dw, dL/ds) while every step is at least 1e-5", () => {
      fc.assert(
        fc.property(
          fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: 12, maxLength: 12 }),
          fc.array(fc.float({ min: Math.fround(1e-4), max: 1, noNaN: true }), { minLength: 3, maxLength: 3 }),
          fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: 12, maxLength: 12 }),
          (wv, s, gv) => {
            expectNoLeaks(() => {
              const w = tf.tensor2d(wv, [4, 3]);
              const G = tf.tensor2d(gv, [4, 3]);
              const qa = make('abs', s);
              const qc = make('clamp', s);
              expect(valueAndGrads(qa, w, G)).toEqual(valueAndGrads(qc, w, G));
              tf.dispose([w, G]);
              qa.dispose();
              qc.dispose();
            });
          },
        ),
        { numRuns: 20 },
      );
    });

    it("a negative step: 'abs' quantizes with |s| and flips dL/ds; 'clamp' zeroes the channel at 1e-5", () => {
      expectNoLeaks(() => {
        const w = tf.tensor2d([0.3, -0.2, 0.05, 0.11, -0.4, 0.25, 0.02, -0.07], [4, 2]);
        const G = tf.tensor2d([0.5, -1, 0.25, 0.75, -0.5, 1, 0.1, -0.3], [4, 2]);
        const [qn, qp] = [make('abs', [-0.1, 0.05]), make('abs', [0.1, 0.05])];
        const neg = valueAndGrads(qn, w, G);
        const pos = valueAndGrads(qp, w, G);
        qn.dispose();
        qp.dispose();
        expect(neg.out).toEqual(pos.out);
        expect(neg.dw).toEqual(pos.dw);
        expect(neg.ds[0]).toBeCloseTo(-pos.ds[0]!, 6);
        expect(neg.ds[1]).toBeCloseTo(pos.ds[1]!, 6);
        const qc = make('clamp', [-0.1, 0.05]);
        const clamped = valueAndGrads(qc, w, G);
        const ch0 = clamped.out.filter((_, i) => i % 2 === 0);
        for (const v of ch0) expect(Math.abs(v)).toBeLessThanOrEqual(8 * LSQ_MIN_STEP * 1.0001); // ±Qp·1e-5: the channel is gone
        const first = (q: LSQWeightQuantizer) => tf.tidy(() => q.scale(w).dataSync()[0]!);
        expect(first(qc)).toBeCloseTo(LSQ_MIN_STEP, 9);
        const qa = make('abs', [-0.1, 0.05]);
        expect(first(qa)).toBeCloseTo(0.1, 7);
        tf.dispose([w, G]);
        qc.dispose();
        qa.dispose();
      });
    });
  });
}
