/**
 * MaxPoolGrad for wasm (float32, NHWC). Stock tfjs-backend-wasm 4.22's MaxPoolGrad drops the
 * gradient of every window whose maximum is negative (measured: maxPool 2×2/2 over sin(1.7·i)
 * returns 0 where the cpu backend routes 1), so a conv → batchNorm → maxPool network gets wrong
 * gradients. This is the cpu backend's rule: each window's gradient goes to its first (row-major)
 * strictly largest input inside the image; NaN never wins; a window of only NaN/-Infinity routes nothing.
 */
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import type { TensorMemory } from '../tensor-memory.js';

interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  attrs?: NamedAttrMap;
}

/**
 * Channels innermost: the taps of one output pixel are compared as contiguous channel vectors
 * (`best`/`at` per channel), in the cpu backend's tap order, so the same input wins.
 */
function route(info: backend_util.Conv2DInfo, x: Float32Array, dy: Float32Array, dx: Float32Array | Float64Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const FH = info.effectiveFilterHeight;
  const FW = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const best = new Float32Array(C);
  const at = new Int32Array(C);
  for (let n = 0; n < N; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      const r0 = oh * SH - top;
      // First tap inside the image on the dilation grid, as the cpu backend's maxPoolPositions.
      let rMin = r0;
      while (rMin < 0) rMin += DH;
      const rMax = Math.min(H, r0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ow * SW - left;
        let cMin = c0;
        while (cMin < 0) cMin += DW;
        const cMax = Math.min(W, c0 + FW);
        best.fill(Number.NEGATIVE_INFINITY);
        at.fill(-1);
        for (let r = rMin; r < rMax; r += DH) {
          for (let q = cMin; q < cMax; q += DW) {
            const base = xn + (r * W + q) * C;
            for (let c = 0; c < C; c++) {
              const v = x[base + c];
              if (v > best[c]) {
                best[c] = v;
                at[c] = base + c;
              }
            }
          }
        }
        const yo = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) if (at[c] >= 0) dx[at[c]] += dy[yo + c];
      }
    }
  }
}

export function maxPoolGradKernel(backendName: string, mem: TensorMemory, stock: KernelConfig | undefined): KernelConfig {
  const kernelFunc = (args: KernelArgs): TensorInfo | TensorInfo[] => {
    const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
    if ((dy.dtype !== 'float32' || input.dtype !== 'float32') && stock) return stock.kernelFunc(args as Parameters<KernelFunc>[0]);
    const a = (args.attrs ?? {}) as Record<string, unknown>;
    const info = backend_util.computePool2DInfo(
      input.shape as [number, number, number, number],
      a.filterSize as number | [number, number],
      a.strides as number | [number, number],
      1,
      a.pad as 'same' | 'valid' | number,
      a.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    );
    const out = mem.alloc(input.shape);
    const dx = mem.read(out);
    if (info.strideHeight >= info.effectiveFilterHeight && info.strideWidth >= info.effectiveFilterWidth) {
      // Windows do not overlap (the usual 2×2 / stride 2): each input gets at most one term.
      dx.fill(0);
      route(info, mem.read(input), mem.read(dy), dx);
    } else {
      // float64 sums of overlapping windows, as the cpu backend's JS-number sums.
      const acc = new Float64Array(dx.length);
      route(info, mem.read(input), mem.read(dy), acc);
      dx.set(acc);
    }
    return out;
  };
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc: kernelFunc as KernelFunc };
}
