// `ofq ablate` end to end on a tiny slice (two variants, two seeds): interrupted, resumed, reported;
// the report is opened in Debian's Chromium (playwright-core, no browser download).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@ofq/core/testing';
import { loadRecipe } from '../recipe/load.js';
import { InterruptedError } from '../run/stage.js';
import { ablate } from './run-ablation.js';
import { parseVariants } from './variants.js';
import { readAblation } from './collect.js';
import { runDir, teacherDir, teacherWeights } from './plan.js';

const CHROMIUM = process.env.OFQ_CHROMIUM ?? '/usr/bin/chromium';

/** A one-block DeiT on 240 MNIST images: seconds per run. */
const TINY = [
  'data.trainSubset=300', 'data.valSize=60', 'data.testSubset=100',
  'model.embedDim=32', 'model.depth=1', 'model.numHeads=2', 'model.mlpRatio=2',
  'teacher.train.epochs=2', 'teacher.train.batchSize=24',
  'stage1.epochs=1', 'stage1.batchSize=24', 'stage2.epochs=1', 'stage2.maxStepsPerEpoch=3',
  'quant.initBatch=32', 'eval.batchSize=100',
];

async function openInChromium(file: string): Promise<{ problems: string[]; charts: number; rows: number }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's (\`apt-get install -y chromium\`; no browser is downloaded) or set OFQ_CHROMIUM`);
  }
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    await page.goto(`file://${file}`);
    const charts = await page.locator('svg.chart polyline').count();
    const rows = await page.locator('table tbody tr').count();
    return { problems, charts, rows };
  } finally {
    await browser.close();
  }
}

describe('ofq ablate on a tiny slice [wasm]', () => {
  beforeAll(() => useBackend('wasm'));

  it('one teacher per seed shared by the variants; interrupted and resumed; JSON and a report that opens in Chromium', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-ablate-'));
    const o = { recipe: loadRecipe('mnist-micro', TINY), variants: parseVariants('lsq,ofq'), bits: [2], seeds: [1, 2], outDir: out, quiet: true, runReports: false };
    const before = tf.memory().numTensors;
    // Interrupt the first student run after two stage-1 steps (the teachers have finished by then).
    await expect(ablate({ ...o, control: { stopRequested: false, stopAfterSteps: { stage: 'stage1', steps: 2 } } })).rejects.toThrow(InterruptedError);
    const first = runDir(out, o.variants[0]!, 2, 1);
    expect(existsSync(join(first, 'stage1', 'last'))).toBe(true);
    expect(existsSync(join(first, 'summary.json'))).toBe(false);
    for (const s of [1, 2]) expect(existsSync(join(teacherDir(out, s), 'summary.json'))).toBe(true);

    const r = await ablate(o);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.skipped).toBe(2); // both teachers
    expect(r.trained).toBe(4); // the interrupted run resumed, the three others trained
    const d = readAblation(r.jsonPath);
    expect(d.runs.map((x) => x.status)).toEqual(['done', 'done', 'done', 'done']);
    for (const run of d.runs) {
      // every variant of a seed distils from that seed's teacher: same weights file, same FP figure
      const cfg = JSON.parse(readFileSync(join(run.dir, 'config.json'), 'utf8'));
      expect(cfg.teacher.weights).toBe(teacherWeights(out, run.seed));
      expect(cfg.seed).toBe(run.seed);
      expect(run.fpTop1).toBe(d.teachers.find((t) => t.seed === run.seed)!.fpTop1);
      expect(run.quantTop1).toBeGreaterThanOrEqual(0);
      expect(run.metrics!.steps.stage1).toBeGreaterThan(0);
      expect(run.metrics!.steps.stage2).toBe(3);
    }
    expect(JSON.parse(readFileSync(join(runDir(out, o.variants[0]!, 2, 1), 'config.json'), 'utf8')).stage2.cga).toBe(false);
    expect(d.runs.find((x) => x.variant === 'ofq')!.metrics!.cgaFrozen).toBeGreaterThan(0);
    expect(d.runs.find((x) => x.variant === 'lsq')!.metrics!.cgaFrozen).toBeNull();
    // the paired difference is the mean of the per-seed differences
    const c = d.comparisons.find((x) => x.kind === 'vs-baseline')!;
    const acc = d.accuracy['2']!;
    expect(c.diff.diffs).toEqual([0, 1].map((i) => acc.ofq!.values[i]! - acc.lsq!.values[i]!));
    expect(c.diff.n).toBe(2);
    expect(c.diff.ci).not.toBeNull();

    // A third call finds everything finished and trains nothing.
    const again = await ablate(o);
    expect([again.trained, again.skipped]).toEqual([0, 6]);

    const page = await openInChromium(r.reportPath);
    expect(page.problems).toEqual([]);
    expect(page.charts).toBeGreaterThan(4);
    expect(page.rows).toBeGreaterThan(8);
  }, 600_000);

  it('a directory made for another base recipe is refused by name', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ofq-ablate-'));
    const base = { variants: parseVariants('lsq'), bits: [2], seeds: [1], outDir: out, quiet: true, reportOnly: true };
    await ablate({ ...base, recipe: loadRecipe('mnist-micro', TINY) });
    await expect(ablate({ ...base, recipe: loadRecipe('mnist-micro', [...TINY, 'stage1.lr=0.01']) })).rejects.toThrow(/different base recipe/);
  });
});
