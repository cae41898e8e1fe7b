import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isOfqError } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { createSwin, saveSafetensors } from '@ofq/vit';
import { makeImageFolder } from '../data/make-folder.js';
import { loadRecipe } from '../recipe/load.js';
import { main } from '../cli.js';
import { train } from './pipeline.js';
import { evaluateRun } from './evaluate-run.js';
import { asEvalWasmHeapError } from './wasm-abort.js';

/**
 * The Swin-T paper recipes on an ImageNet-format folder, shrunk in the model only where the suite needs it:
 * 32² RGB in 4×4 patches = 8×8 tokens in 2×2 shifted windows of 4, then one 4×4 window after PatchMerging.
 * Everything else (KD from torchvision-named FP weights, accumulation, stage-2 CGA on the reductions, the
 * folder transforms, eval, report) is the recipe's. The full-size run is bench/swin-folder-run.ts.
 */
const TINY = { imgSize: 32, patchSize: 4, inChans: 3, embedDim: 8, depths: [2, 2], numHeads: [1, 2], windowSize: 4, mlpRatio: 2, numClasses: 10 };
const SHRINK = [
  ...Object.entries(TINY).map(([k, v]) => `model.${k}=${JSON.stringify(v)}`),
  'data.evalResize=36',
  'data.workers=0',
  'stage1.epochs=1',
  'stage1.cooldownEpochs=0',
  'stage1.batchSize=2',
  'stage1.globalBatch=4',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=2',
  'quant.initBatch=4',
  'eval.batchSize=8',
];

