import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { StatsQuantizer } from '@ofq/statsq';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { runTinyTraining } from './__fixtures__/tiny-run.js';
import { readRun, type TrainRecord } from './run-format.js';
import { renderReport } from './report.js';
import { MetricsRecorder, sampleIndices } from './recorder.js';
import { boundaryOccupancy, thresholdDistance, weightSQNR, GradientFlipCounter } from './quant-metrics.js';

describe('quantization metrics (hand-checked)', () => {
  beforeAll(() => useBackend(TEST_BACKENDS[0]));

  it('thresholdDistance measures to the nearest internal threshold only', () => {
    // 2 bits: codes [-2, 1], thresholds at -1.5, -0.5, 0.5.
    const v = tf.tensor1d([-2.5, -1.5, -1.2, -0.5, 0, 0.2, 0.5, 1.4]);
    const d = thresholdDistance(v, [-2, 1]);
    expect(Array.from(d.dataSync()).map((x) => +x.toFixed(6))).toEqual([1, 0, 0.3, 0, 0.5, 0.3, 0, 0.9]);
    tf.dispose([v, d]);
  });

  it('BR occupancy and SQNR of a StatsQ weight', () => {
    // One channel of 5; Σ|w| = 2.5 so s = 2·mean|w| = 1 exactly, and with n = 2: v = clip(w, -1, 1-1e-6)·2 − 0.5.
    // w = 0.5 → v = 0.5 (on a threshold, d = 0); ±(0.25 + 2⁻¹⁰) → v = 0.00195…, −1.00195… (d = 0.498…);
    // w = 0.5 − 2⁻⁹ → v = 0.49609375 (d = 2⁻⁸ = 0.0039); w = 1 is clipped (d ≈ 1 to the outermost threshold).
    const w = tf.tensor2d([[0.5], [0.25 + 2 ** -10], [-(0.25 + 2 ** -10)], [0.5 - 2 ** -9], [1]]);
    const occ = boundaryOccupancy(w, new StatsQuantizer({ bits: 2 }), [0.003, 0.005, 0.5]);
    expect(occ.map((x) => +x.toFixed(6))).toEqual([0.2, 0.4, 0.8]);
    const sqnr = weightSQNR(w, new StatsQuantizer({ bits: 2 }));
    expect(Number.isFinite(sqnr) && sqnr > 0).toBe(true);
    tf.dispose(w);
  });

  it('GradientFlipCounter counts sign flips inside and outside the band', () => {
    const c = new GradientFlipCounter();
    const band = tf.tensor1d([1, 1, 0, 0], 'bool');
    const g1 = tf.tensor1d([1, -1, 2, 0]);
    const g2 = tf.tensor1d([-1, -3, -2, 5]);
    tf.dispose(c.update(g1, band));
    const r = c.update(g2, band);
    expect(Array.from(r.dataSync())).toEqual([1, 2, 1, 1]); // inside: 1 flip of 2; outside: 1 of 1 (0 is ineligible)
    c.dispose();
    tf.dispose([band, g1, g2, r]);
  });

  it('sampleIndices is seeded, distinct, sorted and in range', () => {
    const a = sampleIndices(1000, 100, 3);
    expect(Array.from(a)).toEqual(Array.from(sampleIndices(1000, 100, 3)));
    expect(new Set(a).size).toBe(100);
    expect(a.every((x, i) => x >= 0 && x < 1000 && (i === 0 || x > a[i - 1]))).toBe(true);
    expect(sampleIndices(5, 100, 1).length).toBe(5);
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`MetricsRecorder on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('records a real tiny run as JSON Lines without leaking, and the report embeds every chart', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ofq-run-${backend}-`));
      const result = expectNoLeaks(() => runTinyTraining(dir, { steps: 30, cgaFrom: 25 }), 'tiny run');
      const run = readRun(dir);
      expect(run.meta.format).toBe('ofq-run/1');
      expect(run.meta.endedAt).toBeTruthy();
      const train = run.records.filter((r): r is TrainRecord => r.type === 'train');
      expect(train.map((r) => r.step)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      expect(run.records.filter((r) => r.type === 'eval').length).toBe(3);
      const lines = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n');
      expect(lines.length).toBe(33);
      const first = train[0].layers['fc1.weight'];
      expect(first.br).toHaveLength(4);
      expect(first.hist!.reduce((a, b) => a + b, 0) + first.histOver!).toBe(512);
      expect(train[1].layers['fc1.weight'].br).toBeUndefined(); // aggregates every 5 steps
      expect(train[5].layers['fc1.weight'].br).toHaveLength(4);
      { const l2 = train[0].layers["fc2.weight"]; expect(l2.hist!.reduce((a, b) => a + b, 0) + l2.histOver!).toBe(256); } // 64×4 < sample size
      // Oscillation statistics are consistent: events are whole counts, fractions in [0, 1].
      for (const r of train) {
        for (const l of Object.values(r.layers)) {
          expect(Number.isInteger(l.oscCount)).toBe(true);
          expect(l.oscFrac).toBeGreaterThanOrEqual(0);
          expect(l.oscFrac).toBeLessThanOrEqual(1);
        }
        expect(r.scales['fc2.input.step']).toBeGreaterThan(0);
      }
      expect(train[0].layers['fc1.weight'].flipIn).toBeNull(); // no previous gradient yet
      expect(train.slice(1).some((r) => (r.layers['fc1.weight'].flipOut ?? 0) > 0)).toBe(true);
      expect(train[train.length - 1].loss!).toBeLessThan(train[0].loss!);
      // Cost: with a 512-element sample the recorder must stay well below a (tiny, fast) step... measured, not asserted
      // against wall time (shared CI cores); the DeiT-T budget is checked in recorder-cost.test.ts.
      expect(result.meanTrackMs).toBeGreaterThan(0);
      const html = renderReport(run);
      for (const id of ['loss', 'accuracy', 'oscillating-fraction', 'oscillation-events', 'br-occupancy', 'threshold-distance', 'sqnr', 'weight-scales', 'lsq-scales', 'gradient-flips', 'extra-0']) {
        expect(html).toContain(`id="chart-${id}"`);
      }
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"' ]+\.(js|css)/);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('rejects bad options clearly', () => {
      const w = tf.variable(tf.zeros([4, 3]));
      expect(() => new MetricsRecorder({ dir: '', layers: [] })).toThrow(/dir/);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-bad-'));
      expect(() => new MetricsRecorder({ dir, layers: [{ name: 'w', variable: w, quantizer: new StatsQuantizer({ bits: 1 }) }] })).toThrow(/bits/);
      expect(() => new MetricsRecorder({ dir, layers: [], sampleSize: 0 })).toThrow(/sampleSize/);
      fs.rmSync(dir, { recursive: true, force: true });
      w.dispose();
    });
  });
}
