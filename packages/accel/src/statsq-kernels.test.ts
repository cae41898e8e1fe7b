// The fused StatsQ forward and the leading-axis Mean on wasm give the stock kernels' bits: the same
// codes at every threshold, so a run with @ofq/accel quantizes exactly as one without.
import * as tf from '@tensorflow/tfjs';
import { STATSQ_QUANTIZE_KERNEL, hasKernel } from '@ofq/core';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { STATSQ_CLIP_HIGH, statsQuantize } from '@ofq/statsq';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { seeded } from './test-support.js';

const bits = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));

/** Evaluates every thunk with stock kernels, then with accel, and asserts identical bits. */
function sameBits(thunks: Array<() => tf.Tensor>, label: string): void {
  uninstallAccel();
  const expected = thunks.map((f) => f());
  installAccel({ engine: 'onnxruntime' });
  thunks.forEach((f, i) => {
    const y = f();
    expect(y.shape, `${label} ${i}`).toEqual(expected[i].shape);
    expect(bits(y), `${label} ${i}`).toEqual(bits(expected[i]));
    y.dispose();
  });
  tf.dispose(expected);
}

const random = (shape: number[], seed: number, scale = 0.05) => {
  const rnd = seeded(seed);
  return tf.tensor(Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rnd() * scale), shape);
};

if (TEST_BACKENDS.includes('wasm')) {
  describe('StatsQ kernel and leading-axis Mean on wasm', () => {
    beforeAll(() => useBackend('wasm'));
    afterAll(() => uninstallAccel());

    it('registers the StatsQ kernel only while accel is installed', () => {
      uninstallAccel();
      expect(hasKernel(STATSQ_QUANTIZE_KERNEL)).toBe(false);
      installAccel({ engine: 'onnxruntime' });
      expect(hasKernel(STATSQ_QUANTIZE_KERNEL)).toBe(true);
      uninstallAccel();
    });

    it('Mean over leading axes gives stock bits (keepDims, several leading axes, odd widths); other Means are delegated', () => {
      const xs = [random([3072, 77], 1), random([5, 7, 13], 2), random([1, 9], 3), random([6], 4), random([4, 3, 2, 5], 5)];
      const thunks: Array<() => tf.Tensor> = [];
      for (const x of xs) {
        thunks.push(() => tf.mean(tf.abs(x), 0), () => tf.mean(x, 0, true), () => tf.mean(x, -1), () => tf.mean(x));
        if (x.rank > 2) thunks.push(() => tf.mean(x, [0, 1]), () => tf.mean(x, 1));
      }
      sameBits(thunks, 'mean');
      tf.dispose(xs);
    });

    it('statsQuantize gives stock bits for every bit-width, rank 1–4 and widths that are not multiples of 4', () => {
      const shapes = [[7], [96, 288], [3, 3, 5, 6], [384, 1155], [2, 3, 4, 17]];
      const ws = shapes.map((s, i) => random(s, 10 + i));
      const thunks: Array<() => tf.Tensor> = [];
      for (const w of ws) for (const b of [2, 3, 4, 8]) thunks.push(() => statsQuantize(w, { bits: b }));
      sameBits(thunks, 'statsq');
      tf.dispose(ws);
    });

    it('the kernel rounds exact half-integer ties to even and clips at −1 and 1−1e-6, as the composite', () => {
      installAccel({ engine: 'onnxruntime' });
      // Scale 1/4 per column (exact), n = 2 (3 bits: 4): w/s·n − 0.5 lands exactly on half-integers.
      const n = 4;
      const vals: number[] = [];
      for (let m = -6; m <= 6; m++) vals.push(((m + 0.5 + 0.5) / n) * 0.25, ((m + 0.5) / n) * 0.25);
      vals.push(-1, 1, 0.25, -0.25, 0.2499999, 0, -0);
      const w = tf.tensor2d(vals.slice(0, 32), [8, 4]);
      const s = tf.fill([4], 0.25);
      const y = tf.engine().runKernel(STATSQ_QUANTIZE_KERNEL, { w, scale: s }, { levels: n, clipHigh: STATSQ_CLIP_HIGH }) as tf.Tensor;
      const composite = tf.tidy(() => {
        const v = tf.sub(tf.mul(tf.clipByValue(tf.div(w, s), -1, STATSQ_CLIP_HIGH), n), 0.5);
        return tf.mul(tf.div(tf.add(tf.round(v), 0.5), n), s);
      });
      expect(bits(y)).toEqual(bits(composite));
      // Hand-checked: w = 0 → v = −0.5 → round to even 0 (not −1) → y = 0.5/4·0.25.
      const zeroAt = vals.slice(0, 32).indexOf(0);
      if (zeroAt >= 0) expect(y.dataSync()[zeroAt]).toBeCloseTo((0.5 / 4) * 0.25, 9);
      tf.dispose([w, s, y, composite]);
      uninstallAccel();
    });

    it('property: kernel and composite StatsQ agree bit for bit on random kernels', () => {
      fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 37 }), fc.integer({ min: 2, max: 8 }), fc.integer(), (rows, cols, b, seed) => {
        const w = random([rows, cols], seed, 1);
        uninstallAccel();
        const stock = statsQuantize(w, { bits: b });
        installAccel({ engine: 'onnxruntime' });
        const fused = statsQuantize(w, { bits: b });
        const ok = bits(stock).every((v, i) => v === bits(fused)[i]);
        tf.dispose([w, stock, fused]);
        uninstallAccel();
        return ok;
      }), { numRuns: 40 });
    });

    it('leaks no tensors; the gradient stays the straight-through identity', () => {
      installAccel({ engine: 'onnxruntime' });
      const w = random([64, 48], 7);
      expectNoLeaks(() => tf.dispose([statsQuantize(w, { bits: 2 }), tf.mean(w, 0)]));
      const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(statsQuantize(a, { bits: 2 }), 3)))(w);
      expect(Array.from(g.dataSync()).every((v) => v === 3)).toBe(true);
      tf.dispose([w, g]);
      uninstallAccel();
    });
  });
}
