import * as tf from '@tensorflow/tfjs';
import { LSQ_QUANTIZE_GRAD_KERNEL, LSQ_QUANTIZE_KERNEL, hasKernel } from '@ofq/core';
import { TEST_BACKENDS, assertClose, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { lsqQuantize, lsqRange, type LSQGranularity } from '@ofq/lsq';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { roundHalfEven } from './kernels/lsq.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Case {
  shape: number[];
  granularity: LSQGranularity;
  bits: number;
  unsigned: boolean;
}

function stepCount(c: Case): number {
  if (c.granularity === 'tensor') return 1;
  return c.shape[c.granularity === 'token' ? c.shape.length - 2 : c.shape.length - 1];
}

/** Forward value and the gradients to x and step for a fixed upstream dy, as plain arrays. */
function lsqWithGrads(x: tf.Tensor, s: tf.Tensor, dy: tf.Tensor, c: Case): { y: Float32Array; dx: Float32Array; ds: Float32Array } {
  const { qp } = lsqRange(c.bits, c.unsigned);
  const o = { bits: c.bits, unsigned: c.unsigned, granularity: c.granularity, gradScale: 1 / Math.sqrt(qp * 7) };
  const y = tf.tidy(() => lsqQuantize(x, s, o));
  const [dx, ds] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(lsqQuantize(a, b, o), dy))([x, s]);
  const out = { y: y.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array, ds: ds.dataSync() as Float32Array };
  tf.dispose([y, dx, ds]);
  return out;
}

/**
 * Inputs that hit every branch: values inside and outside the clamp range, exact ties x/s = k + ½
 * (steps are powers of two and x multiples of s/2), x/s exactly qn and qp, and steps below the
 * 1e-5 floor.
 */
function inputs(c: Case, seed: number): { x: tf.Tensor; s: tf.Tensor; dy: tf.Tensor } {
  const rnd = seeded(seed);
  const { qn, qp } = lsqRange(c.bits, c.unsigned);
  const n = c.shape.reduce((p, d) => p * d, 1);
  const steps = Float32Array.from({ length: stepCount(c) }, (_, i) => (i % 5 === 4 ? 1e-6 : 2 ** -Math.floor(rnd() * 4)));
  const perStep = (i: number): number => {
    if (c.granularity === 'tensor') return 0;
    const last = c.shape[c.shape.length - 1];
    return c.granularity === 'channel' ? i % last : Math.floor(i / last) % c.shape[c.shape.length - 2];
  };
  const x = Float32Array.from({ length: n }, (_, i) => {
    const s = Math.max(steps[perStep(i)], 1e-5);
    const kind = i % 4;
    if (kind === 0) return s * (Math.floor(rnd() * (qp - qn + 4)) + qn - 2 + 0.5); // ties, some outside
    if (kind === 1) return s * (rnd() < 0.5 ? qn : qp); // the inclusive boundaries
    return (rnd() * 2 - 1) * s * (qp - qn); // anywhere
  });
  const dy = Float32Array.from({ length: n }, () => rnd() * 2 - 1);
  return { x: tf.tensor(x, c.shape), s: tf.tensor1d(steps), dy: tf.tensor(dy, c.shape) };
}

const CASES: Case[] = [
  { shape: [2, 5, 6], granularity: 'token', bits: 2, unsigned: false },
  { shape: [3, 4, 7, 5], granularity: 'token', bits: 3, unsigned: true },
  { shape: [2, 5, 6], granularity: 'channel', bits: 4, unsigned: false },
  { shape: [13], granularity: 'channel', bits: 8, unsigned: true },
  { shape: [4, 9], granularity: 'tensor', bits: 2, unsigned: true },
  { shape: [2, 3, 4], granularity: 'tensor', bits: 8, unsigned: false },
  { shape: [0, 5, 6], granularity: 'token', bits: 2, unsigned: false },
  { shape: [64, 197, 12], granularity: 'token', bits: 2, unsigned: false },
];

