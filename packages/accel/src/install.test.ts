import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccelEngineUnavailableError, accelStatus, describeAccelReport, installAccel, uninstallAccel } from './index.js';
import { nativeAddonAvailable } from './native-binding.js';

function heapBytes(): number {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? b.wasm.HEAPU8.byteLength : 0;
}

/** The convolution kernels on an engine (wasm keeps its XNNPACK Conv2D); without one only those stock wasm lacks (on a JS GEMM). */
const CONV_MISSING_ON_WASM = ['Conv2DBackpropFilter', 'DepthwiseConv2dNativeBackpropFilter', 'DepthwiseConv2dNativeBackpropInput'];
const CONV = ['Conv2D', 'Conv2DBackpropInput', ...CONV_MISSING_ON_WASM];

for (const backend of TEST_BACKENDS) {
  describe(`installAccel on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    afterAll(() => uninstallAccel());

    it("'auto' picks native when built, else onnxruntime, reports it, and accelStatus shows it", () => {
      const r = installAccel();
      expect(r.engine).toBe(nativeAddonAvailable() ? 'native' : 'onnxruntime');
      expect(r.backend).toBe(backend);
      expect(r.kernels).toEqual(
        backend === 'wasm'
          ? ['BatchMatMul', '_FusedMatMul', 'Erf', 'Exp', 'Sum', ...CONV.slice(1), 'MaxPoolGrad', 'Identity', 'Slice', 'SplitV', 'Unpack', 'OfqLsqQuantize', 'OfqLsqQuantizeGrad', 'Mean', 'OfqStatsQuantize']
          : ['BatchMatMul', '_FusedMatMul', 'Erf', 'Exp', 'Sum', ...CONV, 'OfqLsqQuantize', 'OfqLsqQuantizeGrad'],
      );
      expect(accelStatus()).toEqual([r]);
      uninstallAccel();
      expect(accelStatus()).toEqual([]);
    });

    it("'wasm' engine replaces only the kernels that need nothing outside tfjs; an unbuilt 'native' and unknown engines throw clearly", () => {
      const r = installAccel({ engine: 'wasm' });
      expect(r.engine).toBe('wasm');
      expect(r.kernels).toEqual(
        backend === 'wasm'
          ? [...CONV_MISSING_ON_WASM, 'MaxPoolGrad', 'Identity', 'Slice', 'SplitV', 'Unpack', 'OfqLsqQuantize', 'OfqLsqQuantizeGrad', 'Sum', 'Mean', 'OfqStatsQuantize']
          : ['OfqLsqQuantize', 'OfqLsqQuantizeGrad'],
      );
      if (!nativeAddonAvailable()) expect(() => installAccel({ engine: 'native' })).toThrow(/native engine unavailable.*build:native/); // more in native.test.ts
      expect(() => installAccel({ engine: 'cuda' as never })).toThrow(/unknown engine 'cuda'/);
      uninstallAccel();
    });

    it('installing twice replaces the first installation and one uninstall restores stock', () => {
      const stock = tf.getKernel('BatchMatMul', backend);
      installAccel();
      installAccel({ threads: 1 });
      expect(accelStatus()).toHaveLength(1);
      uninstallAccel();
      expect(tf.getKernel('BatchMatMul', backend)).toBe(stock);
    });

    it('copy-free Identity: clones share data safely in any dispose order', () => {
      installAccel();
      const before = tf.memory().numTensors;
      const a = tf.tensor2d([[1, 2], [3, 4]]);
      const b = a.clone();
      const c = tf.clone(b);
      a.dispose();
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
      b.dispose();
      expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
      const v = tf.variable(c);
      c.dispose();
      const doubled = tf.tidy(() => v.mul<tf.Tensor2D>(2));
      v.assign(doubled);
      doubled.dispose();
      expect(Array.from(v.dataSync())).toEqual([2, 4, 6, 8]);
      v.dispose();
      expect(tf.memory().numTensors).toBe(before);
      const s = tf.tensor1d(['x', 'y'], 'string');
      expect(s.clone().arraySync()).toEqual(['x', 'y']);
      tf.dispose(s);
      uninstallAccel();
    });

    it('no leaked tensors and no heap growth over 1,000 calls of every kernel', () => {
      installAccel();
      const a = tf.randomUniform([2, 17, 9]);
      const b = tf.randomUniform([2, 17, 5]);
      const bias = tf.randomUniform([5]);
      const step = () =>
        tf.tidy(() => {
          const y = tf.matMul(a, b, true, false);
          const z = tf.fused.matMul({ a: tf.reshape(tf.transpose(a, [0, 2, 1]), [18, 17]), b: tf.reshape(tf.slice(b, [0, 0, 0], [1, 17, 5]), [17, 5]), bias, activation: 'relu' });
          return tf.add(tf.sum(tf.erf(y.clone()), 0).sum(), tf.sum(tf.exp(z), -1).sum());
        });
      step().dispose(); // warm-up: sessions and heap reach their steady state
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

    it('a large product through the accel kernel matches stock (wasm heap views stay valid across growth)', () => {
      const a = tf.randomUniform([300, 192], -1, 1);
      const b = tf.randomUniform([576, 192], -1, 1);
      const expected = tf.matMul(a, b, false, true);
      installAccel();
      const y = tf.matMul(a, b, false, true);
      assertClose(y, expected, { rtol: 1e-4, atol: 1e-4 }, 'large');
      tf.dispose([a, b, expected, y]);
      uninstallAccel();
    });
  });
}

describe('installAccel without an active backend-specific path', () => {
  it('auto on a backend it does not accelerate reports stock with the reason', async () => {
    const prev = tf.getBackend();
    class NullBackend extends tf.KernelBackend {
      override dispose(): void {}
    }
    tf.registerBackend('accel-test-null', () => new NullBackend(), 0);
    await tf.setBackend('accel-test-null');
    const r = installAccel();
    expect(r).toMatchObject({ engine: 'stock', kernels: [], backend: 'accel-test-null' });
    expect(r.fallbackReason).toMatch(/not one @ofq\/accel accelerates/);
    expect(describeAccelReport(r)).toBe(`stock; ${r.fallbackReason}`);
    expect(describeAccelReport({ engine: 'onnxruntime', kernels: ['BatchMatMul', 'Erf'] })).toBe('onnxruntime (BatchMatMul, Erf)');
    expect(() => installAccel({ engine: 'onnxruntime' })).toThrow(AccelEngineUnavailableError);
    await tf.setBackend(prev);
    tf.removeBackend('accel-test-null');
  });
});
