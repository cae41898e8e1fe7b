import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError, setBackend } from './backend.js';

describe('setBackend', () => {
  afterAll(() => setBackend('cpu'));

  it('auto picks wasm here (tfjs-node is not installed) and runs ops', async () => {
    expect(await setBackend('auto')).toBe('wasm');
    const y = tf.matMul(tf.ones([2, 3]), tf.ones([3, 2]));
    expect(Array.from(y.dataSync())).toEqual([3, 3, 3, 3]);
    y.dispose();
  });

  it('cpu can be chosen explicitly', async () => {
    expect(await setBackend('cpu')).toBe('cpu');
  });

  it('a missing tfjs-node gives an actionable error', async () => {
    await expect(setBackend('tensorflow')).rejects.toThrow(BackendUnavailableError);
    await expect(setBackend('tensorflow')).rejects.toThrow(/npm install @tensorflow\/tfjs-node@4.22.0/);
    await expect(setBackend('tensorflow-gpu')).rejects.toThrow(/tfjs-node-gpu/);
  });

  it('an unknown name is rejected', async () => {
    await expect(setBackend('webgl' as never)).rejects.toThrow(/unknown backend 'webgl'/);
  });
});
