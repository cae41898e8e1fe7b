/**
 * The WebAssembly SIMD kernels of simd.wat (2 kB), instantiated on tfjs-backend-wasm's own
 * WebAssembly.Memory so they read and write tensors where they lie: no copies, no JS loops.
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';
import { WASM_BASE64 } from './simd.wasm.generated.js';

/** The module's exports; pointers are byte offsets into the wasm heap. */
export interface SimdKernels {
  fwd_block(x: number, y: number, n: number, s: number, qn: number, qp: number): void;
  fwd_channel(x: number, s: number, y: number, rows: number, c: number, qn: number, qp: number): void;
  bwd_block(dy: number, x: number, dx: number, n: number, s: number, qn: number, qp: number): number;
  bwd_channel(dy: number, x: number, s: number, dx: number, acc: number, rows: number, c: number, qn: number, qp: number): void;
  sum_leading(x: number, out: number, rows: number, cols: number): void;
  sum_trailing(x: number, out: number, rows: number, cols: number): void;
  statsq_fwd(w: number, s: number, y: number, rows: number, c: number, n: number, high: number): void;
}

/** The members of tfjs-backend-wasm's BackendWasm these kernels use. */
export interface WasmHeapBackend {
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: WebAssembly.Memory } };
  dataIdMap: { get(id: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

let compiled: WebAssembly.Module | null = null;

/** Instantiates the SIMD module on the backend's memory; throws if the backend does not expose it. */
export function simdKernelsFor(backend: KernelBackend): SimdKernels {
  const memory = (backend as unknown as WasmHeapBackend).wasm.asm?.memory;
  if (!(memory instanceof WebAssembly.Memory)) throw new Error('accel: tfjs-backend-wasm does not expose its WebAssembly.Memory (wasm.asm.memory)');
  compiled ??= new WebAssembly.Module(Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0)));
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as SimdKernels;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(b: WasmHeapBackend, t: TensorInfo): number {
  const d = b.dataIdMap.get(t.dataId);
  if (!d) throw new Error('accel: tensor data not found on the wasm backend (disposed?)');
  return d.memoryOffset;
}
