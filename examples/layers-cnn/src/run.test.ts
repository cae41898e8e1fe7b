import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setBackend } from '@ofq/core';
import { installAccelIfPresent } from './accel.js';
import { availableDataset, loadImages, parseIdx } from './data.js';
import { runLayersCnn } from './run.js';

describe('layers-cnn example', () => {
  beforeAll(async () => {
    await setBackend('wasm');
    await installAccelIfPresent(); // as main.ts does: @ofq/accel adds the convolution gradients wasm lacks
  });

  it('reads the dataset (Fashion-MNIST when installed: 6 000 images of each class)', () => {
    const train = loadImages('train');
    expect(train.count).toBe(60000);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    if (availableDataset() === 'fashion-mnist') expect(counts).toEqual(new Array(10).fill(6000));
    else expect(counts.slice(0, 2)).toEqual([5923, 6742]);
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]))).toThrow(/IDX/);
  });

  it('trains FP, W4A4, W2A2, saves/loads bit-identically and runs the CGA stage on a small slice', async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const r = await runLayersCnn({ trainSize: 640, testSize: 300, epochs: 1, log: (l) => lines.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    expect(lines).toHaveLength(6);
    expect(r.floatAccuracy).toBeGreaterThan(0.4); // 10 classes: chance is 0.1
    expect(r.quantized.map((q) => q.name)).toEqual(['W4A4', 'W2A2']);
    for (const q of r.quantized) expect(q.qatAccuracy).toBeGreaterThan(0.3);
    expect(r.reloaded.identical).toBe(true);
    expect(r.reloaded.accuracy).toBe(r.quantized[1].qatAccuracy);
    expect(r.reloaded.stepsTrainAfterLoad).toBe(true);
    expect(r.stage2.frozenFraction).toBeGreaterThan(0.9); // BR 0.005: all but the entries next to a threshold
    expect(r.stage2.cgaAccuracy).toBeGreaterThan(0.3);
  });
});
