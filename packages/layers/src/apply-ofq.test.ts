import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { isOfqError } from '@ofq/core';
import { statsQuantize } from '@ofq/statsq';
import { applyOFQ, ChannelViewQuantizer } from './index.js';
import { sameBits, tinyConvNet, tinyData } from './test-models.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function denseModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 3, inputShape: [4], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }), biasInitializer: 'ones', name: 'fc' }));
  return m;
}

describe('applyOFQ', () => {
  it('Dense: output = lsq(x) · statsQuantize(kernel) + bias, the step initialised on the sample by hand', () => {
    const model = denseModel();
    const x = tf.tensor2d([[0.1, 0.7, 0.3, 0.9], [0.5, 0.2, 0.0, 0.4]]);
    const h = applyOFQ(model, { weightBits: 2, actBits: 4, sample: x });
    // Non-negative sample: unsigned 4-bit grid [0, 15], per-tensor step 2·mean|x|/sqrt(15).
    const xs = Array.from(x.dataSync());
    const s = (2 * xs.reduce((a, v) => a + Math.abs(v), 0)) / xs.length / Math.sqrt(15);
    expect(h.stepValues().act.fc).toBeCloseTo(s, 6);
    const sv = h.stepValues().act.fc as number;
    const xq = tf.tensor2d(xs.map((v) => Math.min(15, Math.max(0, Math.round(v / sv))) * sv), [2, 4]);
    const [kernel, bias] = model.getWeights();
    const expected = tf.tidy(() => tf.add(tf.matMul(xq, statsQuantize(kernel, { bits: 2 })), bias));
    const y = model.predict(x) as tf.Tensor;
    expect(Array.from(y.dataSync()).map((v, i) => v - expected.dataSync()[i]).every((d) => Math.abs(d) < 1e-6)).toBe(true);
    h.remove();
    const yf = model.predict(x) as tf.Tensor;
    const floatY = tf.tidy(() => tf.add(tf.matMul(x, kernel), bias));
    expect(sameBits(yf, floatY)).toBe(true); // remove() restores the float forward pass exactly
    h.dispose();
    tf.dispose([x, xq, expected, y, yf, floatY]);
    model.dispose();
  });

  it('quantizes Conv2D, DepthwiseConv2D and Dense; overrides keep first/last at 8 bits; summary prints them', () => {
    const model = tinyConvNet();
    const { x, y } = tinyData(4);
    const h = applyOFQ(model, { weightBits: 2, actBits: 2, sample: x, overrides: [{ layers: ['<first>', '<last>'], weightBits: 8, actBits: 8 }] });
    expect(h.layers.map((l) => [l.name, l.className, l.weightBits, l.actBits])).toEqual([
      ['conv', 'Conv2D', 8, 8],
      ['dw', 'DepthwiseConv2D', 2, 2],
      ['head', 'Dense', 8, 8],
    ]);
    const text = h.summary().toString();
    expect(text).toMatch(/OFQ: 3 layer\(s\)/);
    expect(text).toMatch(/dw \(DepthwiseConv2D\) kernel \[3, 3, 4, 1\]: W statsq 2-bit, input 2-bit/);
    expect(h.layers[1].weightQuantizer).toBeInstanceOf(ChannelViewQuantizer);
    h.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('model.fit trains the kernels and the LSQ steps; a training step leaves the tensor count unchanged', async () => {
    const model = tinyConvNet();
    const { x, y } = tinyData(16);
    const h = applyOFQ(model, { weightBits: 4, actBits: 4, sample: x });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const before = h.stepValues().act;
    const weightsBefore = model.getWeights().length;
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    const count = tf.memory().numTensors;
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(tf.memory().numTensors).toBe(count);
    const after = h.stepValues().act;
    for (const name of ['conv', 'dw', 'head']) expect(after[name]).not.toBe(before[name]);
    expect(model.getWeights().length).toBe(weightsBefore); // steps are not model weights (save stays plain)
    expect(h.variables()).toHaveLength(3);
    h.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it("method 'lsq' learns a per-channel kernel step; weights-only needs no sample", async () => {
    const model = tinyConvNet();
    const { x, y } = tinyData(8);
    const h = applyOFQ(model, { weightBits: 3, method: 'lsq', exclude: 'Dense' });
    expect(h.layers.map((l) => [l.name, l.weightQuantizer.kind, l.actBits])).toEqual([
      ['conv', 'lsq', null],
      ['dw', 'lsq', null],
    ]);
    expect(h.summary().skipped).toEqual(['head']);
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const w0 = h.stepValues().weight.conv;
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(h.stepValues().weight.conv).not.toBe(w0);
    expect(h.variables().map((v) => v.shape)).toEqual([[4], [4]]);
    h.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('DepthwiseConv2D: one StatsQ scale per output channel (the [kh, kw, 1, C·m] view)', () => {
    const q = applyOFQ(tinyConvNet(), { weightBits: 2, include: 'dw' });
    const wq = q.layers[0].weightQuantizer;
    const k = q.layers[0].kernel;
    const got = wq.quantize(k);
    const want = tf.tidy(() => tf.reshape(statsQuantize(tf.reshape(k, [3, 3, 1, 4]), { bits: 2 }), [3, 3, 4, 1]));
    expect(sameBits(got, want)).toBe(true);
    const s = wq.scale(k);
    expect(s.shape).toEqual([4, 1]);
    tf.dispose([got, want, s]);
    q.dispose();
  });

  it('fails loudly: actBits without sample, empty selection, unused override, bad bits, applied twice', () => {
    const model = tinyConvNet();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(isOfqError(e)).toBe(true);
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return 'no error';
    };
    expect(code(() => applyOFQ(model, { weightBits: 4, actBits: 4 }))).toMatch(/E_OFQ_OPTIONS: .*`sample`/);
    expect(code(() => applyOFQ(model, { weightBits: 4, include: 'nothing*' }))).toMatch(/left no Dense/);
    expect(code(() => applyOFQ(model, { weightBits: 4, overrides: [{ layers: 'nope', weightBits: 8 }] }))).toMatch(/overrides\[0\] matched no selected layer/);
    expect(code(() => applyOFQ(model, { weightBits: 9 }))).toMatch(/weightBits must be an integer in \[2, 8\], got 9/);
    const h = applyOFQ(model, { weightBits: 4 });
    expect(code(() => applyOFQ(model, { weightBits: 4 }))).toMatch(/E_OFQ_TWICE: .*"conv" is already quantized/);
    h.dispose();
    model.dispose();
  });

  it('functional models too; include globs match layer or class names exactly (Conv2D is not DepthwiseConv2D)', async () => {
    const input = tf.input({ shape: [8, 8, 1] });
    const c = tf.layers.conv2d({ filters: 2, kernelSize: 3, activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
    const d = tf.layers.depthwiseConv2d({ kernelSize: 3, name: 'd1' }).apply(c) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 10, activation: 'softmax', name: 'fc' }).apply(tf.layers.flatten().apply(d) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const { x, y } = tinyData(8);
    const h = applyOFQ(model, { weightBits: 2, actBits: 2, sample: x, include: ['Conv2D', 'f?'] });
    expect(h.layers.map((l) => l.name)).toEqual(['c1', 'fc']);
    expect(h.summary().skipped).toEqual(['d1']);
    model.compile({ optimizer: tf.train.sgd(0.5), loss: 'categoricalCrossentropy' });
    const before = h.stepValues().act;
    await model.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(h.stepValues().act.fc).not.toBe(before.fc);
    h.dispose();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('Conv1D: kernel [k, in, out] by StatsQ per output channel, input by LSQ', () => {
    const model = tf.sequential();
    model.add(tf.layers.conv1d({ inputShape: [6, 2], filters: 3, kernelSize: 2, useBias: false, name: 'c' }));
    const x = tf.randomNormal([2, 6, 2], 0, 1, 'float32', 5);
    const h = applyOFQ(model, { weightBits: 3, actBits: 4, sample: x });
    expect(h.layers[0].actQuantizer?.unsigned).toBe(false); // the sample has negative inputs: signed grid
    const xq = h.layers[0].actQuantizer!.apply(x);
    const want = tf.tidy(() => tf.conv1d(xq as tf.Tensor3D, statsQuantize(model.getWeights()[0], { bits: 3 }) as tf.Tensor3D, 1, 'valid'));
    const got = model.predict(x) as tf.Tensor;
    expect(sameBits(got, want)).toBe(true);
    tf.dispose([x, xq, want, got]);
    h.dispose();
    model.dispose();
  });

  it('dispose releases every tensor applyOFQ created', () => {
    const model = tinyConvNet();
    const { x } = tinyData(2);
    const before = tf.memory().numTensors;
    const h = applyOFQ(model, { weightBits: 2, actBits: 2, sample: x, method: 'lsq' });
    h.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});
