import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@ofq/core/testing';
import { applyStatsQ, statsQuantize } from '@ofq/statsq';
import { exportLayersModel, packedLayersHandler, readPackedModel, writePackedModel } from './index.js';

function mlp(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [12], units: 16, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: tf.initializers.randomNormal({ seed: 2 }) }));
  m.add(tf.layers.dense({ units: 5, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

describe('Layers models: applyStatsQ → .ofq → tf.loadLayersModel(packedLayersHandler)', () => {
  beforeAll(() => useBackend('cpu'));

  for (const bits of [2, 3, 4]) {
    it(`${bits}-bit: the loaded model predicts what the quantized one does, kernels = statsQuantize(kernel)`, async () => {
      const model = mlp();
      const handle = applyStatsQ(model, { bits });
      const x = tf.randomNormal([6, 12], 0, 1, 'float32', 9);
      const want = model.predict(x) as tf.Tensor;
      const bytes = await exportLayersModel(model, handle);
      const file = readPackedModel(bytes);
      expect([...file.weights.keys()].length).toBe(2);
      expect([...file.weights.values()].every((w) => w.bits === bits && w.kind === 'statsq')).toBe(true);
      const loaded = await tf.loadLayersModel(packedLayersHandler(bytes));
      const got = loaded.predict(x) as tf.Tensor;
      expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
      for (let i = 0; i < 2; i++) {
        const k = model.layers[i]!.getWeights()[0]!;
        const fq = statsQuantize(k, { bits });
        expect(Array.from(loaded.layers[i]!.getWeights()[0]!.dataSync())).toEqual(Array.from(fq.dataSync()));
        fq.dispose();
      }
      // The FP bias travels unchanged.
      expect(Array.from(loaded.layers[0]!.getWeights()[1]!.dataSync())).toEqual(Array.from(model.layers[0]!.getWeights()[1]!.dataSync()));
      tf.dispose([x, want, got]);
      model.dispose();
      loaded.dispose();
    });
  }

  it('a truncated file, or a DeiT file, given to the Layers handler is a clear error', async () => {
    const model = mlp();
    const bytes = await exportLayersModel(model, applyStatsQ(model, { bits: 2 }));
    const h = packedLayersHandler(bytes.subarray(0, 100));
    await expect(h.load!()).rejects.toThrow(/packed model: safetensors/);
    const deit = writePackedModel({ model: { type: 'deit', config: {} }, weights: new Map(), floats: new Map() });
    await expect(packedLayersHandler(deit).load!()).rejects.toThrow(/holds a deit model, not a Layers model/);
    model.dispose();
  });
});
