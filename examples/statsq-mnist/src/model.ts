// The "existing" model: the small MLP of the TensorFlow.js MNIST tutorials, trained the usual way.
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from './mnist.js';

export function createMlp(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.flatten({ inputShape: [28, 28, 1] }));
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: 1 }) }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }));
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** Disposes the model and its optimizer (a model does not own an optimizer instance it was compiled with). */
export function disposeModel(model: tf.LayersModel): void {
  model.optimizer?.dispose();
  model.dispose();
}

export function toTensors(d: MnistSplit): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.tensor4d(d.images, [d.count, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(d.labels, 'int32'), 10) as tf.Tensor2D,
  }));
}

export async function train(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, epochs: number): Promise<void> {
  await model.fit(x, y, { epochs, batchSize: 64, shuffle: true, verbose: 0 });
}

/** Top-1 accuracy on a labelled set. */
export function accuracy(model: tf.LayersModel, x: tf.Tensor, labels: Uint8Array): number {
  const pred = tf.tidy(() => tf.argMax(model.predict(x, { batchSize: 256 }) as tf.Tensor, -1));
  const p = pred.dataSync();
  pred.dispose();
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (p[i] === labels[i]) correct++;
  return correct / labels.length;
}
