/**
 * The fused StatsQ forward (the @ofq/core STATSQ_QUANTIZE_KERNEL contract) on tfjs-backend-wasm, on
 * the SIMD module of simd.wat: one sweep over the weight instead of seven elementwise kernels, each
 * writing a weight-sized tensor (a quantized Swin-T runs this over ≈70 M weights per forward).
 */
import { STATSQ_QUANTIZE_KERNEL, type StatsQKernelAttrs } from '@ofq/core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOffset, type SimdKernels, type WasmHeapBackend } from './simd-module.js';

interface StatsQKernelArgs {
  inputs: { w: TensorInfo; scale: TensorInfo };
  attrs: NamedAttrMap;
  backend: unknown;
}

export function statsQuantizeWasmKernel(simd: SimdKernels): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: StatsQKernelArgs): TensorInfo => {
    const { w, scale } = inputs;
    const a = attrs as unknown as StatsQKernelAttrs;
    const c = w.shape[w.shape.length - 1];
    if (w.dtype !== 'float32' || scale.dtype !== 'float32' || w.shape.length < 1 || scale.shape.length !== 1 || scale.shape[0] !== c) {
      throw new Error(`${STATSQ_QUANTIZE_KERNEL}: expected float32 w [..., C] and scale [C], got w [${w.shape}] ${w.dtype}, scale [${scale.shape}] ${scale.dtype}`);
    }
    const b = backend as WasmHeapBackend;
    const out = b.makeOutput(w.shape.slice(), 'float32');
    const size = w.shape.reduce((p, d) => p * d, 1);
    if (size === 0) return out;
    simd.statsq_fwd(heapOffset(b, w), heapOffset(b, scale), heapOffset(b, out), size / c, c, a.levels, a.clipHigh);
    return out;
  };
  return { kernelName: STATSQ_QUANTIZE_KERNEL, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
