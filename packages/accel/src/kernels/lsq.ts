/**
 * Fused LSQ fake-quantization kernels (the contract is in @ofq/core: LSQ_QUANTIZE_KERNEL and
 * LSQ_QUANTIZE_GRAD_KERNEL). The composite version is ~6 elementwise tfjs ops forward and ~19
 * backward, several of them bool comparisons that stock wasm runs at ~8 ms per million elements;
 * here each pass is one sweep over the data in plain JS. Every float32 operation of the composite
 * (x/s, q·s, dy·s, ...) is rounded to float32 with Math.fround, so values match it bit for bit;
 * only the step-gradient sums are accumulated in float64 (more accurate than tf.sum).
 */
import { LSQ_QUANTIZE_GRAD_KERNEL, LSQ_QUANTIZE_KERNEL, type LSQKernelAttrs } from '@ofq/core';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { TensorMemory } from '../tensor-memory.js';

const f32 = Math.fround;

/** Round half to even (tf.round, torch.round), keeping the sign of a zero result (-0.3 → -0). NaN stays NaN. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && v < 0 ? -0 : r;
}

/** x viewed as [outer, extent, inner] around the step axis (a per-tensor step: [1, 1, size]). */
export function lsqBlocks(shape: readonly number[], axis: number): { outer: number; extent: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < shape.length; i++) {
    if (axis >= 0 && i < axis) outer *= shape[i];
    else if (axis < 0 || i > axis) inner *= shape[i];
  }
  return { outer, extent: axis < 0 ? 1 : shape[axis], inner };
}

export function checkLSQInputs(what: string, x: TensorInfo, step: TensorInfo, a: LSQKernelAttrs, dy?: TensorInfo): void {
  for (const t of dy ? [x, step, dy] : [x, step]) {
    if (t.dtype !== 'float32') throw new TypeError(`${what}: inputs must be float32, got ${t.dtype}`);
  }
  const expected = a.axis < 0 ? 1 : x.shape[a.axis];
  const size = step.shape.reduce((p, d) => p * d, 1);
  if (a.axis >= x.shape.length || size !== expected) {
    throw new RangeError(`${what}: step of shape [${step.shape}] does not match axis ${a.axis} of x [${x.shape}]`);
  }
  if (dy && dy.shape.join(',') !== x.shape.join(',')) throw new RangeError(`${what}: dy [${dy.shape}] must have the shape of x [${x.shape}]`);
}

export interface LSQKernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}

/** Plain-JS kernels (the cpu backend's; wasm uses the SIMD ones in lsq-wasm.ts). */
export function lsqQuantizeKernel(backendName: string, mem: TensorMemory): KernelConfig {
  const kernelFunc = ({ inputs, attrs }: LSQKernelArgs): TensorInfo => {
    const { x, step } = inputs;
    const a = attrs as unknown as LSQKernelAttrs;
    checkLSQInputs(LSQ_QUANTIZE_KERNEL, x, step, a);
    const out = mem.alloc(x.shape.slice());
    // Views after the allocation (a wasm heap growth detaches older views).
    const xs = mem.read(x);
    const ss = mem.read(step);
    const o = mem.read(out);
    const { outer, extent, inner } = lsqBlocks(x.shape, a.axis);
    const { qn, qp } = a;
    let i = 0;
    for (let b = 0; b < outer; b++) {
      for (let e = 0; e < extent; e++) {
        const s = ss[e];
        for (let j = 0; j < inner; j++, i++) {
          const r = f32(xs[i] / s);
          o[i] = f32(roundHalfEven(r < qn ? qn : r > qp ? qp : r) * s);
        }
      }
    }
    return out;
  };
  return { kernelName: LSQ_QUANTIZE_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}

export function lsqQuantizeGradKernel(backendName: string, mem: TensorMemory): KernelConfig {
  const kernelFunc = ({ inputs, attrs }: LSQKernelArgs): TensorInfo[] => {
    const { dy, x, step } = inputs;
    const a = attrs as unknown as LSQKernelAttrs;
    checkLSQInputs(LSQ_QUANTIZE_GRAD_KERNEL, x, step, a, dy);
    const { outer, extent, inner } = lsqBlocks(x.shape, a.axis);
    const dxInfo = mem.alloc(x.shape.slice());
    const dsInfo = mem.alloc([extent]);
    const g = mem.read(dy);
    const xs = mem.read(x);
    const ss = mem.read(step);
    const dx = mem.read(dxInfo);
    const acc = new Float64Array(extent);
    const { qn, qp } = a;
    let i = 0;
    for (let b = 0; b < outer; b++) {
      for (let e = 0; e < extent; e++) {
        const s = ss[e];
        const s2 = f32(s * s);
        let sum = 0;
        for (let j = 0; j < inner; j++, i++) {
          const xv = xs[i];
          const d = g[i];
          const r = f32(xv / s);
          // The composite's viaProduct = dy·q and viaRatio = -(gIn·x)/(s·s), gIn = dy·s·[inside].
          sum += f32(d * roundHalfEven(r < qn ? qn : r > qp ? qp : r));
          if (r >= qn && r <= qp) {
            const gIn = f32(d * s);
            dx[i] = f32(gIn / s);
            sum -= f32(f32(gIn * xv) / s2);
          } else {
            dx[i] = 0;
          }
        }
        acc[e] += sum;
      }
    }
    mem.read(dsInfo).set(acc);
    return [dxInfo, dsInfo];
  };
  return { kernelName: LSQ_QUANTIZE_GRAD_KERNEL, backendName, kernelFunc: kernelFunc as unknown as KernelFunc };
}
