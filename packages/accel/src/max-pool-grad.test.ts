import * as tf from '@tensorflow/tfjs';
import { assertClose, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { seeded } from './test-support.js';

interface PoolCase {
  label: string;
  x: number[];
  size: number;
  strides: number;
  pad: 'same' | 'valid' | number;
}

function poolCases(): PoolCase[] {
  const out: PoolCase[] = [];
  let i = 0;
  for (const size of [2, 3]) for (const strides of [1, 2]) for (const pad of ['same', 'valid', 1] as const) {
    const c = [1, 3, 8][i % 3];
    const b = i % 2 ? 3 : 1;
    out.push({ label: `x[${b},7,6,${c}] pool ${size} s${strides} pad ${pad}`, x: [b, 7, 6, c], size, strides, pad });
    i++;
  }
  return out;
}

/** Values in [-1, 1] on a grid of 0.25, so that windows have ties and negative maxima. */
function values(shape: number[], rnd: () => number): Float32Array {
  return Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => Math.round(rnd() * 4) / 4);
}

function poolGrad(c: PoolCase, xv: Float32Array, rv: Float32Array): Float32Array {
  return tf.tidy(() => {
    const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
    const f = (a: tf.Tensor) => tf.maxPool(a as tf.Tensor4D, c.size, c.strides, c.pad);
    const r = tf.tensor(rv.subarray(0, f(x).size), f(x).shape);
    return tf.grad((a: tf.Tensor) => f(a).mul(r).sum())(x).dataSync() as Float32Array;
  });
}

describe('MaxPoolGrad on wasm', () => {
  afterAll(() => uninstallAccel());

  it('routes each window’s gradient exactly as the stock cpu backend (ties, negative maxima, padding)', async () => {
    const rnd = seeded(9);
    const cases = poolCases();
    const data = cases.map((c) => ({ x: values(c.x, rnd), r: Float32Array.from({ length: 7 * 6 * 8 * 3 }, rnd) }));
    await useBackend('cpu');
    uninstallAccel();
    const expected = cases.map((c, i) => poolGrad(c, data[i].x, data[i].r));
    await useBackend('wasm');
    const report = installAccel({ engine: 'wasm' });
    expect(report.kernels).toContain('MaxPoolGrad');
    cases.forEach((c, i) => {
      const got = expectNoLeaks(() => poolGrad(c, data[i].x, data[i].r), c.label);
      assertClose(got, expected[i], { rtol: 1e-6, atol: 1e-7 }, c.label);
    });
  });

  it('uninstall puts the stock kernel back', async () => {
    await useBackend('wasm');
    uninstallAccel();
    const stock = tf.getKernel('MaxPoolGrad', 'wasm');
    installAccel({ engine: 'wasm' });
    expect(tf.getKernel('MaxPoolGrad', 'wasm')).not.toBe(stock);
    uninstallAccel();
    expect(tf.getKernel('MaxPoolGrad', 'wasm')).toBe(stock);
  });
});
