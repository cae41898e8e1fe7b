// CGA consumes only the WeightQuantizer contract: LSQ weights are masked by LSQ thresholds, and a
// quantizer written here (FixedStepQuantizer) plugs in as well.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FixedStepQuantizer, TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { LSQWeightQuantizer } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import { confidenceMask, createCGA } from './index.js';

// Columns with steps 1 and 0.5: v = w/s is [[0.5, 1.5], [-0.495, -0.5], [1.497, -1.56]].
// 2-bit LSQ codes are [-2, 1], so the internal thresholds are -1.5, -0.5, 0.5 (i = floor(v) ∈ [-2, 0]).
// With x = 0.01: 0.5 (i=0) and -0.495 (frac .505, i=-1) and -0.5 (i=-1) are near a threshold; 1.5 and
// 1.497 sit near i = 1, beyond the top code (no threshold there); -1.56 has frac .44, outside the band.
const W = [
  [0.5, 0.75],
  [-0.495, -0.25],
  [1.497, -0.78],
];
const LSQ_TRAINABLE = [1, 0, 1, 1, 0, 0];

for (const backend of TEST_BACKENDS) {
  describe(`CGA through the quantizer contract on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('masks LSQ weights by LSQ thresholds (hand-computed), not by StatsQ ones', () => {
      const w = tf.tensor2d(W);
      const lsq = new LSQWeightQuantizer({ bits: 2 });
      lsq.setStep([1, 0.5]);
      expectNoLeaks(() => {
        for (const thresholdRange of ['all', 'occupied'] as const) {
          const m = confidenceMask(w, { quantizer: lsq, boundaryRange: 0.01, thresholdRange });
          expect(Array.from(m.dataSync()), thresholdRange).toEqual(LSQ_TRAINABLE);
          m.dispose();
        }
      }, 'LSQ mask');
      const stats = confidenceMask(w, { quantizer: new StatsQuantizer({ bits: 2 }), boundaryRange: 0.01 });
      expect(Array.from(stats.dataSync())).not.toEqual(LSQ_TRAINABLE);
      tf.dispose([w, stats]);
      lsq.dispose();
    });

    it('anneals a model whose weights use LSQ and a third-party quantizer, each by its own grid', () => {
      const a = tf.variable(tf.tensor2d(W));
      const b = tf.variable(tf.tensor2d([[0.05, 0.3], [0.149, -0.25]]));
      const lsq = new LSQWeightQuantizer({ bits: 2 });
      lsq.setStep([1, 0.5]);
      const fixed = new FixedStepQuantizer([0.1, 0.2]);
      // b under the fixed steps: v = [[0.5, 1.5], [1.49, -1.25]] → near: 0.5, 1.5, 1.49 (x = 0.02).
      const cga = createCGA(
        tf.train.sgd(0.1),
        [
          { name: 'a', variable: a, quantizer: lsq },
          { name: 'b', variable: b, quantizer: fixed },
        ],
        { boundaryRange: 0.02, select: ['a', 'b'] },
      );
      const before = [a, b].map((v) => Array.from(v.dataSync()));
      const grads = { [a.name]: tf.onesLike(a), [b.name]: tf.onesLike(b) };
      cga.applyGradients(grads);
      const moved = [a, b].map((v, i) => Array.from(v.dataSync()).map((x, j) => (x !== before[i][j] ? 1 : 0)));
      expect(moved[0]).toEqual(LSQ_TRAINABLE);
      expect(moved[1]).toEqual([1, 1, 1, 0]);
      expect(cga.lastStats!.perParam).toEqual({ a: 3 / 6, b: 1 / 4 });
      cga.dispose();
      tf.dispose([a, b, ...Object.values(grads)]);
      lsq.dispose();
    });

    it('keeps step statistics readable after the tidy that ran the step (model.fit runs steps in one)', () => {
      const a = tf.variable(tf.tensor2d(W));
      const cga = createCGA(tf.train.sgd(0.1), [{ name: 'a', variable: a }], { quantizer: new StatsQuantizer({ bits: 2 }), select: 'a' });
      tf.tidy(() => cga.applyGradients({ [a.name]: tf.onesLike(a) }));
      expect(cga.lastStats!.total).toBe(6);
      expect(Number.isFinite(cga.frozenFraction)).toBe(true);
      cga.dispose();
      a.dispose();
    });

    it('asks for a quantizer and explains the removed `bits` option', () => {
      const a = tf.variable(tf.zeros([2, 2]));
      expect(() => createCGA(tf.train.sgd(0.1), [{ name: 'a', variable: a }], { select: 'a' })).toThrow(/no quantizer/);
      expect(() => createCGA(tf.train.sgd(0.1), [{ name: 'a', variable: a }], { bits: 2, select: 'a' } as never)).toThrow(/replaced by `quantizer`/);
      a.dispose();
    });
  });
}
