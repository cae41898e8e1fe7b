// `quant.method: lsq` end to end: the LSQ baseline is recorded and annealed on its own (LSQ) grid.
import '@tensorflow/tfjs'; // registers the gradients
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSafetensors } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe } from './recipe/load.js';
import { train } from './run/pipeline.js';

const TINY = [
  'data.trainSubset=120',
  'data.valSize=24',
  'data.testSubset=48',
  'model.embedDim=16',
  'model.depth=1',
  'model.numHeads=2',
  'model.mlpRatio=2',
  'teacher.train.epochs=1',
  'teacher.train.batchSize=24',
  'stage1.epochs=1',
  'stage1.batchSize=24',
  'stage2.epochs=1',
  'stage2.maxStepsPerEpoch=3',
  'quant.initBatch=24',
  'eval.batchSize=48',
];

describe('quant.method=lsq end to end [wasm]', () => {
  beforeAll(() => useBackend('wasm'));
  it('records kind lsq with LSQ codes for the block weights, tracks W_qk, and runs CGA on the LSQ grid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-lsq-run-'));
    await train({ recipe: loadRecipe('mnist-micro', [...TINY, 'quant.method=lsq']), outDir: dir, quiet: true, report: false });
    const meta = JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8'));
    const byName = Object.fromEntries(meta.layers.map((l: { name: string }) => [l.name, l]));
    for (const n of ['blocks.0.attn.qk.weight', 'blocks.0.attn.v.weight', 'blocks.0.attn.proj.weight', 'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc2.weight']) {
      expect(byName[n], n).toBeDefined();
      expect(byName[n].quantizer, n).toBe('lsq');
      expect(byName[n].bits, n).toBe(2);
    }
    expect(byName['head.weight'].bits).toBe(8);
    const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'train');
    const cgaSteps = steps.filter((r) => r.extra?.stage === 2);
    expect(cgaSteps.length).toBe(3);
    // Stage 2 reloads stage 1's best checkpoint and the tracker restarts: its first step compares codes
    // with nothing, so it cannot count an oscillation (without the reset it compares with stage 1's last).
    for (const [name, l] of Object.entries(cgaSteps[0].layers as Record<string, { oscCount: number; oscPerStep: number }>)) {
      expect(l.oscCount, name).toBe(0);
      expect(l.oscPerStep, name).toBe(0);
    }
    for (const r of cgaSteps) expect(r.extra.cgaFrozen).toBeGreaterThan(0);
    // The recorded scale is the learned LSQ step of the final weights (StatsQ's would be 2·mean|w|).
    const ck = readSafetensors(readFileSync(join(dir, 'stage2', 'last', 'weights.safetensors')));
    const step = Array.from(ck.tensors.get('blocks.0.mlp.fc1.lsqw_fn.s')!.data as Float32Array);
    const w = Array.from(ck.tensors.get('blocks.0.mlp.fc1.weight')!.data as Float32Array);
    const last = cgaSteps.at(-1).layers['blocks.0.mlp.fc1.weight'];
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    expect(last.scale).toBeCloseTo(mean(step.map((s) => Math.max(s, 1e-5))), 5);
    expect(Math.abs(last.scale - 2 * mean(w.map(Math.abs)))).toBeGreaterThan(1e-3);
  });
});
