import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, useBackend, expectNoLeaks } from '@ofq/core/testing';
import { AdamW } from './adamw.js';
import { lrAt, lrForStep } from './schedule.js';
import { GradAccumulator } from './accumulate.js';
import { crossEntropy, kdLoss, softCrossEntropy } from '../loss.js';

describe('LR schedule (docs/algorithm.md §7.2, DeiT-T W2A2 numbers)', () => {
  const s = { lr: 5.47e-4, warmupLr: 1e-6, warmupEpochs: 5, minLr: 1e-5, epochs: 300 };
  it('warms up linearly from warmupLr', () => {
    expect(lrAt(s, 0)).toBeCloseTo(1e-6, 12);
    expect(lrAt(s, 1)).toBeCloseTo(1e-6 + 5.46e-4 / 5, 12); // 1.102e-4
    expect(lrAt(s, 4)).toBeCloseTo(1e-6 + (4 * 5.46e-4) / 5, 12);
  });
  it('follows the un-restarted cosine, then stays at minLr in cooldown', () => {
    expect(lrAt(s, 5)).toBeCloseTo(1e-5 + 0.5 * 5.37e-4 * (1 + Math.cos((Math.PI * 5) / 300)), 12);
    expect(lrAt(s, 150)).toBeCloseTo(1e-5 + 0.5 * 5.37e-4, 12); // 2.785e-4
    expect(lrAt(s, 300)).toBe(1e-5);
    expect(lrAt(s, 309)).toBe(1e-5);
  });
  it('per epoch is constant within the epoch; per step interpolates', () => {
    expect(lrForStep(s, 1, 7, 10, false)).toBe(lrAt(s, 1));
    expect(lrForStep(s, 1, 5, 10, true)).toBeCloseTo(lrAt(s, 1.5), 15);
  });
});

