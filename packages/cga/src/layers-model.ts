import type * as tf from '@tensorflow/tfjs-core';
import { createCGA, type CGAOptimizer, type CGAOptions } from './cga-optimizer.js';

/** The part of a tf.LayersModel CGA needs (structural, so tfjs-layers stays an optional peer). */
export interface LayersModelLike {
  trainableWeights: Array<{ name: string; read(): tf.Tensor }>;
}

/**
 * `model.fit` drop-in: CGA over a tf.LayersModel's trainable weights, named as tfjs-layers names them
 * (e.g. `dense_1/kernel`; select them with `select`, there is no sensible default for arbitrary models).
 * Pass the result to `model.compile({ optimizer, loss })`; `fit` then anneals every batch.
 *
 *   const cga = cgaForLayersModel(model, tf.train.adam(1e-3), { quantizer: new StatsQuantizer({ bits: 2 }), select: '**\/kernel' });
 *   model.compile({ optimizer: cga, loss: 'categoricalCrossentropy' });
 */
export function cgaForLayersModel(model: LayersModelLike, optimizer: tf.Optimizer, o: CGAOptions & { select: NonNullable<CGAOptions['select']> }): CGAOptimizer {
  if (!model || !Array.isArray(model.trainableWeights)) throw new TypeError('cgaForLayersModel: expected a tf.LayersModel');
  if (o?.select === undefined) throw new TypeError("cgaForLayersModel: pass `select` (e.g. '**/kernel') to choose the weights to anneal");
  return createCGA(
    optimizer,
    model.trainableWeights.map((w) => ({ name: w.name, variable: w.read() as tf.Variable })),
    o,
  );
}
