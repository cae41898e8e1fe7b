import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe } from './recipe/load.js';
import { train } from './run/pipeline.js';
import { evaluateRun } from './run/evaluate-run.js';
import { exportRun } from './run/export-run.js';
import { predictPacked } from './run/predict-packed.js';
import { InterruptedError } from './run/stage.js';
import { CheckpointError } from './run/checkpoint.js';
import { main } from './cli.js';

/** A tiny slice of the main job: a few hundred images, a one-block DeiT. */
const TINY = [
  'data.trainSubset=300',
  'data.valSize=60',
  'data.testSubset=200',
  'model.embedDim=32',
  'model.depth=1',
  'model.numHeads=2',
  'model.mlpRatio=2',
  'teacher.train.epochs=10',
  'teacher.train.batchSize=24',
  'teacher.train.lr=0.005',
  'stage1.epochs=2',
  'stage1.batchSize=24',
  'stage1.lr=0.002',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=4',
  'quant.initBatch=32',
  'eval.batchSize=100',
];

describe('pipeline end to end [wasm]', () => {
  beforeAll(() => useBackend('wasm'));
  it('teacher -> W2A2 QAT with KD -> CGA -> eval -> report on a tiny slice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-e2e-'));
    const before = tf.memory().numTensors;
    const r = await train({ recipe: loadRecipe('mnist-micro', TINY), outDir: dir, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.summaryLine).toMatch(/^top-1: fp \d+\.\d% · w2a2 \d+\.\d% · model\.ofq \d+\.\d kB \(FP \d+\.\d kB, \d+\.\dx smaller\)$/);
    expect(r.fpTop1).toBeGreaterThan(0.25); // well above chance (0.1) after 100 steps on 240 images
    expect(r.quantTop1).toBeGreaterThan(0.13);
    for (const f of ['config.json', 'run.json', 'summary.json', 'meta.json', 'metrics.jsonl', 'train-log.jsonl']) {
      expect(existsSync(join(dir, f)), f).toBe(true);
    }
    for (const s of ['teacher', 'stage1', 'stage2']) {
      for (const f of ['weights.safetensors', 'optimizer.safetensors', 'state.json']) expect(existsSync(join(dir, s, 'best', f))).toBe(true);
    }
    // Wall time per phase, in the result and in summary.json; the phases add up to the total.
    const phases = ['setup', 'teacher', 'testFp', 'init', 'stage1', 'stage2', 'testQuant', 'report'];
    expect(Object.keys(r.timings)).toEqual(phases);
    const phaseSum = Object.values(r.timings).reduce((a, b) => a + b, 0);
    expect(phaseSum).toBeLessThanOrEqual(r.seconds + 0.01);
    expect(phaseSum).toBeGreaterThan(0.9 * r.seconds);
    expect(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).timings).toEqual(r.timings);
    const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(cfg.model.embedDim).toBe(32); // the resolved config, overrides applied
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const steps = lines.filter((l) => l.type === 'train');
    expect(steps.length).toBe(2 * 10 + 4); // stage 1: 2 epochs × 10 steps, stage 2: 4 steps
    expect(steps.at(-1).extra.cgaFrozen).toBeGreaterThan(0.5); // most weights are confident (frozen)
    if (r.reportPath) expect(readFileSync(r.reportPath, 'utf8')).toContain('<html');
    // `ofq eval` rebuilds the models from the run directory and gets the same test figures.
    const ev = await evaluateRun(dir);
    expect(ev.fpTop1).toBeCloseTo(r.fpTop1, 10);
    expect(ev.quantTop1).toBeCloseTo(r.quantTop1, 10);
    // The shipped model.ofq, and `ofq export` of the run, reproduce the test figure through @ofq/runtime.
    const shipped = await predictPacked(join(dir, 'model.ofq'), { data: 'mnist', subset: 200 });
    expect(shipped.top1).toBe(r.quantTop1);
    expect(shipped.recordedTop1).toBe(r.quantTop1);
    const exported = exportRun(dir, { out: join(dir, 'again.ofq') });
    expect(exported.bytes).toBeLessThan(exported.fpBytes / 1.5); // a one-block 32-wide DeiT: FP tensors and header weigh most
    expect((await predictPacked(exported.path, { data: 'mnist', subset: 200 })).top1).toBe(r.quantTop1);
  });
});

