import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { LSQWeightQuantizer } from '@ofq/lsq';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { boundaryOccupancy, weightSQNR, weightThresholdDistance } from './quant-metrics.js';
import { MetricsRecorder } from './recorder.js';
import { buildReportModel } from './report-charts.js';
import { parseRecords, readRun, type RunData } from './run-format.js';

describe('LSQ weights and the report model', () => {
  beforeAll(() => useBackend(TEST_BACKENDS[0]));

  it('LSQ weight metrics use v = w/s and codes clipped to [-2^(b-1), 2^(b-1)-1]', () => {
    expectNoLeaks(() => {
      // Two channels with steps 0.5 and 1; 2 bits: codes [-2, 1], thresholds at -1.5, -0.5, 0.5.
      const w = tf.tensor2d([[0.25, 0.5], [-0.3, 3], [0.5, -1.4]]); // v = [[0.5, 0.5], [-0.6, 3], [1, -1.4]]
      const q = new LSQWeightQuantizer({ bits: 2 });
      q.setStep([0.5, 1]);
      const d = weightThresholdDistance(w, q);
      expect(Array.from(d.dataSync()).map((x) => +x.toFixed(5))).toEqual([0, 0, 0.1, 2.5, 0.5, 0.1]);
      expect(boundaryOccupancy(w, q, [0, 0.1001]).map((x) => +x.toFixed(6))).toEqual([0.333333, 0.666667]);
      // Q(w) = s·round(clip(v)): [[0, 0], [-0.5, 1], [0.5, -1]] (0.5 rounds to 0, half to even)
      const signal = [0.25, 0.5, -0.3, 3, 0.5, -1.4].reduce((a, b) => a + b * b, 0);
      const noise = [0.25, 0.5, 0.2, 2, 0, 0.4].reduce((a, b) => a + b * b, 0);
      expect(weightSQNR(w, q)).toBeCloseTo(10 * Math.log10(signal / noise), 4);
      tf.dispose([w, d]);
      q.dispose();
    }, 'lsq metrics');
  });

  it('records LSQ-quantized layers too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-lsq-'));
    const w = tf.variable(tf.randomNormal([12, 6], 0, 1, 'float32', 5));
    const lsq = new LSQWeightQuantizer({ bits: 3 });
    lsq.setStep(new Array(6).fill(0.4));
    expectNoLeaks(() => {
      const rec = new MetricsRecorder({ dir, layers: [{ name: 'w', variable: w, quantizer: lsq }], aggregateEvery: 1 });
      for (let i = 0; i < 3; i++) {
        tf.tidy(() => w.assign(tf.add(w, tf.mul(tf.randomNormal([12, 6], 0, 1, 'float32', i), 0.3))));
        const r = rec.record({ loss: 1 });
        expect(r.layers.w.scale).toBeCloseTo(0.4, 6);
        expect(r.layers.w.hist!.reduce((a, b) => a + b, 0) + r.layers.w.histOver!).toBe(72);
      }
      rec.close();
    }, 'lsq recorder');
    expect(readRun(dir).records).toHaveLength(3);
    w.dispose();
    lsq.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('caps chart lines at 16 layers but lists every layer in the table; ignores a truncated last line', () => {
    const layers = Array.from({ length: 72 }, (_, i) => ({ name: `blocks.${Math.floor(i / 6)}.l${i % 6}.weight`, shape: [4, 4], quantizer: 'statsq' as const, bits: 2, sampled: 16, scaleRows: [0, 2] }));
    const lines = Array.from({ length: 5 }, (_, step) =>
      JSON.stringify({
        type: 'train',
        step,
        t: step * 100,
        loss: 1 / (step + 1),
        trackMs: 3,
        layers: Object.fromEntries(layers.map((l) => [l.name, { osc: 0.01, oscFrac: 0.1, oscCount: 1, scale: 1 + step * 1e-6, scaleRows: [1, 1 + step * 1e-6], br: [0.01, 0.02], sqnr: 9, hist: [1, 2, 3], histOver: 1 }])),
        scales: {},
      }),
    );
    const records = parseRecords(lines.join('\n') + '\n{"type":"train","st');
    expect(records).toHaveLength(5);
    expect(() => parseRecords('{"a":1}\nnot json\n{"b":2}')).toThrow(/line 2/);
    const run: RunData = {
      meta: { format: 'ofq-run/1', name: 'big', startedAt: 'x', layers, scales: [], boundaryRanges: [0.005, 0.01], oscillationThreshold: 0.02, momentum: 0.01, flipBand: 0.005, histogramBins: 3, aggregateEvery: 1, sampleSize: 16 },
      records,
    };
    const model = buildReportModel(run);
    const osc = model.charts.find((c) => c.id === 'oscillating-fraction')!;
    expect(osc.series).toHaveLength(16);
    expect(osc.series[0].label).toBe(layers[0].name);
    expect(osc.series[15].label).toBe(layers[71].name);
    expect(model.layers).toHaveLength(72);
    expect(model.summary.trackingOverhead).toBeCloseTo(3 / 100, 9);
    expect(model.charts.find((c) => c.id === 'weight-scales')!.yLabel).toContain('ppm'); // CGA-sized drift
    expect(model.charts.find((c) => c.id === 'br-occupancy')!.series.map((s) => +s.values[0]!.toFixed(9))).toEqual([1, 2]);
  });
});
