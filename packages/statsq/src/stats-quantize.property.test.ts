import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { dequantizeWeights } from '@ofq/core';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { StatsQuantizer, statsCodes, statsPreRound, statsQuantize, statsScale } from './index.js';

/** A random weight [rows, cols] with channels on the last axis; some channels may be all zero. */
const weightArb = fc
  .record({
    rows: fc.integer({ min: 1, max: 12 }),
    cols: fc.integer({ min: 1, max: 5 }),
    bits: fc.integer({ min: 2, max: 8 }),
    magnitude: fc.constantFrom(1e-3, 1, 50),
    zeroChannel: fc.boolean(),
  })
  .chain((r) =>
    fc.record({
      bits: fc.constant(r.bits),
      shape: fc.constant([r.rows, r.cols]),
      zeroChannel: fc.constant(r.zeroChannel),
      data: fc.array(fc.float({ min: Math.fround(-r.magnitude), max: Math.fround(r.magnitude), noNaN: true }), {
        minLength: r.rows * r.cols,
        maxLength: r.rows * r.cols,
      }),
    }),
  )
  .map(({ bits, shape, zeroChannel, data }) => {
    if (zeroChannel) for (let i = 0; i < data.length; i += shape[1]) data[i] = 0;
    return { bits, shape, data };
  });

for (const backend of TEST_BACKENDS) {
  describe(`StatsQ properties on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('every channel has at most 2^b distinct levels, each equal to s·(k+½)/n with k ∈ [-n, n-1]', () => {
      fc.assert(
        fc.property(weightArb, ({ bits, shape, data }) => {
          const n = 2 ** (bits - 1);
          const [yv, sv] = expectNoLeaks(() => {
            const w = tf.tensor2d(data, shape as [number, number]);
            const y = statsQuantize(w, { bits });
            const s = statsScale(w);
            const out = [y.dataSync().slice(), s.dataSync().slice()];
            tf.dispose([w, y, s]);
            return out;
          });
          const C = shape[1];
          for (let c = 0; c < C; c++) {
            const levels = new Set<number>();
            for (let i = c; i < yv.length; i += C) {
              levels.add(yv[i]);
              const k = (yv[i] * n) / sv[c] - 0.5;
              expect(Number.isFinite(yv[i])).toBe(true);
              expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-3);
              expect(Math.round(k)).toBeGreaterThanOrEqual(-n);
              expect(Math.round(k)).toBeLessThanOrEqual(n - 1);
            }
            expect(levels.size).toBeLessThanOrEqual(2 ** bits);
          }
        }),
        { numRuns: 60 },
      );
    });

    it('codes dequantize to exactly the fake-quantized values, and round(preRound) are the codes', () => {
      fc.assert(
        fc.property(weightArb, ({ bits, shape, data }) => {
          expectNoLeaks(() => {
            const w = tf.tensor2d(data, shape as [number, number]);
            const y = statsQuantize(w, { bits });
            const q = statsCodes(w, { bits });
            const v = statsPreRound(w, { bits });
            const k = tf.round(v);
            expect(Array.from(k.dataSync(), (e) => e + 0)).toEqual(Array.from(q.codes));
            const d = dequantizeWeights(q);
            const yd = y.dataSync();
            for (let i = 0; i < d.length; i++) expect(Math.abs(d[i] - yd[i])).toBeLessThanOrEqual(1e-6 * Math.abs(yd[i]));
            tf.dispose([w, y, v, k]);
          });
        }),
        { numRuns: 40 },
      );
    });

    it('the gradient equals the upstream gradient everywhere (including clipped weights)', () => {
      fc.assert(
        fc.property(weightArb, fc.integer({ min: 0, max: 1000 }), ({ bits, shape, data }, seed) => {
          expectNoLeaks(() => {
            const w = tf.tensor2d(data, shape as [number, number]);
            const G = tf.randomNormal([...shape], 0, 1, 'float32', seed);
            const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(statsQuantize(a, { bits }), G)))(w);
            expect(Array.from(g.dataSync())).toEqual(Array.from(G.dataSync()));
            tf.dispose([w, G, g]);
          });
        }),
        { numRuns: 30 },
      );
    });

    it('works on any rank >= 1 with the scale on the last axis (1-D, 4-D conv kernels)', () => {
      expectNoLeaks(() => {
        const k = tf.randomNormal([3, 3, 2, 4], 0, 1, 'float32', 9);
        const s = statsScale(k);
        expect(s.shape).toEqual([4]);
        const ref = tf.tidy(() => tf.mul(tf.mean(tf.abs(tf.reshape(k, [18, 4])), 0), 2));
        expect(Array.from(s.dataSync())).toEqual(Array.from(ref.dataSync()));
        const v = tf.tensor1d([0.5, -2]);
        const sv = statsScale(v);
        expect(Array.from(sv.dataSync())).toEqual([1, 4]);
        tf.dispose([k, s, ref, v, sv]);
      });
    });

    it('no op or quantizer method leaks tensors', () => {
      const w = tf.randomNormal([7, 3], 0, 1, 'float32', 2);
      const q = new StatsQuantizer({ bits: 2 });
      const before = tf.memory().numTensors;
      for (const [label, f] of [
        ['stats-scale', () => statsScale(w)],
        ['statsPreRound', () => statsPreRound(w, { bits: 3 })],
        ['stats-quantize', () => statsQuantize(w, { bits: 4 })],
        ['StatsQuantizer.quantize', () => q.quantize(w)],
      ] as const) {
        const out = f();
        expect(tf.memory().numTensors, label).toBe(before + 1);
        out.dispose();
      }
      expectNoLeaks(() => statsCodes(w, { bits: 5 }), 'stats-codes');
      expectNoLeaks(() => q.codes(w), 'StatsQuantizer.codes');
      expectNoLeaks(() => tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(q.quantize(a)))(w)), 'gradient');
      w.dispose();
    });
  });
}
