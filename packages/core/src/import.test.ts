import { describe, expect, it } from 'vitest';

describe('importing @ofq/core', () => {
  it('registers no backend and selects none', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    const before = Object.keys(tf.engine().registryFactory).sort();
    await import('./index.js');
    expect(Object.keys(tf.engine().registryFactory).sort()).toEqual(before);
    expect(before).toEqual([]);
  });
});
