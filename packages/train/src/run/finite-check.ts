import type * as tf from '@tensorflow/tfjs-core';
import { CheckpointError } from '../errors.js';

/** Number of NaN/±Inf entries of a float array. */
export function nonFiniteCount(data: Float32Array): number {
  let bad = 0;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) bad++;
  return bad;
}

/** Throws a CheckpointError naming the file and the first tensor that holds NaN/Inf. */
export function assertFiniteTensors(tensors: Map<string, tf.Tensor>, file: string): void {
  for (const [name, t] of tensors) {
    if (t.dtype !== 'float32') continue;
    const bad = nonFiniteCount(t.dataSync() as Float32Array);
    if (bad) throw new CheckpointError(`${file}: tensor '${name}' holds ${bad} NaN/Inf value${bad > 1 ? 's' : ''} of ${t.size}`);
  }
}
