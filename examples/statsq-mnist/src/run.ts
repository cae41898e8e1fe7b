import * as tf from '@tensorflow/tfjs';
import { applyStatsQ, quantizedWeightBytes } from '@ofq/statsq';
import { loadMnist } from './mnist.js';
import { accuracy, createMlp, disposeModel, toTensors, train } from './model.js';

export interface RunOptions {
  trainSize: number;
  testSize: number;
  /** Float training epochs; the quantized copies then fine-tune this many more (and so does the float baseline). */
  epochs: number;
  bits: number[];
  log?: (line: string) => void;
}

export interface BitsResult {
  bits: number;
  /** Accuracy right after applyStatsQ, before any fine-tuning (post-training quantization). */
  ptqAccuracy: number;
  /** Accuracy after quantization-aware fine-tuning with model.fit. */
  qatAccuracy: number;
  /** Bytes of the exported kernels: bit-packed codes + float32 per-channel scales. */
  exportedKernelBytes: number;
}

export interface RunResult {
  floatAccuracy: number;
  floatKernelBytes: number;
  quantized: BitsResult[];
}

/**
 * Trains the float MLP for `epochs`, then for each bit-width quantizes a copy with StatsQ, fine-tunes it
 * for `epochs` more (the float baseline also gets `epochs` more), evaluates and exports.
 */
export async function runStatsQMnist(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => {});
  const trainSet = toTensors(loadMnist('train', o.trainSize));
  const testData = loadMnist('test', o.testSize);
  const testSet = toTensors(testData);
  try {
    const model = createMlp();
    await train(model, trainSet.x, trainSet.y, o.epochs);
    const floatWeights = model.getWeights().map((w) => w.clone()); // the trained float model the quantized copies start from
    // Same training budget for the float baseline: the quantized copies get `epochs` more of fine-tuning.
    await train(model, trainSet.x, trainSet.y, o.epochs);
    const floatAccuracy = accuracy(model, testSet.x, testData.labels);
    const floatKernelBytes = model.layers.reduce((a, l) => a + (l.getClassName() === 'Dense' ? l.getWeights()[0].size * 4 : 0), 0);
    log(`float32          accuracy ${(100 * floatAccuracy).toFixed(2)}%   kernels ${(floatKernelBytes / 1024).toFixed(1)} KiB`);
    disposeModel(model);

    const quantized: BitsResult[] = [];
    for (const bits of o.bits) {
      const qModel = createMlp();
      qModel.setWeights(floatWeights); // start from the trained float model

      const statsq = applyStatsQ(qModel, { bits }); // ← StatsQ: every Dense kernel fake-quantized
      const ptqAccuracy = accuracy(qModel, testSet.x, testData.labels);
      await train(qModel, trainSet.x, trainSet.y, o.epochs); // unchanged training loop, now quantization-aware
      const qatAccuracy = accuracy(qModel, testSet.x, testData.labels);
      const exported = statsq.export(); // ← integer codes + per-channel scales per layer

      const exportedKernelBytes = Object.values(exported).reduce((a, q) => a + quantizedWeightBytes(q), 0);
      quantized.push({ bits, ptqAccuracy, qatAccuracy, exportedKernelBytes });
      log(
        `StatsQ ${bits}-bit     accuracy ${(100 * qatAccuracy).toFixed(2)}% (before fine-tuning ${(100 * ptqAccuracy).toFixed(2)}%)   ` +
          `kernels ${(exportedKernelBytes / 1024).toFixed(1)} KiB (${(floatKernelBytes / exportedKernelBytes).toFixed(1)}× smaller)`,
      );
      disposeModel(qModel);
    }
    tf.dispose(floatWeights);
    return { floatAccuracy, floatKernelBytes, quantized };
  } finally {
    tf.dispose([trainSet.x, trainSet.y, testSet.x, testSet.y]);
  }
}
