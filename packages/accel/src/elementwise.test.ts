import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 6 - 3;
  };
}

const TOL = { rtol: 1e-5, atol: 1e-5 };

/** Evaluates every thunk with stock kernels, then with accel, and compares. */
function compare(thunks: Array<() => tf.Tensor>, label: string, tol = TOL): void {
  uninstallAccel();
  const expected = thunks.map((f) => f());
  installAccel({ engine: 'onnxruntime' });
  thunks.forEach((f, i) => {
    const y = f();
    expect(y.shape, `${label} ${i}`).toEqual(expected[i].shape);
    expect(y.dtype, `${label} ${i}`).toBe(expected[i].dtype);
    assertClose(y, expected[i], tol, `${label} ${i}`);
    y.dispose();
  });
  tf.dispose(expected);
}

for (const backend of TEST_BACKENDS) {
  describe(`elementwise and reduction kernels on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => uninstallAccel());

    it('Erf and Exp match stock on odd sizes, ranks 0–4 and zero-size tensors', () => {
      const rnd = seeded(1);
      const shapes = [[], [1], [7], [3, 5], [2, 3, 4], [2, 1, 3, 5], [1000], [0], [2, 0]];
      const xs = shapes.map((s) => tf.tensor(Float32Array.from({ length: s.reduce((p, d) => p * d, 1) }, rnd), s));
      compare(xs.map((x) => () => tf.erf(x)), 'erf');
      compare(xs.map((x) => () => tf.exp(x)), 'exp', { rtol: 2e-6, atol: 0 });
      tf.dispose(xs);
    });

    it('Sum matches stock for leading/trailing/all/negative axes, keepDims, and delegates the rest', () => {
      const rnd = seeded(2);
      const x = tf.tensor(Float32Array.from({ length: 3 * 4 * 5 * 6 }, rnd), [3, 4, 5, 6]);
      const axes: Array<number | number[] | undefined> = [undefined, 0, 3, -1, [0, 1], [2, 3], [1, 0], [0, 1, 2, 3], 1, [1, 2], [0, 2], []];
      const thunks: Array<() => tf.Tensor> = [];
      for (const axis of axes) for (const keepDims of [false, true]) thunks.push(() => tf.sum(x, axis, keepDims));
      const big = tf.tensor(Float32Array.from({ length: 1584 * 37 }, rnd), [1584, 37]);
      thunks.push(() => tf.sum(big, 0), () => tf.sum(big, 1));
      const ints = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
      thunks.push(() => tf.sum(ints, 0));
      const empty = tf.zeros([0, 3]);
      thunks.push(() => tf.sum(empty, 0), () => tf.sum(empty, 1));
      compare(thunks, 'sum', { rtol: 1e-5, atol: 1e-4 });
      tf.dispose([x, big, ints, empty]);
    });

    it('Sum leaks no tensors and does not grow the wasm heap over 1,000 calls (leading, trailing, odd widths)', () => {
      installAccel({ engine: 'onnxruntime' });
      const x = tf.tensor(Float32Array.from({ length: 4 * 198 * 37 }, seeded(4)), [4, 198, 37]);
      const run = () => tf.dispose([tf.sum(x, [0, 1]), tf.sum(x, 2), tf.sum(x, -1, true), tf.sum(x)]);
      run();
      const heap = (tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength ?? 0;
      const before = tf.memory();
      for (let i = 0; i < 1000; i++) run();
      expect(tf.memory().numTensors).toBe(before.numTensors);
      expect(tf.memory().numBytes).toBe(before.numBytes);
      expect((tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } }).wasm?.HEAPU8.byteLength ?? 0).toBe(heap);
      x.dispose();
    });

    it('gradients of a GELU-like function through Erf, Exp and Sum are unchanged', () => {
      const rnd = seeded(3);
      const x = tf.tensor(Float32Array.from({ length: 6 * 10 }, rnd), [6, 10]);
      const f = (a: tf.Tensor) =>
        tf.sum(tf.add(tf.mul(tf.mul(a, 0.5), tf.add(1, tf.erf(tf.div(a, Math.SQRT2)))), tf.sum(tf.exp(tf.neg(tf.square(a))), 0)));
      uninstallAccel();
      const expected = tf.grad(f)(x);
      installAccel({ engine: 'onnxruntime' });
      const actual = tf.grad(f)(x);
      assertClose(actual, expected, { rtol: 1e-5, atol: 1e-5 }, 'gelu grad');
      tf.dispose([x, expected, actual]);
    });
  });
}
