/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter (NHWC, float32) as im2col + one GEMM on
 * the accel engine per chunk of images:
 *   y  = cols(x) · W                  W read as [kH·kW·inC, outC]
 *   dx = col2im(dy · Wᵀ)
 *   dW = cols(x)ᵀ · dy
 * The geometry (padding, output size, rounding) is tfjs's own `computeConv2DInfo`, so every pad
 * mode (same / valid / explicit) and dimRoundingMode means what it means on the stock kernels.
 * Other data formats and dtypes go to the stock kernel.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { TensorMemory } from '../tensor-memory.js';
import { col2im, im2col, im2colT, isPointwise, patchSize, type ConvInfo } from './im2col.js';
import type { MatMulRunner } from './matmul.js';
import { Scratch } from './scratch.js';

/** Below this many input channels the filter gradient builds the transposed patch matrix (see im2colT). */
const TRANSPOSED_BELOW_CHANNELS = 4;

/** Largest patch matrix built at once (floats): larger batches run in chunks of images. */
export const CONV_CHUNK_FLOATS = 1 << 22;

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: unknown;
  attrs?: NamedAttrMap;
}

export interface ConvKernelContext {
  backendName: string;
  /**
   * The stock wasm Conv2D (XNNPACK), when there is one: a stride-1 input gradient is a full
   * convolution of dy with the flipped filter, which it runs faster than GEMM + col2im.
   */
  xnnConv2D?: KernelConfig;
  mem: TensorMemory;
  run: MatMulRunner;
  /** Patch matrices and partial filter gradients (JS memory: never detaches heap views). */
  cols: Scratch;
  partial: Scratch;
}

type Attrs = Record<string, unknown>;

function convInfo(xShape: number[], filterShape: number[], attrs: Attrs, dilations: number | [number, number]): ConvInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    dilations,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

/** Images per chunk so that the patch matrix stays under CONV_CHUNK_FLOATS (at least one). */
function imagesPerChunk(info: ConvInfo): number {
  const perImage = info.outHeight * info.outWidth * patchSize(info);
  return Math.max(1, Math.floor(CONV_CHUNK_FLOATS / Math.max(1, perImage)));
}

function isNHWC(attrs: Attrs): boolean {
  return attrs.dataFormat === undefined || attrs.dataFormat === 'NHWC' || attrs.dataFormat === 'channelsLast';
}

function withStock(name: string, ctx: ConvKernelContext, stock: KernelConfig | undefined, fast: (args: KernelArgs) => TensorInfo,
  inputNames: string[]): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const attrs = (args.attrs ?? {}) as Attrs;
    const float = inputNames.every((n) => args.inputs[n]!.dtype === 'float32');
    if (!float || !isNHWC(attrs)) {
      if (stock) return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
      throw new Error(`accel: ${name} supports float32 NHWC only (got ${inputNames.map((n) => args.inputs[n]!.dtype).join(', ')}, ` +
        `dataFormat ${String(attrs.dataFormat)})`);
    }
    return fast(args);
  };
  return { kernelName: name, backendName: ctx.backendName, kernelFunc: kernelFunc as KernelFunc };
}

/** y = conv2d(x, W): per chunk of images, cols · W straight into the output rows. */
function conv2dForward(ctx: ConvKernelContext, x: TensorInfo, filter: TensorInfo, info: ConvInfo): TensorInfo {
  const { mem, run } = ctx;
  const out = mem.alloc(info.outShape);
  const K = patchSize(info);
  const rowsPerImage = info.outHeight * info.outWidth;
  const outC = info.outChannels;
  if (rowsPerImage * info.batchSize * outC === 0) return out;
  const o = mem.read(out); // after the allocation (wasm heap growth detaches older views)
  const xv = mem.read(x);
  const w = mem.read(filter);
  const step = imagesPerChunk(info);
  const pointwise = isPointwise(info);
  for (let n0 = 0; n0 < info.batchSize; n0 += step) {
    const n1 = Math.min(info.batchSize, n0 + step);
    const rows = (n1 - n0) * rowsPerImage;
    let cols: Float32Array;
    if (pointwise) cols = xv.subarray(n0 * rowsPerImage * K, n1 * rowsPerImage * K);
    else im2col(xv, info, n0, n1, (cols = ctx.cols.get(rows * K)));
    run(cols, [rows, K], w, [K, outC], false, false, o.subarray(n0 * rowsPerImage * outC, n1 * rowsPerImage * outC), [rows, outC]);
  }
  return out;
}

export function conv2DKernel(ctx: ConvKernelContext, stock: KernelConfig | undefined): KernelConfig {
  return withStock('Conv2D', ctx, stock, (args) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    const info = convInfo(x.shape, filter.shape, attrs, (attrs.dilations as number | [number, number]) ?? 1);
    return conv2dForward(ctx, x, filter, info);
  }, ['x', 'filter']);
}

/**
 * Stride 1: dx = conv2d(dy, W flipped in space with in/out channels swapped), padded by
 * k−1−pad on each side, on the stock XNNPACK Conv2D. Undefined when that does not apply.
 */
