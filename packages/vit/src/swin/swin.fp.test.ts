import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, gt, loadGolden, loadGoldenBytes, tolFor, useBackend, type GoldenTensor } from '@ofq/core/testing';
import { createSwin, loadSafetensors, saveSafetensors, relativePositionIndex, Swin, WindowAttention, resolveSwinConfig, SwinConfigError } from '../index.js';

const golden = loadGolden('swin_tiny_fp.json');
const shapes = loadGolden('swin_param_shapes.json');
const TINY = { imgSize: 56, patchSize: 4, inChans: 3, embedDim: 24, depths: [2, 2], numHeads: [2, 4], windowSize: 7, mlpRatio: 4, numClasses: 10 };

function goldenImages(): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(gt(golden.x), [0, 2, 3, 1]) as tf.Tensor4D);
}

function loadedModel(): Swin {
  const model = createSwin(TINY) as Swin;
  const weights = loadSafetensors(loadGoldenBytes('swin_tiny_fp.safetensors'));
  model.loadStateDict(weights, { naming: 'torchvision' });
  tf.dispose([...weights.values()]);
  return model;
}

describe('Swin config and names', () => {
  beforeAll(() => useBackend(TEST_BACKENDS.includes('wasm') ? 'wasm' : 'cpu')); // swin-t's 28M-parameter init is slow on cpu
  it('swin-t has exactly torchvision swin_t state-dict names and shapes, in order', () => {
    const model = createSwin('swin-t');
    const sd = model.stateDict();
    const expected = (shapes.swin_t as Array<{ name: string; shape: number[] }>).map((e) => `${e.name} [${e.shape}]`);
    expect([...sd.entries()].map(([k, t]) => `${k} [${t.shape}]`)).toEqual(expected);
    tf.dispose([...sd.values()]);
    model.dispose();
  });

  it('computes torchvision relative_position_index and rejects bad sizes with one clear error', () => {
    const idx = gt(golden.relative_position_index ?? loadGolden('qattention_swin_w2a2.json').fp_state_dict.relative_position_index);
    expect(Array.from(relativePositionIndex(7))).toEqual(Array.from(idx.dataSync()));
    idx.dispose();
    expect(() => resolveSwinConfig({ imgSize: 58 })).toThrow(SwinConfigError);
    expect(() => resolveSwinConfig({ numHeads: [3, 6] })).toThrow(/one entry per stage/);
    expect(() => resolveSwinConfig({ embedDim: 100 })).toThrow(/not divisible by numHeads\[0\]/);
  });
});

