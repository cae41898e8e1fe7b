/**
 * Sum over a leading or trailing block of axes on tfjs-backend-wasm with the SIMD module: a
 * memory-bound column or row sum straight on the heap. Through ONNX Runtime this was a GEMV with a
 * ones vector at ≈1–2 ms per call on the bias-gradient shapes of a quantized DeiT-Tiny (each of its
 * learnable shifts needs one); the SIMD sums take a few tens of µs. Other Sums go to `fallback`.
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
