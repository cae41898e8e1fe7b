import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { setBackend } from '@ofq/core';
import { loadMnist, parseIdx } from './mnist.js';
import { runStatsQMnist } from './run.js';
import { installAccelIfPresent } from './accel.js';

describe('StatsQ MNIST example', () => {
  let accel: string | null = null;
  beforeAll(async () => {
    await setBackend('wasm');
    accel = await installAccelIfPresent(); // as main.ts does by default
  });

  it('installs @ofq/accel kernels on wasm (a workspace dependency of the example)', () => {
    expect(accel).toMatch(/^(native|onnxruntime|wasm|stock)/);
  });

  it('reads the IDX files (official label counts start 5923, 6742)', () => {
    const train = loadMnist('train');
    expect(train.count).toBe(60000);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(Math.max(...train.images.subarray(0, 784))).toBeLessThanOrEqual(1);
    expect(() => parseIdx(new Uint8Array([1, 2, 3, 4]))).toThrow(/IDX/);
  });

  it('trains on a small slice and reports float vs 2/4-bit accuracy and exported size', async () => {
    const before = tf.memory().numTensors;
    const lines: string[] = [];
    const r = await runStatsQMnist({ trainSize: 2000, testSize: 500, epochs: 2, bits: [2, 4], log: (l) => lines.push(l) });
    expect(tf.memory().numTensors).toBe(before);
    expect(lines).toHaveLength(3);
    expect(r.floatAccuracy).toBeGreaterThan(0.8);
    const [b2, b4] = r.quantized;
    expect(b4.qatAccuracy).toBeGreaterThan(0.75);
    expect(b2.qatAccuracy).toBeGreaterThan(0.5);
    // kernels 784·128 + 128·10 = 101 632 weights; 2-bit codes = 25 408 bytes + (128 + 10)·4 scale bytes
    expect(r.floatKernelBytes).toBe(101632 * 4);
    expect(b2.exportedKernelBytes).toBe(Math.ceil((784 * 128 * 2) / 8) + Math.ceil((128 * 10 * 2) / 8) + 138 * 4);
    expect(b4.exportedKernelBytes).toBe((784 * 128 * 4) / 8 + (128 * 10 * 4) / 8 + 138 * 4);
  });
});
