import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccelEngineUnavailableError, installAccel, uninstallAccel } from './index.js';
import { loadNativeAddon, nativeAddonAvailable, setNativeAddonPathForTesting } from './native-binding.js';
import { ACTIVATIONS, FLAGS, matMulCases, randomTensor, seeded, shapes, stockMatMulReference } from './test-support.js';

const available = nativeAddonAvailable();
if (!available) {
  let reason = '';
  try {
    loadNativeAddon();
  } catch (e) {
    reason = (e as Error).message;
  }
  console.log(`native.test.ts: skipping the native engine equivalence tests (${reason})`);
}

const TOL = { rtol: 1e-4, atol: 1e-5 };

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.byteLength : 0;
}

/** Evaluates every thunk with stock kernels, then with the native engine, and compares. */
function compareWithStock(thunks: Array<() => tf.Tensor>, label: string, tol = TOL): void {
  uninstallAccel();
  const expected = thunks.map((f) => f());
  installAccel({ engine: 'native' });
  thunks.forEach((f, i) => {
    const y = f();
    expect(y.shape, `${label} ${i}`).toEqual(expected[i].shape);
    assertClose(y, expected[i], tol, `${label} ${i}`);
    y.dispose();
  });
  tf.dispose(expected);
}

for (const backend of TEST_BACKENDS) {
  describe.skipIf(!available)(`native engine (OpenBLAS addon) on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => uninstallAccel());

    it('installs, reports native (with ONNX Runtime Erf/Exp) and auto prefers it', () => {
      const r = installAccel({ engine: 'native' });
      expect(r.engine).toBe('native');
      expect(r.backend).toBe(backend);
      expect(r.kernels).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul', 'Sum', 'Erf', 'Exp']));
      expect(r.ortVersion).toBe('1.30.0');
      expect(installAccel().engine).toBe('native');
      uninstallAccel();
    });

    it('BatchMatMul matches the stock kernel for every transpose combination, broadcast and odd shape', () => {
      const all = matMulCases();
      const rnd = seeded(11);
      const inputs = all.map((c) => [randomTensor(c.a, rnd), randomTensor(c.b, rnd)] as const);
      uninstallAccel();
      const expected = inputs.map(([a, b], i) => stockMatMulReference(a, b, all[i].tA, all[i].tB));
      installAccel({ engine: 'native' });
      inputs.forEach(([a, b], i) => {
        const y = tf.matMul(a, b, all[i].tA, all[i].tB);
        expect(y.shape, all[i].label).toEqual(expected[i].shape);
        assertClose(y, expected[i], TOL, all[i].label);
        y.dispose();
      });
      tf.dispose([...expected, ...inputs.flat()]);
    });

    it('vector shapes (m = 1 or n = 1, the GEMV path) and a shared B merged into one GEMM', () => {
      const rnd = seeded(12);
      const thunks: Array<() => tf.Tensor> = [];
      const keep: tf.Tensor[] = [];
      for (const [tA, tB] of FLAGS) {
        for (const c of [
          shapes([], [], 1, 9, 7, tA, tB),
          shapes([], [], 8, 9, 1, tA, tB),
          shapes([3], [3], 1, 5, 4, tA, tB),
          shapes([2], [], 1, 6, 3, tA, tB),
          shapes([2, 3], [], 4, 6, 5, tA, tB), // rank 4 × rank 2: one [24,6] GEMM when not transposed
          shapes([2, 3], [1, 1], 4, 6, 5, tA, tB), // B batch of ones: merged as well
        ]) {
          const a = randomTensor(c.a, rnd);
          const b = randomTensor(c.b, rnd);
          keep.push(a, b);
          thunks.push(() => tf.matMul(a, b, c.tA, c.tB)); // no case broadcasts both ways: stock is right here
        }
      }
      compareWithStock(thunks, 'vector');
      uninstallAccel();
      tf.dispose(keep);
    });

    it('zero-size products: empty outputs and k = 0 (all zeros, also over stale heap contents)', () => {
      installAccel({ engine: 'native' });
      const check = (a: number[], b: number[], tA: boolean, tB: boolean, outShape: number[]) => {
        const y = tf.matMul(tf.zeros(a), tf.ones(b), tA, tB);
        expect(y.shape).toEqual(outShape);
        expect(Array.from(y.dataSync())).toEqual(new Array(outShape.reduce((p, d) => p * d, 1)).fill(0));
      };
      tf.tidy(() => {
        // Leave NaN behind in freed memory that the next outputs may reuse.
        tf.fill([64], NaN).dataSync();
        check([0, 4], [4, 3], false, false, [0, 3]);
        check([4, 0], [4, 3], true, false, [0, 3]);
        check([2, 0, 4], [2, 4, 3], false, false, [2, 0, 3]);
        check([0, 2, 4], [0, 4, 3], false, false, [0, 2, 3]);
        check([3, 0], [0, 5], false, false, [3, 5]); // k = 0: the sum over nothing
        check([0, 3], [5, 0], true, true, [3, 5]);
        check([1, 4], [4, 6], false, false, [1, 6]); // GEMV paths overwrite stale contents
        check([6, 4], [4, 1], false, false, [6, 1]);
      });
      uninstallAccel();
    });

    it('rejects mismatched inner dimensions and unbroadcastable batches with clear errors', () => {
      installAccel({ engine: 'native' });
      tf.tidy(() => {
        expect(() => tf.matMul(tf.ones([2, 3]), tf.ones([4, 5]))).toThrow(/inner shapes/);
        expect(() => tf.matMul(tf.ones([2, 2, 3]), tf.ones([3, 3, 5]))).toThrow(/broadcast/);
      });
      uninstallAccel();
    });

    it('the addon itself refuses arrays shorter than their shapes (never reads or writes outside them)', () => {
      const addon = loadNativeAddon();
      const a = new Float32Array(6);
      expect(() => addon.matmul(a, [2, 3], new Float32Array(5), [3, 2], false, false, new Float32Array(4))).toThrow(/shorter than its shape/);
      expect(() => addon.matmul(a, [2, 3], new Float32Array(6), [3, 2], false, false, new Float32Array(3))).toThrow(/out has 3 elements/);
      expect(() => addon.matmul(a, [6], new Float32Array(6), [3, 2], false, false, new Float32Array(4))).toThrow(/rank/);
      expect(() => addon.matmul(new Float64Array(6) as never, [2, 3], a, [3, 2], false, false, new Float32Array(4))).toThrow(/Float32Array/);
      // A view at an element offset works in place (the wasm heap case).
      const heap = new Float32Array(32);
      heap.set([1, 2, 3, 4], 3);
      heap.set([1, 0, 0, 1], 11);
      addon.matmul(heap.subarray(3, 7), [2, 2], heap.subarray(11, 15), [2, 2], false, true, heap.subarray(20, 24));
      expect(Array.from(heap.subarray(19, 25))).toEqual([0, 1, 2, 3, 4, 0]);
      // Outputs are overwritten, never accumulated into: stale NaN in uninitialised memory does not leak.
      for (const [m, n] of [[5, 4], [1, 4], [5, 1]]) {
        const out = new Float32Array(m * n).fill(NaN);
        addon.matmul(new Float32Array(m * 3).fill(1), [m, 3], new Float32Array(3 * n).fill(2), [3, n], false, false, out);
        expect(Array.from(out)).toEqual(new Array(m * n).fill(6));
      }
    });

    it('_FusedMatMul (bias, every activation, transposes) matches the stock kernels', () => {
      const rnd = seeded(5);
      const runs: Array<() => tf.Tensor> = [];
      const refs: Array<() => tf.Tensor> = [];
      const keep: tf.Tensor[] = [];
      for (const [tA, tB] of FLAGS) {
        for (const activation of Object.keys(ACTIVATIONS) as Array<'linear'>) {
          for (const withBias of [false, true]) {
            const c = shapes(tA && tB ? [2] : [], tA && tB ? [2] : [], 6, 7, 5, tA, tB);
            const a = randomTensor(c.a, rnd).mul(4);
            const b = randomTensor(c.b, rnd);
            const bias = withBias ? randomTensor([5], rnd) : undefined;
            const alpha = activation === ('prelu' as string) ? randomTensor([5], rnd) : undefined;
            keep.push(a, b, ...(bias ? [bias] : []), ...(alpha ? [alpha] : []));
            runs.push(() =>
              tf.fused.matMul({ a, b, transposeA: tA, transposeB: tB, bias, activation, preluActivationWeights: alpha, leakyreluAlpha: 0.1 }),
            );
            refs.push(() =>
              tf.tidy(() => {
                let y = tf.matMul(a, b, tA, tB);
                if (bias) y = tf.add(y, bias);
                return ACTIVATIONS[activation](y, alpha);
              }),
            );
          }
        }
      }
      // Reference: stock unfused kernels (stock wasm _FusedMatMul adds the bias wrongly with a transpose).
      uninstallAccel();
      const expected = refs.map((f) => f());
      installAccel({ engine: 'native' });
      runs.forEach((f, i) => {
        const y = f();
        assertClose(y, expected[i], TOL, `fused case ${i}`);
        y.dispose();
      });
      uninstallAccel();
      tf.dispose([...expected, ...keep]);
    });

    it('Sum over leading/trailing/all/negative axes, keepDims, large and delegated cases matches stock', () => {
      const rnd = seeded(2);
      const x = randomTensor([3, 4, 5, 6], rnd);
      const axes: Array<number | number[] | undefined> = [undefined, 0, 3, -1, [0, 1], [2, 3], [1, 0], [0, 1, 2, 3], 1, [1, 2], [0, 2], []];
      const thunks: Array<() => tf.Tensor> = [];
      for (const axis of axes) for (const keepDims of [false, true]) thunks.push(() => tf.sum(x, axis, keepDims));
      const big = randomTensor([1584, 37], rnd);
      thunks.push(() => tf.sum(big, 0), () => tf.sum(big, 1));
      const ints = tf.tensor2d([[1, 2], [3, 4]], undefined, 'int32');
      thunks.push(() => tf.sum(ints, 0));
      const empty = tf.zeros([0, 3]);
      thunks.push(() => tf.sum(empty, 0), () => tf.sum(empty, 1));
      compareWithStock(thunks, 'sum', { rtol: 1e-5, atol: 1e-4 });
      uninstallAccel();
      tf.dispose([x, big, ints, empty]);
    });

    it('gradients through autodiff are unchanged (transposed batched matMul, fused matMul + bias + relu, Sum, Erf)', () => {
      const rnd = seeded(3);
      const a = randomTensor([3, 5, 4], rnd);
      const b = randomTensor([3, 5, 6], rnd);
      const w = randomTensor([3, 4, 6], rnd);
      const bias = randomTensor([6], rnd);
      const loss = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
        tf.add(
          tf.sum(tf.mul(tf.erf(tf.matMul(x, y, true, false)), w)),
          tf.sum(tf.sum(tf.fused.matMul({ a: tf.reshape(tf.transpose(x, [0, 2, 1]), [12, 5]), b: tf.reshape(tf.slice(y, [0, 0, 0], [1, 5, 6]), [5, 6]), bias: z, activation: 'relu' }), 0)),
        );
      const grads = () => tf.grads(loss as (...args: tf.Tensor[]) => tf.Tensor)([a, b, bias]);
      uninstallAccel();
      const expected = grads();
      installAccel({ engine: 'native' });
      const actual = grads();
      actual.forEach((g, i) => assertClose(g, expected[i], TOL, `gradient ${i}`));
      uninstallAccel();
      tf.dispose([a, b, w, bias, ...expected, ...actual]);
    });

    it('no leaked tensors, no numBytes change and no wasm heap growth over 1,000 calls', () => {
      installAccel({ engine: 'native' });
      const a = tf.randomUniform([2, 17, 9]);
      const b = tf.randomUniform([2, 17, 5]);
      const bias = tf.randomUniform([5]);
      const step = () =>
        tf.tidy(() => {
          const y = tf.matMul(a, b, true, false);
          const z = tf.fused.matMul({ a: tf.reshape(tf.transpose(a, [0, 2, 1]), [18, 17]), b: tf.reshape(tf.slice(b, [0, 0, 0], [1, 17, 5]), [17, 5]), bias, activation: 'relu' });
          return tf.add(tf.sum(tf.erf(y), 0).sum(), tf.sum(tf.exp(z), -1).sum());
        });
      step().dispose(); // warm-up
      const tensors = tf.memory().numTensors;
      const bytes = tf.memory().numBytes;
      const heap = heapBytes();
      let last = 0;
      for (let i = 0; i < 1000; i++) {
        const s = step();
        if (i === 999) last = s.dataSync()[0];
        s.dispose();
      }
      expect(Number.isFinite(last)).toBe(true);
      expect(tf.memory().numTensors).toBe(tensors);
      expect(tf.memory().numBytes).toBe(bytes);
      expect(heapBytes()).toBe(heap);
      tf.dispose([a, b, bias]);
      uninstallAccel();
    });

    it('a large product matches stock (wasm heap views stay valid across growth); threads option', () => {
      const a = tf.randomUniform([300, 192], -1, 1);
      const b = tf.randomUniform([576, 192], -1, 1);
      const expected = tf.matMul(a, b, false, true);
      const addon = loadNativeAddon();
      const before = addon.getThreads();
      installAccel({ engine: 'native', threads: 1 });
      expect(addon.getThreads()).toBe(1);
      const y = tf.matMul(a, b, false, true);
      assertClose(y, expected, { rtol: 1e-4, atol: 1e-4 }, 'large');
      uninstallAccel();
      expect(addon.getThreads()).toBe(before);
      expect(() => installAccel({ engine: 'native', threads: 0 })).toThrow(/threads must be an integer/);
      tf.dispose([a, b, expected, y]);
    });
  });
}

describe('native engine when the addon is not built', () => {
  afterEach(() => {
    setNativeAddonPathForTesting();
    uninstallAccel();
  });

  for (const backend of TEST_BACKENDS) {
    it(`on ${backend}: 'native' throws AccelEngineUnavailableError with the build hint; 'auto' falls back and says why`, async () => {
      await useBackend(backend);
      setNativeAddonPathForTesting('./no-such-dir/ofq_accel_native.node');
      expect(nativeAddonAvailable()).toBe(false);
      expect(() => installAccel({ engine: 'native' })).toThrow(AccelEngineUnavailableError);
      expect(() => installAccel({ engine: 'native' })).toThrow(/not built.*pnpm --filter @ofq\/accel build:native.*libdnnl-dev.*libopenblas-dev/);
      const r = installAccel({ engine: 'auto' });
      expect(r.engine).toBe('onnxruntime');
      expect(r.fallbackReason).toMatch(/native engine unavailable/);
      expect(r.kernels).toEqual(expect.arrayContaining(['BatchMatMul', '_FusedMatMul', 'Sum', 'Erf', 'Exp']));
      // The onnxruntime engine serves matmul correctly after the fallback.
      tf.tidy(() => {
        expect(Array.from(tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]])).dataSync())).toEqual([11]);
      });
    });
  }
});
