import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import { LearnableBias, LSQQuantizer, LSQWeightQuantizer, PixelBias, lsqQuantize, lsqRange, type LSQGranularity } from './index.js';

const caseArb = fc
  .record({
    B: fc.integer({ min: 1, max: 3 }),
    N: fc.integer({ min: 1, max: 4 }),
    C: fc.integer({ min: 1, max: 5 }),
    bits: fc.integer({ min: 2, max: 8 }),
    unsigned: fc.boolean(),
    granularity: fc.constantFrom<LSQGranularity>('token', 'channel', 'tensor'),
    gradScale: fc.double({ min: 0.01, max: 1, noNaN: true }),
  })
  .chain((r) => {
    const size = r.B * r.N * r.C;
    const steps = r.granularity === 'token' ? r.N : r.granularity === 'channel' ? r.C : 1;
    return fc.record({
      cfg: fc.constant(r),
      x: fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: size, maxLength: size }),
      s: fc.array(fc.float({ min: Math.fround(0.05), max: 2, noNaN: true }), { minLength: steps, maxLength: steps }),
      G: fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { minLength: size, maxLength: size }),
    });
  });

/** Index of the step that element i of a [B, N, C] tensor uses. */
function stepIndex(g: LSQGranularity, i: number, N: number, C: number): number {
  return g === 'token' ? Math.floor(i / C) % N : g === 'channel' ? i % C : 0;
}

