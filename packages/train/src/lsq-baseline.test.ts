// The LSQ baseline keeps every channel (docs/decisions.md #4): in a W4A4 LSQ-weight run some learned
// per-channel steps are pushed through zero; with the default 'abs' constraint they stay alive as |s|,
// with the reference's 'clamp' they sit at 1e-5 and zero their channels.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '@tensorflow/tfjs'; // kernels' gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { readSafetensors, toFloat32 } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe } from './recipe/load.js';
import { train } from './run/pipeline.js';

const W4A4_LSQ = [
  'data.trainSubset=300', 'data.valSize=60', 'data.testSubset=100',
  'model.embedDim=32', 'model.depth=1', 'model.numHeads=2', 'model.mlpRatio=2',
  'teacher.train.epochs=3', 'teacher.train.batchSize=24',
  'stage1.epochs=3', 'stage1.batchSize=24', 'stage1.lr=0.01', 'stage2.enabled=false',
  'quant.method=lsq', 'quant.qkr=false', 'quant.weightBits=4', 'quant.actBits=4', 'quant.initBatch=32', 'eval.batchSize=100',
];

/** The block weights' learned LSQ steps in a checkpoint: how many, how many negative, how many at the 1e-5 floor as used. */
function lsqWeightSteps(dir: string, constraint: 'abs' | 'clamp') {
  const tensors = readSafetensors(new Uint8Array(readFileSync(join(dir, 'weights.safetensors')))).tensors;
  let count = 0;
  let negative = 0;
  let atFloor = 0;
  for (const [name, e] of tensors) {
    if (!/^blocks\.\d+\..*lsqw_fn\.s$/.test(name)) continue;
    for (const s of toFloat32(e)) {
      count++;
      if (s < 0) negative++;
      if ((constraint === 'abs' ? Math.abs(s) : s) <= 1e-5) atFloor++;
    }
  }
  return { count, negative, atFloor };
}

describe('LSQ baseline channels [wasm]', () => {
  beforeAll(() => useBackend('wasm'));

  it("W4A4 LSQ: no channel at the clamp with the default |s|; the reference's clamp zeroes some", async () => {
    const a = mkdtempSync(join(tmpdir(), 'ofq-lsq-abs-'));
    await train({ recipe: loadRecipe('mnist-micro', W4A4_LSQ), outDir: a, quiet: true, report: false });
    const abs = lsqWeightSteps(join(a, 'stage1', 'last'), 'abs');
    expect(abs.count).toBe(224); // qkv 96 + proj 32 + fc1 64 + fc2 32 output channels
    expect(abs.negative).toBeGreaterThan(0); // training did push steps through zero ...
    expect(abs.atFloor).toBe(0); // ... and every channel is still quantized with a live step

    const b = mkdtempSync(join(tmpdir(), 'ofq-lsq-clamp-'));
    const teacher = join(a, 'teacher', 'best', 'weights.safetensors');
    await train({ recipe: loadRecipe('mnist-micro', [...W4A4_LSQ, 'quant.lsqStep=clamp', `teacher.weights=${teacher}`]), outDir: b, quiet: true, report: false });
    expect(lsqWeightSteps(join(b, 'stage1', 'last'), 'clamp').atFloor).toBeGreaterThan(0);
  }, 300_000);
});
