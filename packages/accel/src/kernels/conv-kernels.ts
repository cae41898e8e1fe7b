/**
 * The convolution kernel set that installAccel registers: GEMM-based Conv2D and its two
 * gradients on a matmul engine, and the depthwise gradients. With no engine (the 'wasm' engine)
 * only the kernels the backend lacks are added, on a plain-JS GEMM, so that a convnet trains at all.
 */
import type { KernelConfig } from '@tensorflow/tfjs-core';
import type { TensorMemory } from '../tensor-memory.js';
import { conv2DBackpropFilterKernel, conv2DBackpropInputKernel, conv2DKernel, type ConvKernelContext } from './conv2d.js';
import { depthwiseBackpropFilterKernel, depthwiseBackpropInputKernel } from './depthwise-conv2d.js';
import { jsGemm } from './js-gemm.js';
import type { MatMulRunner } from './matmul.js';
import { Scratch } from './scratch.js';

export interface ConvKernelsOptions {
  backendName: string;
  mem: TensorMemory;
  /** The engine's matmul; undefined: no engine (plain-JS GEMM, missing kernels only). */
  run?: MatMulRunner;
  /** The kernel registered now under a name (the stock one). */
  stockKernel: (name: string) => KernelConfig | undefined;
  /** True on tfjs-backend-wasm: its stock Conv2D (XNNPACK) stays, and serves stride-1 input gradients. */
  wasm: boolean;
}

export interface ConvKernelSet {
  kernels: KernelConfig[];
  /** Frees the scratch buffers. */
  dispose(): void;
}

export function convKernels(o: ConvKernelsOptions): ConvKernelSet {
  const stockConv = o.stockKernel('Conv2D');
  const ctx: ConvKernelContext = {
    backendName: o.backendName, mem: o.mem, run: o.run ?? jsGemm, cols: new Scratch(), partial: new Scratch(),
    xnnConv2D: o.wasm ? stockConv : undefined,
  };
  const all: KernelConfig[] = [
    // Stock wasm's forward Conv2D (XNNPACK) beat im2col + GEMM (measured, README): kept there.
    ...(o.wasm ? [] : [conv2DKernel(ctx, stockConv)]),
    conv2DBackpropInputKernel(ctx, o.stockKernel('Conv2DBackpropInput')),
    conv2DBackpropFilterKernel(ctx, o.stockKernel('Conv2DBackpropFilter')),
    depthwiseBackpropFilterKernel(o.backendName, o.mem, o.stockKernel('DepthwiseConv2dNativeBackpropFilter')),
    depthwiseBackpropInputKernel(o.backendName, o.mem, o.stockKernel('DepthwiseConv2dNativeBackpropInput')),
  ];
  const kernels = o.run ? all : all.filter((k) => !o.stockKernel(k.kernelName));
  return {
    kernels,
    dispose() {
      ctx.cols.dispose();
      ctx.partial.dispose();
    },
  };
}
