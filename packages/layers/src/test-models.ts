// Small models shared by this package's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs';

/** conv(3×3, 4) → max-pool → depthwise(3×3) → flatten → dense(10): every supported layer class, tiny. */
export function tinyConvNet(seed = 1): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'conv' }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', activation: 'relu', depthwiseInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'dw' }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }), name: 'head' }));
  return model;
}

/** A deterministic batch of n 8×8 images in [0, 1] with labels. */
export function tinyData(n: number, seed = 7): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([n, 8, 8, 1], 0, 1, 'float32', seed) as tf.Tensor4D,
    y: tf.oneHot(tf.randomUniform([n], 0, 10, 'int32', seed + 1) as tf.Tensor1D, 10) as tf.Tensor2D,
  }));
}

export function sameBits(a: tf.Tensor, b: tf.Tensor): boolean {
  const x = a.dataSync();
  const y = b.dataSync();
  return x.length === y.length && x.every((v, i) => Object.is(v, y[i]));
}
