/**
 * Erf / Exp on ONNX Runtime, and Sum over a leading or trailing block of axes as a
 * matrix-vector product with a ones vector (8–20× faster than tfjs-wasm's Sum over axis 0,
 * which transposes first; 2–5× over the last axis). Anything else goes to the stock kernel.
 */
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { MatMulRunner } from './matmul.js';
import type { OrtUnaryOp } from '../ort-unary.js';
import type { TensorMemory } from '../tensor-memory.js';

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

export function unaryKernel(
  op: OrtUnaryOp, backendName: string, mem: TensorMemory,
  run: (op: OrtUnaryOp, x: Float32Array, out: Float32Array) => void, stock: KernelConfig | undefined,
): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x!;
    if (x.dtype !== 'float32' || sizeOf(x.shape) === 0) {
      if (!stock) throw new Error(`accel: no stock ${op} kernel for ${x.dtype} on ${backendName}`);
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    }
    const out = mem.alloc([...x.shape]);
    run(op, mem.read(x), mem.read(out));
    return out;
  };
  return { kernelName: op, backendName, kernelFunc: kernelFunc as KernelFunc };
}

/** A ones vector long enough for any reduction seen so far (read-only for ORT). */
class Ones {
  private buf = new Float32Array(0);
  get(n: number): Float32Array {
    if (this.buf.length < n) this.buf = new Float32Array(Math.max(n, 2 * this.buf.length)).fill(1);
    return this.buf.subarray(0, n);
  }
}

/** A Sum over a leading or trailing block of axes, viewed as a 2-D reduction; null for any other Sum. */
export interface SumGeometry {
  leading: boolean;
  outShape: number[];
  /** Elements summed into each output. */
  reduced: number;
  /** Outputs. */
  kept: number;
}

export function sumGeometry(x: TensorInfo, attrs: NamedAttrMap | undefined): SumGeometry | null {
  const rank = x.shape.length;
  const rawAxis = attrs?.axis as number | number[] | null | undefined;
  const axes = (rawAxis == null ? x.shape.map((_, i) => i) : Array.isArray(rawAxis) ? rawAxis : [rawAxis])
    .map((a) => (a < 0 ? a + rank : a))
    .sort((a, b) => a - b);
  const unique = axes.every((a, i) => i === 0 || a !== axes[i - 1]);
  const contiguous = axes.length > 0 && unique && axes.every((a, i) => a === axes[0] + i);
  const leading = contiguous && axes[0] === 0;
  const trailing = contiguous && axes[axes.length - 1] === rank - 1;
  if (x.dtype !== 'float32' || sizeOf(x.shape) === 0 || !(leading || trailing)) return null;
  const outShape = attrs?.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
  const reduced = sizeOf(axes.map((a) => x.shape[a]));
  return { leading, outShape, reduced, kept: sizeOf(x.shape) / reduced };
}

export function sumKernel(backendName: string, mem: TensorMemory, matmul: MatMulRunner, stock: KernelConfig | undefined): KernelConfig {
  const ones = new Ones();
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const x = args.inputs.x!;
    const g = sumGeometry(x, args.attrs);
    if (!g || !stock) {
      if (!stock) throw new Error(`accel: no stock Sum kernel on ${backendName}`);
      return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    }
    const { reduced, kept } = g;
    const out = mem.alloc(g.outShape);
    if (g.leading) {
      // out[1, kept] = ones[1, reduced] · x[reduced, kept]
      matmul(ones.get(reduced), [1, reduced], mem.read(x), [reduced, kept], false, false, mem.read(out), [1, kept]);
    } else {
      // out[kept, 1] = x[kept, reduced] · ones[reduced, 1]
      matmul(mem.read(x), [kept, reduced], ones.get(reduced), [reduced, 1], false, false, mem.read(out), [kept, 1]);
    }
    return out;
  };
  return { kernelName: 'Sum', backendName, kernelFunc: kernelFunc as KernelFunc };
}
