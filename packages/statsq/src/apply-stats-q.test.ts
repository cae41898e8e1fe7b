import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { applyStatsQ, quantizedWeightBytes, statsCodes, statsQuantize } from './index.js';

/** A custom layer whose weight is called "kernel": y = x · kernel (no bias). */
class PlainMatMul extends tf.layers.Layer {
  static className = 'PlainMatMul';
  private kernel: tf.LayerVariable | null = null;
  constructor(private readonly units: number) {
    super({});
  }
  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = inputShape as number[];
    this.kernel = this.addWeight('kernel', [shape[shape.length - 1], this.units], 'float32', tf.initializers.glorotNormal({ seed: 3 }));
    this.built = true;
  }
  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return [...(inputShape as number[]).slice(0, -1), this.units];
  }
  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.matMul(Array.isArray(inputs) ? inputs[0] : inputs, this.kernel!.read()));
  }
}

function denseModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.dense({ units: 1, useBias: false, inputShape: [6], name: 'only' }));
  m.layers[0].setWeights([tf.tensor2d([-1.2, -0.2, 0.1, 0.5, 1.0, 0], [6, 1])]);
  return m;
}

function cnn(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 3, kernelSize: 3, activation: 'relu', name: 'conv_a', kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 5, activation: 'relu', name: 'hidden', kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }) }));
  m.add(tf.layers.dense({ units: 2, name: 'logits', kernelInitializer: tf.initializers.glorotNormal({ seed: 4 }) }));
  return m;
}

function predictData(m: tf.LayersModel, x: tf.Tensor): Float32Array {
  const y = m.predict(x) as tf.Tensor;
  const d = y.dataSync() as Float32Array;
  y.dispose();
  return d;
}

