import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, loadGolden, tolFor, assertClose, useBackend, type GoldenTensor } from '@ofq/core/testing';
import { StatsQuantizer, statsPreRound } from '@ofq/statsq';

const sq = (bits: number) => new StatsQuantizer({ bits });
import { confidenceMask } from './confidence-mask.js';

interface CGACase {
  name: string;
  bits: number;
  boundaryRange: number;
  x: GoldenTensor;
  b4_round: GoldenTensor;
  module_not_frozen_mask: GoldenTensor;
  module_frozen_mask: GoldenTensor;
  cga_py_freeze_idx: GoldenTensor;
  num_not_frozen: number;
}
const golden = loadGolden<{ cases: CGACase[] }>('cga.json');

/** PyTorch [out, in] golden → tfjs [in, out] tensor. */
function transposed(t: GoldenTensor): tf.Tensor2D {
  return tf.tidy(() => tf.transpose(tf.tensor2d(t.data, t.shape as [number, number])));
}
function boolsT(t: GoldenTensor): number[] {
  const m = transposed(t);
  const out = Array.from(m.dataSync());
  m.dispose();
  return out;
}

for (const backend of TEST_BACKENDS) {
  describe(`confidenceMask on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    for (const c of golden.cases) {
      it(`${c.name}: matches the reference mask exactly (both threshold ranges)`, () => {
        expectNoLeaks(() => {
          const w = transposed(c.x);
          const v = statsPreRound(w, { bits: c.bits });
          tf.tidy(() => assertClose(v, transposed(c.b4_round), tolFor(backend, { rtol: 1e-6, atol: 1e-6 }), 'pre-round'));
          const expectedTrainable = boolsT(c.module_not_frozen_mask);
          const expectedFrozen = boolsT(c.cga_py_freeze_idx);
          for (const thresholdRange of ['occupied', 'all'] as const) {
            const m = confidenceMask(w, { quantizer: sq(c.bits), boundaryRange: c.boundaryRange, thresholdRange });
            expect(m.dtype).toBe('bool');
            expect(m.shape).toEqual(w.shape);
            const got = Array.from(m.dataSync());
            expect(got, thresholdRange).toEqual(expectedTrainable);
            expect(got.map((b) => 1 - b), thresholdRange).toEqual(expectedFrozen);
            expect(got.reduce((a, b) => a + b, 0)).toBe(c.num_not_frozen);
            m.dispose();
          }
          tf.dispose([w, v]);
        }, c.name);
      });
    }

    it('occupied vs all thresholds differ when extreme codes are unused', () => {
      // 2 bits (n = 2): thresholds at v = -1.5, -0.5, 0.5. One column, s = 2·mean|w| = 1 → v = 2w − 0.5.
      // w = 0.5 → v = 0.5 (threshold between codes 0 and 1, i = 0); w = -0.5 → v = -1.5 (i = -2);
      // the used codes are round(0.5) = 0 and round(-1.5) = -2, so 'occupied' allows i ∈ {-2, -1}.
      const w = tf.tensor2d([[0.5], [-0.5]]);
      const all = confidenceMask(w, { quantizer: sq(2), boundaryRange: 0.005, thresholdRange: 'all' });
      const occ = confidenceMask(w, { quantizer: sq(2), boundaryRange: 0.005 });
      expect(Array.from(all.dataSync())).toEqual([1, 1]);
      expect(Array.from(occ.dataSync())).toEqual([0, 1]);
      tf.dispose([w, all, occ]);
    });

    it('rejects bad options with clear errors', () => {
      const w = tf.ones([3, 2]);
      expect(() => confidenceMask(w, { quantizer: sq(1), boundaryRange: 0.005 })).toThrow(/bits/);
      expect(() => confidenceMask(w, { quantizer: sq(2), boundaryRange: 0.5 })).toThrow(/boundaryRange/);
      expect(() => confidenceMask(w, { quantizer: sq(2), boundaryRange: NaN })).toThrow(/boundaryRange/);
      w.dispose();
    });
  });
}
