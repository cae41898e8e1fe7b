/**
 * The fused LSQ kernels on tfjs-backend-wasm: a 1.3 kB WebAssembly SIMD module (lsq.wat) that
 * imports the backend's own memory and works on the tensors where they lie. Plain JS loops ran at
 * ~20 ns per element here (unpredictable clamp branches); SIMD compare masks and min/max avoid them.
 */
import { LSQ_QUANTIZE_GRAD_KERNEL, LSQ_QUANTIZE_KERNEL, type LsqKernelAttrs } from '@ofq/core';
import type { DataId, KernelBackend, KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { WASM_BASE64 } from './lsq-simd.generated.js';
import { checkLsqInputs, lsqBlocks, type LsqKernelArgs } from './lsq.js';

interface LsqSimd {
  fwd_block(x: number, y: number, n: number, s: number, qn: number, qp: number): void;
  fwd_channel(x: number, s: number, y: number, rows: number, c: number, qn: number, qp: number): void;
  bwd_block(dy: number, x: number, dx: number, n: number, s: number, qn: number, qp: number): number;
  bwd_channel(dy: number, x: number, s: number, dx: number, acc: number, rows: number, c: number, qn: number, qp: number): void;
}

interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(id: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

let compiled: WebAssembly.Module | null = null;

/** Instantiates the SIMD module on the backend's memory; throws if the backend does not expose it. */
export function lsqSimdFor(backend: KernelBackend): LsqSimd {
  const memory = (backend as unknown as WasmBackendLike).wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('accel: tfjs-backend-wasm does not expose its WebAssembly.Memory (wasm.asm.memory)');
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as LsqSimd;
}

function offsetOf(b: WasmBackendLike, t: TensorInfo): number {
  const d = b.dataIdMap.get(t.dataId);
  if (!d) throw new Error('accel: tensor data not found on the wasm backend (disposed?)');
  return d.memoryOffset;
}

/** The step values (a few hundred floats at most), read after every allocation of the call. */
function stepValues(b: WasmBackendLike, step: TensorInfo, n: number): Float32Array {
  return new Float32Array(b.wasm.HEAPU8.buffer, offsetOf(b, step), n).slice();
}

export function lsqQuantizeWasmKernel(simd: LsqSimd): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: LsqKernelArgs): TensorInfo => {
    const { x, step } = inputs;
    const a = attrs as unknown as LsqKernelAttrs;
    checkLsqInputs(LSQ_QUANTIZE_KERNEL, x, step, a);
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

export function lsqQuantizeGradWasmKernel(simd: LsqSimd): KernelConfig {
  const kernelFunc = ({ inputs, attrs, backend }: LsqKernelArgs): TensorInfo[] => {
    const { dy, x, step } = inputs;
    const a = attrs as unknown as LsqKernelAttrs;
    checkLsqInputs(LSQ_QUANTIZE_GRAD_KERNEL, x, step, a, dy);
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
