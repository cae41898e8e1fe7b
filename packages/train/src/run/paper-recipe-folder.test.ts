import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { createImage, encodeJPEG } from '@ofq/data';
import { createDeiT } from '@ofq/vit';
import { loadRecipe } from '../recipe/load.js';
import { train } from './pipeline.js';
import { evaluateRun } from './evaluate-run.js';

/** The DeiT-S W4A4 paper recipe (mixup + cutmix, smoothing, repeated augmentation ×3, RandAugment,
 *  erasing, accumulation) on a generated miniature ImageNet folder, shrunk to a one-block model. */
const SHRINK = [
  'model.imgSize=32',
  'model.patchSize=16',
  'model.embedDim=16',
  'model.depth=1',
  'model.numHeads=2',
  'model.mlpRatio=2',
  'data.workers=0',
  'stage1.epochs=1',
  'stage1.cooldownEpochs=0',
  'stage1.batchSize=8',
  'stage1.globalBatch=16',
  'stage1.maxStepsPerEpoch=2',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=1',
  'quant.initBatch=8',
  'quant.gradScaleBatch=8',
  'eval.batchSize=16',
];

describe('paper recipe on a miniature ImageNet folder [wasm]', () => {
  let dir: string;
  let weights: string;
  beforeAll(async () => {
    await useBackend('wasm');
    dir = mkdtempSync(join(tmpdir(), 'ofq-mini-imagenet-'));
    // 3 synfolders "n0000000k" like ImageNet's synsets; 264 train images (≥ 256 for repeated augmentation), 12 val
    for (const [split, n] of [['train', 264], ['val', 12]] as const) {
      for (let i = 0; i < n; i++) {
        const cls = `n0000000${i % 3}`;
        mkdirSync(join(dir, split, cls), { recursive: true });
        const img = createImage(40 + (i % 5), 30 + (i % 7));
        for (let p = 0; p < img.data.length; p++) img.data[p] = (p * (i % 3 + 1) * 37 + i) & 255;
        writeFileSync(join(dir, split, cls, `${i}.JPEG`), await encodeJPEG(img));
      }
    }
    const model = createDeiT({ imgSize: 32, patchSize: 16, inChans: 3, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2, numClasses: 1000, distilled: true, seed: 3 });
    const sd = model.stateDict({ naming: 'timm' });
    const entries: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, t] of sd) entries[k] = { shape: t.shape, data: t.dataSync() as Float32Array };
    tf.dispose([...sd.values()]);
    model.dispose();
    weights = join(dir, 'teacher.safetensors');
    writeFileSync(weights, writeSafetensors(entries));
  });

  it('deit-s-w4a4 runs KD QAT + CGA on data.dir, and ofq eval reports the FP weights\' top-1 on the val folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-mini-run-'));
    const recipe = loadRecipe('deit-s-w4a4', [`data.dir=${dir}`, `teacher.weights=${weights}`, ...SHRINK]);
    expect(recipe.stage1.augmentation).toMatchObject({ mixup: 0.8, cutmix: 1, repeatedAug: 3, randAugment: 'rand-m9-mstd0.5-inc1' });
    const before = tf.memory().numTensors;
    const r = await train({ recipe, outDir: out, quiet: true, report: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8'))).toEqual(['n00000000', 'n00000001', 'n00000002']);
    const ev = await evaluateRun(out);
    expect(ev.images).toBe(12);
    expect(ev.fpTop1).toBeCloseTo(r.fpTop1, 10);
    expect(ev.quantTop1).toBeCloseTo(r.quantTop1, 10);
  });
});
