import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, loadGolden, loadGoldenBytes, useBackend } from '@ofq/core/testing';
import { type DeiT, createDeiT, initActivationSteps, loadSafetensors, quantizeDeiT, saveSafetensors, type DeiTModel } from './index.js';

const SMALL = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 24, depth: 2, numHeads: 3, mlpRatio: 2, numClasses: 5, distilled: true, seed: 11 };
const W2A2 = { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };

function images(seed: number, b = 2): tf.Tensor4D {
  return tf.randomNormal([b, 16, 16, 3], 0, 1, 'float32', seed) as tf.Tensor4D;
}

function trainStep(model: DeiTModel, x: tf.Tensor4D): Record<string, tf.Tensor> {
  const { decay, noDecay } = model.trainableVariables;
  const { value, grads } = tf.variableGrads(() => {
    const { cls, dist } = model.forwardTrain(x);
    return tf.add(tf.sum(tf.square(cls)), tf.sum(tf.mul(dist!, 0.5))) as tf.Scalar;
  }, [...decay, ...noDecay]);
  value.dispose();
  return grads;
}

describe('DeiT parameter names and shapes vs the reference (deit_param_shapes.json)', () => {
  beforeAll(() => useBackend('cpu'));
  const shapes = loadGolden('deit_param_shapes.json');
  const listed = (key: string) => (shapes[key] as Array<{ name: string; shape: number[] }>).map((e) => `${e.name} [${e.shape}]`);
  const ours = (m: DeiTModel, naming: 'timm' | 'ofq-reference') => (m as DeiT).params(naming).map((s) => `${s.name} [${s.torchShape}]`);

  it('FP deit-tiny (distilled and not) in both namings', () => {
    const distilled = createDeiT('deit-tiny');
    for (const naming of ['timm', 'ofq-reference'] as const) expect(ours(distilled, naming)).toEqual(listed('deit_tiny_distilled_patch16_224'));
    const plain = createDeiT({ preset: 'deit-tiny', distilled: false });
    expect(ours(plain, 'timm')).toEqual(listed('deit_tiny_patch16_224'));
    const q = quantizeDeiT(distilled as DeiT, W2A2);
    for (const naming of ['timm', 'ofq-reference'] as const) expect(ours(q, naming)).toEqual(listed('deit_tiny_distilled_patch16_224_w2a2_qkr'));
    const kinds = (q as DeiT).params('ofq-reference').map((s) => `${s.name}:${s.kind === 'parameter'}`);
    expect(kinds).toEqual((shapes.deit_tiny_distilled_patch16_224_w2a2_qkr as Array<{ name: string; requires_grad: boolean }>).map((e) => `${e.name}:${e.requires_grad}`));
    for (const m of [distilled, plain, q]) m.dispose();
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`quantized DeiT on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    it('W2A2-QKR: init pass, forward/backward without leaks, every parameter gets a gradient', () => {
      const model = createDeiT({ ...SMALL, quant: W2A2 });
      const x = images(1);
      initActivationSteps(model, x);
      const named = model.namedParameters('ofq-reference');
      const grads = trainStep(model, x);
      for (const p of named) expect(grads[p.variable.name], p.name).toBeDefined();
      tf.dispose(Object.values(grads));
      expectNoLeaks(() => {
        for (let i = 0; i < 2; i++) tf.dispose(Object.values(trainStep(model, x)));
        const y = model.predict(x);
        const { cls, dist } = model.forwardTrain(x);
        const mean = tf.tidy(() => tf.div(tf.add(cls, dist!), 2));
        assertClose(y, mean, { rtol: 1e-6, atol: 1e-6 }, 'predict = (cls+dist)/2');
        tf.dispose([y, cls, dist!, mean]);
      }, 'quantized forward/backward');
      // Decay group: latent weights only; steps, shifts, norms, tokens are no-decay (docs/algorithm.md §7.2).
      const decayNames = named.filter((p) => p.decay).map((p) => p.name);
      expect(decayNames).toContain('blocks.0.attn.q.weight');
      expect(decayNames).toContain('patch_embed.proj.weight');
      expect(decayNames.some((n) => n.endsWith('.s') || n.includes('move_') || n.includes('norm') || n.includes('token'))).toBe(false);
      x.dispose();
      model.dispose();
    });

    it('round-trips stateDict → safetensors → loadStateDict exactly in both namings (ofq, lsq, non-QKR)', () => {
      for (const quant of [W2A2, { ...W2A2, qkr: false }, { ...W2A2, method: 'lsq' as const, weightBits: 3 }]) {
        const a = createDeiT({ ...SMALL, quant });
        const b = createDeiT({ ...SMALL, seed: 99, quant });
        const x = images(2);
        initActivationSteps(a, x);
        for (const naming of ['timm', 'ofq-reference'] as const) {
          const sd = a.stateDict({ naming });
          const back = loadSafetensors(saveSafetensors(sd));
          b.loadStateDict(back, { naming });
          const sd2 = b.stateDict({ naming });
          expect([...sd2.keys()]).toEqual([...sd.keys()]);
          for (const [k, t] of sd) expect(Array.from(sd2.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
          tf.dispose([...sd.values(), ...back.values(), ...sd2.values()]);
        }
        const ya = a.predict(x);
        const yb = b.predict(x);
        expect(Array.from(yb.dataSync())).toEqual(Array.from(ya.dataSync()));
        tf.dispose([ya, yb, x]);
        a.dispose();
        b.dispose();
      }
    });

    it('quantizeDeiT copies pretrained weights (docs/decisions.md #1) and leaves the FP model untouched; referenceInit draws proj', () => {
      const fp = createDeiT(SMALL) as DeiT;
      const fpSd = fp.stateDict();
      const q = quantizeDeiT(fp, W2A2);
      const qSd = (q as DeiT).params().filter((s) => !s.name.endsWith('.s')).map((s) => [s.name, s.read()] as const);
      const get = (n: string) => qSd.find(([k]) => k === n)![1];
      assertClose(get('blocks.1.attn.proj.weight'), fpSd.get('blocks.1.attn.proj.weight')!, { rtol: 0, atol: 0 }, 'proj copied');
      const qkv = fpSd.get('blocks.0.attn.qkv.weight')!;
      assertClose(get('blocks.0.attn.k.weight'), tf.slice(qkv, [24, 0], [24, 24]), { rtol: 0, atol: 0 }, 'k rows');
      assertClose(get('blocks.0.attn.v.bias'), tf.slice(fpSd.get('blocks.0.attn.qkv.bias')!, [48], [24]), { rtol: 0, atol: 0 }, 'v bias');
      expect(q.config.quant).toEqual(W2A2);
      expect((q as DeiT).conversionReport!.droppedQKBiases).toHaveLength(2);
      const sample = images(4);
      const withDrift = quantizeDeiT(fp, W2A2, { sample });
      const drift = (withDrift as DeiT).conversionReport!.drift!;
      expect(drift).toHaveLength(2);
      // timm init has zero biases: dropping them changes nothing.
      expect(drift.every((d) => d.maxAbsOutput === 0)).toBe(true);
      withDrift.dispose();
      sample.dispose();
      const ref = quantizeDeiT(fp, { ...W2A2, referenceInit: true, seed: 5 });
      const refProj = (ref as DeiT).params().find((s) => s.name === 'blocks.0.attn.proj.weight')!.read();
      const bound = 1 / Math.sqrt(24);
      expect(Math.max(...Array.from(refProj.dataSync(), Math.abs))).toBeLessThanOrEqual(bound);
      expect(Array.from(refProj.dataSync())).not.toEqual(Array.from(fpSd.get('blocks.0.attn.proj.weight')!.dataSync()));
      const fpAfter = fp.stateDict();
      for (const [k, t] of fpSd) expect(Array.from(fpAfter.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
      tf.dispose([...fpSd.values(), ...fpAfter.values(), ...qSd.map(([, t]) => t), refProj]);
      for (const m of [fp, q, ref]) m.dispose();
      expect(() => quantizeDeiT(createDeiT(SMALL) as DeiT, { ...W2A2, weightBits: 1 })).toThrow(/weightBits/);
    });

    it('records the FP drift of dropping pretrained q/k biases when given sample images', () => {
      const fp = createDeiT({ imgSize: 32, patchSize: 8, inChans: 3, embedDim: 48, depth: 2, numHeads: 3, mlpRatio: 4, numClasses: 10, distilled: true }) as DeiT;
      const w = loadSafetensors(loadGoldenBytes('deit_tiny_fp.safetensors'));
      fp.loadStateDict(w);
      tf.dispose([...w.values()]);
      const sample = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
      const q = quantizeDeiT(fp, W2A2, { sample }) as DeiT;
      const r = q.conversionReport!;
      expect(r.droppedQKBiases.every((b) => b.maxAbsQBias > 0 && b.maxAbsKBias > 0)).toBe(true);
      expect(r.drift!.every((d) => d.maxAbsOutput > 0 && d.relativeOutput > 0 && Number.isFinite(d.maxAbsLogits))).toBe(true);
      tf.dispose(sample);
      q.dispose();
      fp.dispose();
    });

    it('setQKGradientMask multiplies dL/dW_qk (zero mask → no gradient to q/k weights)', () => {
      const model = createDeiT({ ...SMALL, quant: W2A2 });
      const x = images(3);
      initActivationSteps(model, x);
      const qVar = model.namedParameters().find((p) => p.name === 'blocks.0.attn.q.weight')!.variable;
      let g = trainStep(model, x);
      expect(tf.max(tf.abs(g[qVar.name])).dataSync()[0]).toBeGreaterThan(0);
      tf.dispose(Object.values(g));
      model.setQKGradientMask((w) => tf.zerosLike(w));
      g = trainStep(model, x);
      expect(tf.max(tf.abs(g[qVar.name])).dataSync()[0]).toBe(0);
      tf.dispose(Object.values(g));
      model.setQKGradientMask(null);
      const fp = createDeiT(SMALL);
      expect(() => fp.setQKGradientMask((w) => w)).toThrow(/no QKR/);
      expectNoLeaks(() => initActivationSteps(fp, x), 'initActivationSteps on an FP model (no-op)');
      fp.dispose();
      x.dispose();
      model.dispose();
    });
  });
}
