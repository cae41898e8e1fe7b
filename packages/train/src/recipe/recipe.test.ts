import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, listRecipes, loadRecipe, readRecipeSource, validateRecipe } from './load.js';

describe('recipes', () => {
  it('ships the main job, Fashion-MNIST (micro and the ablation regime) and the nine paper recipes, all valid', () => {
    const names = listRecipes();
    expect(names).toEqual(
      ['deit-s-w2a2', 'deit-s-w3a3', 'deit-s-w4a4', 'deit-t-w2a2', 'deit-t-w3a3', 'deit-t-w4a4', 'fashion-mnist-ablation', 'fashion-mnist-folder', 'fashion-mnist-micro', 'mnist-micro', 'swin-t-w2a2', 'swin-t-w3a3', 'swin-t-w4a4'],
    );
    for (const n of names) expect(loadRecipe(n).name).toBe(n);
  });
  it('mnist-micro is the agreed main job', () => {
    const r = loadRecipe('mnist-micro');
    expect(r.model).toMatchObject({ imgSize: 28, patchSize: 7, embedDim: 64, depth: 4, numHeads: 4 });
    expect(r.quant).toMatchObject({ weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
    // Faithful structure: CGA at a constant 1e-5 with BR 0.005 after a cosine stage 1 ending at 1e-5.
    expect(r.stage2).toMatchObject({ enabled: true, lr: 1e-5, boundaryRange: 0.005, includeQK: false });
    expect(r.stage1).toMatchObject({ minLr: 1e-5, perStepLr: true });
    // An absent augmentation block parses to the full defaults, not to {}.
    expect(r.stage1.augmentation).toMatchObject({ mixup: 0, cutmix: 0, labelSmoothing: 0, repeatedAug: 0, randAugment: null, hflip: 0, dropPath: 0 });
  });
  it('paper recipes carry docs/algorithm.md §7.3 hyper-parameters', () => {
    const t2 = loadRecipe('deit-t-w2a2');
    expect(t2.stage1).toMatchObject({ epochs: 300, cooldownEpochs: 10, batchSize: 140, globalBatch: 560, lr: 5.47e-4, weightDecay: 0.05, warmupEpochs: 5, warmupLr: 1e-6, minLr: 1e-5 });
    expect(t2.stage1.augmentation).toMatchObject({ mixup: 0, cutmix: 0, labelSmoothing: 0, repeatedAug: 0, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: 0.25 });
    expect(t2.stage2).toMatchObject({ epochs: 30, lr: 1e-5, boundaryRange: 0.005, includeQK: false });
    const s3 = loadRecipe('deit-s-w3a3');
    expect(s3.stage1).toMatchObject({ batchSize: 100, globalBatch: 800, lr: 3.2e-4, weightDecay: 0, warmupEpochs: 0 });
    expect(s3.stage1.augmentation).toMatchObject({ mixup: 0.8, cutmix: 1, labelSmoothing: 0.1, repeatedAug: 3 });
    expect(loadRecipe('deit-s-w2a2').stage1).toMatchObject({ lr: 5.47e-4, weightDecay: 0.05, warmupEpochs: 5, globalBatch: 560 });
    expect(loadRecipe('deit-t-w4a4').quant).toMatchObject({ weightBits: 4, actBits: 4, qkr: true, gradScaleBatch: 140 });
  });
  it('Swin-T paper recipes carry docs/algorithm.md §7.3 hyper-parameters', () => {
    const w2 = loadRecipe('swin-t-w2a2');
    expect(w2.model).toMatchObject({ arch: 'swin', preset: 'swin-t', imgSize: 224, patchSize: 4, embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24], windowSize: 7, stochasticDepthProb: 0 });
    expect(w2.quant).toMatchObject({ weightBits: 2, actBits: 2, qkr: true, method: 'ofq', gradScaleBatch: 64 });
    expect(w2.teacher).toMatchObject({ naming: 'torchvision' });
    expect(w2.stage1).toMatchObject({ epochs: 300, cooldownEpochs: 10, batchSize: 64, globalBatch: 512, lr: 5e-4, weightDecay: 0.05, warmupEpochs: 5, warmupLr: 1e-6, minLr: 1e-5 });
    expect(w2.stage1.augmentation).toMatchObject({ mixup: 0, cutmix: 0, labelSmoothing: 0, repeatedAug: 0, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: 0.25, dropPath: 0 });
    expect(w2.stage2).toMatchObject({ epochs: 30, lr: 1e-5, boundaryRange: 0.005, includeQK: false, select: null });
    expect(w2.eval.batchSize).toBe(128);
    for (const n of ['swin-t-w3a3', 'swin-t-w4a4']) {
      const r = loadRecipe(n);
      const bits = Number(n.at(-1));
      expect(r.quant).toMatchObject({ weightBits: bits, actBits: bits });
      expect(r.stage1).toMatchObject({ batchSize: 64, globalBatch: 512, lr: 2e-4, weightDecay: 0, warmupEpochs: 0, minLr: 1e-5, cooldownEpochs: 10 });
      expect(r.stage1.augmentation).toMatchObject({ mixup: 0.8, cutmix: 1, mixupProb: 1, mixupSwitchProb: 0.5, mixupMode: 'batch', labelSmoothing: 0.1, repeatedAug: 0 });
    }
  });
  it('model fields are checked per architecture', () => {
    expect(() => loadRecipe('swin-t-w2a2', ['model.numHeads=3'])).toThrow(/model\.numHeads: a Swin takes one head count per stage/);
    expect(() => loadRecipe('swin-t-w2a2', ['model.depth=12'])).toThrow(/model\.depth: depth is a DeiT field/);
    expect(() => loadRecipe('mnist-micro', ['model.windowSize=7'])).toThrow(/model\.windowSize: windowSize is a Swin field/);
    expect(() => loadRecipe('mnist-micro', ['model.preset=swin-t'])).toThrow(/model\.preset: preset swin-t does not belong to arch 'deit'/);
  });
  it('--set overrides nested fields with typed values', () => {
    const r = loadRecipe('mnist-micro', ['stage1.lr=0.002', 'quant.qkr=false', 'data.trainSubset=500', 'stage2.enabled=false']);
    expect(r.stage1.lr).toBe(0.002);
    expect(r.quant.qkr).toBe(false);
    expect(r.data.trainSubset).toBe(500);
    expect(r.stage2.enabled).toBe(false);
    expect(() => applyOverrides({}, ['novalue'])).toThrow(/key=value/);
  });
  it('unknown recipe lists the shipped ones', () => {
    expect(() => loadRecipe('mnist-huge')).toThrow(/unknown recipe 'mnist-huge'; shipped recipes: deit-s-w2a2/);
    expect(() => loadRecipe('/nope/x.yaml')).toThrow(/recipe file not found/);
  });
  it('invalid fields are named in the error', () => {
    expect(() => loadRecipe('mnist-micro', ['stage1.lr=fast'])).toThrow(/stage1\.lr: .*number/);
    expect(() => loadRecipe('mnist-micro', ['quant.weightBits=1'])).toThrow(/quant\.weightBits/);
    expect(() => loadRecipe('mnist-micro', ['stage1.lrr=1'])).toThrow(/stage1\.lrr: unknown field/);
    expect(() => loadRecipe('mnist-micro', ['model.patchSize=5'])).toThrow(/model\.patchSize: imgSize must be a multiple of patchSize/);
    expect(() => loadRecipe('mnist-micro', ['data.dataset=cifar'])).toThrow(/data\.dataset/);
    const { raw } = readRecipeSource('mnist-micro');
    const r = structuredClone(raw) as { teacher: Record<string, unknown> };
    delete r.teacher.train;
    expect(() => validateRecipe(r)).toThrow(/teacher\.weights: set teacher\.weights/);
  });
  it('reads recipe files (YAML and JSON); bad syntax is a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-recipe-'));
    const { raw } = readRecipeSource('mnist-micro');
    writeFileSync(join(dir, 'r.json'), JSON.stringify(raw));
    expect(loadRecipe(join(dir, 'r.json')).name).toBe('mnist-micro');
    writeFileSync(join(dir, 'bad.yaml'), 'name: [oops');
    expect(() => loadRecipe(join(dir, 'bad.yaml'))).toThrow(/not valid YAML/);
  });
});
