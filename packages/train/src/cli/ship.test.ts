import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { createDeiT, initActivationSteps } from '@ofq/vit';
import { exportDeiT } from '@ofq/runtime';
import { main } from '../cli.js';
import { loadMnist } from '../data/datasets.js';

const quiet = ['--quiet', '--backend', 'cpu', '--accel', 'off'];

describe('ofq export / ofq predict', () => {
  afterEach(() => vi.restoreAllMocks());

  it('predict prints the top-1 of a packed file on the first N test images', async () => {
    await tf.setBackend('cpu');
    const model = createDeiT({ imgSize: 28, patchSize: 7, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, mlpRatio: 2, numClasses: 10, distilled: true, seed: 3, quant: { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' } });
    const test = loadMnist().test;
    const n = 40;
    const x = tf.tidy(() => tf.div(tf.sub(tf.div(tf.tensor4d(test.images.subarray(0, n * 784), [n, 28, 28, 1], 'float32'), 255), 0.1307), 0.3081)) as tf.Tensor4D;
    initActivationSteps(model, x);
    const pred = tf.tidy(() => tf.argMax(model.predict(x), -1).dataSync());
    const want = Array.from(pred).filter((p, i) => p === test.labels[i]).length / n;
    const file = join(mkdtempSync(join(tmpdir(), 'ofq-ship-')), 'm.ofq');
    writeFileSync(file, exportDeiT(model, { input: { mean: [0.1307], std: [0.3081] }, info: { testTop1: 0.5 } }));
    model.dispose();
    x.dispose();
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => (lines.push(String(s)), true));
    expect(await main(['predict', file, '--data', 'mnist', '--subset', String(n), ...quiet])).toBe(0);
    expect(lines.join('')).toBe(`top-1 ${(100 * want).toFixed(2)}% on ${n} images (run's test figure 50.00%)\n`);
    // An image folder is labelled by class name: a file without names cannot be evaluated on one.
    const folder = mkdtempSync(join(tmpdir(), 'ofq-ship-folder-'));
    mkdirSync(join(folder, 'val', 'cat'), { recursive: true });
    await expect(main(['predict', file, '--data', folder, ...quiet])).rejects.toThrow(/has no class names \(ofq\.input\.labels\)/);
  });

  it('bad input is a clear error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-ship-'));
    await expect(main(['predict', ...quiet])).rejects.toThrow(/needs a packed model file/);
    await expect(main(['predict', join(dir, 'none.ofq'), '--data', 'mnist', ...quiet])).rejects.toThrow(/packed model not found/);
    writeFileSync(join(dir, 'bad.ofq'), 'not a model at all');
    await expect(main(['predict', join(dir, 'bad.ofq'), '--data', 'mnist', ...quiet])).rejects.toThrow(/packed model: safetensors: header length/);
    await expect(main(['predict', join(dir, 'bad.ofq'), ...quiet])).rejects.toThrow(/needs --data/);
    await expect(main(['predict', join(dir, 'bad.ofq'), '--data', 'mnist', '--subset', '-2', ...quiet])).rejects.toThrow(/--subset must be a non-negative integer/);
    await expect(main(['export', ...quiet])).rejects.toThrow(/needs a run directory/);
    await expect(main(['export', dir, ...quiet])).rejects.toThrow(/is not a run directory \(config.json missing\)/);
  });
});
