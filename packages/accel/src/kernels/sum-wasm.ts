/**
 * Sum over a leading or trailing block of axes on tfjs-backend-wasm with the SIMD module: a
 * memory-bound column or row sum straight on the heap. Through ONNX Runtime this was a GEMV with a
 * ones vector at ≈1–2 ms per call on the bias-gradient shapes of a quantized DeiT-Tiny (each of its
 * learnable shifts needs one); the SIMD sums take a few tens of µs. Other Sums go to `fallback`.
 * Mean over leading axes (the StatsQ scale's mean|w| over a kernel's input axes) is the same column
 * sum: stock wasm transposes the weight first (≈30 ms for a 3072×768 kernel, 1 ms here).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { sumGeometry } from './elementwise.js';
import { heapOffset, type SimdKernels, type WasmHeapBackend } from './simd-module.js';

export function simdSumKernel(simd: SimdKernels, fallback: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo | TensorInfo[] => {
    const { x } = args.inputs;
    const g = sumGeometry(x, args.attrs);
    if (!g) {
      if (!fallback) throw new Error('accel: no stock Sum kernel on wasm');
      return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const b = args.backend as WasmHeapBackend;
    const out = b.makeOutput(g.outShape, 'float32');
    const [xo, oo] = [heapOffset(b, x), heapOffset(b, out)];
    if (g.leading) simd.sum_leading(xo, oo, g.reduced, g.kept);
    else simd.sum_trailing(xo, oo, g.kept, g.reduced);
    return out;
  };
  return { kernelName: 'Sum', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Mean over a leading block of axes: the row-by-row float32 column sum, then one float32 division
 * per output — the stock kernel's arithmetic (a sequential sum over the reduced axis divided by its
 * length), so the same bits. Trailing and other Means go to `fallback` (stock sums those in place).
 */
export function simdMeanKernel(simd: SimdKernels, fallback: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: { inputs: { x: TensorInfo }; backend: unknown; attrs?: NamedAttrMap }): TensorInfo | TensorInfo[] => {
    const { x } = args.inputs;
    const g = sumGeometry(x, args.attrs);
    if (!g || !g.leading) {
      if (!fallback) throw new Error('accel: no stock Mean kernel on wasm');
      return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
    }
    const b = args.backend as WasmHeapBackend;
    const out = b.makeOutput(g.outShape, 'float32');
    const oo = heapOffset(b, out);
    simd.sum_leading(heapOffset(b, x), oo, g.reduced, g.kept);
    const o = new Float32Array(b.wasm.HEAPU8.buffer, oo, g.kept);
    // A double quotient of two float32 values rounds to the float32 quotient (53 ≥ 2·24 + 2 bits).
    for (let i = 0; i < o.length; i++) o[i] = o[i] / g.reduced;
    return out;
  };
  return { kernelName: 'Mean', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
