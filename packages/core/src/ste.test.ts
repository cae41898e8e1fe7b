import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { clipIdentityGrad, clipInclusive, gradScale, roundSTE, stopGradient, straightThrough } from './index.js';
import { TEST_BACKENDS, assertClose, expectNoLeaks, useBackend } from './testing.js';

for (const backend of TEST_BACKENDS) {
  describe(`STE primitives on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('roundSTE rounds half to even and passes the gradient unchanged', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49, 1.2]);
        const y = roundSTE(x);
        expect(Array.from(y.dataSync(), (v) => v + 0)).toEqual([-2, -2, 0, 0, 2, 2, 0, 1]);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(roundSTE(a), tf.tensor1d([1, 2, 3, 4, 5, 6, 7, 8]))))(x);
        expect(Array.from(g.dataSync())).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
        tf.dispose([x, y, g]);
      });
    });

    it('gradScale is the identity forward and scales the gradient', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([1, -2, 3]);
        const [y, g] = tf.tidy(() => [gradScale(x, 0.25), tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gradScale(a, 0.25), 2)))(x)]);
        expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
        expect(Array.from(g.dataSync())).toEqual([0.5, 0.5, 0.5]);
        tf.dispose([x, y, g]);
      });
    });

    it('clipIdentityGrad clips values and keeps the gradient everywhere', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([1e-7, 0.5, -3]);
        const y = clipIdentityGrad(x, 1e-5, Infinity);
        assertClose(y, [1e-5, 0.5, 1e-5]);
        const g = tf.grad((a: tf.Tensor) => tf.sum(clipIdentityGrad(a, 1e-5, Infinity)))(x);
        expect(Array.from(g.dataSync())).toEqual([1, 1, 1]);
        tf.dispose([x, y, g]);
      });
    });

    it('clipInclusive masks the gradient outside [lo, hi], inclusive at both ends', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([-3, -2, -1.5, 0, 1, 1.0001, 5]);
        const y = clipInclusive(x, -2, 1);
        assertClose(y, [-2, -2, -1.5, 0, 1, 1, 1]);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(clipInclusive(a, -2, 1), 3)))(x);
        expect(Array.from(g.dataSync())).toEqual([0, 3, 3, 3, 3, 0, 0]);
        tf.dispose([x, y, g]);
      });
    });

    it('stopGradient blocks and straightThrough reroutes the gradient', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([1, 2]);
        const g1 = tf.grad((a: tf.Tensor) => tf.sum(tf.add(stopGradient(tf.square(a)), a)))(x);
        expect(Array.from(g1.dataSync())).toEqual([1, 1]);
        const g2 = tf.grad((a: tf.Tensor) => {
          const v = straightThrough(a, tf.tensor1d([10, 20]));
          expect(Array.from(v.dataSync())).toEqual([10, 20]);
          return tf.sum(tf.mul(v, tf.tensor1d([3, 4])));
        })(x);
        expect(Array.from(g2.dataSync())).toEqual([3, 4]);
        tf.dispose([x, g1, g2]);
      });
    });
  });
}