for (const backend of TEST_BACKENDS) {
  describe(`LSQ properties on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('outputs are integer multiples of the step within [Qn, Qp]: at most 2^b levels per step', () => {
      fc.assert(
        fc.property(caseArb, ({ cfg, x, s }) => {
          const { qn, qp } = lsqRange(cfg.bits, cfg.unsigned);
          const y = expectNoLeaks(() => {
            const xt = tf.tensor3d(x, [cfg.B, cfg.N, cfg.C]);
            const st = tf.tensor1d(s);
            const yt = lsqQuantize(xt, st, cfg);
            const out = yt.dataSync().slice();
            tf.dispose([xt, st, yt]);
            return out;
          });
          const levels = new Map<number, Set<number>>();
          for (let i = 0; i < y.length; i++) {
            const j = stepIndex(cfg.granularity, i, cfg.N, cfg.C);
            const k = y[i] / s[j];
            expect(Math.abs(k - Math.round(k))).toBeLessThan(1e-4);
            expect(Math.round(k)).toBeGreaterThanOrEqual(qn);
            expect(Math.round(k)).toBeLessThanOrEqual(qp);
            if (!levels.has(j)) levels.set(j, new Set());
            levels.get(j)!.add(y[i]);
          }
          for (const set of levels.values()) expect(set.size).toBeLessThanOrEqual(2 ** cfg.bits);
        }),
        { numRuns: 60 },
      );
    });

    it('gradients match central finite differences of the STE surrogate away from ties and clamp edges', () => {
      // LSQ's gradients are the exact derivatives of the surrogate
      //   F(x, s) = Σ G · [ s·clamp(x/s, Qn, Qp) + s·c ],  c = round(x0/s0) − clamp(x0/s0) frozen at the point,
      // with dF/ds multiplied by g. Evaluate F in float64 and difference it numerically.
      fc.assert(
        fc.property(caseArb, ({ cfg, x, s, G }) => {
          const { qn, qp } = lsqRange(cfg.bits, cfg.unsigned);
          const idx = (i: number) => stepIndex(cfg.granularity, i, cfg.N, cfg.C);
          // Skip points within 1e-3 of a rounding tie or a clamp edge (the surrogate is not smooth there).
          for (let i = 0; i < x.length; i++) {
            const r = x[i] / s[idx(i)];
            const frac = Math.abs(r - Math.floor(r) - 0.5);
            if (frac < 1e-3 || Math.abs(r - qn) < 1e-3 || Math.abs(r - qp) < 1e-3) return;
          }
          const c = x.map((xi, i) => {
            const r = xi / s[idx(i)];
            const cl = Math.min(qp, Math.max(qn, r));
            return Math.round(cl) - cl; // no ties here, so Math.round is safe
          });
          const F = (xs: number[], ss: number[]) =>
            xs.reduce((acc, xi, i) => {
              const sj = ss[idx(i)];
              return acc + G[i] * (sj * Math.min(qp, Math.max(qn, xi / sj)) + sj * c[i]);
            }, 0);
          const h = 1e-6;
          const [gx, gs] = expectNoLeaks(() => {
            const xt = tf.tensor3d(x, [cfg.B, cfg.N, cfg.C]);
            const st = tf.tensor1d(s);
            const Gt = tf.tensor3d(G, [cfg.B, cfg.N, cfg.C]);
            const grads = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(lsqQuantize(a, b, cfg), Gt)))([xt, st]);
            const out = [grads[0].dataSync().slice(), grads[1].dataSync().slice()];
            tf.dispose([xt, st, Gt, ...grads]);
            return out;
          });
          for (let i = 0; i < x.length; i++) {
            const xp = x.slice();
            const xm = x.slice();
            xp[i] += h;
            xm[i] -= h;
            const fd = (F(xp, s) - F(xm, s)) / (2 * h);
            expect(Math.abs(gx[i] - fd)).toBeLessThan(1e-4 + 1e-4 * Math.abs(fd));
          }
          for (let j = 0; j < s.length; j++) {
            const sp = s.slice();
            const sm = s.slice();
            sp[j] += h;
            sm[j] -= h;
            const fd = (cfg.gradScale * (F(x, sp) - F(x, sm))) / (2 * h);
            expect(Math.abs(gs[j] - fd)).toBeLessThan(1e-4 + 1e-3 * Math.abs(fd));
          }
        }),
        { numRuns: 60 },
      );
    });

    it('no quantizer or bias method leaks tensors', () => {
      const x = tf.randomNormal([2, 3, 4], 0, 1, 'float32', 4);
      const img = tf.randomUniform([2, 5, 5, 3], -1, 1, 'float32', 4);
      const w = tf.randomNormal([4, 6], 0, 1, 'float32', 4);
      const loss = (f: () => tf.Tensor) => () => tf.sum(f()) as tf.Scalar;
      expectNoLeaks(() => {
        const qs = [
          new LSQQuantizer({ bits: 2, granularity: 'token' }),
          new LSQQuantizer({ bits: 3, granularity: 'channel', unsigned: true }),
          new LSQQuantizer({ bits: 4, granularity: 'tensor', gradScaleBatch: 8 }),
        ];
        for (const q of qs) {
          q.initFrom(x);
          q.setStep(q.step!.dataSync().slice());
          q.initFrom(x);
          const y = q.apply(x);
          const { value, grads } = tf.variableGrads(loss(() => q.apply(x)), [q.step!]);
          tf.dispose([y, value, ...Object.values(grads)]);
          q.dispose();
        }
        const imgQ = new LSQQuantizer({ bits: 8, granularity: 'channel', autoSign: true });
        const pb = new PixelBias(5, 5);
        const lb = new LearnableBias(3);
        const r = tf.variableGrads(loss(() => lb.apply(imgQ.apply(pb.apply(img)))));
        tf.dispose([r.value, ...Object.values(r.grads)]);
        imgQ.dispose();
        pb.dispose();
        lb.dispose();
        const wq = new LSQWeightQuantizer({ bits: 8 });
        wq.initFrom(w);
        wq.setStep([1, 2, 3, 4, 5, 6]);
        const rw = tf.variableGrads(loss(() => wq.quantize(w)), [wq.step!]);
        tf.dispose([rw.value, ...Object.values(rw.grads)]);
        wq.codes(w);
        wq.dispose();
      }, 'LSQ classes');
      tf.dispose([x, img, w]);
    });
  });
}
