import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantizeWeights } from '@ofq/core';
import { TEST_BACKENDS, assertClose, expectNoLeaks, gt, loadGolden, tolFor, useBackend, type GoldenTensor } from '@ofq/core/testing';
import { StatsQuantizer, statsCodes, statsPreRound, statsQuantize, statsScale } from './index.js';

interface StatsCase {
  name: string;
  bits: number;
  x: GoldenTensor;
  out: GoldenTensor;
  scaling_factor: GoldenTensor;
  G: GoldenTensor;
  grad_x: GoldenTensor;
}
const golden = loadGolden<{ cases: StatsCase[] }>('statsq.json');

/** PyTorch layout → tfjs layout: the per-row (2-D) / per-middle-index (3-D) axis goes last. */
function toTfjs(t: GoldenTensor): tf.Tensor {
  return tf.tidy(() => (t.shape.length === 2 ? tf.transpose(gt(t)) : tf.transpose(gt(t), [0, 2, 1])));
}

for (const backend of TEST_BACKENDS) {
  describe(`StatsQ golden vectors on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of golden.cases) {
      it(`${c.name}: scale, values, codes and straight-through gradient`, () => {
        expectNoLeaks(() => {
          const x = toTfjs(c.x);
          const out = toTfjs(c.out);
          const G = toTfjs(c.G);
          const gx = toTfjs(c.grad_x);
          const s = statsScale(x);
          assertClose(s, c.scaling_factor.data, tolFor(backend), `${c.name} scale`);
          const y = statsQuantize(x, { bits: c.bits });
          // The outputs are on an exact grid: compare tightly (a flipped code would be off by s/n).
          assertClose(y, out, tolFor(backend), `${c.name} out`);
          const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(statsQuantize(a, { bits: c.bits }), G)))(x);
          assertClose(g, gx, { rtol: 0, atol: 0 }, `${c.name} grad`);
          // Codes are exact integers and rebuild the golden values.
          const q = statsCodes(x, { bits: c.bits });
          const n = 2 ** (c.bits - 1);
          const outT = out.dataSync();
          const sT = s.dataSync();
          const C = x.shape[x.rank - 1];
          for (let i = 0; i < q.codes.length; i++) {
            const expectedCode = Math.round((outT[i] * n) / sT[i % C] - 0.5);
            if (q.codes[i] !== expectedCode) throw new Error(`${c.name}: code ${i} is ${q.codes[i]}, expected ${expectedCode}`);
          }
          expect(Math.min(...q.codes)).toBeGreaterThanOrEqual(-n);
          expect(Math.max(...q.codes)).toBeLessThanOrEqual(n - 1);
          assertClose(dequantizeWeights(q), out, tolFor(backend), `${c.name} dequantized codes`);
          const v = statsPreRound(x, { bits: c.bits });
          const k = tf.round(v);
          expect(Array.from(k.dataSync(), (e) => e + 0)).toEqual(Array.from(q.codes));
          tf.dispose([x, out, G, gx, s, y, g, v, k]);
        }, c.name);
      });
    }

    it('floors the scale of an all-zero channel (no NaN)', () => {
      expectNoLeaks(() => {
        const w = tf.tensor2d([[0, 1], [0, -3]]);
        const s = statsScale(w);
        assertClose(s, [1e-8, 4]);
        const y = statsQuantize(w, { bits: 2 });
        const yv = Array.from(y.dataSync());
        expect(yv.every(Number.isFinite)).toBe(true);
        // column 0: w/s = 0 → v = 2·0 − 0.5 = −0.5 → round half to even → 0 → (0+0.5)/2·1e-8
        assertClose(yv, [0.25e-8, 1, 0.25e-8, -3], { rtol: 1e-6, atol: 0 });
        tf.dispose([w, s, y]);
      });
    });

    it('hand-checked 2-bit example: levels ±s/4, ±3s/4', () => {
      expectNoLeaks(() => {
        // one channel, mean|w| = 3/6 → s = 1; u = clip(w/s, -1, 1-1e-6); v = 2u − 0.5
        const w = tf.tensor2d([[-1.2], [-0.2], [0.1], [0.5], [1.0], [0]]);
        const y = statsQuantize(w, { bits: 2 });
        // v: -2.5→-2 (half to even), -0.9→-1, -0.3→0, 0.5→0 (half to even), 1.5-2e-6→1, -0.5→0; Wq = (k+0.5)/2
        assertClose(y, [-0.75, -0.25, 0.25, 0.25, 0.75, 0.25]);
        const q = statsCodes(w, { bits: 2 });
        expect(Array.from(q.codes)).toEqual([-2, -1, 0, 0, 1, 0]);
        expect(q).toMatchObject({ offset: 0.5, divisor: 2, bits: 2, codeRange: [-2, 1], shape: [6, 1], channelAxis: -1 });
        tf.dispose([w, y]);
      });
    });

    it('StatsQuantizer wraps the ops and is usable inside optimizer.minimize', () => {
      const q = new StatsQuantizer({ bits: 3 });
      expect(q.bits).toBe(3);
      const w = tf.variable(tf.randomNormal([5, 4], 0, 1, 'float32', 1));
      const before = w.dataSync().slice();
      const opt = tf.train.sgd(0.1);
      expectNoLeaks(() => {
        const target = tf.ones([5, 4]);
        opt.minimize(() => tf.sum(tf.mul(q.quantize(w), target)) as tf.Scalar);
        target.dispose();
      }, 'minimize');
      // STE: the gradient of sum(Wq) is 1 everywhere, so SGD subtracts 0.1 from every latent weight.
      assertClose(w, Array.from(before, (v) => v - 0.1), { rtol: 1e-6, atol: 1e-6 });
      const codes = expectNoLeaks(() => q.codes(w));
      expect(codes.bits).toBe(3);
      w.dispose();
      opt.dispose();
    });

    it('rejects bad bit-widths and inputs with clear errors', () => {
      const w = tf.ones([2, 2]);
      for (const bits of [1, 0, 9, 2.5, NaN, '4', undefined]) {
        expect(() => statsQuantize(w, { bits: bits as number })).toThrow(RangeError);
        expect(() => statsCodes(w, { bits: bits as number })).toThrow(/bits must be an integer in \[2, 8\]/);
        expect(() => new StatsQuantizer({ bits: bits as number })).toThrow(RangeError);
      }
      expect(() => statsScale(tf.scalar(1))).toThrow(/rank >= 1/);
      expect(() => statsQuantize(w, undefined as never)).toThrow(/options/);
      w.dispose();
    });
  });
}
