import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, expectNoLeaks, useBackend } from '@ofq/core/testing';
import {
  type PatchMerging, QKRWindowAttention, QLinear, QWindowAttention, type Swin, SHIFT_MASK_VALUE, type WindowAttention,
  createSwin, initActivationSteps, loadSafetensors, quantizeSwin, quantizeSwinMlp, saveSafetensors, shiftedWindowMask,
} from '../index.js';

const TINY = { imgSize: 56, patchSize: 4, embedDim: 24, depths: [2, 2], numHeads: [2, 4], windowSize: 7, numClasses: 10 };
const W2A2 = { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };
const images = (b = 2, seed = 1) => tf.randomNormal([b, 56, 56, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
const maxAbs = (t: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]);
const same = (a: tf.Tensor, b: tf.Tensor) => expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));

describe('OFQ Swin conversion (docs/decisions.md #13-#17)', () => {
  beforeAll(() => useBackend(TEST_BACKENDS.includes('wasm') ? 'wasm' : 'cpu'));

  it('copies pretrained proj, tables, q/k/v and the MLP (#13 fix); referenceInit re-draws proj and tables; #14 records dropped q/k biases', () => {
    const fp = createSwin({ ...TINY, seed: 4 }) as Swin;
    const fpAttn = fp.stages[0][1].attn as WindowAttention;
    const q = quantizeSwin(fp, W2A2);
    const qAttn = q.stages[0][1].attn as QKRWindowAttention;
    expect(qAttn).toBeInstanceOf(QKRWindowAttention);
    same(qAttn.relativeBias.table, fpAttn.relativeBias.table);
    same(qAttn.core.proj.kernel, fpAttn.proj.kernel);
    const fpQ = tf.slice(fpAttn.qkv.kernel, [0, 0], [24, 24]);
    same(qAttn.core.heads.q, fpQ);
    expect(q.conversionReport!.droppedQKBiases).toHaveLength(4);
    // With sample images, the FP drift of the dropped biases per block: zero biases (the default init) → no drift.
    const sample = images(1, 9);
    const withDrift = quantizeSwin(fp, W2A2, { sample });
    expect(withDrift.conversionReport!.drift).toHaveLength(4);
    expect(withDrift.conversionReport!.drift!.every((d) => d.maxAbsLogits === 0)).toBe(true);
    const biased = fp.stages[0][1].attn as WindowAttention;
    const qBias = tf.tidy(() => tf.concat([tf.fill([24], 0.5), tf.zeros([48])]));
    biased.qkv.bias!.assign(qBias);
    const drifted = quantizeSwin(fp, W2A2, { sample });
    expect(drifted.conversionReport!.droppedQKBiases[1].maxAbsQBias).toBe(0.5);
    expect(drifted.conversionReport!.drift![1].maxAbsLogits).toBeGreaterThan(0);
    expect(drifted.conversionReport!.drift![0].maxAbsLogits).toBe(0);
    const zero = tf.zerosLike(qBias);
    biased.qkv.bias!.assign(zero);
    tf.dispose([qBias, zero]);
    tf.dispose(sample);
    withDrift.dispose();
    drifted.dispose();
    const ref = quantizeSwin(fp, { ...W2A2, referenceInit: true, seed: 5 });
    const rAttn = ref.stages[0][1].attn as QKRWindowAttention;
    const table = rAttn.relativeBias.table;
    expect(maxAbs(tf.sub(table, fpAttn.relativeBias.table))).toBeGreaterThan(0);
    const std = tf.tidy(() => tf.sqrt(tf.mean(tf.square(table))).dataSync()[0]);
    expect(std).toBeGreaterThan(0.015);
    expect(std).toBeLessThan(0.025);
    expect(maxAbs(tf.sub(rAttn.core.proj.kernel, fpAttn.proj.kernel))).toBeGreaterThan(0);
    same(rAttn.core.heads.q, fpQ); // QKR still copies q/k/v
    const plain = quantizeSwin(fp, { ...W2A2, qkr: false, referenceInit: true, seed: 6 });
    const pAttn = plain.stages[0][1].attn as QWindowAttention;
    expect(pAttn).toBeInstanceOf(QWindowAttention);
    expect(maxAbs(tf.sub(pAttn.core.qkv.kernel, fpAttn.qkv.kernel))).toBeGreaterThan(0);
    const plainFixed = quantizeSwin(fp, { ...W2A2, qkr: false });
    same((plainFixed.stages[0][1].attn as QWindowAttention).core.qkv.kernel, fpAttn.qkv.kernel);
    fpQ.dispose();
    for (const m of [fp, q, ref, plain, plainFixed]) m.dispose();
  });

  it('passes quant.lsqStep to every LSQ block weight, the PatchMerging reductions included; the 8-bit head and patch conv keep the reference floor', () => {
    const fp = createSwin({ ...TINY, seed: 4 }) as Swin;
    const constraints = (m: Swin) => m.quantizedWeights().map((r) => [r.name, (r.quantizer as unknown as { stepConstraint?: string }).stepConstraint]);
    for (const lsqStep of ['clamp', 'abs', undefined] as const) {
      const q = quantizeSwin(fp, { ...W2A2, method: 'lsq', qkr: false, lsqStep });
      const refs = constraints(q);
      const reduction = refs.find(([n]) => /reduction/.test(n as string));
      expect(reduction).toEqual([expect.stringMatching(/reduction/), lsqStep ?? 'abs']);
      const blocks = refs.filter(([n]) => /(qkv|proj|fc1|fc2|mlp)/.test(n as string) && !/^head/.test(n as string));
      expect(blocks.length).toBeGreaterThan(8);
      expect(new Set(blocks.map(([, c]) => c))).toEqual(new Set([lsqStep ?? 'abs']));
      q.dispose();
    }
    fp.dispose();
  });

  it('gives the quantized reduction a zero bias (#15 fix) or PyTorch uniform ±1/√(4C) with referenceInit', () => {
    const fp = createSwin({ ...TINY, seed: 4 }) as Swin;
    const q = quantizeSwin(fp, W2A2);
    const red = (q.merges[0] as PatchMerging).reduction as QLinear;
    expect(red).toBeInstanceOf(QLinear);
    expect(maxAbs(red.bias!)).toBe(0);
    const ref = quantizeSwin(fp, { ...W2A2, referenceInit: true, seed: 2 });
    const rb = ((ref.merges[0] as PatchMerging).reduction as QLinear).bias!;
    expect(rb.shape).toEqual([48]);
    expect(maxAbs(rb)).toBeGreaterThan(0.05);
    expect(maxAbs(rb)).toBeLessThanOrEqual(1 / Math.sqrt(96));
    for (const m of [fp, q, ref]) m.dispose();
  });

  it('ties steps to the resolution (#16): per window position, per column, B·nW in a pinned grad scale', () => {
    const fp = createSwin({ ...TINY, seed: 4 }) as Swin;
    const q = quantizeSwin(fp, { ...W2A2, gradScaleBatch: 8 });
    const x = images();
    initActivationSteps(q, x);
    const sd = q.stateDict({ naming: 'ofq-reference' });
    const shape = (n: string) => sd.get(n)!.shape;
    expect(shape('features.1.1.attn.quant_x_4_qkv.input_quant_fn.s')).toEqual([49]);
    expect(shape('features.1.1.attn.quan_a_qkx_fn.s')).toEqual([98]);
    expect(shape('features.1.0.mlp.fc1.input_quant_fn.s')).toEqual([14]);
    expect(shape('features.3.0.mlp.fc2.input_quant_fn.s')).toEqual([7]);
    expect(shape('features.2.reduction.input_quant_fn.s')).toEqual([7]);
    expect(shape('features.0.0.input_quant_fn.s')).toEqual([3]);
    expect(shape('head.input_quant_fn.s')).toEqual([1]);
    expect(sd.has('features.2.reduction.bias')).toBe(true);
    const a1 = q.stages[0][0].attn as QKRWindowAttention;
    const a2 = q.stages[1][0].attn as QKRWindowAttention;
    expect(a1.core.input.quantizer.gradScaleBatch).toBe(8 * 4); // 2×2 windows at 14×14
    expect(a2.core.input.quantizer.gradScaleBatch).toBe(8);
    const mlp = quantizeSwinMlp(fp.stages[0][0].mlp as never, W2A2, 14);
    tf.dispose(mlp.apply(tf.zeros([1, 14, 14, 24])));
    expect(() => mlp.apply(tf.zeros([1, 7, 7, 24]))).toThrow(/needs 7 'token' steps/);
    mlp.dispose();
    expect(() => q.predict(tf.zeros([1, 64, 64, 3]) as tf.Tensor4D)).toThrow(/expected NHWC images \[B, 56, 56, 3\]/);
    tf.dispose([...sd.values(), x]);
    fp.dispose();
    q.dispose();
  });

  it('masks token pairs of different regions with −100 (#17) and stops shifting a window that covers the map', () => {
    const m = shiftedWindowMask(14, 7, 3);
    const n = 49;
    // Window 0 (top-left) holds one region: no mask. Window 3 (bottom-right) holds four.
    expect(m.slice(0, n * n).every((v) => v === 0)).toBe(true);
    const w3 = m.slice(3 * n * n, 4 * n * n);
    expect(w3[0 * n + 48]).toBe(SHIFT_MASK_VALUE); // (7,7) vs (13,13)
    expect(w3[0 * n + 1]).toBe(0); // (7,7) vs (7,8): both in the middle band
    expect(w3[0 * n + 4]).toBe(SHIFT_MASK_VALUE); // (7,7) vs (7,11): column 11 is in the last band
    expect(w3.filter((v) => v === SHIFT_MASK_VALUE).length).toBe(n * n - (16 * 16 + 12 * 12 * 2 + 9 * 9));
  });
});

