import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, tolFor, useBackend } from '@ofq/core/testing';
import { statsScale } from '@ofq/statsq';
import { QKRHeads, attentionHeads, mergedQKPerHead, mergedQKWeight, qkrFromFusedQKV, qkrFromSeparate, qkrLogits } from './index.js';

const C = 12;
const H = 3;

function randomWeights(seed: number) {
  return {
    q: tf.randomNormal([C, C], 0, 0.3, 'float32', seed),
    k: tf.randomNormal([C, C], 0, 0.3, 'float32', seed + 1),
    v: tf.randomNormal([C, C], 0, 0.3, 'float32', seed + 2),
    qBias: tf.randomNormal([C], 0, 0.5, 'float32', seed + 3),
    kBias: tf.randomNormal([C], 0, 0.5, 'float32', seed + 4),
    vBias: tf.randomNormal([C], 0, 0.5, 'float32', seed + 5),
  };
}

for (const backend of TEST_BACKENDS) {
  describe(`QKR on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    const tol = tolFor(backend, { rtol: 1e-4, atol: 1e-5 });

    it('merges W_qk per head as Wqʰᵀ·Wkʰ in PyTorch layout (rows = query-side input channel)', () => {
      expectNoLeaks(() => {
        const w = randomWeights(1);
        const perHead = mergedQKPerHead(w.q, w.k, H);
        // PyTorch weights are the transposed kernels; head h uses rows h·d … (h+1)·d−1.
        const d = C / H;
        const expected = tf.tidy(() =>
          tf.stack([0, 1, 2].map((h) => {
            const wq = tf.slice(tf.transpose(w.q), [h * d, 0], [d, C]);
            const wk = tf.slice(tf.transpose(w.k), [h * d, 0], [d, C]);
            return tf.matMul(wq, wk, true, false);
          })),
        );
        assertClose(perHead, expected, tol, 'W_qk per head');
        // The [C, H·C] form has one column per reference row h·C + i, so a last-axis StatsQ scale is per row.
        const merged = mergedQKWeight(w.q, w.k, H);
        const scale = statsScale(merged);
        const rowScale = tf.tidy(() => tf.reshape(tf.mul(tf.mean(tf.abs(expected), 2), 2), [H * C]));
        assertClose(scale, rowScale, tol, 'per-row StatsQ scale');
        tf.dispose([...Object.values(w), perHead, expected, merged, scale, rowScale]);
      });
    });

    it('with quantization disabled, QKR logits equal standard attention logits without q/k biases', () => {
      const w = randomWeights(2);
      const x = tf.randomNormal([2, 5, C], 0, 1, 'float32', 7);
      const heads = new QKRHeads({ numHeads: H, weights: w, qkQuantizer: null, vQuantizer: null, actBits: null });
      expectNoLeaks(() => {
        const ref = attentionHeads(x, { ...w, qBias: null, kBias: null }, H);
        const logits = heads.logits(x);
        assertClose(logits, ref.logits, tol, 'logits');
        const out = heads.apply(x);
        assertClose(out, ref.output, tol, 'output');
        const direct = tf.tidy(() => qkrLogits(x, mergedQKWeight(w.q, w.k, H), H, { scale: (C / H) ** -0.5 }));
        assertClose(direct, ref.logits, tol, 'qkrLogits');
        tf.dispose([logits, out, direct, ...Object.values(ref)]);
      });
      heads.dispose();
      tf.dispose([...Object.values(w), x]);
    });

    it('quantized heads run forward/backward without leaks and give every variable a gradient', () => {
      const w = randomWeights(3);
      const x = tf.randomNormal([2, 5, C], 0, 1, 'float32', 8);
      const heads = new QKRHeads({ numHeads: H, weights: w, weightBits: 2, actBits: 2 });
      tf.tidy(() => heads.apply(x)); // lazy LSQ init
      expect(heads.qkx!.quantizer.step!.shape).toEqual([5 * H]);
      expect(heads.vAct!.quantizer.step!.shape).toEqual([C]);
      expect(heads.softmaxQuantizer!.step!.shape).toEqual([5]);
      const vars = heads.variables();
      expect(vars.length).toBe(4 + 4 + 3);
      const run = () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(heads.apply(x), tf.linspace(-1, 1, 2 * 5 * C).reshape([2, 5, C]))) as tf.Scalar, vars);
        const g = vars.map((v) => grads[v.name]);
        expect(g.every((t) => t !== undefined)).toBe(true);
        tf.dispose([value, ...Object.values(grads)]);
      };
      run();
      expectNoLeaks(run, 'forward/backward');
      heads.dispose();
      tf.dispose([...Object.values(w), x]);
    });

    it('the gradient mask multiplies dL/dW_qk (zero mask stops W_q, W_k; ones change nothing)', () => {
      const w = randomWeights(4);
      const x = tf.randomNormal([1, 4, C], 0, 1, 'float32', 9);
      const heads = new QKRHeads({ numHeads: H, weights: w, weightBits: 3, actBits: null });
      const grads = () => {
        const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(heads.logits(x))) as tf.Scalar, [heads.q, heads.k]);
        value.dispose();
        return [grads[heads.q.name], grads[heads.k.name]];
      };
      const free = grads();
      heads.setGradientMask((wqk) => tf.onesLike(wqk));
      const ones = grads();
      heads.setGradientMask((wqk) => tf.zerosLike(wqk).cast('bool'));
      const zero = grads();
      assertClose(ones[0], free[0], tol, 'ones mask q');
      assertClose(ones[1], free[1], tol, 'ones mask k');
      expect(tf.max(tf.abs(free[0])).dataSync()[0]).toBeGreaterThan(0);
      expect(Array.from(zero[0].dataSync()).every((v) => v === 0)).toBe(true);
      expect(Array.from(zero[1].dataSync()).every((v) => v === 0)).toBe(true);
      heads.setGradientMask(null);
      tf.dispose([...free, ...ones, ...zero, ...Object.values(w), x]);
      heads.dispose();
    });

    it('conversion drops q/k biases, keeps v, and reports the FP drift (k bias alone is softmax-invariant)', () => {
      const w = randomWeights(5);
      const x = tf.randomNormal([2, 6, C], 0, 1, 'float32', 10);
      const fused = tf.concat([w.q, w.k, w.v], 1);
      const fusedBias = tf.concat([w.qBias, w.kBias, w.vBias]);
      const conv = qkrFromFusedQKV(fused, fusedBias, { numHeads: H, sample: x });
      assertClose(conv.q, w.q, {}, 'q');
      assertClose(conv.v, w.v, {}, 'v');
      assertClose(conv.vBias, w.vBias, {}, 'v bias');
      assertClose(conv.droppedQBias!, w.qBias, {}, 'dropped q bias');
      assertClose(conv.droppedKBias!, w.kBias, {}, 'dropped k bias');
      expect(conv.drift!.maxAbsOutput).toBeGreaterThan(1e-3);
      expect(conv.drift!.relativeOutput).toBeGreaterThan(0);
      const kOnly = qkrFromSeparate({ ...w, qBias: null }, { numHeads: H, sample: x });
      expect(kOnly.drift!.maxAbsProbs).toBeLessThan(1e-5);
      expect(kOnly.drift!.maxAbsLogits).toBeGreaterThan(1e-3);
      expect(() => qkrFromFusedQKV(w.q, null, { numHeads: H })).toThrow(/\[C, 3C\]/);
      expect(() => qkrFromSeparate(w, { numHeads: 5 })).toThrow(/numHeads/);
      for (const c of [conv, kOnly]) tf.dispose([c.q, c.k, c.v, c.vBias, c.droppedQBias!, c.droppedKBias!].filter(Boolean));
      tf.dispose([...Object.values(w), x, fused, fusedBias]);
    });
  });
}
