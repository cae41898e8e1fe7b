import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { LearnableBias, LSQQuantizer, LSQWeightQuantizer, PixelBias, lsqGradScale, lsqQuantize, lsqRange } from './index.js';

for (const backend of TEST_BACKENDS) {
  describe(`LSQ quantizers on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('ranges: signed asymmetric with 0, unsigned [0, 2^b-1]; 1-bit and out-of-range bits are rejected', () => {
      expect(lsqRange(2)).toEqual({ qn: -2, qp: 1 });
      expect(lsqRange(4, true)).toEqual({ qn: 0, qp: 15 });
      expect(lsqRange(8)).toEqual({ qn: -128, qp: 127 });
      for (const bits of [1, 0, 9, 3.5, NaN, '2']) {
        expect(() => new LSQQuantizer({ bits: bits as number, granularity: 'token' })).toThrow(RangeError);
        expect(() => new LSQWeightQuantizer({ bits: bits as number })).toThrow(/bits must be an integer in \[2, 8\]/);
      }
      expect(() => new LSQQuantizer({ bits: 4, granularity: 'row' as never })).toThrow(/granularity/);
      expect(() => new LSQQuantizer({ bits: 4, granularity: 'token', gradScaleBatch: 0 })).toThrow(/gradScaleBatch/);
    });

    it('non-finite input at initialisation and non-finite steps are refused; the op clips ±Inf', () => {
      expectNoLeaks(() => {
        const q = new LSQQuantizer({ bits: 2, granularity: 'tensor' });
        const x = tf.tensor1d([0.5, NaN, 1, Infinity]);
        expect(() => q.initFrom(x)).toThrow(/initFrom: the input holds 2 NaN\/Inf values of 4; the initial step .* would not be finite/);
        expect(() => q.apply(x)).toThrow(/NaN\/Inf/);
        expect(q.initialized).toBe(false);
        expect(() => q.setStep([NaN])).toThrow(/step 0 is NaN \(steps must be finite\)/);
        expect(() => q.setStep([Infinity])).toThrow(/steps must be finite/);
        const inf = tf.tensor1d([Infinity, -Infinity, 0.3]);
        const step = tf.tensor1d([0.5]);
        const y = lsqQuantize(inf, step, { bits: 2, granularity: 'tensor', gradScale: 1 });
        expect(Array.from(y.dataSync())).toEqual([0.5, -1, 0.5]);
        tf.dispose([x, y, inf, step]);
        q.dispose();
      });
    });

    it('hand-checked forward and gradients (per-tensor, step 0.5, 2-bit signed)', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([-2, -1.1, -0.25, 0.2, 0.5, 0.75, 3]);
        const s = tf.tensor1d([0.5]);
        const g = 0.125;
        const f = (a: tf.Tensor, b: tf.Tensor) => lsqQuantize(a, b, { bits: 2, granularity: 'tensor', gradScale: g });
        const y = f(x, s);
        // x/s = [-4, -2.2, -0.5, 0.4, 1, 1.5, 6] → clamp [-2, 1] → round (half to even) → [-2,-2,-0,0,1,1,1]
        assertClose(y, [-1, -1, 0, 0, 0.5, 0.5, 0.5]);
        const [gx, gs] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(f(a, b)))([x, s]);
        // inside (inclusive) only for x/s in [-2, 1]: -0.5, 0.4, 1
        expect(Array.from(gx.dataSync())).toEqual([0, 0, 1, 1, 1, 0, 0]);
        // ds = g·Σ [Qn, Qn, round−r = 0.5, −0.4, 0, Qp, Qp] = 0.125·(−2 −2 +0.5 −0.4 +0 +1 +1)
        assertClose(gs, [0.125 * -1.9], { rtol: 1e-6, atol: 1e-7 });
        tf.dispose([x, s, y, gx, gs]);
      });
    });

    it('the forward step is floored at 1e-5 and the floor passes the gradient', () => {
      expectNoLeaks(() => {
        const x = tf.tensor1d([3e-5, -1e-5]);
        const s = tf.tensor1d([0]);
        const y = lsqQuantize(x, s, { bits: 4, granularity: 'tensor', gradScale: 1 });
        assertClose(y, [3e-5, -1e-5], { rtol: 1e-5, atol: 0 });
        const gs = tf.grad((b: tf.Tensor) => tf.sum(lsqQuantize(x, b, { bits: 4, granularity: 'tensor', gradScale: 1 })))(s);
        expect(Number.isFinite(gs.dataSync()[0])).toBe(true);
        tf.dispose([x, s, y, gs]);
      });
    });

    it('lazy init on the first apply, step shapes per granularity, explicit initFrom and setStep', () => {
      expectNoLeaks(() => {
        const x = tf.randomNormal([3, 4, 5], 0, 1, 'float32', 7);
        const tok = new LSQQuantizer({ bits: 4, granularity: 'token' });
        expect(tok.initialized).toBe(false);
        expect(tok.step).toBeNull();
        tf.dispose(tok.apply(x));
        expect(tok.step!.shape).toEqual([4]);
        expect(tok.initialized).toBe(true);
        const ch = new LSQQuantizer({ bits: 4, granularity: 'channel' });
        ch.initFrom(x);
        expect(ch.step!.shape).toEqual([5]);
        const ten = new LSQQuantizer({ bits: 4, granularity: 'tensor', unsigned: true });
        ten.initFrom(x);
        expect(ten.step!.shape).toEqual([1]);
        // per-tensor unsigned uses 2·mean|x|/sqrt(Qp), not 4·
        const m = tf.tidy(() => tf.mean(tf.abs(x)));
        assertClose(ten.step!, [(2 * m.dataSync()[0]) / Math.sqrt(15)], { rtol: 1e-6, atol: 0 });
        const unsTok = new LSQQuantizer({ bits: 4, granularity: 'token', unsigned: true });
        unsTok.initFrom(x);
        const mt = tf.tidy(() => tf.mean(tf.abs(x), [0, 2]));
        assertClose(unsTok.step!, Array.from(mt.dataSync(), (v) => (4 * v) / Math.sqrt(15)), { rtol: 1e-6, atol: 0 });
        // setStep keeps the same variable object (optimizers holding it keep working)
        const v = tok.step;
        tok.setStep([1, 2, 3, 4]);
        expect(tok.step).toBe(v);
        assertClose(tok.step!, [1, 2, 3, 4]);
        expect(() => tf.tidy(() => tok.apply(tf.zeros([2, 7, 5])))).toThrow(/needs 7 'token' steps/);
        expect(() => tok.setStep([1, Number.NaN, 1, 1])).toThrow(/finite/);
        expect(() => ten.setStep([1, 2])).toThrow(/one value/);
        tf.dispose([x, m, mt]);
        for (const q of [tok, ch, ten, unsTok]) q.dispose();
        expect(tok.step).toBeNull();
      });
    });

    it('learnable: false freezes the step (not trainable, no update under minimize)', () => {
      const q = new LSQQuantizer({ bits: 3, granularity: 'channel', learnable: false });
      const x = tf.randomNormal([4, 6], 0, 1, 'float32', 3);
      q.initFrom(x);
      expect(q.step!.trainable).toBe(false);
      const before = q.step!.dataSync().slice();
      const w = tf.variable(tf.ones([6]));
      const opt = tf.train.sgd(0.5);
      opt.minimize(() => tf.sum(q.apply(tf.mul(x, w))) as tf.Scalar);
      expect(Array.from(q.step!.dataSync())).toEqual(Array.from(before));
      tf.dispose([x, w]);
      opt.dispose();
      q.dispose();
    });

    it('autoSign: unsigned until a value < -1e-5 is seen, then signed forever', () => {
      expectNoLeaks(() => {
        const q = new LSQQuantizer({ bits: 8, granularity: 'channel', autoSign: true });
        expect(q.signed).toBe(false);
        const pos = tf.fill([1, 2, 2, 3], 0.5);
        const tiny = tf.fill([1, 2, 2, 3], -1e-6);
        const neg = tf.fill([1, 2, 2, 3], -0.5);
        tf.dispose(q.apply(pos));
        expect(q.signed).toBe(false);
        // unsigned: init 2·mean|x|/sqrt(255)
        assertClose(q.step!, [1, 1, 1].map(() => 1 / Math.sqrt(255)), { rtol: 1e-6, atol: 0 });
        tf.dispose(q.apply(tiny));
        expect(q.signed).toBe(false);
        const y = q.apply(neg);
        expect(q.signed).toBe(true);
        // signed range now: -0.5 is representable
        expect(y.dataSync()[0]).toBeLessThan(0);
        tf.dispose([q.apply(pos), y]);
        expect(q.signed).toBe(true);
        tf.dispose([pos, tiny, neg]);
        q.dispose();
      });
      expect(() => new LSQQuantizer({ bits: 8, granularity: 'channel', autoSign: true, unsigned: true })).toThrow(/exclusive/);
    });

    it('gradScaleBatch pins B in g = 1/sqrt(Qp·count)', () => {
      expect(lsqGradScale(7, 'token', [4, 10, 16])).toBeCloseTo(1 / Math.sqrt(7 * 4 * 16), 12);
      expect(lsqGradScale(7, 'token', [4, 10, 16], 140)).toBeCloseTo(1 / Math.sqrt(7 * 140 * 16), 12);
      expect(lsqGradScale(7, 'token', [2, 3, 10, 8], 140)).toBeCloseTo(1 / Math.sqrt(7 * 140 * 3 * 8), 12);
      expect(lsqGradScale(7, 'channel', [4, 10, 16], 64)).toBeCloseTo(1 / Math.sqrt(7 * 64 * 10), 12);
      expect(lsqGradScale(7, 'tensor', [4, 16], 64)).toBeCloseTo(1 / Math.sqrt(7 * 64 * 16), 12);
      const x = tf.randomNormal([4, 3, 8], 0, 1, 'float32', 11);
      const a = new LSQQuantizer({ bits: 4, granularity: 'token' });
      const b = new LSQQuantizer({ bits: 4, granularity: 'token', gradScaleBatch: 16 });
      a.initFrom(x);
      b.initFrom(x);
      const gradOf = (q: LSQQuantizer) => {
        const r = tf.variableGrads(() => tf.sum(tf.square(q.apply(x))) as tf.Scalar, [q.step!]);
        r.value.dispose();
        return r.grads[q.step!.name];
      };
      const ga = gradOf(a);
      const gb = gradOf(b);
      // count grows 4× (B 4 → 16), so g halves
      assertClose(gb, Array.from(ga.dataSync(), (v) => v / 2), { rtol: 1e-5, atol: 1e-7 });
      tf.dispose([x, ga, gb]);
      a.dispose();
      b.dispose();
    });

    it('LSQWeightQuantizer: per-channel and per-tensor steps, codes rebuild the values', () => {
      expectNoLeaks(() => {
        const w = tf.randomNormal([6, 3], 0, 1, 'float32', 5);
        for (const perChannel of [true, false]) {
          const q = new LSQWeightQuantizer({ bits: 4, perChannel });
          const y = q.quantize(w);
          expect(q.step!.shape).toEqual(perChannel ? [3] : [1]);
          const c = q.codes(w);
          expect(c.scales.length).toBe(3);
          expect(c.codeRange).toEqual([-8, 7]);
          const yd = y.dataSync();
          for (let i = 0; i < c.codes.length; i++) {
            expect(c.codes[i]).toBeGreaterThanOrEqual(-8);
            expect(c.codes[i]).toBeLessThanOrEqual(7);
            expect(Math.abs(c.codes[i] * c.scales[i % 3] - yd[i])).toBeLessThan(1e-6);
          }
          y.dispose();
          q.dispose();
        }
        w.dispose();
      });
    });

    it('LearnableBias and PixelBias start at zero, broadcast, and train', () => {
      expectNoLeaks(() => {
        const b = new LearnableBias(3);
        const p = new PixelBias(2, 2);
        expect(b.variable.shape).toEqual([3]);
        expect(p.variable.shape).toEqual([2, 2]);
        const x = tf.ones([2, 2, 2, 3]);
        const y = tf.tidy(() => p.apply(b.apply(x)));
        assertClose(y, new Array(24).fill(1));
        tf.dispose(y);
        tf.tidy(() => {
          b.variable.assign(tf.tensor1d([1, 2, 3]));
          p.variable.assign(tf.tensor2d([[10, 20], [30, 40]]));
        });
        const z = tf.tidy(() => tf.slice(p.apply(b.apply(x)), [1, 1, 0, 0], [1, 1, 1, 3]));
        // z[n, h, w, c] = 1 + (c+1) + 10·(2h+w+1)
        assertClose(z, [32, 33, 34]);
        const g = tf.variableGrads(() => tf.sum(p.apply(b.apply(x))) as tf.Scalar, [b.variable, p.variable]);
        assertClose(g.grads[b.variable.name], [8, 8, 8]);
        assertClose(g.grads[p.variable.name], [6, 6, 6, 6]);
        expect(() => tf.tidy(() => b.apply(tf.ones([2, 4])))).toThrow(/3 features/);
        expect(() => tf.tidy(() => p.apply(tf.ones([1, 3, 3, 1])))).toThrow(/NHWC/);
        expect(() => new LearnableBias(0)).toThrow(/positive integer/);
        tf.dispose([x, z, g.value, ...Object.values(g.grads)]);
        b.dispose();
        p.dispose();
      });
    });

    it('lsqQuantize validates the step shape and options', () => {
      const x = tf.ones([2, 3, 4]);
      expect(() => lsqQuantize(x, tf.ones([4]), { bits: 4, granularity: 'token', gradScale: 1 })).toThrow(/shape \[3\]/);
      expect(() => lsqQuantize(x, tf.ones([3]), { bits: 4, granularity: 'channel', gradScale: 1 })).toThrow(/shape \[4\]/);
      expect(() => lsqQuantize(x, tf.ones([3]), { bits: 4, granularity: 'token', gradScale: 0 })).toThrow(/gradScale/);
      expect(() => lsqQuantize(x, tf.ones([3]), { bits: 1, granularity: 'token', gradScale: 1 })).toThrow(RangeError);
      expect(() => lsqQuantize(tf.ones([3]), tf.ones([1]), { bits: 4, granularity: 'token', gradScale: 1 })).toThrow(/rank >= 2/);
      x.dispose();
    });
  });
}