// Whole-model runs on wasm only: the cpu backend takes ~20 s a step here, and every module is
// already checked on both backends against the reference (swin-modules.golden.test.ts).
for (const backend of TEST_BACKENDS.filter((b) => b === 'wasm')) {
  describe(`quantized Swin on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('initialises its steps, trains a step without leaking, and exposes every parameter once', () => {
      const model = createSwin({ ...TINY, seed: 2, quant: W2A2 }) as Swin;
      const x = images();
      initActivationSteps(model, x);
      const before = tf.memory().numTensors;
      const vars = model.namedParameters().map((p) => p.variable);
      expect(new Set(vars).size).toBe(vars.length);
      expectNoLeaks(() => {
        const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forwardTrain(x).cls)) as tf.Scalar, vars);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        const zero = Object.entries(grads).filter(([, g]) => maxAbs(g) === 0).length;
        expect(zero).toBeLessThan(vars.length / 4);
        tf.dispose([value, ...Object.values(grads)]);
      }, 'quantized step');
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
      model.dispose();
    });

    it('gradient checkpointing gives the same loss and the same bits of every gradient (FP, QKR, plain, LSQ), leaks nothing, refuses stochastic depth', () => {
      const x = images(2, 5);
      const bitsOf = (t: tf.Tensor) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
      for (const quant of [undefined, W2A2, { ...W2A2, qkr: false }, { ...W2A2, method: 'lsq' as const, weightBits: 3 }]) {
        const model = createSwin({ ...TINY, seed: 3, quant }) as Swin;
        if (quant) initActivationSteps(model, x);
        const vars = model.namedParameters().map((p) => p.variable);
        const step = () => tf.variableGrads(() => tf.mean(tf.square(model.forwardTrain(x).cls)) as tf.Scalar, vars);
        const plain = step();
        model.gradientCheckpointing = true;
        const before = tf.memory().numTensors;
        const ck = step();
        expect(tf.memory().numTensors - before).toBe(1 + Object.keys(ck.grads).length); // only what it hands out
        expect(bitsOf(ck.value)).toEqual(bitsOf(plain.value));
        expect(Object.keys(ck.grads).sort()).toEqual(Object.keys(plain.grads).sort());
        expect(Object.keys(ck.grads)).toHaveLength(vars.length);
        for (const k of Object.keys(plain.grads)) expect(bitsOf(ck.grads[k]), `${quant ? 'quant' : 'fp'} ${k}`).toEqual(bitsOf(plain.grads[k]));
        tf.dispose([plain.value, ck.value, ...Object.values(plain.grads), ...Object.values(ck.grads)]);
        model.dispose();
      }
      const fpCk = createSwin({ ...TINY }) as Swin;
      fpCk.gradientCheckpointing = true;
      const qCk = quantizeSwin(fpCk, W2A2);
      expect(qCk.gradientCheckpointing).toBe(true); // carried over by the conversion
      const fpPlain = createSwin({ ...TINY }) as Swin;
      const qPlain = quantizeSwin(fpPlain, W2A2);
      expect(qPlain.gradientCheckpointing).toBe(false);
      for (const m of [fpCk, qCk, fpPlain, qPlain]) m.dispose();
      const dropping = createSwin({ ...TINY, stochasticDepthProb: 0.1 }) as Swin;
      dropping.gradientCheckpointing = true;
      expect(() => dropping.forwardTrain(x)).toThrow(/gradient checkpointing .* stochastic depth/);
      dropping.dispose();
      x.dispose();
    });

    it('round-trips a quantized state dict through safetensors (QKR, plain, LSQ weights)', () => {
      const x = images(1, 3);
      for (const quant of [W2A2, { ...W2A2, qkr: false }, { ...W2A2, method: 'lsq' as const, weightBits: 3 }]) {
        const a = createSwin({ ...TINY, quant });
        const b = createSwin({ ...TINY, seed: 99, quant });
        initActivationSteps(a, x);
        initActivationSteps(b, x);
        const sd = a.stateDict({ naming: 'ofq-reference' });
        const back = loadSafetensors(saveSafetensors(sd));
        b.loadStateDict(back, { naming: 'ofq-reference' });
        const ya = a.predict(x);
        const yb = b.predict(x);
        same(ya, yb);
        tf.dispose([...sd.values(), ...back.values(), ya, yb]);
        a.dispose();
        b.dispose();
      }
      x.dispose();
    });
  });
}
