import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';

/** Deterministic values in [-1, 1) so stock and accel see identical inputs. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

interface Case {
  label: string;
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}

/** Operand shapes for op(a)·op(b) with batch prefixes `ba`, `bb`. */
function shapes(ba: number[], bb: number[], m: number, k: number, n: number, tA: boolean, tB: boolean): Case {
  const a = [...ba, ...(tA ? [k, m] : [m, k])];
  const b = [...bb, ...(tB ? [n, k] : [k, n])];
  return { label: `[${a}]${tA ? 'ᵀ' : ''}·[${b}]${tB ? 'ᵀ' : ''}`, a, b, tA, tB };
}

const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

function cases(): Case[] {
  const rnd = seeded(7);
  const int = (lo: number, hi: number) => lo + Math.floor(((rnd() + 1) / 2) * (hi - lo + 1));
  const out: Case[] = [];
  for (const [tA, tB] of FLAGS) {
    out.push(shapes([], [], 1, 1, 1, tA, tB));
    out.push(shapes([], [], 7, 5, 3, tA, tB)); // odd sizes
    out.push(shapes([], [], 33, 65, 17, tA, tB)); // past SIMD widths
    out.push(shapes([4], [4], 9, 6, 11, tA, tB)); // batched
    out.push(shapes([2, 3], [2, 3], 5, 4, 3, tA, tB)); // rank 4
    out.push(shapes([2, 1], [1, 3], 3, 5, 2, tA, tB)); // broadcast both ways
    out.push(shapes([], [3], 6, 4, 5, tA, tB)); // rank 2 × rank 3
    out.push(shapes([5], [], 6, 4, 5, tA, tB)); // rank 3 × rank 2
    out.push(shapes([2, 1, 3], [3], 2, 3, 4, tA, tB)); // rank 5 × rank 3
    for (let r = 0; r < 3; r++) {
      const batch = int(0, 2) === 0 ? [] : [int(1, 3)];
      out.push(shapes(batch, batch, int(1, 40), int(1, 40), int(1, 40), tA, tB));
    }
  }
  return out;
}

function randomTensor(shape: number[], rnd: () => number): tf.Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Float32Array.from({ length: size }, rnd), shape);
}

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
      // Reference: the stock kernel on operands broadcast to the full batch shape by hand (stock
      // BatchMatMul mishandles batches broadcast both ways, e.g. [2,1,…]·[1,3,…]).
      const expected = inputs.map(([a, b], i) =>
        tf.tidy(() => {
          const ra = a.rank;
          const rb = b.rank;
          const rank = Math.max(ra, rb);
          const batch = Array.from({ length: rank - 2 }, (_, j) => {
            const da = a.shape[ra - rank + j] ?? 1;
            const db = b.shape[rb - rank + j] ?? 1;
            return Math.max(da, db);
          });
          const fa = tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
          const fb = tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
          return tf.matMul(fa, fb, all[i].tA, all[i].tB);
        }),
      );
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

    const ACT: Record<string, (y: tf.Tensor, alpha?: tf.Tensor) => tf.Tensor> = {
      linear: (y) => y,
      relu: (y) => tf.relu(y),
      relu6: (y) => tf.relu6(y),
      elu: (y) => tf.elu(y),
      sigmoid: (y) => tf.sigmoid(y),
      leakyrelu: (y) => tf.leakyRelu(y, 0.1),
      prelu: (y, alpha) => tf.prelu(y, alpha!),
    };

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