for (const backend of TEST_BACKENDS) {
  describe(`applyStatsQ on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('hand-checked Dense: the forward uses the 2-bit kernel, remove() restores the float one', () => {
      const m = denseModel();
      const x = tf.ones([1, 6]);
      assertClose(predictData(m, x), [0.2], { rtol: 1e-6, atol: 1e-6 }); // float: sum of the kernel
      const h = applyStatsQ(m, { bits: 2 });
      // s = 2·mean|w| = 1; levels [-0.75, -0.25, 0.25, 0.25, 0.75, 0.25] (ties round half to even)
      assertClose(predictData(m, x), [0.5], { rtol: 1e-6, atol: 1e-6 });
      // the weights themselves are untouched (latent float kernel)
      assertClose(m.layers[0].getWeights()[0], [-1.2, -0.2, 0.1, 0.5, 1.0, 0]);
      const q = h.export().only;
      expect(Array.from(q.codes)).toEqual([-2, -1, 0, 0, 1, 0]);
      expect(quantizedWeightBytes(q)).toBe(Math.ceil((6 * 2) / 8) + 4);
      h.remove();
      expect(h.active).toBe(false);
      assertClose(predictData(m, x), [0.2], { rtol: 1e-6, atol: 1e-6 });
      expect(Object.prototype.hasOwnProperty.call(m.layers[0], 'call')).toBe(false);
      h.remove(); // idempotent
      x.dispose();
      m.dispose();
    });

    it('selects layers by glob, class name, RegExp and predicate; summary counts weights', () => {
      const m = cnn();
      const all = applyStatsQ(m, { bits: 4 });
      const s = all.summary();
      expect(s.layers.map((l) => l.name)).toEqual(['conv_a', 'hidden', 'logits']);
      expect(s.layers[0]).toMatchObject({ className: 'Conv2D', kernelShape: [3, 3, 1, 3], weights: 27 });
      expect(s.quantizedWeights).toBe(27 + 48 * 5 + 5 * 2);
      expect(s.totalWeights).toBe(s.quantizedWeights + 3 + 5 + 2);
      expect(String(s)).toMatch(/StatsQ 4-bit: 3 layer\(s\)/);
      expect(() => applyStatsQ(m, { bits: 2 })).toThrow(/already quantized/);
      all.remove();
      const names = (o: Parameters<typeof applyStatsQ>[1]) => {
        const h = applyStatsQ(m, o);
        const r = h.summary().layers.map((l) => l.name);
        h.remove();
        return r;
      };
      expect(names({ bits: 2, include: 'Dense' })).toEqual(['hidden', 'logits']);
      expect(names({ bits: 2, include: 'conv*' })).toEqual(['conv_a']);
      expect(names({ bits: 2, exclude: ['logits'] })).toEqual(['conv_a', 'hidden']);
      expect(names({ bits: 2, include: /^h/ })).toEqual(['hidden']);
      expect(names({ bits: 2, include: (l) => l.getClassName() === 'Conv2D' || l.name === 'logits' })).toEqual(['conv_a', 'logits']);
      const skipped = applyStatsQ(m, { bits: 2, exclude: 'Conv2D' });
      expect(skipped.summary().skipped).toEqual(['conv_a']);
      skipped.remove();
      expect(() => applyStatsQ(m, { bits: 2, include: 'nothing*' })).toThrow(/matched no layer/);
      for (const bits of [1, 9, 2.5, NaN]) expect(() => applyStatsQ(m, { bits })).toThrow(RangeError);
      m.dispose();
    });

    it('the quantized CNN predicts exactly like a hand-built forward with statsQuantize kernels', () => {
      const m = cnn();
      const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 8);
      const h = applyStatsQ(m, { bits: 3 });
      const got = predictData(m, x);
      const expected = tf.tidy(() => {
        const [k0, b0] = m.layers[0].getWeights();
        const [k2, b2] = m.layers[2].getWeights();
        const [k3, b3] = m.layers[3].getWeights();
        const q = (w: tf.Tensor) => statsQuantize(w, { bits: 3 });
        const a = tf.relu(tf.add(tf.conv2d(x as tf.Tensor4D, q(k0) as tf.Tensor4D, 1, 'valid'), b0));
        const f = tf.reshape(a, [2, -1]);
        const hdn = tf.relu(tf.add(tf.matMul(f, q(k2)), b2));
        return tf.add(tf.matMul(hdn, q(k3)), b3);
      });
      assertClose(got, expected, { rtol: 1e-4, atol: 1e-5 });
      h.remove();
      tf.dispose([x, expected]);
      m.dispose();
    });

    it('model.fit trains the latent float kernel with the straight-through gradient', async () => {
      const m = denseModel();
      m.compile({ optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' });
      const x = tf.tensor2d([[1, 0, 2, 0, 1, 1], [0, 1, 0, 1, -1, 2]]);
      const t = tf.tensor2d([[1], [-1]]);
      const w0 = m.layers[0].getWeights()[0].dataSync().slice();
      // expected: W ← W − lr·dL/dWq with Wq = statsQuantize(W) (STE: dL/dW = dL/dWq)
      const expected = tf.tidy(() => {
        const wq = statsQuantize(tf.tensor2d(w0, [6, 1]), { bits: 2 });
        const g = tf.grad((w: tf.Tensor) => tf.losses.meanSquaredError(t, tf.matMul(x, w)))(wq);
        return tf.sub(tf.tensor2d(w0, [6, 1]), tf.mul(g, 0.1));
      });
      const h = applyStatsQ(m, { bits: 2 });
      const before = tf.memory().numTensors;
      await m.fit(x, t, { epochs: 1, batchSize: 2, shuffle: false, verbose: 0 });
      expect(tf.memory().numTensors).toBe(before);
      const w1 = m.layers[0].getWeights()[0];
      expect(Array.from(w1.dataSync())).not.toEqual(Array.from(w0));
      assertClose(w1, expected, { rtol: 1e-5, atol: 1e-6 });
      h.remove();
      tf.dispose([x, t, expected]);
      m.dispose();
    });

    it('works on functional models with a custom layer, and with optimizer.minimize', () => {
      const input = tf.input({ shape: [4] });
      const custom = new PlainMatMul(3);
      const hidden = custom.apply(input) as tf.SymbolicTensor;
      const out = tf.layers.dense({ units: 2, name: 'head' }).apply(hidden) as tf.SymbolicTensor;
      const m = tf.model({ inputs: input, outputs: out });
      const x = tf.randomNormal([5, 4], 0, 1, 'float32', 6);
      const floatOut = predictData(m, x);
      const h = applyStatsQ(m, { bits: 2 });
      expect(h.summary().layers.map((l) => l.className)).toEqual(['PlainMatMul', 'Dense']);
      const qOut = predictData(m, x);
      expect(Array.from(qOut)).not.toEqual(Array.from(floatOut));
      const kernel = custom.getWeights()[0];
      const manual = tf.tidy(() => {
        const [hk, hb] = m.getLayer('head').getWeights();
        const q = (w: tf.Tensor) => statsQuantize(w, { bits: 2 });
        return tf.add(tf.matMul(tf.matMul(x, q(kernel)), q(hk)), hb);
      });
      assertClose(qOut, manual, { rtol: 1e-4, atol: 1e-5 });
      // gradients reach the custom layer's latent kernel through minimize
      const opt = tf.train.sgd(0.5);
      const k0 = kernel.dataSync().slice();
      expectNoLeaks(() => opt.minimize(() => tf.sum(m.apply(x) as tf.Tensor) as tf.Scalar), 'minimize');
      expect(Array.from(custom.getWeights()[0].dataSync())).not.toEqual(Array.from(k0));
      h.remove();
      opt.dispose();
      tf.dispose([x, manual]);
      m.dispose();
    });

    it('quantizes layers of nested models', () => {
      const inner = tf.sequential({ name: 'inner' });
      inner.add(tf.layers.dense({ units: 3, inputShape: [4], name: 'inner_dense' }));
      const outer = tf.sequential();
      outer.add(inner);
      outer.add(tf.layers.dense({ units: 2, name: 'outer_dense' }));
      const h = applyStatsQ(outer, { bits: 4 });
      expect(h.summary().layers.map((l) => l.name)).toEqual(['inner_dense', 'outer_dense']);
      const x = tf.ones([1, 4]);
      const y = predictData(outer, x);
      expect(y.every(Number.isFinite)).toBe(true);
      h.remove();
      x.dispose();
      outer.dispose();
    });

    it('apply, predict, summary, export and remove leak no tensors', () => {
      const m = cnn();
      const x = tf.randomNormal([1, 6, 6, 1], 0, 1, 'float32', 1);
      tf.dispose(m.predict(x) as tf.Tensor);
      expectNoLeaks(() => {
        const h = applyStatsQ(m, { bits: 2 });
        tf.dispose(m.predict(x) as tf.Tensor);
        h.summary();
        const e = h.export();
        expect(Object.keys(e)).toEqual(['conv_a', 'hidden', 'logits']);
        const kernel = m.getLayer('hidden').getWeights()[0];
        expect(Array.from(e.hidden.codes)).toEqual(Array.from(statsCodes(kernel, { bits: 2 }).codes));
        h.remove();
      }, 'handle');
      x.dispose();
      m.dispose();
    });
  });
}