for (const b of TEST_BACKENDS) {
  describe(`losses [${b}]`, () => {
    beforeAll(() => useBackend(b));
    it('CE and soft CE match hand-computed values', () => {
      const ce = crossEntropy(tf.tensor2d([[1, 2, 3]]), tf.tensor1d([2], 'int32'));
      expect(ce.dataSync()[0]).toBeCloseTo(Math.log(1 + Math.exp(-1) + Math.exp(-2)), 5); // 0.40761
      const sce = softCrossEntropy(tf.tensor2d([[0, Math.log(3)]]), tf.tensor2d([[0, 0]]));
      expect(sce.dataSync()[0]).toBeCloseTo(-0.5 * (Math.log(0.25) + Math.log(0.75)), 5); // 0.83699
    });
    it('KD = CE(cls, y) + SoftCE(dist, teacher) 1:1; gradient to dist is (softmax(s) − softmax(t))/B', () => {
      const cls = tf.tensor2d([[1, 2, 3]]);
      const dist = tf.tensor2d([[0.5, -1, 2], [0, 0, 0]]);
      const teacher = tf.tensor2d([[3, 2, 1], [1, 0, 0]]);
      const y = tf.tensor1d([2, 0], 'int32');
      const total = kdLoss(tf.tensor2d([[1, 2, 3], [1, 2, 3]]), dist, y, teacher).dataSync()[0]!;
      const expected =
        crossEntropy(tf.tensor2d([[1, 2, 3], [1, 2, 3]]), y).dataSync()[0]! + softCrossEntropy(dist, teacher).dataSync()[0]!;
      expect(total).toBeCloseTo(expected, 5);
      const g = tf.grad((d: tf.Tensor) => kdLoss(tf.concat([cls, cls]) as tf.Tensor2D, d as tf.Tensor2D, y, teacher))(dist);
      const want = tf.div(tf.sub(tf.softmax(dist), tf.softmax(teacher)), 2);
      const gd = g.dataSync();
      want.dataSync().forEach((v, i) => expect(gd[i]).toBeCloseTo(v, 5));
    });
  });

  describe(`AdamW [${b}]`, () => {
    beforeAll(() => useBackend(b));
    it('matches torch.optim.AdamW on hand-computed steps (decay group only)', () => {
      const pd = tf.variable(tf.scalar(1));
      const pn = tf.variable(tf.scalar(1));
      const opt = new AdamW(
        [
          { name: 'w', variable: pd, decay: true },
          { name: 'b', variable: pn, decay: false },
        ],
        { learningRate: 0.1, weightDecay: 0.01 },
      );
      opt.applyGradients({ [pd.name]: tf.scalar(0.5), [pn.name]: tf.scalar(0.5) });
      // decay: 1·(1 − 0.1·0.01) = 0.999; m̂/√v̂ = 0.05/0.1 / (√(0.00025/0.001)) = 1 → −0.1
      expect(pd.dataSync()[0]).toBeCloseTo(0.899, 6);
      expect(pn.dataSync()[0]).toBeCloseTo(0.9, 6);
      opt.applyGradients({ [pn.name]: tf.scalar(-0.5) });
      // m = −0.005, v = 0.00049975, bc1 = 0.19, √(v/bc2) = 0.5 → p = 0.9 + (0.1/0.19)·0.01
      expect(pn.dataSync()[0]).toBeCloseTo(0.9 + 0.1 / 0.19 * 0.01, 6);
      // state round trip continues identically
      const st = opt.exportState();
      const p2 = tf.variable(pn.clone());
      const pd2 = tf.variable(pd.clone());
      const opt2 = new AdamW(
        [
          { name: 'w', variable: pd2, decay: true },
          { name: 'b', variable: p2, decay: false },
        ],
        { learningRate: 0.1, weightDecay: 0.01 },
      );
      opt2.importState(st);
      for (const { m, v } of st.moments.values()) tf.dispose([m, v]);
      opt.applyGradients({ [pn.name]: tf.scalar(0.3) });
      opt2.applyGradients({ [p2.name]: tf.scalar(0.3) });
      expect(p2.dataSync()[0]).toBe(pn.dataSync()[0]);
      expect(opt2.stepCount).toBe(3);
      expect(() => opt2.applyGradients({ nope: tf.scalar(1) })).toThrow(/unknown variable 'nope'/);
      opt.dispose();
      opt2.dispose();
    });
    it('does not leak per step', () => {
      const p = tf.variable(tf.ones([3, 4]));
      const opt = new AdamW([{ name: 'w', variable: p, decay: true }], { learningRate: 0.01, weightDecay: 0.05 });
      const g = tf.ones([3, 4]);
      opt.applyGradients({ [p.name]: g }); // creates moments
      expectNoLeaks(() => opt.applyGradients({ [p.name]: g }), 'AdamW step');
      opt.dispose();
      g.dispose();
      p.dispose();
    });
  });

  describe(`gradient accumulation [${b}]`, () => {
    beforeAll(() => useBackend(b));
    it('mean of micro-batch gradients equals the global-batch gradient', () => {
      const w = tf.variable(tf.tensor2d([[0.1, -0.2], [0.3, 0.4]]));
      const x = tf.tensor2d([[1, 2], [3, 4], [-1, 0], [2, 2]]);
      const y = tf.tensor1d([0, 1, 1, 0], 'int32');
      const loss = (xs: tf.Tensor2D, ys: tf.Tensor1D) => () => crossEntropy(tf.matMul(xs, w), ys);
      const full = tf.variableGrads(loss(x, y), [w]);
      const acc = new GradAccumulator();
      for (const [s, n] of [[0, 2], [2, 2]] as const) {
        const r = tf.variableGrads(loss(x.slice(s, n) as tf.Tensor2D, y.slice(s, n) as tf.Tensor1D), [w]);
        r.value.dispose();
        acc.add(r.grads);
      }
      const mean = acc.takeMean();
      const a = mean[w.name]!.dataSync();
      full.grads[w.name]!.dataSync().forEach((v, i) => expect(a[i]).toBeCloseTo(v, 6));
    });
  });
}
