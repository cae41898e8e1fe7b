import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyOFQ } from './index.js';
import { tinyConvNet, tinyData } from './test-models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('CGA and metrics from the handle', () => {
  it('handle.cga anneals the low-bit kernels only; its statistics read as numbers inside fit callbacks', async () => {
    const model = tinyConvNet();
    const { x, y } = tinyData(16);
    const h = applyOFQ(model, { weightBits: 2, actBits: 2, sample: x, overrides: [{ layers: '<first>', weightBits: 8, actBits: 8 }] });
    const cga = h.cga(tf.train.adam(1e-2), { boundaryRange: 0.1 });
    expect(cga.selected.map((s) => s.name)).toEqual(['dw/depthwise_kernel', 'head/kernel']); // conv (8-bit) left free
    model.compile({ optimizer: cga, loss: 'categoricalCrossentropy' });
    const seen: number[] = [];
    const metrics = h.metricsCallback({ every: 1, cga });
    await model.fit(x, y, {
      epochs: 2,
      batchSize: 8,
      verbose: 0,
      callbacks: [metrics, { onBatchEnd: async () => void seen.push(cga.lastStats!.frozenFraction) }],
    });
    expect(seen).toHaveLength(4);
    for (const f of seen) expect(f).toBeGreaterThan(0); // boundary 0.1 step: most weights are confident
    expect(cga.frozenFraction).toBe(seen[3]); // still readable after fit's tidy scopes
    expect(metrics.records.map((r) => r.step)).toEqual([1, 2, 3, 4]);
    const last = metrics.latest!;
    expect(Object.keys(last.layers)).toEqual(['conv/kernel', 'dw/depthwise_kernel', 'head/kernel']);
    for (const s of Object.values(last.layers)) {
      expect(Number.isFinite(s.sqnr)).toBe(true);
      expect(s.boundary).toHaveLength(4);
      expect(s.codeChanges).toBeGreaterThanOrEqual(0);
      expect(s.codeChanges).toBeLessThanOrEqual(1);
    }
    expect(typeof last.loss).toBe('number');
    expect(last.frozenFraction).toBe(seen[3]);
    expect(Object.values(last.actSteps).every((v) => typeof v === 'number' && v > 0)).toBe(true);
    metrics.dispose();
    cga.dispose();
    h.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it("CGA masks each kernel on its own grid: LSQ kernels, and depthwise kernels per output channel", () => {
    const model = tinyConvNet();
    const h = applyOFQ(model, { weightBits: 3, method: 'lsq', include: ['dw', 'head'] });
    const cga = h.cga(tf.train.sgd(0.1), { boundaryRange: 0.2 });
    expect(cga.selected.map((s) => [s.name, s.quantizer.kind])).toEqual([
      ['dw/depthwise_kernel', 'lsq'],
      ['head/kernel', 'lsq'],
    ]);
    // The depthwise mask comes from the [3, 3, 1, 4] channel view: same entries as masking the view itself.
    const dw = h.layers[0];
    const v = dw.weightQuantizer.preRound(dw.kernel);
    const inner = (dw.weightQuantizer as unknown as { inner: { preRound(w: tf.Tensor): tf.Tensor } }).inner;
    const direct = tf.tidy(() => tf.reshape(inner.preRound(tf.reshape(dw.kernel, [3, 3, 1, 4])), [3, 3, 4, 1]));
    expect(Array.from(v.dataSync())).toEqual(Array.from(direct.dataSync()));
    tf.dispose([v, direct]);
    cga.dispose();
    h.dispose();
    model.dispose();
  });

  it('metrics: the 2-bit SQNR of a Dense kernel is what the quantizer gives by hand', () => {
    const model = tf.sequential();
    model.add(tf.layers.dense({ units: 2, inputShape: [2], useBias: false, name: 'fc' }));
    model.setWeights([tf.tensor2d([[0.1, -0.4], [0.3, 0.2]])]);
    const h = applyOFQ(model, { weightBits: 2 });
    const m = h.metricsCallback();
    const r = m.record();
    // StatsQ 2-bit, s = 2·mean|w| per column, v = (w/s)·2 − 0.5, value s·(round(v) + 0.5)/2:
    // column 0: s = 0.4, v = [0, 1] → [0.1, 0.3]; column 1: s = 0.6, v = [−1.83, 0.17] → codes [−2, 0] → [−0.45, 0.15].
    const w = [0.1, -0.4, 0.3, 0.2];
    const q = [0.1, -0.45, 0.3, 0.15];
    const noise = w.reduce((a, v, i) => a + (v - q[i]) ** 2, 0);
    const signal = w.reduce((a, v) => a + v * v, 0);
    expect(r.layers['fc/kernel'].sqnr).toBeCloseTo(10 * Math.log10(signal / noise), 4);
    expect(r.layers['fc/kernel'].codeChanges).toBe(0);
    m.dispose();
    h.dispose();
    model.dispose();
  });
});
