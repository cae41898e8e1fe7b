import * as tf from '@tensorflow/tfjs-core';
import type { BatchSource } from '../data/batches.js';
import type { ProgressSink } from './progress.js';

export interface Predictor {
  predict(x: tf.Tensor4D): tf.Tensor2D;
}

/** Top-1 accuracy (fraction) of `model.predict` over every image of the loader (no shuffling). */
export async function top1(model: Predictor, loader: BatchSource, progress?: ProgressSink, label = 'eval'): Promise<number> {
  let correct = 0;
  let seen = 0;
  let b = 0;
  progress?.start(label, loader.numBatches);
  for await (const batch of loader.epoch(0)) {
    b++;
    const hits = tf.tidy(() => {
      const x = tf.tensor4d(batch.x, batch.shape);
      const y = tf.tensor1d(batch.y, 'int32');
      return tf.sum(tf.cast(tf.equal(tf.argMax(model.predict(x), -1), y), 'int32'));
    });
    correct += (await hits.data())[0]!;
    hits.dispose();
    seen += batch.size;
    progress?.update(b, { top1: `${((100 * correct) / seen).toFixed(2)}%` });
  }
  const acc = correct / seen;
  progress?.finish(`top-1 ${(100 * acc).toFixed(2)}% on ${seen} images`);
  return acc;
}
