import * as tf from '@tensorflow/tfjs';
import { TEST_BACKENDS, useBackend } from '@ofq/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installAccel, uninstallAccel } from './index.js';

// Regression: the cpu backend's Cast int32/bool → float32 keeps the source array, so accel kernels
// once threw "expected float32 data" on such inputs (seen through @ofq/metrics in a packed install).
for (const backend of TEST_BACKENDS) {
  describe(`accel kernels on float32 tensors cast from int32/bool (${backend})`, () => {
    beforeAll(async () => {
      await useBackend(backend);
      installAccel({ engine: 'onnxruntime' });
    });
    afterAll(() => uninstallAccel(backend));

    it('Sum, Exp and MatMul read cast inputs correctly', () => {
      const i = tf.cast(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], 'int32'), 'float32');
      const b = tf.cast(tf.tensor2d([true, false, true, true], [2, 2], 'bool'), 'float32');
      expect(Array.from(tf.sum(i, 0).dataSync())).toEqual([9, 12]);
      expect(Array.from(tf.sum(b, 1).dataSync())).toEqual([1, 2]);
      expect(Array.from(tf.exp(tf.sub(b, b)).dataSync())).toEqual([1, 1, 1, 1]);
      expect(Array.from(tf.matMul(i, b).dataSync())).toEqual([3, 2, 7, 4, 11, 6]);
    });
  });
}
