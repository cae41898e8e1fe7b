import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, useBackend } from '@ofq/core/testing';
import { exportDeiT, loadPackedModel, loadPackedModelSync, readPackedModel } from './index.js';
import { images, trainedDeiT } from './test-support.js';

const CASES = [
  { name: 'W2A2 OFQ + QKR', quant: { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const } },
  { name: 'W3A3 OFQ, plain attention', quant: { weightBits: 3, actBits: 3, qkr: false, method: 'ofq' as const } },
  { name: 'W4A4 LSQ weights + QKR', quant: { weightBits: 4, actBits: 4, qkr: true, method: 'lsq' as const } },
];

for (const backend of TEST_BACKENDS) {
  describe(`packed DeiT on ${backend}: eval logits equal the QAT model's`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of CASES) {
      it(c.name, async () => {
        const before = tf.memory().numTensors;
        const model = trainedDeiT(c.quant);
        const x = images(5);
        const want = model.predict(x);
        const bytes = exportDeiT(model);
        model.dispose();
        const packed = await loadPackedModel(bytes.slice().buffer);
        const got = packed.predict(x);
        // Bit for bit: the same vit modules run on weights equal to the quantizers' forward values.
        expect(Array.from(got.dataSync())).toEqual(Array.from(want.dataSync()));
        const file = readPackedModel(bytes);
        expect(file.model.type).toBe('deit');
        expect(file.weights.get('blocks.0.mlp.fc1.weight')?.bits).toBe(c.quant.weightBits);
        if (c.quant.qkr) expect(file.weights.get('blocks.1.attn.qk.weight')?.shape).toEqual([24, 72]);
        tf.dispose([x, want, got]);
        packed.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('predict leaves no tensor behind', () => {
      const model = trainedDeiT(CASES[0].quant);
      const packed = loadPackedModelSync(exportDeiT(model));
      model.dispose();
      const x = images(2);
      const before = tf.memory().numTensors;
      packed.predict(x).dispose();
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      packed.dispose();
    });
  });
}