for (const backend of TEST_BACKENDS) {
  describe(`FP Swin on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    const tol = tolFor(backend, { rtol: 1e-4, atol: 2e-5 });

    it('reproduces the reference logits, feature outputs, pooled features and attention probabilities', () => {
      const model = loadedModel();
      const x = goldenImages();
      tf.dispose(model.predict(x)); // the first forward builds the cached shifted-window masks
      expectNoLeaks(() => {
        const feats = model.featureOutputs(x);
        expect(feats.length).toBe(golden.feature_outputs.length);
        feats.forEach((f, i) => assertClose(f, golden.feature_outputs[i], tol, `features.${i}`));
        const logits = model.predict(x);
        assertClose(logits, golden.logits_eval, tol, 'logits_eval');
        const pooled = model.pooled(x);
        assertClose(pooled, golden.pooled, tol, 'pooled');
        // Attention probabilities of the shifted block (masked) and of the single-window block.
        const h1 = model.stages[0][0].apply(feats[0]);
        const p11 = tf.tidy(() => (model.stages[0][1].attn as WindowAttention).probabilities(model.stages[0][1].norm1.apply(h1)));
        assertClose(p11, golden.attn_probs['features.1.1'], { rtol: tol.rtol, atol: 1e-6 }, 'attn features.1.1');
        const h3 = model.stages[1][0].apply(feats[2]);
        const p31 = tf.tidy(() => (model.stages[1][1].attn as WindowAttention).probabilities(model.stages[1][1].norm1.apply(h3)));
        assertClose(p31, golden.attn_probs['features.3.1'], { rtol: tol.rtol, atol: 1e-6 }, 'attn features.3.1');
        tf.dispose([logits, ...feats, pooled, h1, p11, h3, p31]);
      }, 'forward');
      // As in the reference, the single-window block's shift is 0 after the forward.
      expect((model.stages[1][1].attn as WindowAttention).frame.shift).toBe(0);
      expect((model.stages[0][1].attn as WindowAttention).frame.shift).toBe(3);
      x.dispose();
      model.dispose();
    });

    it("pads maps that do not tile into windows (and odd maps before PatchMerging) as torchvision does", () => {
      const g = loadGolden('swin_padded_torchvision.json');
      const model = createSwin({ imgSize: 36, patchSize: 2, embedDim: 8, depths: [2, 2, 2], numHeads: [1, 2, 2], windowSize: 7, numClasses: 5 }) as Swin;
      const sd = new Map(Object.entries(g.state_dict as Record<string, GoldenTensor>).map(([k, t]) => [k, gt(t)]));
      model.loadStateDict(sd);
      tf.dispose([...sd.values()]);
      const x = tf.tidy(() => tf.transpose(gt(g.x), [0, 2, 3, 1]) as tf.Tensor4D);
      const feats = model.featureOutputs(x);
      feats.forEach((f, i) => assertClose(f, g.feature_outputs[i], tol, `padded features.${i}`));
      const logits = model.predict(x);
      assertClose(logits, g.logits_eval, tol, 'padded logits');
      tf.dispose([x, logits, ...feats]);
      model.dispose();
    });

    it('round-trips stateDict → safetensors → loadStateDict exactly', () => {
      const a = createSwin({ ...TINY, seed: 1 });
      const b = createSwin({ ...TINY, seed: 2 });
      for (const naming of ['torchvision', 'ofq-reference'] as const) {
        const sd = a.stateDict({ naming });
        const back = loadSafetensors(saveSafetensors(sd));
        b.loadStateDict(back, { naming });
        const sd2 = b.stateDict({ naming });
        expect([...sd2.keys()]).toEqual([...sd.keys()]);
        for (const [k, t] of sd) expect(Array.from(sd2.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
        tf.dispose([...sd.values(), ...back.values(), ...sd2.values()]);
      }
      a.dispose();
      b.dispose();
    });

    it('rejects a checkpoint with missing, unexpected and mis-shaped tensors in one error, and a wrong index', () => {
      const model = createSwin(TINY);
      const sd = model.stateDict();
      sd.get('norm.weight')!.dispose();
      sd.delete('norm.weight');
      sd.set('extra.thing', tf.zeros([2]));
      sd.get('head.bias')!.dispose();
      sd.set('head.bias', tf.zeros([11]));
      expect(() => model.loadStateDict(sd)).toThrow(/mis-shaped: head\.bias.*missing: norm\.weight.*unexpected: extra\.thing/);
      tf.dispose([...sd.values()]);
      const sd2 = model.stateDict();
      sd2.get('features.1.0.attn.relative_position_index')!.dispose();
      sd2.set('features.1.0.attn.relative_position_index', tf.zeros([2401]));
      expect(() => model.loadStateDict(sd2)).toThrow(/relative_position_index: entry 0/);
      tf.dispose([...sd2.values()]);
      expect(() => model.loadStateDict(new Map(), { naming: 'timm' as never })).toThrow(/naming must be/);
      model.dispose();
    });

    it('trains a step without leaking tensors; groups decay variables; stochastic depth only in training', () => {
      const model = createSwin({ imgSize: 32, patchSize: 2, embedDim: 16, depths: [2, 2], numHeads: [2, 4], windowSize: 4, numClasses: 10, seed: 3, stochasticDepthProb: 0.5 });
      const x = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
      const { decay, noDecay } = model.trainableVariables;
      const names = model.namedParameters().filter((p) => p.decay).map((p) => p.name);
      expect(names).toContain('features.1.0.attn.relative_position_bias_table');
      expect(names.some((n) => n.endsWith('.bias') || n.includes('norm'))).toBe(false);
      expect(noDecay.length).toBeGreaterThan(0);
      const a = model.predict(x);
      const b = model.predict(x);
      expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(model.forwardTrain(x).cls)) as tf.Scalar, [...decay, ...noDecay]);
      expect(Object.keys(grads).length).toBe(decay.length + noDecay.length);
      expect(Number.isFinite(value.dataSync()[0])).toBe(true);
      tf.dispose([value, ...Object.values(grads)]);
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, b, x]);
      model.dispose();
    });
  });
}
