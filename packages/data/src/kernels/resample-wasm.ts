import { WASM_BASE64 } from './resample.wasm.generated.js';

interface ResampleExports {
  memory: WebAssembly.Memory;
  horizontal(src: number, srcW: number, rowFirst: number, rows: number, outW: number, bounds: number, weights: number, ksize: number, dst: number): void;
  vertical(src: number, stride: number, outH: number, bounds: number, weights: number, ksize: number, rowShift: number, dst: number): void;
}

/** Tap windows and fixed-point weights of one resampling pass (see pil-resize.ts). */
export interface PassCoeffs {
  ksize: number;
  bounds: Int32Array;
  weights: Int32Array;
}

let instance: ResampleExports | null | undefined;

/** The SIMD passes, instantiated on first use (null where WebAssembly SIMD is unavailable). */
function kernels(): ResampleExports | null {
  if (instance !== undefined) return instance;
  try {
    const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
    instance = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports as unknown as ResampleExports;
  } catch {
    instance = null;
  }
  return instance;
}

const PAD = 16;

/** Lays out [coefficients | src | dst] in the module's memory, growing it when needed; returns the offsets. */
function layout(k: ResampleExports, c: PassCoeffs, srcBytes: number, dstBytes: number): { bounds: number; weights: number; src: number; dst: number } {
  const bounds = 0;
  const weights = bounds + c.bounds.byteLength;
  const src = (weights + c.weights.byteLength + 15) & ~15;
  const dst = (src + srcBytes + PAD + 15) & ~15;
  const need = dst + dstBytes + PAD;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  const heap = new Uint8Array(k.memory.buffer);
  heap.set(new Uint8Array(c.bounds.buffer, c.bounds.byteOffset, c.bounds.byteLength), bounds);
  heap.set(new Uint8Array(c.weights.buffer, c.weights.byteOffset, c.weights.byteLength), weights);
  return { bounds, weights, src, dst };
}

/** PIL's horizontal pass over rows [rowFirst, rowFirst + rows) of an RGB image, or null without SIMD. */
export function horizontalSIMD(src: Uint8Array, srcW: number, rowFirst: number, rows: number, outW: number, c: PassCoeffs): Uint8Array | null {
  const k = kernels();
  if (k === null) return null;
  const inRows = src.subarray(rowFirst * srcW * 3, (rowFirst + rows) * srcW * 3);
  const m = layout(k, c, inRows.length, outW * rows * 3);
  const heap = new Uint8Array(k.memory.buffer);
  heap.set(inRows, m.src);
  k.horizontal(m.src, srcW, 0, rows, outW, m.bounds, m.weights, c.ksize, m.dst);
  return heap.slice(m.dst, m.dst + outW * rows * 3);
}

/** PIL's vertical pass (rows of `stride` bytes), or null without SIMD. */
export function verticalSIMD(src: Uint8Array, stride: number, outH: number, c: PassCoeffs, rowShift: number): Uint8Array | null {
  const k = kernels();
  if (k === null) return null;
  const m = layout(k, c, src.length, stride * outH);
  const heap = new Uint8Array(k.memory.buffer);
  heap.set(src, m.src);
  k.vertical(m.src, stride, outH, m.bounds, m.weights, c.ksize, rowShift, m.dst);
  return heap.slice(m.dst, m.dst + stride * outH);
}
