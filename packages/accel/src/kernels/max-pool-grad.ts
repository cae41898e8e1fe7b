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

function route(info: backend_util.Conv2DInfo, x: Float32Array, dy: Float32Array, dx: Float64Array): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const FH = info.effectiveFilterHeight;
  const FW = info.effectiveFilterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
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
        const yo = ((n * OH + oh) * OW + ow) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let at = -1;
          for (let r = rMin; r < rMax; r += DH) {
            for (let q = cMin; q < cMax; q += DW) {
              const i = xn + (r * W + q) * C + c;
              if (x[i] > best) {
                best = x[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += dy[yo + c];
        }
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
    // float64 sums of overlapping windows, as the cpu backend's JS-number sums.
    const acc = new Float64Array(out.shape.reduce((p, d) => p * d, 1));
    route(info, mem.read(input), mem.read(dy), acc);
    mem.read(out).set(acc);
    return out;
  };
  return { kernelName: 'MaxPoolGrad', backendName, kernelFunc: kernelFunc as KernelFunc };
}
