import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { applyOFQ, loadOFQModel } from '@ofq/layers';
import { availableDataset, loadImages, type DatasetName } from './data.js';
import { fileLoadHandler, fileSaveHandler } from './file-io.js';
import { accuracy, createConvNet, toTensors } from './model.js';

export interface RunOptions {
  trainSize: number;
  testSize: number;
  /** Float training epochs; each quantized copy fine-tunes this many more (the float baseline too). */
  epochs: number;
  /** Fine-tuning learning rate of the quantized copies (Adam). */
  lr?: number;
  batchSize?: number;
  log?: (line: string) => void;
}

export interface QuantResult {
  name: string;
  weightBits: number;
  actBits: number;
  /** Right after applyOFQ, before fine-tuning (post-training quantization). */
  ptqAccuracy: number;
  qatAccuracy: number;
}

export interface RunResult {
  dataset: DatasetName;
  floatAccuracy: number;
  /** W4A4 and W2A2 after `epochs` of QAT from the float model (stage 1). */
  quantized: QuantResult[];
  /** Stage 2 from the saved W2A2 model, `epochs` more at lr/5: plain (control) and with CGA (OFQ). */
  stage2: { plainAccuracy: number; cgaAccuracy: number; frozenFraction: number };
  /** The W2A2 model saved to a folder and loaded back with loadOFQModel. */
  reloaded: { accuracy: number; identical: boolean; stepsTrainAfterLoad: boolean };
}

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/**
 * FP training, then applyOFQ W4A4 and W2A2 QAT from the float model (first layer at 8 bits, as OFQ keeps
 * its first and last layers, with a float input), then the W2A2 model is saved, loaded back, and trained further with and
 * without CGA (OFQ's second stage).
 */
export async function runLayersCnn(o: RunOptions): Promise<RunResult> {
  const log = o.log ?? (() => {});
  const batchSize = o.batchSize ?? 64;
  const lr = o.lr ?? 5e-4;
  const train = toTensors(loadImages('train', o.trainSize));
  const testData = loadImages('test', o.testSize);
  const test = toTensors(testData);
  const sample = tf.slice(train.x, 0, Math.min(256, o.trainSize));
  const fit = (m: tf.LayersModel) => m.fit(train.x, train.y, { epochs: o.epochs, batchSize, shuffle: true, verbose: 0 });
  const acc = (m: tf.LayersModel) => accuracy(m, test.x, testData.labels);
  const dir = mkdtempSync(join(tmpdir(), 'layers-cnn-'));
  try {
    const fp = createConvNet();
    fp.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
    await fit(fp);
    const floatWeights = fp.getWeights().map((w) => w.clone());
    await fit(fp); // the float baseline gets the same training budget as the quantized copies
    const floatAccuracy = acc(fp);
    log(`FP32              test accuracy ${pct(floatAccuracy)}`);
    fp.optimizer.dispose();
    fp.dispose();

    const quantized: QuantResult[] = [];
    let after: Omit<RunResult, 'dataset' | 'floatAccuracy' | 'quantized'> | undefined;
    for (const bits of [4, 2]) {
      const model = createConvNet();
      model.setWeights(floatWeights);
      // ← the OFQ part: kernels by StatsQ, inputs by LSQ (steps set on `sample`); the first layer keeps 8-bit
      // weights and its float input (pixels are 8-bit values already, and a learnable input step there
      // would cost one more convolution per step: the gradient with respect to the image).
      const ofq = applyOFQ(model, { weightBits: bits, actBits: bits, sample, overrides: [{ layers: '<first>', weightBits: 8, actBits: null }] });
      const ptqAccuracy = acc(model);
      model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
      await fit(model); // unchanged training loop, now quantization-aware (kernels and steps train)
      const r = { name: `W${bits}A${bits}`, weightBits: bits, actBits: bits, ptqAccuracy, qatAccuracy: acc(model) };
      quantized.push(r);
      log(`${r.name.padEnd(17)} test accuracy ${pct(r.qatAccuracy)} (right after applyOFQ ${pct(ptqAccuracy)})`);
      if (bits === 2) after = await stage2(model, dir, lr / 5, fit, acc, train, log);
      model.optimizer.dispose();
      ofq.dispose();
      model.dispose();
    }
    tf.dispose(floatWeights);
    return { dataset: availableDataset(), floatAccuracy, quantized, ...after! };
  } finally {
    tf.dispose([train.x, train.y, test.x, test.y, sample]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Saves the QAT model to a folder and loads it back (loadOFQModel): outputs must be bit-identical. Then
 * the original trains on without CGA (control) and the loaded copy with CGA, same epochs and LR.
 */
async function stage2(
  model: tf.LayersModel,
  dir: string,
  lr: number,
  fit: (m: tf.LayersModel) => Promise<unknown>,
  acc: (m: tf.LayersModel) => number,
  train: { x: tf.Tensor; y: tf.Tensor },
  log: (l: string) => void,
): Promise<Omit<RunResult, 'dataset' | 'floatAccuracy' | 'quantized'>> {
  await model.save(fileSaveHandler(dir));
  const { model: loaded, ofq } = await loadOFQModel(fileLoadHandler(dir));
  const [a, b] = tf.tidy(() => [model.predict(train.x, { batchSize: 256 }) as tf.Tensor, loaded.predict(train.x, { batchSize: 256 }) as tf.Tensor]);
  const da = a.dataSync();
  const db = b.dataSync();
  const identical = da.length === db.length && da.every((v, i) => Object.is(v, db[i]));
  tf.dispose([a, b]);
  const reloadedAccuracy = acc(loaded);
  log(`  saved + loaded  test accuracy ${pct(reloadedAccuracy)}, outputs ${identical ? 'bit-identical' : 'DIFFERENT'}`);

  model.optimizer.dispose();
  model.compile({ optimizer: tf.train.adam(lr), loss: 'categoricalCrossentropy' });
  await fit(model);
  const plainAccuracy = acc(model);
  log(`W2A2 + stage 2    test accuracy ${pct(plainAccuracy)} (no CGA, lr ${lr})`);

  const quantizedInputs = (v: Record<string, number | null>) => Object.values(v).filter((x) => x !== null); // the first layer's input is float
  const stepsBefore = quantizedInputs(ofq.stepValues().act);
  const adam = tf.train.adam(lr);
  const cga = ofq.cga(adam, { boundaryRange: 0.005 }); // OFQ's CGA stage: confident kernel entries frozen
  loaded.compile({ optimizer: cga, loss: 'categoricalCrossentropy' });
  await fit(loaded);
  const cgaAccuracy = acc(loaded);
  const frozenFraction = cga.frozenFraction;
  const stepsAfter = quantizedInputs(ofq.stepValues().act);
  const stepsTrainAfterLoad = stepsAfter.length > 0 && stepsAfter.every((v, i) => v !== stepsBefore[i]);
  log(`W2A2 + CGA        test accuracy ${pct(cgaAccuracy)} (from the loaded model, lr ${lr}; CGA froze ${pct(frozenFraction)} of the 2-bit kernels at the last step)`);
  cga.dispose();
  adam.dispose();
  ofq.dispose();
  loaded.dispose();
  return { stage2: { plainAccuracy, cgaAccuracy, frozenFraction }, reloaded: { accuracy: reloadedAccuracy, identical, stepsTrainAfterLoad } };
}
