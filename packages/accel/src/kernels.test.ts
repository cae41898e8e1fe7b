import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { ACTIVATIONS as ACT, FLAGS, matMulCases as cases, randomTensor, seeded, shapes, stockMatMulReference } from './test-support.js';

const TOL = { rtol: 1e-4, atol: 1e-5 };

for (const backend of TEST_BACKENDS) {
  describe(`matmul kernels on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => uninstallAccel());

    it('installs the onnxruntime engine and reports it', () => {
      const report = installAccel({ engine: 'onnxruntime' });
      expect(report.engine).toBe('onnxruntime');
      expect(report.backend).toBe(backend);
      expect(report.kernels).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul']));
      expect(report.ortVersion).toBe('1.30.0');
      uninstallAccel();
    });

    it('BatchMatMul matches the stock kernel for every transpose combination, broadcast and odd shape', () => {
      const all = cases();
      const rnd = seeded(11);
      const inputs = all.map((c) => [randomTensor(c.a, rnd), randomTensor(c.b, rnd)] as const);
      uninstallAccel();
      // Reference: the stock kernel on operands broadcast to the full batch shape by hand.
      const expected = inputs.map(([a, b], i) => stockMatMulReference(a, b, all[i].tA, all[i].tB));
      installAccel({ engine: 'onnxruntime' });
      inputs.forEach(([a, b], i) => {
        const y = tf.matMul(a, b, all[i].tA, all[i].tB);
        expect(y.shape, all[i].label).toEqual(expected[i].shape);
        assertClose(y, expected[i], TOL, all[i].label);
        y.dispose();
      });
      tf.dispose([...expected, ...inputs.flat()]);
    });

    it('zero-size products: empty outputs and k = 0 (all zeros)', () => {
      installAccel({ engine: 'onnxruntime' });
      const check = (a: number[], b: number[], tA: boolean, tB: boolean, outShape: number[]) => {
        const y = tf.matMul(tf.zeros(a), tf.ones(b), tA, tB);
        expect(y.shape).toEqual(outShape);
        expect(Array.from(y.dataSync())).toEqual(new Array(outShape.reduce((p, d) => p * d, 1)).fill(0));
      };
      tf.tidy(() => {
        check([0, 4], [4, 3], false, false, [0, 3]);
        check([4, 0], [4, 3], true, false, [0, 3]);
        check([2, 0, 4], [2, 4, 3], false, false, [2, 0, 3]);
        check([0, 2, 4], [0, 4, 3], false, false, [0, 2, 3]);
        check([3, 0], [0, 5], false, false, [3, 5]); // k = 0: the sum over nothing
        check([0, 3], [5, 0], true, true, [3, 5]);
      });
    });

    it('rejects mismatched inner dimensions and unbroadcastable batches with clear errors', () => {
      installAccel({ engine: 'onnxruntime' });
      tf.tidy(() => {
        expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/inner shapes/);
        expect(() => tf.matMul(tf.ones([2, 2, 3]), tf.ones([3, 3, 5]))).toThrow(/broadcast/);
      });
    });

    it('_FusedMatMul (bias, every activation, transposes) matches the stock kernel', () => {
      const rnd = seeded(5);
      const acts = ['linear', 'relu', 'relu6', 'elu', 'sigmoid', 'leakyrelu', 'prelu'] as const;
      const runs: Array<() => tf.Tensor> = [];
      const refs: Array<() => tf.Tensor> = [];
      const keep: tf.Tensor[] = [];
      for (const [tA, tB] of FLAGS) {
        for (const activation of acts) {
          for (const withBias of [false, true]) {
            const c = shapes(tA && tB ? [2] : [], tA && tB ? [2] : [], 6, 7, 5, tA, tB);
            const a = randomTensor(c.a, rnd).mul(4);
            const b = randomTensor(c.b, rnd);
            const bias = withBias ? randomTensor([5], rnd) : undefined;
            const alpha = activation === 'prelu' ? randomTensor([5], rnd) : undefined;
            keep.push(a, b, ...(bias ? [bias] : []), ...(alpha ? [alpha] : []));
            runs.push(() =>
              tf.fused.matMul({ a, b, transposeA: tA, transposeB: tB, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.1 }),
            );
            refs.push(() =>
              tf.tidy(() => {
                let y = tf.matMul(a, b, tA, tB);
                if (bias) y = tf.add(y, bias);
                return ACT[activation](y, alpha);
              }),
            );
          }
        }
      }
      uninstallAccel();
      // Reference: stock unfused kernels (stock wasm _FusedMatMul adds the bias wrongly when a
      // transpose flag is set), and the stock fused kernel on cpu, where it is right.
      const expected = refs.map((f) => f());
      if (backend === 'cpu') runs.forEach((f, i) => tf.tidy(() => assertClose(f(), expected[i], TOL, `stock fused ${i}`)));
      installAccel({ engine: 'onnxruntime' });
      runs.forEach((f, i) => {
        const y = f();
        assertClose(y, expected[i], TOL, `fused case ${i}`);
        y.dispose();
      });
      tf.dispose([...expected, ...keep]);
    });

    it('int32 matMul falls back to the stock kernel', () => {
      if (backend === 'wasm') return; // wasm's stock BatchMatMul is float32-only
      const a = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
      uninstallAccel();
      const expected = tf.matMul(a, a);
      installAccel({ engine: 'onnxruntime' });
      const y = tf.matMul(a, a);
      expect(Array.from(y.dataSync())).toEqual(Array.from(expected.dataSync()));
      tf.dispose([a, y, expected]);
    });

    it('gradients through autodiff are unchanged (matMul with transposes, fused matMul with bias + relu)', () => {
      const rnd = seeded(3);
      const a = randomTensor([3, 5, 4], rnd);
      const b = randomTensor([3, 5, 6], rnd);
      const w = randomTensor([3, 4, 6], rnd);
      const bias = randomTensor([6], rnd);
      const loss = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.add(
          tf.sum(tf.mul(tf.matMul(x, y, true, false), w)),
          tf.sum(tf.fused.matMul({ a: tf.reshape(tf.transpose(x, [0, 2, 1]), [12, 5]), b: tf.reshape(tf.slice(y, [0, 0, 0], [1, 5, 6]), [5, 6]), bias: z, activation: 'relu' })),
        );
      const grads = () => tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([a, b, bias]);
      uninstallAccel();
      const expected = grads();
      installAccel({ engine: 'onnxruntime' });
      const actual = grads();
      actual.forEach((g, i) => assertClose(g, expected[i], TOL, `gradient ${i}`));
      tf.dispose([a, b, w, bias, ...expected, ...actual]);
    });

    it('uninstallAccel restores the exact stock kernels', () => {
      uninstallAccel();
      const before = ['BatchMatMul', '_FusedMatMul', 'Identity'].map((k) => tf.getKernel(k, backend));
      installAccel({ engine: 'onnxruntime' });
      expect(tf.getKernel('BatchMatMul', backend)).not.toBe(before[0]);
      uninstallAccel();
      const after = ['BatchMatMul', '_FusedMatMul', 'Identity'].map((k) => tf.getKernel(k, backend));
      after.forEach((k, i) => expect(k).toBe(before[i]));
    });
  });
}
