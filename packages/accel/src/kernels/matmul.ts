/**
 * BatchMatMul and _FusedMatMul kernels that run the product on a fast engine (ONNX Runtime)
 * and keep everything else (bias, activation, non-float32 inputs) on the backend's own kernels.
 */
import { getKernel } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import { matMulGeometry } from '../matmul-shape.js';
import type { TensorMemory } from '../tensor-memory.js';

/** out = op(a)·op(b); `out` already has the product's size. */
export type MatMulRunner = (
  a: Float32Array, aShape: readonly number[],
  b: Float32Array, bShape: readonly number[],
  transposeA: boolean, transposeB: boolean,
  out: Float32Array, outShape: readonly number[],
) => void;

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: KernelBackend;
  attrs?: NamedAttrMap;
}

function single(r: TensorInfo | TensorInfo[]): TensorInfo {
  return Array.isArray(r) ? r[0] : r;
}

/** Runs whatever kernel is registered now under `name` (the stock one unless we replaced it). */
function callKernel(name: string, backendName: string, args: KernelArgs): TensorInfo {
  const k = getKernel(name, backendName);
  if (!k) throw new Error(`accel: backend '${backendName}' has no '${name}' kernel`);
  return single(k.kernelFunc(args as Parameters<KernelFunc>[0]));
}

function product(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean, mem: TensorMemory, run: MatMulRunner): TensorInfo {
  const g = matMulGeometry(a.shape, b.shape, tA, tB);
  const out = mem.alloc(g.outShape);
  if (g.outSize === 0) return out;
  // Views are taken after the allocation: on wasm it may grow the heap and detach older views.
  const o = mem.read(out);
  if (g.k === 0) o.fill(0);
  else run(mem.read(a), a.shape, mem.read(b), b.shape, tA, tB, o, g.outShape);
  return out;
}

export function batchMatMulKernel(backendName: string, mem: TensorMemory, run: MatMulRunner, stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if ((a.dtype !== 'float32' || b.dtype !== 'float32') && stock) return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    return product(a, b, !!args.attrs?.transposeA, !!args.attrs?.transposeB, mem, run);
  };
  return { kernelName: 'BatchMatMul', backendName, kernelFunc: kernelFunc as KernelFunc };
}

/** tfjs fused activation name → the kernel that applies it. */
const ACTIVATION_KERNEL: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

export function fusedMatMulKernel(backendName: string, mem: TensorMemory, run: MatMulRunner, stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { a, b, bias, preluActivationWeights } = args.inputs;
    const attrs = args.attrs ?? {};
    const activation = (attrs.activation as string | undefined) ?? 'linear';
    if ((a!.dtype !== 'float32' || b!.dtype !== 'float32') && stock) return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    if (activation !== 'linear' && !(activation in ACTIVATION_KERNEL)) {
      throw new Error(`accel: unsupported fused activation '${activation}'`);
    }
    let cur = product(a!, b!, !!attrs.transposeA, !!attrs.transposeB, mem, run);
    const backend = args.backend;
    if (bias) {
      const added = callKernel('Add', backendName, { inputs: { a: cur, b: bias }, backend });
      mem.dispose(cur);
      cur = added;
    }
    if (activation !== 'linear') {
      const kernel = ACTIVATION_KERNEL[activation];
      const actArgs: KernelArgs =
        activation === 'prelu'
          ? { inputs: { x: cur, alpha: preluActivationWeights }, backend }
          : activation === 'leakyrelu'
            ? { inputs: { x: cur }, backend, attrs: { alpha: (attrs.leakyreluAlpha as number | undefined) ?? 0.2 } }
            : { inputs: { x: cur }, backend };
      const activated = callKernel(kernel, backendName, actArgs);
      mem.dispose(cur);
      cur = activated;
    }
    return cur;
  };
  return { kernelName: '_FusedMatMul', backendName, kernelFunc: kernelFunc as KernelFunc };
}
