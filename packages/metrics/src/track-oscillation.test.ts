import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, gt, loadGolden, useBackend, type GoldenTensor } from '@ofq/core/testing';
import { TrackOscillation } from './track-oscillation.js';

interface GoldenStep {
  step: number;
  x_int: GoldenTensor;
  returned: GoldenTensor;
  ema_oscillation: GoldenTensor;
  total_oscillation: GoldenTensor;
  oscillated_sum: number;
  prev_switch_dir: GoldenTensor;
  iters_since_reset: number;
  frozen?: GoldenTensor;
  frozen_x_int?: GoldenTensor;
  ema_x_int?: GoldenTensor;
}
interface GoldenRun {
  config: { momentum: number; freeze_threshold: number; use_ema_x_int: boolean };
  steps: GoldenStep[];
  after_skip_tracking_call: { x_int: GoldenTensor; returned: GoldenTensor };
}

/** Exact (bitwise float32) equality, with -0 == 0. */
function expectExact(actual: tf.Tensor | null, expected: GoldenTensor, label: string): void {
  expect(actual, label).not.toBeNull();
  expect(actual!.shape, label).toEqual(expected.shape);
  const a = Array.from(actual!.dataSync(), (v) => v + 0);
  const e = expected.data.map((v) => Math.fround(v) + 0);
  expect(a, label).toEqual(e);
}

const golden = loadGolden<{ runs: GoldenRun[] }>('track_oscillation.json');

for (const backend of TEST_BACKENDS) {
  describe(`TrackOscillation on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    golden.runs.forEach((run, r) => {
      const c = run.config;
      it(`golden run ${r} (m=${c.momentum}, τ=${c.freeze_threshold}, emaX=${c.use_ema_x_int}) matches every step exactly`, () => {
        expectNoLeaks(() => {
          const tracker = new TrackOscillation({ momentum: c.momentum, freezeThreshold: c.freeze_threshold, useEmaXInt: c.use_ema_x_int });
          for (const s of run.steps) {
            const x = gt(s.x_int);
            const ret = tracker.call(x);
            const at = `step ${s.step}`;
            expectExact(ret, s.returned, `${at} returned`);
            expectExact(tracker.emaOscillation, s.ema_oscillation, `${at} ema_oscillation`);
            expectExact(tracker.totalOscillation, s.total_oscillation, `${at} total_oscillation`);
            expectExact(tracker.prevSwitchDir, s.prev_switch_dir, `${at} prev_switch_dir`);
            expect(tracker.oscillatedSum, `${at} oscillated_sum`).toBe(s.oscillated_sum);
            expect(tracker.itersSinceReset, `${at} iters`).toBe(s.iters_since_reset);
            if (s.frozen) {
              tf.tidy(() => expectExact(tracker.frozen!.cast('float32'), s.frozen!, `${at} frozen`));
              expectExact(tracker.frozenXInt, s.frozen_x_int!, `${at} frozen_x_int`);
            } else {
              expect(tracker.frozen, `${at} frozen`).toBeNull();
            }
            if (s.ema_x_int) expectExact(tracker.emaXInt, s.ema_x_int, `${at} ema_x_int`);
            else expect(tracker.emaXInt).toBeNull();
            tf.dispose([x, ret]);
          }
          const x = gt(run.after_skip_tracking_call.x_int);
          const itersBefore = tracker.itersSinceReset;
          const ret = tracker.call(x, { skipTracking: true });
          expectExact(ret, run.after_skip_tracking_call.returned, 'skip-tracking call');
          expect(tracker.itersSinceReset).toBe(itersBefore);
          tf.dispose([x, ret]);
          tracker.dispose();
        }, `golden run ${r}`);
      });
    });

    it('counts a hand-built oscillating sequence exactly', () => {
      expectNoLeaks(() => {
        // Four entries over 7 steps:
        //  e0: 0,1,0,1,0,1,0   flips every step: the first switch has no previous direction, then 5 oscillations
        //  e1: 0,1,2,3,4,5,6   monotone: switches but never reverses → 0
        //  e2: 0,0,1,1,0,0,1   up, down, up (spaced by rests; rests keep the last direction) → 2
        //  e3: 2,2,2,2,2,2,2   constant → 0
        const seq = [
          [0, 0, 0, 2],
          [1, 1, 0, 2],
          [0, 2, 1, 2],
          [1, 3, 1, 2],
          [0, 4, 0, 2],
          [1, 5, 0, 2],
          [0, 6, 1, 2],
        ];
        const perStep = [0, 0, 1, 1, 2, 1, 2];
        const m = 0.25;
        const tracker = new TrackOscillation({ momentum: m });
        const ema = [0, 0, 0, 0];
        const osc0 = [0, 0, 1, 1, 1, 1, 1];
        const osc2 = [0, 0, 0, 0, 1, 0, 1];
        seq.forEach((row, t) => {
          const x = tf.tensor1d(row);
          tf.dispose([x, tracker.call(x)]);
          expect(tracker.oscillatedSum, `step ${t}`).toBe(perStep[t]);
          ema[0] = Math.fround(Math.fround(m * osc0[t]) + Math.fround(Math.fround(1 - m) * ema[0]));
          ema[2] = Math.fround(Math.fround(m * osc2[t]) + Math.fround(Math.fround(1 - m) * ema[2]));
          expect(Array.from(tracker.emaOscillation!.dataSync())).toEqual(ema);
        });
        expect(Array.from(tracker.totalOscillation!.dataSync())).toEqual([5, 0, 2, 0]);
        expect(Array.from(tracker.prevSwitchDir!.dataSync())).toEqual([1, -1, -1, 0]); // sign(prev − new)
        expect(tracker.itersSinceReset).toBe(7);
        tracker.dispose();
      }, 'hand-built sequence');
    });

    it('rejects a shape change and bad options', () => {
      const t = new TrackOscillation();
      const a = tf.zeros([2, 3]);
      const b = tf.zeros([3, 2]);
      tf.dispose(t.call(a));
      expect(() => t.call(b)).toThrow(/shape/);
      expect(() => new TrackOscillation({ momentum: 0 })).toThrow(/momentum/);
      expect(() => new TrackOscillation({ freezeThreshold: -1 })).toThrow(/freezeThreshold/);
      tf.dispose([a, b]);
      t.dispose();
    });
  });
}
