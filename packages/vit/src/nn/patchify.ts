// Non-overlapping patches of an NHWC image as rows of a matrix, so the patch "conv" (kernel = stride
// = p) is one 2-D matmul. Wasm has no Conv2DBackpropFilter; this needs only a reshape and a 4-D transpose.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * `[B, H, W, C]` → `[B·(H/p)·(W/p), p·p·C]`; patches in row-major grid order, each flattened in
 * (ky, kx, c) order, which matches a conv kernel `[p, p, C, O]` reshaped to `[p·p·C, O]`.
 */
export function patchify(x: Tensor, p: number): Tensor {
  const [b, h, w, c] = x.shape;
  return tf.tidy(() => {
    const rows = tf.reshape(x, [b * (h / p), p, w / p, p * c]);
    const grouped = tf.transpose(rows, [0, 2, 1, 3]);
    return tf.reshape(grouped, [b * (h / p) * (w / p), p * p * c]);
  });
}

/** Checks an image batch against the model's input size (clear error instead of a shape mismatch deep inside). */
export function checkImages(x: Tensor, imgSize: number, inChans: number): void {
  if (x.rank !== 4 || x.shape[1] !== imgSize || x.shape[2] !== imgSize || x.shape[3] !== inChans) {
    throw new Error(`DeiT: expected NHWC images [B, ${imgSize}, ${imgSize}, ${inChans}], got [${x.shape}]`);
  }
}
