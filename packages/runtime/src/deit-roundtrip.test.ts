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

describe('export agrees with the model\'s quantized-weight contract', () => {
  beforeAll(() => useBackend('cpu'));
  for (const c of CASES) {
    it(`${c.name}: every quantizedWeights() entry is in the file with the same codes and scales`, () => {
      const model = trainedDeiT(c.quant);
      const file = readPackedModel(exportDeiT(model));
      const refs = model.quantizedWeights();
      // Without QKR the fused qkv also appears as its q/k/v column blocks; the file stores the fused weight.
      const fused = new Set(refs.filter((r) => r.name.endsWith('.qkv.weight')).map((r) => r.name.slice(0, -'qkv.weight'.length)));
      const own = refs.filter((r) => !/\.[qkv]\.weight$/.test(r.name) || !fused.has(r.name.slice(0, -'q.weight'.length)));
      expect(own.map((r) => r.name).sort()).toEqual([...file.weights.keys()].sort());
      for (const r of own) {
        const w = r.read();
        const want = r.quantizer.codes(w);
        w.dispose();
        const got = file.weights.get(r.name)!;
        expect(Array.from(got.codes)).toEqual(Array.from(want.codes));
        expect(Array.from(got.scales)).toEqual(Array.from(want.scales));
        expect([got.kind, got.bits, got.offset, got.divisor]).toEqual([want.kind, want.bits, want.offset, want.divisor]);
      }
      model.dispose();
    });
  }
});
