// Small quantized DeiTs with trained-looking state (one SGD step moves steps and shifts off their init).
import * as tf from '@tensorflow/tfjs-core';
import { createDeiT, initActivationSteps, type DeiTModel, type QuantConfig } from '@ofq/vit';

export const MICRO = { imgSize: 16, patchSize: 4, inChans: 1, embedDim: 24, depth: 2, numHeads: 3, mlpRatio: 2, numClasses: 5, distilled: true, seed: 7 };

export function images(seed: number, b = 3, size = 16, chans = 1): tf.Tensor4D {
  return tf.randomNormal([b, size, size, chans], 0, 1, 'float32', seed) as tf.Tensor4D;
}

/** A quantized DeiT after LSQ init and one SGD step on a toy loss. */
export function trainedDeiT(quant: QuantConfig, config: Record<string, unknown> = MICRO): DeiTModel {
  const model = createDeiT({ ...config, quant });
  const x = images(1, 4, config.imgSize as number, config.inChans as number);
  initActivationSteps(model, x);
  const vars = model.namedParameters('ofq-reference').map((p) => p.variable);
  const { value, grads } = tf.variableGrads(() => {
    const { cls, dist } = model.forwardTrain(x);
    return tf.add(tf.sum(tf.square(cls)), tf.sum(tf.mul(dist!, 0.5))) as tf.Scalar;
  }, vars);
  for (const v of vars) {
    const g = grads[v.name];
    if (g) tf.tidy(() => v.assign(tf.sub(v, tf.mul(tf.clipByValue(g, -1, 1), 0.01))));
  }
  tf.dispose([value, x, ...Object.values(grads)]);
  return model;
}
