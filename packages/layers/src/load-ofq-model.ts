import type { io } from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { restoreOFQ, type OFQHandle } from './apply-ofq.js';

export interface LoadedOFQModel {
  model: LayersModel;
  /** The quantization re-applied from the saved record, steps included (QAT continues with `fit`). */
  ofq: OFQHandle;
}

/**
 * Loads a model saved after `applyOFQ` (any `tf.io` handler or URL `tf.loadLayersModel` accepts) and
 * re-applies its quantization: outputs equal the saved model's bit for bit. A plain
 * `tf.loadLayersModel` of the same files gives the float model (the record is only metadata).
 */
export async function loadOFQModel(handlerOrURL: string | io.IOHandler, options?: io.LoadOptions): Promise<LoadedOFQModel> {
  const model = await loadLayersModel(handlerOrURL, options);
  try {
    return { model, ofq: restoreOFQ(model) };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
