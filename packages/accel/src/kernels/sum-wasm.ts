/**
 * Sum over a leading or trailing block of axes on tfjs-backend-wasm with the SIMD module: a
 * memory-bound column or row sum straight on the heap. Through ONNX Runtime this was a GEMV with a
 * ones vector at ≈1–2 ms per call on the bias-gradient shapes of a quantized DeiT-Tiny (each of its
 * learnable shifts needs one); the SIMD sums take a few tens of µs. Other Sums go to `fallback`.
 * Mean over leading axes (the StatsQ scale's mean|w| over a kernel's input axes) is the same column
 * sum: stock wasm transposes the weight first (≈30 ms for a 3072×768 kernel, 1 ms here).
 */
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { sumGeometry, type SumGeometry } from './elementwise.js';
import { heapOffset, type SimdKernels, type WasmHeapBackend } from './simd-module.js';

type ReduceArgs = { inputs: { x: TensorInfo }; backend: unknown; attrs?: NamedAttrMap };

function delegate(fallback: KernelConfig | undefined, name: string, args: ReduceArgs): TensorInfo | TensorInfo[] {
  if (!fallback) throw new Error(`accel: no stock ${name} kernel on wasm`);
  return fallback.kernelFunc(args as unknown as Parameters<KernelFunc>[0]);
}

/** The SIMD sum of `x` over the reduced axes of `g` into a new output. */
function simdSum(simd: SimdKernels, b: WasmHeapBackend, x: TensorInfo, g: SumGeometry): TensorInfo {
  const out = b.makeOutput(g.outShape, 'float32');
  const [xo, oo] = [heapOffset(b, x), heapOffset(b, out)];
  if (g.leading) simd.sum_leading(xo, oo, g.reduced, g.kept);
  else simd.sum_trailing(xo, oo, g.kept, g.reduced);
  return out;
}

export function simdSumKernel(simd: SimdKernels, fallback: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: ReduceArgs): TensorInfo | TensorInfo[] => {
    const g = sumGeometry(args.inputs.x, args.attrs);
    return g ? simdSum(simd, args.backend as WasmHeapBackend, args.inputs.x, g) : delegate(fallback, 'Sum', args);
  };
  return { kernelName: 'Sum', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

/**
 * Mean over a leading block of axes: the row-by-row float32 column sum, then one float32 division
 * per output — the stock kernel's arithmetic (a sequential sum over the reduced axis divided by its
 * length), so the same bits. Trailing and other Means go to `fallback` (stock sums those in place).
 */
export function simdMeanKernel(simd: SimdKernels, fallback: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: ReduceArgs): TensorInfo | TensorInfo[] => {
    const g = sumGeometry(args.inputs.x, args.attrs);
    if (!g || !g.leading) return delegate(fallback, 'Mean', args);
    const b = args.backend as WasmHeapBackend;
    const out = simdSum(simd, b, args.inputs.x, g);
    const o = new Float32Array(b.wasm.HEAPU8.buffer, heapOffset(b, out), g.kept);
    // A double quotient of two float32 values rounds to the float32 quotient (53 ≥ 2·24 + 2 bits).
    for (let i = 0; i < o.length; i++) o[i] = o[i] / g.reduced;
    return out;
  };
  return { kernelName: 'Mean', backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
