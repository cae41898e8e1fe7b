import type { Attention } from './fp/attention.js';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, gt, loadGolden, loadGoldenBytes, tolFor, useBackend } from '@ofq/core/testing';
import { createDeiT, loadSafetensors, saveSafetensors, type DeiT } from './index.js';

const golden = loadGolden('deit_tiny_fp.json');
const SMALL = { imgSize: 32, patchSize: 8, inChans: 3, embedDim: 48, depth: 2, numHeads: 3, mlpRatio: 4, numClasses: 10, distilled: true };

/** NCHW golden images → NHWC. */
function goldenImages(): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(gt(golden.x), [0, 2, 3, 1]) as tf.Tensor4D);
}

function loadedModel(): DeiT {
  const model = createDeiT(SMALL) as DeiT;
  const weights = loadSafetensors(loadGoldenBytes('deit_tiny_fp.safetensors'));
  model.loadStateDict(weights, { naming: 'timm' });
  tf.dispose([...weights.values()]);
  return model;
}

for (const backend of TEST_BACKENDS) {
  describe(`FP DeiT on ${backend}`, () => {
    beforeAll(() => useBackend(backend));
    const tol = tolFor(backend, { rtol: 1e-4, atol: 1e-5 });

    it('reproduces the reference logits, features and block outputs from the timm checkpoint', () => {
      const model = loadedModel();
      const x = goldenImages();
      expectNoLeaks(() => {
        const logits = model.predict(x);
        assertClose(logits, golden.logits_eval, tol, 'logits_eval');
        const { cls, dist } = model.forwardTrain(x);
        assertClose(cls, golden.train_cls, tol, 'train_cls');
        assertClose(dist!, golden.train_dist, tol, 'train_dist');
        const f = model.features(x);
        assertClose(f.cls, golden.final_cls, tol, 'final_cls');
        assertClose(f.dist!, golden.final_dist, tol, 'final_dist');
        const blocks = model.blockOutputs(x);
        blocks.forEach((b, i) => assertClose(b, golden.block_outputs[i], tol, `block ${i}`));
        tf.dispose([logits, cls, dist!, f.cls, f.dist!, ...blocks]);
      }, 'forward');
      x.dispose();
      model.dispose();
    });

    it('round-trips stateDict → safetensors → loadStateDict exactly', () => {
      const a = createDeiT({ ...SMALL, seed: 1 });
      const b = createDeiT({ ...SMALL, seed: 2 });
      for (const naming of ['timm', 'ofq-reference'] as const) {
        const sd = a.stateDict({ naming });
        const bytes = saveSafetensors(sd);
        const back = loadSafetensors(bytes);
        b.loadStateDict(back, { naming });
        const sd2 = b.stateDict({ naming });
        expect([...sd2.keys()]).toEqual([...sd.keys()]);
        for (const [k, t] of sd) expect(Array.from(sd2.get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
        tf.dispose([...sd.values(), ...back.values(), ...sd2.values()]);
      }
      a.dispose();
      b.dispose();
    });

    it('rejects a checkpoint with missing, unexpected and mis-shaped tensors in one error', () => {
      const model = createDeiT(SMALL);
      const sd = model.stateDict();
      sd.get('norm.weight')!.dispose();
      sd.delete('norm.weight');
      sd.set('extra.thing', tf.zeros([2]));
      sd.get('head.bias')!.dispose();
      sd.set('head.bias', tf.zeros([11]));
      expect(() => model.loadStateDict(sd)).toThrow(/mis-shaped: head\.bias.*missing: norm\.weight.*unexpected: extra\.thing/);
      tf.dispose([...sd.values()]);
      model.dispose();
    });

    it('trains without leaking tensors and groups decay / no-decay variables', () => {
      const model = createDeiT({ ...SMALL, seed: 3 });
      const x = tf.randomNormal([2, 32, 32, 3]) as tf.Tensor4D;
      const { decay, noDecay } = model.trainableVariables;
      const names = model.namedParameters();
      expect(names.filter((p) => p.decay).map((p) => p.name)).toEqual([
        'patch_embed.proj.weight',
        ...[0, 1].flatMap((i) => [`blocks.${i}.attn.qkv.weight`, `blocks.${i}.attn.proj.weight`, `blocks.${i}.mlp.fc1.weight`, `blocks.${i}.mlp.fc2.weight`]),
        'head.weight', 'head_dist.weight',
      ]);
      expect(decay.length + noDecay.length).toBe(names.length);
      const step = () => {
        const { grads, value } = tf.variableGrads(() => {
          const { cls, dist } = model.forwardTrain(x);
          return tf.add(tf.sum(tf.square(cls)), tf.sum(dist!)) as tf.Scalar;
        }, [...decay, ...noDecay]);
        tf.dispose([value, ...Object.values(grads)]);
      };
      step();
      expectNoLeaks(() => { step(); step(); }, 'forward/backward');
      x.dispose();
      model.dispose();
    });

    it('rejects bad configs and inputs with clear errors', () => {
      expect(() => createDeiT({ ...SMALL, imgSize: 30 })).toThrow(/multiple of patchSize/);
      expect(() => createDeiT({ ...SMALL, numHeads: 5 })).toThrow(/divisible by numHeads/);
      expect(() => createDeiT({ preset: 'deit-huge' as never })).toThrow(/unknown preset/);
      const model = createDeiT(SMALL);
      const bad = tf.zeros([1, 3, 32, 32]) as tf.Tensor4D;
      expect(() => model.predict(bad)).toThrow(/NHWC/);
      bad.dispose();
      expect(() => model.stateDict({ naming: 'pytorch' as never })).toThrow(/naming/);
      // FP attention on a wrong rank: the same message as QKRHeads, not a reshape failure deep inside.
      const attn = (model as unknown as { blocks: Array<{ attn: Attention }> }).blocks[0]!.attn;
      const flat = tf.zeros([4, attn.dim]);
      expect(() => attn.apply(flat)).toThrow(`Attention: input must be [B, N, ${attn.dim}], got [4,${attn.dim}]`);
      flat.dispose();
      model.dispose();
    });
  });
}