describe('pipeline tensor count [wasm]', () => {
  beforeAll(() => useBackend('wasm'));
  it('W2A2 QAT with KD and the metrics recorder: the tensor count after step 1 equals the count after step 50', async () => {
    const counts = new Map<string, number>();
    const sets = [...TINY, 'model.embedDim=8', 'teacher.train.epochs=1', 'stage1.epochs=5', 'stage2.enabled=false', 'data.testSubset=60'];
    await train({
      recipe: loadRecipe('mnist-micro', sets),
      outDir: mkdtempSync(join(tmpdir(), 'ofq-count-')),
      quiet: true,
      report: false,
      hooks: { onStep: (i) => counts.set(`${i.stage}:${i.step}`, i.numTensors) },
    });
    expect(counts.has('stage1:50')).toBe(true);
    expect(counts.get('stage1:50')).toBe(counts.get('stage1:1'));
  });
});

describe('pipeline resume [cpu]', () => {
  beforeAll(() => useBackend('cpu'));
  it('interrupted in stage 1 after k steps, resumed: final weights identical to an uninterrupted run', async () => {
    const sets = [...TINY, 'model.embedDim=8', 'stage1.epochs=1', 'stage2.maxStepsPerEpoch=2', 'teacher.train.epochs=1', 'data.testSubset=60'];
    const a = mkdtempSync(join(tmpdir(), 'ofq-res-a-'));
    await train({ recipe: loadRecipe('mnist-micro', sets), outDir: a, quiet: true, report: false });
    const b = mkdtempSync(join(tmpdir(), 'ofq-res-b-'));
    await expect(
      train({ recipe: loadRecipe('mnist-micro', sets), outDir: b, quiet: true, report: false, control: { stopRequested: false, stopAfterSteps: { stage: 'stage1', steps: 3 } } }),
    ).rejects.toThrow(InterruptedError);
    expect(existsSync(join(b, 'stage2'))).toBe(false);
    await train({ resume: b, quiet: true, report: false });
    for (const f of ['stage1/best/weights.safetensors', 'stage2/best/weights.safetensors', 'stage2/last/optimizer.safetensors']) {
      expect(readFileSync(join(b, f)).equals(readFileSync(join(a, f))), f).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(b, 'summary.json'), 'utf8')).quantTop1).toBe(JSON.parse(readFileSync(join(a, 'summary.json'), 'utf8')).quantTop1);

    // A damaged checkpoint of a run is a clear error on resume.
    writeFileSync(join(b, 'stage2', 'last', 'weights.safetensors'), 'garbage');
    writeFileSync(join(b, 'stage2', 'last', 'state.json'), readFileSync(join(b, 'stage2', 'last', 'state.json'), 'utf8').replace('"finished": true', '"finished": false'));
    await expect(train({ resume: b, quiet: true, report: false })).rejects.toThrow(CheckpointError);
  });
});

describe('ofq CLI bad input', () => {
  const quiet = ['--quiet', '--backend', 'cpu', '--accel', 'off', '--no-report'];
  it('unknown recipe', async () => {
    await expect(main(['train', '--recipe', 'mnist-mega', ...quiet])).rejects.toThrow(/unknown recipe 'mnist-mega'; shipped recipes: .*mnist-micro/);
  });
  it('invalid field', async () => {
    await expect(main(['train', '--recipe', 'mnist-micro', '--set', 'stage1.batchSize=-3', ...quiet])).rejects.toThrow(/stage1\.batchSize: /);
    await expect(main(['train', '--recipe', 'mnist-micro', '--set', 'model.dim=3', ...quiet])).rejects.toThrow(/model\.dim: unknown field/);
  });
  it('missing data directory', async () => {
    await expect(main(['train', '--recipe', 'mnist-micro', '--set', 'data.dir=/nonexistent/mnist', ...quiet])).rejects.toThrow(/data directory not found: \/nonexistent\/mnist/);
    await expect(main(['train', '--recipe', 'fashion-mnist-micro', '--set', 'data.dir=/nonexistent/fm', ...quiet])).rejects.toThrow(/data directory not found/);
  });
  it('paper recipes validate, then name the missing ImageNet folder and FP weights', async () => {
    await expect(main(['train', '--recipe', 'deit-t-w2a2', ...quiet])).rejects.toThrow(/ImageNet folder not found at .*data\/imagenet[\s\S]*FP teacher weights not found at .*deit_tiny_distilled_patch16_224\.safetensors/);
  });
  it('usage errors', async () => {
    await expect(main(['train', ...quiet])).rejects.toThrow(/needs --recipe/);
    await expect(main(['train', '--recipe', 'mnist-micro', '--backend', 'gpu9'])).rejects.toThrow(/--backend must be one of/);
    await expect(main(['frobnicate'])).rejects.toThrow(/unknown command 'frobnicate'/);
    await expect(main(['eval', '/nonexistent/run', ...quiet])).rejects.toThrow(/not a run directory/);
    await expect(main(['train', '--resume', '/nonexistent/run', ...quiet])).rejects.toThrow(/cannot resume: .*config\.json not found/);
  });
});
