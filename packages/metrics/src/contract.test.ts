// The metrics consume only the WeightQuantizer contract: a quantizer written in a test is measured on its
// own grid and recorded under its own kind; tracking restarts cleanly after a reload.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FixedStepQuantizer, TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { boundaryOccupancy, weightSQNR, weightThresholdDistance } from './quant-metrics.js';
import { MetricsRecorder } from './recorder.js';
import { readRun } from './run-format.js';
import { layerType } from './report-charts.js';

describe('metrics through the quantizer contract', () => {
  beforeAll(() => useBackend(TEST_BACKENDS[0]));

  it('measures a third-party quantizer on its own grid (hand-computed)', () => {
    expectNoLeaks(() => {
      // Steps 0.1 and 0.2, 3-bit codes [-4, 3]: v = [[0.5, 1.25], [-0.42, 1.0]], thresholds at i + 0.5, i ∈ [-4, 2].
      const w = tf.tensor2d([[0.05, 0.25], [-0.042, 0.2]]);
      const q = new FixedStepQuantizer([0.1, 0.2]);
      const dist = weightThresholdDistance(w, q);
      const d = Array.from(dist.dataSync()).map((x) => +x.toFixed(4));
      dist.dispose();
      expect(d).toEqual([0, 0.25, 0.08, 0.5]);
      expect(boundaryOccupancy(w, q, [0.01, 0.1])).toEqual([0.25, 0.5]);
      // Q(w) = step·round(v) = [[0, 0.2], [0, 0.2]]: 0.5 → 0 (half to even), 1.25 → 1, -0.42 → 0, 1 → 1.
      const wq = [0, 0.2, 0, 0.2];
      const x = [0.05, 0.25, -0.042, 0.2];
      const signal = x.reduce((a, b) => a + b * b, 0);
      const noise = x.reduce((a, b, i) => a + (b - wq[i]) ** 2, 0);
      expect(weightSQNR(w, q)).toBeCloseTo(10 * Math.log10(signal / noise), 3);
      w.dispose();
    }, 'third-party metrics');
  });

  it('records the quantizer kind, reads derived weights each step, and restarts tracking on reset', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-contract-'));
    const w = tf.variable(tf.tensor2d([[0.04, 0.26], [-0.16, 0.2]]));
    const q = new FixedStepQuantizer([0.1, 0.2]);
    let reads = 0;
    const rec = new MetricsRecorder({
      dir,
      layers: [{ name: 'derived', quantizer: q, read: () => (reads++, tf.mul(w, 1)) }],
      aggregateEvery: 1,
    });
    const set = (rows: number[][]) => w.assign(tf.tensor2d(rows));
    // Codes of entry 0 go 0 → 1 → 0: the second change reverses the first, one oscillation event.
    rec.record({});
    set([[0.06, 0.26], [-0.16, 0.2]]);
    rec.record({});
    set([[0.04, 0.26], [-0.16, 0.2]]);
    const r2 = rec.record({});
    expect(r2.layers.derived.oscCount).toBe(1);
    expect(r2.layers.derived.oscPerStep).toBeCloseTo(1 / (3 * 4), 6);
    // A reload: tracking restarts, so jumping to far-away weights is not an oscillation burst.
    rec.resetTracking();
    set([[0.06, 0.26], [-0.16, 0.2]]);
    const r3 = rec.record({});
    expect(r3.layers.derived.oscCount).toBe(0);
    expect(r3.layers.derived.oscPerStep).toBe(0);
    rec.close();
    expect(reads).toBeGreaterThanOrEqual(4);
    const run = readRun(dir);
    expect(run.meta.layers[0].quantizer).toBe('fixed-step');
    expect(run.meta.layers[0].bits).toBe(3);
    w.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('recorder sampling', () => {
  beforeAll(() => useBackend(TEST_BACKENDS[0]));
  it('follows the same entries of a layer whatever else is tracked (comparable variants)', () => {
    const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-sample-')));
    const big = tf.variable(tf.randomNormal([64, 64], 0, 1, 'float32', 3));
    const other = tf.variable(tf.randomNormal([64, 64], 0, 1, 'float32', 4));
    const q = new FixedStepQuantizer(new Array(64).fill(0.5));
    const a = new MetricsRecorder({ dir: dirs[0], layers: [{ name: 'blocks.0.mlp.fc1.weight', quantizer: q, variable: big }], sampleSize: 100 });
    const b = new MetricsRecorder({
      dir: dirs[1],
      layers: [
        { name: 'blocks.0.attn.qk.weight', quantizer: q, variable: other },
        { name: 'blocks.0.mlp.fc1.weight', quantizer: q, variable: big },
      ],
      sampleSize: 100,
    });
    const ra = a.record({});
    const rb = b.record({});
    expect(rb.layers['blocks.0.mlp.fc1.weight']).toEqual(ra.layers['blocks.0.mlp.fc1.weight']);
    a.close();
    b.close();
    tf.dispose([big, other]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
});

describe('layer types for per-type oscillation', () => {
  it('groups W_qk with q/k, and tells v, proj, MLP and the rest apart', () => {
    expect(layerType('blocks.3.attn.qk.weight')).toBe('q/k');
    expect(layerType('blocks.3.attn.q.weight')).toBe('q/k');
    expect(layerType('blocks.3.attn.k.weight')).toBe('q/k');
    expect(layerType('blocks.3.attn.v.weight')).toBe('v');
    expect(layerType('blocks.3.attn.proj.weight')).toBe('proj');
    expect(layerType('blocks.3.mlp.fc2.weight')).toBe('mlp');
    expect(layerType('head.weight')).toBe('other');
    expect(layerType('blocks.3.attn.qkv.weight')).toBe('other');
  });
});