describe('Swin-T paper recipes on an image folder [wasm]', () => {
  let folder: string;
  let weights: string;
  beforeAll(async () => {
    await useBackend('wasm');
    folder = mkdtempSync(join(tmpdir(), 'ofq-swin-folder-'));
    // 10 classes, one 40 px JPEG each in train/ (8 picked by trainSubset) and val/.
    await makeImageFolder({ from: 'mnist', size: 40, limit: 10, out: folder });
    const fp = createSwin({ ...TINY, seed: 5 });
    const sd = fp.stateDict({ naming: 'torchvision' });
    weights = join(folder, 'swin_t.safetensors');
    writeFileSync(weights, saveSafetensors(sd));
    tf.dispose([...sd.values()]);
    fp.dispose();
  });

  it('swin-t-w2a2: KD QAT with accumulation -> CGA -> eval -> report on data.dir; ofq eval agrees; ofq export refuses Swin clearly', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-swin-folder-run-'));
    const recipe = loadRecipe('swin-t-w2a2', [`data.dir=${folder}`, `teacher.weights=${weights}`, 'data.trainSubset=8', ...SHRINK]);
    expect(recipe.model).toMatchObject({ arch: 'swin', ...TINY });
    const before = tf.memory().numTensors;
    const r = await train({ recipe, outDir: out, quiet: true });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.summaryLine).toMatch(/^top-1: fp \d+\.\d% · w2a2 \d+\.\d%$/);
    expect(JSON.parse(readFileSync(join(out, 'classes.json'), 'utf8'))).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const steps = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.type === 'train');
    // 8 images / global batch 4 = 2 stage-1 steps (2 micro-batches each), then 2 CGA steps.
    expect(steps.map((s) => s.extra?.cgaFrozen === undefined)).toEqual([true, true, false, false]);
    expect(steps.at(-1).extra.cgaFrozen).toBeGreaterThan(0.5);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'model.ofq'))).toBe(false);
    const ev = await evaluateRun(out);
    expect(ev.images).toBe(10);
    expect(ev.fpTop1).toBeCloseTo(r.fpTop1, 10);
    expect(ev.quantTop1).toBeCloseTo(r.quantTop1, 10);
    // `ofq eval --batch-size` (another batching of the same images: the same top-1); a bad value is a usage error.
    const small = await evaluateRun(out, { batchSize: 3 });
    expect([small.fpTop1, small.quantTop1, small.images]).toEqual([ev.fpTop1, ev.quantTop1, ev.images]);
    const lines: string[] = [];
    expect(await main(['eval', out, '--batch-size', '3', '--quiet'], { out: (l) => lines.push(l), err: () => {} })).toBe(0);
    expect(lines.join('\n')).toMatch(new RegExp(`^test top-1 \\(${ev.images} images\\): fp `));
    await expect(main(['eval', out, '--batch-size', '0', '--quiet'], { out: () => {}, err: () => {} })).rejects.toThrow(/--batch-size must be a positive integer, got '0'/);
    // The packed format holds DeiT only: a user error (OfqError, printed without a stack), not a crash.
    const err = await main(['export', out], { out: () => {}, err: () => {} }).catch((e: unknown) => e);
    expect(isOfqError(err)).toBe(true);
    expect((err as Error).message).toMatch(/model\.arch is 'swin'; the packed format \(@ofq\/runtime\) holds DeiT models only so far/);
  });

  it("a wasm abort (the 4 GiB heap is full) is a WasmHeapError naming the phase and the batch field to lower, not emscripten's stack", async () => {
    const recipe = loadRecipe('swin-t-w2a2', [`data.dir=${folder}`, `teacher.weights=${weights}`, 'data.trainSubset=8', ...SHRINK]);
    // The abort itself, and what replaces it when it unwinds through a tf.tidy (the tidy disposes into the dead module).
    const run = (stage: string, message: string, error = WebAssembly.RuntimeError as new (m: string) => Error) =>
      train({
        recipe, outDir: mkdtempSync(join(tmpdir(), 'ofq-swin-abort-')), quiet: true, report: false,
        hooks: { onBatch: (_b, s) => { if (s === stage) throw new error(message); } },
      }).then(
        () => new Error('the run did not fail'),
        (e: unknown) => e as Error,
      );
    const e1 = await run('stage1', 'Aborted(). Build with -sASSERTIONS for more info.');
    expect(isOfqError(e1)).toBe(true);
    expect(e1).toMatchObject({ name: 'WasmHeapError', code: 'E_WASM_HEAP' });
    expect(e1.message).toMatch(/^the wasm backend aborted during stage1 \(RuntimeError: Aborted\(\)\): its heap, at most 4 GiB, is full, and the aborted module cannot continue\. Lower stage1\.batchSize \(now 2; stage1\.globalBatch 4 stays, by gradient accumulation\), or eval\.batchSize \(now 8\) for the validation passes\./);
    expect(e1.cause).toBeInstanceOf(WebAssembly.RuntimeError);
    const e2 = await run('stage2', 'memory access out of bounds');
    expect(e2.message).toMatch(/^the wasm backend aborted during stage2 \(RuntimeError: memory access out of bounds\): .* Lower stage1\.batchSize \(now 2; .*\) \(stage 2 uses stage 1's\), or eval\.batchSize/);
    // Any other error of a step passes through unchanged.
    expect(await run('stage1', 'memory access out of bounds', RangeError)).toBeInstanceOf(RangeError);
    // `ofq eval` names its own flag.
    const ev = asEvalWasmHeapError(new WebAssembly.RuntimeError('Aborted(). Build with -sASSERTIONS for more info.'), 128) as Error;
    expect(ev).toMatchObject({ name: 'WasmHeapError', code: 'E_WASM_HEAP' });
    expect(ev.message).toBe("the wasm backend aborted during eval (RuntimeError: Aborted()): its heap, at most 4 GiB, is full at eval batches of 128. Pass a smaller --batch-size (the run's checkpoints are untouched)");
    const other = new RangeError('x');
    expect(asEvalWasmHeapError(other, 128)).toBe(other);
  });

  it("the recipe's own batches (64 × 8 accumulated = 512) on 8 images: a DataError before any model is built", async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-swin-few-'));
    const recipe = loadRecipe('swin-t-w2a2', [`data.dir=${folder}`, `teacher.weights=${weights}`, 'data.trainSubset=8', ...SHRINK, 'stage1.batchSize=64', 'stage1.globalBatch=512']);
    await expect(train({ recipe, outDir: out, quiet: true, report: false })).rejects.toThrow(
      /^8 training images are fewer than one global batch of stage1 \(512\): no optimizer step could run; use more images or lower stage1\.globalBatch \(and stage1\.batchSize\)$/,
    );
    expect(existsSync(join(out, 'metrics.jsonl'))).toBe(false);
  });

  // W3A3/W4A4 add mixup 0.8 + cutmix 1.0 with label smoothing (soft targets over the 1000-way head's
  // numClasses); the LSQ baseline learns the weight steps of every block and PatchMerging reduction.
  it.each([
    ['swin-t-w4a4', [], 'w4a4'],
    ['swin-t-w2a2', ['quant.method=lsq'], 'w2a2'],
  ])('%s %j trains stage 1 + CGA on the folder without leaking tensors', async (name, extra, tag) => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-swin-folder-run-'));
    const recipe = loadRecipe(name, [`data.dir=${folder}`, `teacher.weights=${weights}`, 'data.trainSubset=8', ...SHRINK, ...extra]);
    const before = tf.memory().numTensors;
    const r = await train({ recipe, outDir: out, quiet: true, report: false });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.summaryLine).toMatch(new RegExp(`^top-1: fp \\d+\\.\\d% · ${tag} \\d+\\.\\d%$`));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect([summary.stage1.steps, summary.stage2.steps]).toEqual([2, 2]);
  });
});
