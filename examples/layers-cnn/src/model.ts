// The convnet of the TensorFlow.js MNIST tutorial (conv-pool-conv-pool-dense), trained the usual way.
import * as tf from '@tensorflow/tfjs';
import type { ImageSplit } from './data.js';

export function createConvNet(seed = 1): tf.Sequential {
  const model = tf.sequential();
  const init = (s: number) => tf.initializers.varianceScaling({ seed: seed + s });
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], kernelSize: 5, filters: 8, strides: 1, activation: 'relu', kernelInitializer: init(0), name: 'conv1' }));
  model.add(tf.layers.maxPooling2d({ poolSize: [2, 2], strides: [2, 2] }));
  model.add(tf.layers.conv2d({ kernelSize: 5, filters: 16, strides: 1, activation: 'relu', kernelInitializer: init(1), name: 'conv2' }));
  model.add(tf.layers.maxPooling2d({ poolSize: [2, 2], strides: [2, 2] }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(2), name: 'head' }));
  return model;
}

export function toTensors(d: ImageSplit): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.tensor4d(d.images, [d.count, 28, 28, 1]),
    y: tf.oneHot(tf.tensor1d(d.labels, 'int32'), 10) as tf.Tensor2D,
  }));
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
