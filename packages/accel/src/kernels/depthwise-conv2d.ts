/**
 * DepthwiseConv2dNativeBackpropFilter / ...BackpropInput (NHWC, float32), which stock
 * tfjs-backend-wasm does not have. Each channel is its own tiny convolution, so there is no large
 * GEMM to hand to an engine: these are direct loops over the output positions, with the channel
 * (× multiplier) axis innermost and contiguous, accumulating in float64 like the cpu backend's
 * JS-number sums. Geometry from tfjs's `computeConv2DInfo` (depthwise), dilations honoured.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { TensorMemory } from '../tensor-memory.js';
import type { ConvInfo } from './im2col.js';

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs?: NamedAttrMap;
}

type Attrs = Record<string, unknown>;

function depthwiseInfo(xShape: number[], filterShape: number[], attrs: Attrs): ConvInfo {
  return backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as number | [number, number],
    (attrs.dilations as number | [number, number] | undefined) ?? 1,
    attrs.pad as 'same' | 'valid' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    true,
  );
}

/**
 * Visits every (output position, filter tap) pair that reads inside the input: `f(xOffset,
 * dyOffset, wOffset)` with the offsets of channel 0 of the input pixel, the output pixel and the tap.
 */
function forEachTap(info: ConvInfo, f: (xo: number, yo: number, wo: number) => void): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW, outChannels: OC } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  for (let n = 0; n < N; n++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const yo = ((n * OH + oh) * OW + ow) * OC;
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * SH - top + kh * DH;
          if (ih < 0 || ih >= H) continue;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * SW - left + kw * DW;
            if (iw < 0 || iw >= W) continue;
            f(((n * H + ih) * W + iw) * C, yo, (kh * KW + kw) * OC);
          }
        }
      }
    }
  }
}

function guard(name: string, backendName: string, stock: KernelConfig | undefined, inputNames: string[],
  fast: (args: KernelArgs) => TensorInfo): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    if (inputNames.every((n) => args.inputs[n]!.dtype === 'float32')) return fast(args);
    if (stock) return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    throw new Error(`accel: ${name} supports float32 only (got ${inputNames.map((n) => args.inputs[n]!.dtype).join(', ')})`);
  };
  return { kernelName: name, backendName, kernelFunc: kernelFunc as KernelFunc };
}

/** dW[kh, kw, c, q] = Σ x[n, ih, iw, c] · dy[n, oh, ow, c·m + q]. */
export function depthwiseBackpropFilterKernel(backendName: string, mem: TensorMemory, stock: KernelConfig | undefined): KernelConfig {
  return guard('DepthwiseConv2dNativeBackpropFilter', backendName, stock, ['x', 'dy'], (args) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const info = depthwiseInfo(x.shape, (args.attrs as Attrs).filterShape as number[], args.attrs as Attrs);
    const out = mem.alloc(info.filterShape);
    const C = info.inChannels;
    const m = info.outChannels / C;
    const acc = new Float64Array(info.filterHeight * info.filterWidth * info.outChannels);
    const dW = mem.read(out);
    const xv = mem.read(x);
    const g = mem.read(dy);
    forEachTap(info, (xo, yo, wo) => {
      for (let c = 0; c < C; c++) {
        const xval = xv[xo + c];
        for (let q = 0, j = c * m; q < m; q++, j++) acc[wo + j] += xval * g[yo + j];
      }
    });
    dW.set(acc);
    return out;
  });
}

/** dx[n, ih, iw, c] = Σ w[kh, kw, c, q] · dy[n, oh, ow, c·m + q]. */
export function depthwiseBackpropInputKernel(backendName: string, mem: TensorMemory, stock: KernelConfig | undefined): KernelConfig {
  return guard('DepthwiseConv2dNativeBackpropInput', backendName, stock, ['dy', 'filter'], (args) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const info = depthwiseInfo((args.attrs as Attrs).inputShape as number[], filter.shape, args.attrs as Attrs);
    const out = mem.alloc(info.inShape);
    const C = info.inChannels;
    const m = info.outChannels / C;
    const acc = new Float64Array(info.batchSize * info.inHeight * info.inWidth * C);
    const dx = mem.read(out);
    const w = mem.read(filter);
    const g = mem.read(dy);
    forEachTap(info, (xo, yo, wo) => {
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let q = 0, j = c * m; q < m; q++, j++) s += w[wo + j] * g[yo + j];
        acc[xo + c] += s;
      }
    });
    dx.set(acc);
    return out;
  });
}
