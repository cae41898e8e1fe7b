// DeiTModel.quantizedWeights(): every quantized weight with the quantizer its forward pass applies.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { weightCodes } from '@ofq/core';
import { useBackend } from '@ofq/core/testing';
import { createDeiT, quantizeDeiT, type DeiT } from './index.js';

const SMALL = { imgSize: 16, patchSize: 4, inChans: 3, embedDim: 24, depth: 1, numHeads: 3, mlpRatio: 2, numClasses: 5, distilled: true, seed: 11 };

describe('DeiTModel.quantizedWeights', () => {
  beforeAll(() => useBackend('cpu'));

  it('under QKR lists the merged W_qk (recomputed from q and k at each read), v, proj, fc1, fc2 and the 8-bit ends', () => {
    const fp = createDeiT(SMALL);
    const q = quantizeDeiT(fp as DeiT, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
    const refs = q.quantizedWeights();
    expect(refs.map((r) => `${r.name}:${r.quantizer.kind}${r.quantizer.bits}`)).toEqual([
      'patch_embed.proj.weight:lsq8',
      'blocks.0.attn.qk.weight:statsq2',
      'blocks.0.attn.v.weight:statsq2',
      'blocks.0.attn.proj.weight:statsq2',
      'blocks.0.mlp.fc1.weight:statsq2',
      'blocks.0.mlp.fc2.weight:statsq2',
      'head.weight:lsq8',
      'head_dist.weight:lsq8',
    ]);
    const qk = refs[1];
    expect(qk.variable).toBeNull();
    const before = qk.read();
    expect(before.shape).toEqual([24, 3 * 24]);
    const attn = (q as DeiT).blocks[0].attn as unknown as { heads: { q: tf.Variable } };
    attn.heads.q.assign(tf.mul(attn.heads.q, 2));
    const after = qk.read();
    expect(tf.max(tf.abs(tf.sub(after, tf.mul(before, 2)))).dataSync()[0]).toBeLessThan(1e-5); // W_qk is linear in W_q
    tf.dispose([before, after]);
    q.dispose();
    fp.dispose();
  });

  it('without QKR adds the q, k and v column blocks of qkv, with exactly the fused weight codes', () => {
    const fp = createDeiT(SMALL);
    for (const method of ['ofq', 'lsq'] as const) {
      const q = quantizeDeiT(fp as DeiT, { weightBits: 3, actBits: 3, qkr: false, method });
      const refs = new Map(q.quantizedWeights().map((r) => [r.name, r]));
      const fused = refs.get('blocks.0.attn.qkv.weight')!;
      const w = fused.read();
      const all = weightCodes(fused.quantizer, w);
      ['q', 'k', 'v'].forEach((part, i) => {
        const ref = refs.get(`blocks.0.attn.${part}.weight`)!;
        expect(ref.quantizer.kind).toBe(method === 'lsq' ? 'lsq' : 'statsq');
        const block = ref.read();
        const codes = weightCodes(ref.quantizer, block);
        const expected = tf.slice(all, [0, i * 24], [24, 24]);
        expect(Array.from(codes.dataSync())).toEqual(Array.from(expected.dataSync()));
        tf.dispose([block, codes, expected]);
      });
      tf.dispose([w, all]);
      q.dispose();
    }
    fp.dispose();
  });
});
