import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toPredicate } from '@ofq/cga';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe, readRecipeSource, validateRecipe } from '../recipe/load.js';
import { MODEL_ARCHS } from './model-registry.js';
import { checkInputs, train } from './pipeline.js';
import { evaluateRun } from './evaluate-run.js';

/** A tiny Swin on MNIST-sized inputs: 28 / patch 2 = 14×14 in 2×2 shifted windows of 7, then one 7×7 window. */
const TINY_SWIN = { arch: 'swin', imgSize: 28, patchSize: 2, inChans: 1, embedDim: 8, depths: [2, 2], numHeads: [1, 2], windowSize: 7, mlpRatio: 2, numClasses: 10 };

function tinySwinRecipe(model: Record<string, unknown> = {}) {
  const raw = structuredClone(readRecipeSource('mnist-micro').raw) as Record<string, any>;
  raw.name = 'mnist-swin-tiny';
  raw.model = { ...TINY_SWIN, ...model };
  Object.assign(raw.data, { trainSubset: 64, valSize: 16, testSubset: 16 });
  Object.assign(raw.teacher.train, { epochs: 1, maxStepsPerEpoch: 2, batchSize: 8 });
  Object.assign(raw.stage1, { epochs: 1, maxStepsPerEpoch: 2, batchSize: 8 });
  Object.assign(raw.stage2, { epochs: 1, maxStepsPerEpoch: 2 });
  raw.quant.initBatch = 8;
  raw.eval = { batchSize: 16 };
  return validateRecipe(raw);
}

describe('Swin in the pipeline', () => {
  beforeAll(() => useBackend('wasm'));

  it("CGA's Swin selection (docs/decisions.md #18): v, proj, fc1, fc2 and the PatchMerging reductions, never q/k, patch conv or head", () => {
    const recipe = tinySwinRecipe();
    const arch = MODEL_ARCHS.swin;
    const fp = arch.createFP(recipe.model, 1);
    const q = arch.quantize(fp, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
    // CGA picks among the quantized weights that are variables (W_qk is a product of q and k).
    const names = q.quantizedWeights().filter((r) => r.variable !== null).map((r) => r.name);
    expect(names).toContain('features.0.0.weight');
    expect(names).toContain('head.weight');
    const picked = names.filter(toPredicate(arch.cgaSelect));
    const expected = names.filter((n) => /(attn\.v|attn\.proj|mlp\.fc1|mlp\.fc2|reduction)\.weight$/.test(n));
    expect(picked).toEqual(expected);
    expect(picked).toContain('features.2.reduction.weight');
    expect(picked).toHaveLength(4 * 4 + 1);
    expect(names.filter(toPredicate(MODEL_ARCHS.deit.cgaSelect))).toEqual([]);
    q.dispose();
    fp.dispose();
  });

  it('the Swin-T paper recipes validate, then name the missing ImageNet folder and torchvision weights', () => {
    expect(() => checkInputs(loadRecipe('swin-t-w3a3'))).toThrow(/ImageNet folder not found at .*data\/imagenet[\s\S]*FP teacher weights not found at .*swin_t\.safetensors \(teacher\.weights, a safetensors file in torchvision naming\)/);
  });

  it('a tiny Swin trains teacher -> W2A2 QAT with KD -> CGA -> eval on MNIST without leaking tensors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-swin-'));
    const before = tf.memory().numTensors;
    const r = await train({ recipe: tinySwinRecipe(), outDir: dir, quiet: true, report: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.summaryLine).toMatch(/^top-1: fp \d+\.\d% · w2a2 \d+\.\d%$/);
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.type === 'train');
    expect(steps.length).toBe(2 + 2);
    expect(steps.at(-1).extra.cgaFrozen).toBeGreaterThan(0.5);
    const ev = await evaluateRun(dir);
    expect(ev.fpTop1).toBeCloseTo(r.fpTop1, 10);
    expect(ev.quantTop1).toBeCloseTo(r.quantTop1, 10);
  });

  it('model.gradientCheckpointing (Swin only) trains to the same losses and accuracies bit for bit, and is refused for a DeiT or with stochastic depth', async () => {
    const arch = MODEL_ARCHS.swin;
    const fp = arch.createFP(tinySwinRecipe({ gradientCheckpointing: true }).model, 1);
    const q = arch.quantize(fp, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
    expect([(fp as unknown as { gradientCheckpointing: boolean }).gradientCheckpointing, (q as unknown as { gradientCheckpointing: boolean }).gradientCheckpointing]).toEqual([true, true]);
    q.dispose();
    fp.dispose();
    const losses = async (model: Record<string, unknown>) => {
      const dir = mkdtempSync(join(tmpdir(), 'ofq-swin-ck-'));
      const r = await train({ recipe: tinySwinRecipe(model), outDir: dir, quiet: true, report: false });
      const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      return { steps: lines.filter((l) => l.type === 'train').map((l) => l.loss), top1: [r.fpTop1, r.quantTop1] };
    };
    const plain = await losses({});
    expect(plain.steps.length).toBe(4);
    expect(await losses({ gradientCheckpointing: true })).toEqual(plain);
    expect(() => loadRecipe('mnist-micro', ['model.gradientCheckpointing=true'])).toThrow(/model\.gradientCheckpointing: gradientCheckpointing is a Swin field/);
    expect(() => validateRecipe({ ...structuredClone(readRecipeSource('swin-t-w2a2').raw) as object, model: { ...(readRecipeSource('swin-t-w2a2').raw as any).model, gradientCheckpointing: true, stochasticDepthProb: 0.1 } }))
      .toThrow(/model\.gradientCheckpointing: gradient checkpointing recomputes each block, so it needs stochasticDepthProb 0/);
  });
});