function inputGradByFullConv(ctx: ConvKernelContext, dy: TensorInfo, filter: TensorInfo, info: ConvInfo, backend: unknown): TensorInfo | undefined {
  const conv = ctx.xnnConv2D;
  if (!conv || info.strideHeight !== 1 || info.strideWidth !== 1) return undefined;
  const { filterHeight: KH, filterWidth: KW, inChannels: C, outChannels: O } = info;
  const p = info.padInfo;
  const pads = [KH - 1 - p.top, KH - 1 - p.bottom, KW - 1 - p.left, KW - 1 - p.right];
  if (pads.some((v) => v < 0) || info.outHeight + pads[0] + pads[1] - KH + 1 !== info.inHeight || info.outWidth + pads[2] + pads[3] - KW + 1 !== info.inWidth) {
    return undefined;
  }
  const { mem } = ctx;
  const flipped = mem.alloc([KH, KW, O, C]);
  const f = mem.read(flipped);
  const w = mem.read(filter);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const src = ((KH - 1 - kh) * KW + (KW - 1 - kw)) * C * O;
      const dst = (kh * KW + kw) * O * C;
      for (let i = 0; i < C; i++) for (let o = 0; o < O; o++) f[dst + o * C + i] = w[src + i * O + o];
    }
  }
  const attrs = { strides: [1, 1], pad: [[0, 0], [pads[0], pads[1]], [pads[2], pads[3]], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1] };
  const r = conv.kernelFunc({ inputs: { x: dy, filter: flipped }, backend, attrs } as unknown as Parameters<KernelFunc>[0]);
  mem.dispose(flipped);
  return Array.isArray(r) ? r[0] : r;
}

/** dx = col2im(dy · Wᵀ), chunk by chunk (col2im of a chunk touches only its own images); stride 1 on wasm: a full convolution. */
export function conv2DBackpropInputKernel(ctx: ConvKernelContext, stock: KernelConfig | undefined): KernelConfig {
  return withStock('Conv2DBackpropInput', ctx, stock, (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    const info = convInfo(attrs.inputShape as number[], filter.shape, attrs, 1);
    const K = patchSize(info);
    const rowsPerImage = info.outHeight * info.outWidth;
    const outC = info.outChannels;
    const empty = rowsPerImage * info.batchSize * outC === 0 || K === 0;
    const viaConv = empty ? undefined : inputGradByFullConv(ctx, dy, filter, info, args.backend);
    if (viaConv) return viaConv;
    const { mem, run } = ctx;
    const out = mem.alloc(info.inShape);
    const inPerImage = info.inHeight * info.inWidth * info.inChannels;
    const dx = mem.read(out);
    dx.fill(0);
    if (empty) return out;
    const g = mem.read(dy);
    const w = mem.read(filter);
    const step = imagesPerChunk(info);
    const pointwise = isPointwise(info);
    for (let n0 = 0; n0 < info.batchSize; n0 += step) {
      const n1 = Math.min(info.batchSize, n0 + step);
      const rows = (n1 - n0) * rowsPerImage;
      const dyRows = g.subarray(n0 * rowsPerImage * outC, n1 * rowsPerImage * outC);
      if (pointwise) {
        run(dyRows, [rows, outC], w, [K, outC], false, true, dx.subarray(n0 * inPerImage, n1 * inPerImage), [rows, K]);
        continue;
      }
      const cols = ctx.cols.get(rows * K);
      run(dyRows, [rows, outC], w, [K, outC], false, true, cols, [rows, K]);
      col2im(cols, info, n0, n1, dx);
    }
    return out;
  }, ['dy', 'filter']);
}

/** dW = Σ_chunks cols(x)ᵀ · dy (the first chunk straight into the output, later ones added). */
export function conv2DBackpropFilterKernel(ctx: ConvKernelContext, stock: KernelConfig | undefined): KernelConfig {
  return withStock('Conv2DBackpropFilter', ctx, stock, (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = (args.attrs ?? {}) as Attrs;
    const info = convInfo(x.shape, attrs.filterShape as number[], attrs, 1);
    const { mem, run } = ctx;
    const out = mem.alloc(info.filterShape);
    const K = patchSize(info);
    const outC = info.outChannels;
    const rowsPerImage = info.outHeight * info.outWidth;
    const dW = mem.read(out);
    if (K * outC === 0) return out;
    if (rowsPerImage * info.batchSize === 0) {
      dW.fill(0);
      return out;
    }
    const xv = mem.read(x);
    const g = mem.read(dy);
    const step = imagesPerChunk(info);
    const pointwise = isPointwise(info);
    for (let n0 = 0; n0 < info.batchSize; n0 += step) {
      const n1 = Math.min(info.batchSize, n0 + step);
      const rows = (n1 - n0) * rowsPerImage;
      const dyRows = g.subarray(n0 * rowsPerImage * outC, n1 * rowsPerImage * outC);
      const target = n0 === 0 ? dW : ctx.partial.get(K * outC);
      if (pointwise) {
        run(xv.subarray(n0 * rowsPerImage * K, n1 * rowsPerImage * K), [rows, K], dyRows, [rows, outC], true, false, target, [K, outC]);
      } else if (info.inChannels < TRANSPOSED_BELOW_CHANNELS) {
        const colsT = ctx.cols.get(rows * K);
        im2colT(xv, info, n0, n1, colsT);
        run(colsT, [K, rows], dyRows, [rows, outC], false, false, target, [K, outC]);
      } else {
        const cols = ctx.cols.get(rows * K);
        im2col(xv, info, n0, n1, cols);
        run(cols, [rows, K], dyRows, [rows, outC], true, false, target, [K, outC]);
      }
      if (target !== dW) for (let i = 0; i < target.length; i++) dW[i] += target[i];
    }
    return out;
  }, ['x', 'dy']);
}
