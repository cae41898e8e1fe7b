import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

/**
 * Writes `value` into an existing step variable when the shape matches (so optimizers holding it keep
 * working), otherwise replaces it with a new (unnamed) variable. Does not take ownership of `value`.
 */
export function createOrAssignStep(current: tf.Variable | null, value: Tensor, trainable: boolean): tf.Variable {
  if (current !== null && current.shape.join(',') === value.shape.join(',')) {
    current.assign(value);
    return current;
  }
  current?.dispose();
  return tf.variable(value, trainable);
}

/** A float32 step tensor from a tensor or numbers (per-tensor steps are stored as shape [1]). */
export function toStepTensor(values: Tensor | ArrayLike<number>, shape: number[] | undefined, scalar: boolean): Tensor {
  if (values == null) throw new TypeError('setStep: values are required');
  let t: Tensor;
  if (values instanceof tf.Tensor) t = tf.cast(values, 'float32');
  else t = tf.tensor(Array.from(values), shape ?? [values.length], 'float32');
  const data = t.dataSync();
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      t.dispose();
      throw new RangeError(`setStep: step ${i} is ${data[i]} (steps must be finite)`);
    }
  }
  if (!scalar) return t;
  if (t.size !== 1) {
    const s = t.shape;
    t.dispose();
    throw new RangeError(`setStep: a per-tensor step has one value, got shape [${s}]`);
  }
  const r = tf.reshape(t, [1]);
  t.dispose();
  return r;
}
