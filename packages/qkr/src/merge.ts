// The merged query-key weight of QKR (docs/algorithm.md §5): per head W_qkʰ = Kqʰ·Kkʰᵀ, C×C, rows indexed by the
// query-side input channel. Stored the way every @ofq weight quantizer expects a weight: rows on the
// LAST axis, so the (H·C, C) PyTorch matrix of the reference is handled here as its transpose (C, H·C).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

function checkKernels(kq: Tensor, kk: Tensor, numHeads: number): [number, number] {
  if (kq.rank !== 2 || kk.rank !== 2) throw new Error(`QKR: q and k kernels must be 2-D [in, out], got [${kq.shape}] and [${kk.shape}]`);
  const [cIn, cOut] = kq.shape as number[];
  if (kk.shape[0] !== cIn || kk.shape[1] !== cOut) throw new Error(`QKR: q kernel [${kq.shape}] and k kernel [${kk.shape}] differ in shape`);
  if (!Number.isInteger(numHeads) || numHeads < 1 || cOut % numHeads !== 0) {
    throw new Error(`QKR: numHeads ${numHeads} must be a positive divisor of the q/k width ${cOut}`);
  }
  return [cIn, cOut / numHeads];
}

/**
 * `[C, H·C]` with element `[j, h·C + i] = W_qkʰ[i, j] = Σ_e Kq[i, h·d+e]·Kk[j, h·d+e]`: the transpose of
 * the reference's `(H·C, C)` matrix. A per-last-axis quantizer (StatsQ) therefore takes one scale per
 * reference row `h·C + i`, and `X̂·W` gives the keys mapped back to input space for every head at once.
 */
export function mergedQKWeight(kq: Tensor, kk: Tensor, numHeads: number): Tensor {
  const [c, d] = checkKernels(kq, kk, numHeads);
  return tf.tidy(() => {
    const qh = tf.transpose(tf.reshape(kq, [c, numHeads, d]), [1, 0, 2]); // [H, C_i, d]
    const kh = tf.transpose(tf.reshape(kk, [c, numHeads, d]), [1, 0, 2]); // [H, C_j, d]
    const perHeadT = tf.matMul(kh, qh, false, true); // [H, C_j, C_i]
    return tf.reshape(tf.transpose(perHeadT, [1, 0, 2]), [c, numHeads * c]);
  });
}

/** The reference's layout: `[H, C, C]`, head h holding `W_qkʰ` with rows = query-side input channel. */
export function mergedQKPerHead(kq: Tensor, kk: Tensor, numHeads: number): Tensor {
  const [c] = checkKernels(kq, kk, numHeads);
  return tf.tidy(() => tf.transpose(tf.reshape(mergedQKWeight(kq, kk, numHeads), [c, numHeads, c]), [1, 2, 0]));
}

/**
 * Attention logits from the merged weight: `A[b,h,l,m] = scale · Σ_c X̂[b,l,c]·qkx[b,h,c,m]`, where
 * `qkx = W_qkʰ·X̂ᵀ`. `wqk` is `[C, H·C]` (as `mergedQKWeight`, possibly quantized); `qkxTransform`
 * (the qkx quantizer with its shifts) sees the keys as `[B, N, H·C]`. Returns `[B, H, N, N]`.
 */
export function qkrLogits(
  x: Tensor,
  wqk: Tensor,
  numHeads: number,
  { scale, qkxTransform }: { scale: number; qkxTransform?: (qkx: Tensor) => Tensor },
): Tensor {
  if (x.rank !== 3) throw new Error(`qkrLogits: x must be [B, N, C], got [${x.shape}]`);
  const [b, n, c] = x.shape;
  if (wqk.rank !== 2 || wqk.shape[0] !== c || wqk.shape[1] !== numHeads * c) {
    throw new Error(`qkrLogits: merged weight must be [${c}, ${numHeads * c}] for ${numHeads} heads, got [${wqk.shape}]`);
  }
  return tf.tidy(() => {
    let qkx = tf.reshape(tf.matMul(tf.reshape(x, [b * n, c]) as tf.Tensor2D, wqk as tf.Tensor2D), [b, n, numHeads * c]);
    if (qkxTransform) qkx = qkxTransform(qkx);
    // keys as rows (m, h): [B, N·H, C]; logits [B, N_l, N_m·H] → [B, H, N_l, N_m].
    const keys = tf.reshape(qkx, [b, n * numHeads, c]);
    const raw = tf.reshape(tf.matMul(x, keys, false, true), [b, n, n, numHeads]);
    return tf.mul(tf.transpose(raw, [0, 3, 1, 2]), scale);
  });
}
