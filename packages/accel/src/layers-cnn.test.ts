import * as tf from '@tensorflow/tfjs';
import { assertClose, useBackend } from '@ofq/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';
import { seeded } from './test-support.js';

/** A small tfjs-layers convnet with every standard layer a CNN uses (dropout optional: it draws random numbers). */
function buildModel(dropout: boolean): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
  m.add(tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, activation: 'relu' }));
  m.add(tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 1, strides: 1 }));
  if (dropout) m.add(tf.layers.dropout({ rate: 0.25 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 5, activation: 'softmax' }));
  m.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' });
  return m;
}

function batch(rnd: () => number): { x: Float32Array; y: Float32Array } {
  const x = Float32Array.from({ length: 4 * 12 * 12 * 3 }, rnd);
  const y = new Float32Array(4 * 5);
  for (let i = 0; i < 4; i++) y[i * 5 + (i % 5)] = 1;
  return { x, y };
}

/** Two SGD steps from the given weights; returns the losses and the weights after. */
async function train(init: Float32Array[] | undefined, data: { x: Float32Array; y: Float32Array }) {
  const m = buildModel(false);
  if (init) {
    const ws = init.map((v, i) => tf.tensor(v, m.getWeights()[i].shape));
    m.setWeights(ws);
    tf.dispose(ws);
  }
  const start = m.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  const x = tf.tensor4d(data.x, [4, 12, 12, 3]);
  const y = tf.tensor2d(data.y, [4, 5]);
  const losses = [(await m.trainOnBatch(x, y)) as number, (await m.trainOnBatch(x, y)) as number];
  const after = m.getWeights().map((w) => w.dataSync().slice() as Float32Array);
  tf.dispose([x, y]);
  m.dispose();
  (m.optimizer as tf.Optimizer).dispose();
  return { start, losses, after };
}

describe('a standard tfjs-layers convnet trains on wasm with accel', () => {
  afterAll(() => uninstallAccel());

  it('stock wasm cannot train it; with accel the weights after two steps equal the stock cpu backend’s', async () => {
    const data = batch(seeded(21));
    await useBackend('cpu');
    uninstallAccel();
    const ref = await train(undefined, data);

    await useBackend('wasm');
    uninstallAccel();
    await expect(train(ref.start, data)).rejects.toThrow(/not registered for backend 'wasm'/);
    installAccel({ engine: 'auto' });
    const before = tf.memory().numTensors;
    const got = await train(ref.start, data);
    expect(tf.memory().numTensors).toBe(before);
    assertClose(got.losses, ref.losses, { rtol: 1e-4, atol: 1e-5 }, 'losses');
    got.after.forEach((w, i) => assertClose(w, ref.after[i], { rtol: 1e-3, atol: 1e-5 }, `weight ${i}`));
    expect(got.losses[1]).toBeLessThan(got.losses[0]);
  });

  it('model.fit with dropout runs on wasm with accel and leaves no tensors behind', async () => {
    await useBackend('wasm');
    installAccel({ engine: 'auto' });
    const m = buildModel(true);
    const data = batch(seeded(4));
    const x = tf.tensor4d(data.x, [4, 12, 12, 3]);
    const y = tf.tensor2d(data.y, [4, 5]);
    const before = tf.memory().numTensors;
    const h = await m.fit(x, y, { epochs: 2, batchSize: 2, verbose: 0 });
    expect(tf.memory().numTensors).toBe(before);
    expect((h.history.loss as number[]).every(Number.isFinite)).toBe(true);
    tf.dispose([x, y]);
    m.dispose();
  });
});
