/**
 * im2col / col2im for NHWC convolutions: the patch matrix that turns a convolution into one GEMM.
 * Row r = (n, oh, ow) of a batch chunk, column (kh, kw, c): the layout of a tfjs filter
 * [kH, kW, inC, outC] read as a [kH·kW·inC, outC] matrix, so `cols · filter` is the output.
 */
import type { backend_util } from '@tensorflow/tfjs-core';

export type ConvInfo = backend_util.Conv2DInfo;

/** Columns of the patch matrix: kH·kW·inC. */
export function patchSize(info: ConvInfo): number {
  return info.filterHeight * info.filterWidth * info.inChannels;
}

/** True when the patch matrix of a chunk is the input itself (1×1, stride 1, no padding). */
export function isPointwise(info: ConvInfo): boolean {
  return info.filterHeight === 1 && info.filterWidth === 1 && info.strideHeight === 1 && info.strideWidth === 1 &&
    info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight === info.inHeight && info.outWidth === info.inWidth;
}

/**
 * Writes the patch rows of images [n0, n1) of `x` into `cols` (zeros where the patch reads padding).
 * Without dilation the KW·C values of one filter row are contiguous in both x and cols: one copy
 * each (a short loop: subarray+set costs more than it saves below a few dozen floats).
 */
export function im2col(x: Float32Array, info: ConvInfo, n0: number, n1: number, cols: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const span = KW * C;
  let o = 0;
  for (let n = n0; n < n1; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - left;
        const inside = DW === 1 && iw0 >= 0 && iw0 + KW <= W;
        for (let kh = 0; kh < KH; kh++, o += span) {
          const ih = oh * SH - top + kh * DH;
          if (ih < 0 || ih >= H) {
            cols.fill(0, o, o + span);
            continue;
          }
          const xr = xn + ih * W * C;
          if (inside) {
            const s0 = xr + iw0 * C;
            if (span >= 64) cols.set(x.subarray(s0, s0 + span), o);
            else for (let j = 0; j < span; j++) cols[o + j] = x[s0 + j];
            continue;
          }
          for (let kw = 0, t = o; kw < KW; kw++, t += C) {
            const iw = iw0 + kw * DW;
            if (iw < 0 || iw >= W) for (let c = 0; c < C; c++) cols[t + c] = 0;
            else for (let c = 0, s1 = xr + iw * C; c < C; c++) cols[t + c] = x[s1 + c];
          }
        }
      }
    }
  }
}

/** Adds the patch rows `cols` of images [n0, n1) back onto `dx` (which the caller zeroed): the adjoint of im2col. */
export function col2im(cols: Float32Array, info: ConvInfo, n0: number, n1: number, dx: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const span = KW * C;
  let o = 0;
  for (let n = n0; n < n1; n++) {
    const xn = n * H * W * C;
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const iw0 = ow * SW - left;
        const inside = DW === 1 && iw0 >= 0 && iw0 + KW <= W;
        for (let kh = 0; kh < KH; kh++, o += span) {
          const ih = oh * SH - top + kh * DH;
          if (ih < 0 || ih >= H) continue;
          const xr = xn + ih * W * C;
          if (inside) {
            for (let j = 0, s0 = xr + iw0 * C; j < span; j++) dx[s0 + j] += cols[o + j];
            continue;
          }
          for (let kw = 0, t = o; kw < KW; kw++, t += C) {
            const iw = iw0 + kw * DW;
            if (iw < 0 || iw >= W) continue;
            for (let c = 0, s1 = xr + iw * C; c < C; c++) dx[s1 + c] += cols[t + c];
          }
        }
      }
    }
  }
}

/**
 * The transposed patch matrix of images [n0, n1): colsT[(kh, kw, c), row]. Each of its rows is a
 * strided run along ow (step strideWidth·C in x), long even when C is 1, where im2col's
 * contiguous pieces are only KW·C floats: the faster layout for few input channels.
 */
export function im2colT(x: Float32Array, info: ConvInfo, n0: number, n1: number, colsT: Float32Array): void {
  const { inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: SH, strideWidth: SW, dilationHeight: DH, dilationWidth: DW } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const M = (n1 - n0) * OH * OW;
  const step = SW * C;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose tap kw lands inside the image: ow in [owMin, owMax).
      const off = kw * DW - left;
      const owMin = Math.min(OW, Math.max(0, Math.ceil(-off / SW)));
      const owMax = Math.max(owMin, Math.min(OW, Math.floor((W - 1 - off) / SW) + 1));
      for (let c = 0; c < C; c++) {
        let o = ((kh * KW + kw) * C + c) * M;
        for (let n = n0; n < n1; n++) {
          for (let oh = 0; oh < OH; oh++, o += OW) {
            const ih = oh * SH - top + kh * DH;
            if (ih < 0 || ih >= H) {
              colsT.fill(0, o, o + OW);
              continue;
            }
            for (let ow = 0; ow < owMin; ow++) colsT[o + ow] = 0;
            for (let ow = owMax; ow < OW; ow++) colsT[o + ow] = 0;
            let s = ((n * H + ih) * W + owMin * SW + off) * C + c;
            for (let ow = owMin; ow < owMax; ow++, s += step) colsT[o + ow] = x[s];
          }
        }
      }
    }
  }
}
