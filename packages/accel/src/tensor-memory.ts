/**
 * Raw float32 access to tensor data on the backends we accelerate, without copies:
 * wasm tensors are views onto the wasm heap, cpu tensors are their own TypedArrays.
 */
import type { DataId, KernelBackend, TensorInfo } from '@tensorflow/tfjs-core';

export interface TensorMemory {
  /** Float32 view of a tensor's data. On wasm it is invalid after the next heap allocation. */
  read(t: TensorInfo): Float32Array;
  /** A new float32 output tensor (uninitialised on wasm). */
  alloc(shape: number[]): TensorInfo;
  /** Releases a backend tensor this kernel created and does not return. */
  dispose(t: TensorInfo): void;
  /** Heap bytes in use by the backend's allocator (wasm only; 0 elsewhere). */
  heapBytes(): number;
}

/** The members of tfjs-backend-wasm's BackendWasm we use (kept internal to the package). */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(id: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  disposeData(id: DataId): boolean;
}

interface CpuBackendLike {
  readSync(id: DataId): unknown;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
  disposeData(id: DataId): boolean;
}

export function isWasmBackend(b: KernelBackend): boolean {
  const w = b as Partial<WasmBackendLike>;
  return !!w.wasm && !!w.dataIdMap && typeof w.makeOutput === 'function';
}

function sizeOf(shape: readonly number[]): number {
  let s = 1;
  for (const d of shape) s *= d;
  return s;
}

export function wasmMemory(backend: KernelBackend): TensorMemory {
  const b = backend as unknown as WasmBackendLike;
  return {
    read(t) {
      const data = b.dataIdMap.get(t.dataId);
      if (!data) throw new Error('accel: tensor data not found on the wasm backend (disposed?)');
      // The heap buffer is re-read every time: growing the heap detaches older views.
      return new Float32Array(b.wasm.HEAPU8.buffer, data.memoryOffset, sizeOf(t.shape));
    },
    alloc: (shape) => b.makeOutput(shape, 'float32'),
    dispose: (t) => void b.disposeData(t.dataId),
    heapBytes: () => b.wasm.HEAPU8.byteLength,
  };
}

export function cpuMemory(backend: KernelBackend): TensorMemory {
  const b = backend as unknown as CpuBackendLike;
  return {
    read(t) {
      const v = b.readSync(t.dataId);
      if (v instanceof Float32Array) return v;
      // The cpu backend's Cast from int32/bool to float32 keeps the source array (no encoding loss), so a
      // float32 input may hold an Int32Array or Uint8Array: convert (inputs only; outputs are ours).
      if (ArrayBuffer.isView(v)) return Float32Array.from(v as unknown as ArrayLike<number>);
      throw new Error('accel: expected numeric data on the cpu backend');
    },
    alloc: (shape) => b.makeTensorInfo(shape, 'float32', new Float32Array(sizeOf(shape))),
    dispose: (t) => void b.disposeData(t.dataId),
    heapBytes: () => 0,
  };
}