for (const backend of TEST_BACKENDS) {
  describe(`fused LSQ kernels on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => uninstallAccel());

    it('are registered by every engine and removed by uninstall', () => {
      for (const engine of ['onnxruntime', 'wasm'] as const) {
        const r = installAccel({ engine });
        expect(r.kernels).toEqual(expect.arrayContaining([LSQ_QUANTIZE_KERNEL, LSQ_QUANTIZE_GRAD_KERNEL]));
        expect(hasKernel(LSQ_QUANTIZE_KERNEL) && hasKernel(LSQ_QUANTIZE_GRAD_KERNEL)).toBe(true);
        uninstallAccel();
        expect(hasKernel(LSQ_QUANTIZE_KERNEL) || hasKernel(LSQ_QUANTIZE_GRAD_KERNEL)).toBe(false);
      }
    });

    it('lsqQuantize gives the composite’s values and x-gradient bit for bit, and its step gradient to float32 precision', () => {
      CASES.forEach((c, k) => {
        const { x, s, dy } = inputs(c, 10 + k);
        uninstallAccel();
        const ref = lsqWithGrads(x, s, dy, c);
        installAccel({ engine: 'wasm' });
        const got = lsqWithGrads(x, s, dy, c);
        const label = `${c.granularity} [${c.shape}] ${c.bits}-bit${c.unsigned ? ' unsigned' : ''}`;
        // Bit for bit up to the sign of zero (the cpu backend's round gives +0 for -0.3, wasm's -0).
        const bits = (a: Float32Array) => Array.from(a, (v) => v + 0);
        expect(bits(got.y), `${label} value`).toEqual(bits(ref.y));
        expect(bits(got.dx), `${label} dx`).toEqual(bits(ref.dx));
        const ds = tf.tensor(got.ds);
        const dsRef = tf.tensor(ref.ds);
        // The fused kernel sums in float64, tf.sum in float32 over up to 64·12 terms per step.
        assertClose(ds, dsRef, { rtol: 1e-5, atol: 1e-5 * Math.sqrt(Math.max(1, c.shape.reduce((p, d) => p * d, 1))) }, `${label} ds`);
        tf.dispose([x, s, dy, ds, dsRef]);
      });
    });

    it('are what lsqQuantize runs once installed (one kernel per pass instead of the composite ops)', async () => {
      const { x, s, dy } = inputs(CASES[0], 5);
      const o = { bits: 2, granularity: 'token' as const, gradScale: 0.1 };
      const f = () => tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(lsqQuantize(a, b, o), dy))([x, s]);
      const names = async () => (await tf.profile(() => f())).kernels.map((k) => k.name);
      uninstallAccel();
      const stock = await names();
      expect(stock).toContain('LogicalAnd');
      expect(stock).not.toContain(LSQ_QUANTIZE_KERNEL);
      installAccel({ engine: 'wasm' });
      const fused = await names();
      expect(fused).toContain(LSQ_QUANTIZE_KERNEL);
      expect(fused).toContain(LSQ_QUANTIZE_GRAD_KERNEL);
      expect(fused).not.toContain('LogicalAnd');
      expect(fused).not.toContain('Round');
      tf.dispose([x, s, dy]);
      uninstallAccel();
    });

    it('leak no tensors and do not grow the wasm heap over 1,000 forward+backward calls', () => {
      installAccel({ engine: 'wasm' });
      const c = CASES[0];
      const { x, s, dy } = inputs(c, 3);
      const o = { bits: 2, granularity: 'token' as const, gradScale: 0.1 };
      const f = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(lsqQuantize(a, b, o), dy));
      tf.dispose(f([x, s])); // warm-up
      const heap = (): number => (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength ?? 0;
      const before = heap();
      expectNoLeaks(() => {
        for (let i = 0; i < 1000; i++) tf.dispose(f([x, s]));
      }, 'fused lsq x1000');
      expect(heap()).toBe(before);
      tf.dispose([x, s, dy]);
      uninstallAccel();
    });

    it('reject float inputs of the wrong dtype or step size with a clear error', () => {
      installAccel({ engine: 'wasm' });
      const x = tf.ones([2, 3]);
      const bad = tf.ones([4]);
      const ints = tf.ones([2, 3], 'int32');
      const one = tf.ones([1]);
      expect(() => tf.engine().runKernel(LSQ_QUANTIZE_KERNEL, { x, step: bad }, { qn: -2, qp: 1, axis: 1 })).toThrow(/step of shape \[4\] does not match axis 1/);
      expect(() => tf.engine().runKernel(LSQ_QUANTIZE_KERNEL, { x: ints, step: one }, { qn: -2, qp: 1, axis: -1 })).toThrow(/must be float32, got int32/);
      expect(() => tf.engine().runKernel(LSQ_QUANTIZE_GRAD_KERNEL, { dy: bad, x, step: one }, { qn: -2, qp: 1, axis: -1 })).toThrow(/dy \[4\] must have the shape of x/);
      tf.dispose([x, bad, ints, one]);
      uninstallAccel();
    });
  });
}

describe('roundHalfEven', () => {
  it('agrees with tf.round (half to even) on ties, near-ties and random float32 values', () => {
    useBackend('cpu');
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -300, max: 300 }).map((k) => k / 2), fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 })), { minLength: 1, maxLength: 64 }), (vals) => {
        const v = Float32Array.from(vals);
        const t = tf.tensor1d(v);
        const r = tf.round(t);
        const expected = Array.from(r.dataSync());
        tf.dispose([t, r]);
        expect(Array.from(v, (x) => roundHalfEven(x) + 0)).toEqual(expected.map((x) => x + 0));
      }),
      { numRuns: 200 },
    );
  });
});

describe('the SIMD module', () => {
  it('is up to date with its source lsq.wat (scripts/build-wasm.mjs --check)', () => {
    const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });
});
