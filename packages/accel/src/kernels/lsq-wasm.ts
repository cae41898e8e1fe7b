/**
 * The fused LSQ kernels on tfjs-backend-wasm, on the SIMD module of simd.wat (the backend's own
 * memory, no copies). Plain JS loops ran at ~20 ns per element here (unpredictable clamp
 * branches); SIMD compare masks and min/max avoid them: ~1.5–2.5 ns per element.
 */
import { LSQ_QUANTIZE_GRAD_KERNEL, LSQ_QUANTIZE_KERNEL, type LSQKernelAttrs } from '@ofq/core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { checkLSQInputs, lsqBlocks, type LSQKernelArgs } from './lsq.js';
import { heapOffset as offsetOf, type SimdKernels as LSQSimd, type WasmHeapBackend as WasmBackendLike } from './simd-module.js';

/** The step values (a few hundred floats at most), read after every allocation of the call. */
function stepValues(b: WasmBackendLike, step: TensorInfo, n: number): Float32Array {
  return new Float32Array(b.wasm.HEAPU8.buffer, offsetOf(b, step), n).slice();
}

export function lsqQuantizeWasmKernel(simd: LSQSimd): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: LSQKernelArgs): TensorInfo => {
    const { x, step } = inputs;
    const a = attrs as unknown as LSQKernelAttrs;
    checkLSQInputs(LSQ_QUANTIZE_KERNEL, x, step, a);
    const b = backend as unknown as WasmBackendLike;
    const out = b.makeOutput(x.shape.slice(), 'float32');
    const { outer, extent, inner } = lsqBlocks(x.shape, a.axis);
    if (outer * extent * inner === 0) return out;
    const [xo, so, yo] = [offsetOf(b, x), offsetOf(b, step), offsetOf(b, out)];
    if (inner === 1 && a.axis >= 0) {
      simd.fwd_channel(xo, so, yo, outer, extent, a.qn, a.qp);
      return out;
    }
    const s = stepValues(b, step, extent);
    let byte = 0;
    for (let o = 0; o < outer; o++) {
      for (let e = 0; e < extent; e++, byte += 4 * inner) simd.fwd_block(xo + byte, yo + byte, inner, s[e], a.qn, a.qp);
    }
    return out;
  };
  return { kernelName: LSQ_QUANTIZE_KERNEL, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function lsqQuantizeGradWasmKernel(simd: LSQSimd): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: LSQKernelArgs): TensorInfo[] => {
    const { dy, x, step } = inputs;
    const a = attrs as unknown as LSQKernelAttrs;
    checkLSQInputs(LSQ_QUANTIZE_GRAD_KERNEL, x, step, a, dy);
    const b = backend as unknown as WasmBackendLike;
    const { outer, extent, inner } = lsqBlocks(x.shape, a.axis);
    const dxInfo = b.makeOutput(x.shape.slice(), 'float32');
    const dsInfo = b.makeOutput([extent], 'float32');
    const ds = (): Float32Array => new Float32Array(b.wasm.HEAPU8.buffer, offsetOf(b, dsInfo), extent);
    ds().fill(0);
    if (outer * extent * inner === 0) return [dxInfo, dsInfo];
    const [dyo, xo, so, dxo] = [offsetOf(b, dy), offsetOf(b, x), offsetOf(b, step), offsetOf(b, dxInfo)];
    if (inner === 1 && a.axis >= 0) {
      simd.bwd_channel(dyo, xo, so, dxo, offsetOf(b, dsInfo), outer, extent, a.qn, a.qp);
      return [dxInfo, dsInfo];
    }
    const s = stepValues(b, step, extent);
    const acc = new Float64Array(extent);
    let byte = 0;
    for (let o = 0; o < outer; o++) {
      for (let e = 0; e < extent; e++, byte += 4 * inner) acc[e] += simd.bwd_block(dyo + byte, xo + byte, dxo + byte, inner, s[e], a.qn, a.qp);
    }
    ds().set(acc);
    return [dxInfo, dsInfo];
  };
  return { kernelName: LSQ_QUANTIZE_GRAD_KERNEL, backendName: 'wasm', kernelFunc: kernelFunc as unknown as KernelFunc };
}
