// Window geometry of Swin (torchvision `shifted_window_attention`): zero padding to whole windows,
// the cyclic shift, window partition/reverse, the shifted-window mask and the relative position index.
// Only rank ≤ 4 transposes (tfjs-wasm's rank-5/6 transposes are very slow).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/** Value added to the logits of token pairs from different regions of a shifted window (decision #17). */
export const SHIFT_MASK_VALUE = -100;

/** `torch.roll(x, (s, s), dims=(1, 2))` on `[B, H, W, C]`: out[i] = x[(i - s) mod H]. */
export function roll2d(x: Tensor, shift: number): Tensor {
  return tf.tidy(() => {
    const [, h, w] = x.shape as number[];
    const rollAxis = (t: Tensor, axis: number, n: number): Tensor => {
      const s = ((shift % n) + n) % n;
      if (s === 0) return t;
      const begin = [0, 0, 0, 0];
      const size = [-1, -1, -1, -1];
      const headBegin = [...begin];
      headBegin[axis] = n - s;
      const headSize = [...size];
      headSize[axis] = s;
      const tailSize = [...size];
      tailSize[axis] = n - s;
      return tf.concat([tf.slice(t, headBegin, headSize), tf.slice(t, begin, tailSize)], axis);
    };
    return rollAxis(rollAxis(x, 1, h), 2, w);
  });
}

/** `[B, H, W, C]` (H, W multiples of ws) → windows `[B·nW, ws·ws, C]`, ordered (batch, window row, window column). */
export function windowPartition(x: Tensor, ws: number): Tensor {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape as number[];
    const rows = tf.reshape(x, [b * (h / ws), ws, w / ws, ws * c]);
    return tf.reshape(tf.transpose(rows, [0, 2, 1, 3]), [b * (h / ws) * (w / ws), ws * ws, c]);
  });
}

/** Inverse of `windowPartition`: `[B·nW, ws·ws, C]` → `[B, H, W, C]`. */
export function windowReverse(x: Tensor, ws: number, b: number, h: number, w: number): Tensor {
  return tf.tidy(() => {
    const c = x.shape[2] as number;
    const grid = tf.reshape(x, [b * (h / ws), w / ws, ws, ws * c]);
    return tf.reshape(tf.transpose(grid, [0, 2, 1, 3]), [b, h, w, c]);
  });
}

/** Zero-pads `[B, H, W, C]` at the bottom/right to `[B, p, p, C]` (a no-op when already p×p). */
export function padTo(x: Tensor, padded: number): Tensor {
  const [, h, w] = x.shape as number[];
  if (h === padded && w === padded) return x;
  return tf.pad(x, [[0, 0], [0, padded - h], [0, padded - w], [0, 0]]);
}

/**
 * The shifted-window mask `[nW, 1, N·N]` for a padded map of side `padded`: 0 for token pairs of the
 * same region, −100 otherwise (regions split at −ws and −shift, as torchvision's slices).
 */
export function shiftedWindowMask(padded: number, ws: number, shift: number): Float32Array {
  const region = (i: number) => (i < padded - ws ? 0 : i < padded - shift ? 1 : 2);
  const nwSide = padded / ws;
  const n = ws * ws;
  const out = new Float32Array(nwSide * nwSide * n * n);
  const ids = new Int32Array(n);
  for (let wr = 0; wr < nwSide; wr++) {
    for (let wc = 0; wc < nwSide; wc++) {
      for (let t = 0; t < n; t++) ids[t] = region(wr * ws + Math.floor(t / ws)) * 3 + region(wc * ws + (t % ws));
      const base = (wr * nwSide + wc) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[base + i * n + j] = ids[i] === ids[j] ? 0 : SHIFT_MASK_VALUE;
    }
  }
  return out;
}

/** torchvision's `relative_position_index` `[N·N]` (N = ws²): table row of the offset between tokens i and j. */
export function relativePositionIndex(ws: number): Int32Array {
  const n = ws * ws;
  const out = new Int32Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
      const dx = (i % ws) - (j % ws) + ws - 1;
      out[i * n + j] = dy * (2 * ws - 1) + dx;
    }
  }
  return out;
}
