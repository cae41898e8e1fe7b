import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe } from '../recipe/load.js';
import { train } from './pipeline.js';
import { evaluateRun } from './evaluate-run.js';
import { InterruptedError } from './stage.js';
import { main } from '../cli.js';
import { exportRun } from './export-run.js';
import { predictPacked } from './predict-packed.js';
import type { FolderInput } from './predict-folder.js';
import { renderRunReport } from './report.js';
import { loadPackedModelSync } from '@ofq/runtime';

/** A few steps of the folder recipe on 60 + 40 generated Fashion-MNIST JPEGs (MNIST when it is not installed). */
const TINY = [
  'data.trainSubset=0',
  'data.valSize=12',
  'data.workers=0',
  'data.prefetch=1',
  'model.embedDim=16',
  'model.depth=1',
  'model.numHeads=2',
  'model.mlpRatio=2',
  'teacher.train.epochs=1',
  'teacher.train.batchSize=12',
  'stage1.epochs=1',
  'stage1.batchSize=12',
  'stage1.maxStepsPerEpoch=3',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=2',
  'quant.initBatch=12',
  'eval.batchSize=20',
];

describe('image-folder pipeline end to end [wasm]', () => {
  let folder: string;
  beforeAll(async () => {
    await useBackend('wasm');
    folder = mkdtempSync(join(tmpdir(), 'ofq-folder-e2e-'));
    const from = existsSync('/usr/share/datasets/fashion-mnist') ? 'fashion-mnist' : 'mnist';
    expect(await main(['data', 'make-folder', '--from', from, '--size', '40', '--limit', '60', '--out', folder, '--quiet'])).toBe(0);
  });

  it('make-folder writes an ImageFolder; the recipe trains teacher -> W2A2 -> CGA on it and saves the class names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-folder-run-'));
    const before = tf.memory().numTensors;
    // 60 training JPEGs with mixup + cutmix, smoothing and repeated augmentation off (60 < 256).
    const sets = [`data.dir=${folder}`, ...TINY, 'stage1.augmentation.mixup=0.8', 'stage1.augmentation.cutmix=1'];
    const r = await train({ recipe: loadRecipe('fashion-mnist-folder', sets), outDir: dir, quiet: true, report: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.summaryLine).toMatch(/^top-1: fp \d+\.\d% · w2a2 \d+\.\d%/);
    const classes = JSON.parse(readFileSync(join(dir, 'classes.json'), 'utf8'));
    expect(classes.length).toBe(10);
    expect(classes).toEqual([...classes].sort());
    const ev = await evaluateRun(dir);
    expect(ev.images).toBe(60);
    expect(ev.quantTop1).toBeCloseTo(r.quantTop1, 10);

    // Shipped: the class names and the eval transform travel in the file; predict on the folder's val
    // split (the run's test set) reproduces the run's test figure.
    const shipped = exportRun(dir, { out: join(dir, 'exported.ofq') });
    const input = loadPackedModelSync(new Uint8Array(readFileSync(shipped.path))).file.input as FolderInput;
    expect(input).toMatchObject({ labels: classes, mean: [0.286, 0.286, 0.286], std: [0.353, 0.353, 0.353], imgSize: 32, cropPct: 0.875, interpolation: 'bicubic', normalize: 'prefetcher' });
    for (const file of [shipped.path, join(dir, 'model.ofq')]) {
      const p = await predictPacked(file, { data: folder, workers: 0 });
      expect(p.images).toBe(60);
      expect(p.top1).toBe(r.quantTop1);
    }
    // The folder's class order does not matter, only the names: drop one class -> the rest still map.
    const fewer = mkdtempSync(join(tmpdir(), 'ofq-folder-fewer-'));
    cpSync(join(folder, 'val'), join(fewer, 'val'), { recursive: true });
    renameSync(join(fewer, 'val', classes[0]), join(fewer, 'val', 'not-a-class'));
    await expect(predictPacked(shipped.path, { data: fewer, workers: 0 })).rejects.toThrow(/class 'not-a-class' is not one of the packed model's 10 classes \(ofq\.input\.labels\)/);
    // The report lists the class names.
    const report = await renderRunReport(dir);
    expect(report).not.toBeNull();
    const html = readFileSync(report!, 'utf8');
    expect(html).toContain(`Classes (10)`);
    for (const c of classes) expect(html).toContain(c);
  });

  it('an interrupted folder run resumes to bit-identical weights (augmentation draws are a function of seed, epoch, slot)', async () => {
    const sets = [`data.dir=${folder}`, ...TINY, 'teacher.train.epochs=2', 'stage2.enabled=false', 'stage1.maxStepsPerEpoch=2'];
    const recipe = loadRecipe('fashion-mnist-folder', sets);
    const a = mkdtempSync(join(tmpdir(), 'ofq-folder-a-'));
    await train({ recipe, outDir: a, quiet: true, report: false });
    const b = mkdtempSync(join(tmpdir(), 'ofq-folder-b-'));
    await expect(train({ recipe, outDir: b, quiet: true, report: false, control: { stopRequested: false, stopAfterSteps: { stage: 'teacher', steps: 5 } } })).rejects.toThrow(InterruptedError);
    await train({ resume: b, quiet: true, report: false });
    for (const stage of ['teacher', 'stage1']) {
      const wa = readFileSync(join(a, stage, 'last', 'weights.safetensors'));
      const wb = readFileSync(join(b, stage, 'last', 'weights.safetensors'));
      expect(wb.equals(wa), stage).toBe(true);
    }
  });
});
