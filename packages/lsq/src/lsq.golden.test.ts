import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKENDS, assertClose, expectNoLeaks, gt, loadGolden, tolFor, useBackend, type GoldenTensor } from '@ofq/core/testing';
import { LSQQuantizer, LSQWeightQuantizer } from './index.js';

interface LSQCase {
  name: string;
  bits: number;
  class: string;
  all_positive: boolean;
  thd_neg: number;
  thd_pos: number;
  x: GoldenTensor;
  s_init?: GoldenTensor;
  s_set?: GoldenTensor;
  out: GoldenTensor;
  G: GoldenTensor;
  grad_x: GoldenTensor;
  grad_s: GoldenTensor;
  signed_buffer?: GoldenTensor;
}
const golden = loadGolden<{ cases: LSQCase[] }>('lsq.json');

/** How each reference class maps onto our API, and the PyTorch → tfjs layout permutation. */
function setup(c: LSQCase, stepConstraint: 'abs' | 'clamp' | undefined): { perm: number[] | null; make: () => LSQQuantizer | LSQWeightQuantizer } {
  switch (c.class) {
    case 'LsqQuantizer':
      return { perm: null, make: () => new LSQQuantizer({ bits: c.bits, granularity: 'token', unsigned: c.all_positive }) };
    case 'LsqQuantizer4v':
      return { perm: null, make: () => new LSQQuantizer({ bits: c.bits, granularity: 'channel' }) };
    case 'LsqQuantizer4head_input':
      return { perm: null, make: () => new LSQQuantizer({ bits: c.bits, granularity: 'tensor' }) };
    case 'LsqQuantizer4img': // NCHW → NHWC
      return { perm: [0, 2, 3, 1], make: () => new LSQQuantizer({ bits: c.bits, granularity: 'channel', autoSign: true }) };
    case 'LsqQuantizerWeight': // [out, in] → [in, out]
      return { perm: [1, 0], make: () => new LSQWeightQuantizer({ bits: c.bits, stepConstraint }) };
    case 'LsqQuantizer4Conv2d': // [O, I, kh, kw] → [kh, kw, I, O]
      return { perm: [2, 3, 1, 0], make: () => new LSQWeightQuantizer({ bits: c.bits, stepConstraint }) };
    default:
      throw new Error(`unknown reference class ${c.class}`);
  }
}

function run(q: LSQQuantizer | LSQWeightQuantizer, x: tf.Tensor): tf.Tensor {
  return q instanceof LSQQuantizer ? q.apply(x) : q.quantize(x);
}

for (const backend of TEST_BACKENDS) {
  describe(`LSQ golden vectors on ${backend}`, () => {
    beforeAll(() => useBackend(backend));

    // Weight quantizers: the reference's 'clamp' and the default 'abs' agree while steps are positive.
    const isWeight = (c: LSQCase) => c.class === 'LsqQuantizerWeight' || c.class === 'LsqQuantizer4Conv2d';
    const runs: Array<[LSQCase, 'clamp' | 'abs' | undefined]> = golden.cases.flatMap((c): Array<[LSQCase, 'clamp' | 'abs' | undefined]> =>
      isWeight(c) ? [[c, 'clamp'], [c, 'abs']] : [[c, undefined]],
    );
    for (const [c, constraint] of runs) {
      it(`${c.name}${constraint ? ` (${constraint})` : ''}: step init, values, grads w.r.t. x and step`, () => {
        const { perm, make } = setup(c, constraint);
        const tfjs = (t: GoldenTensor) => tf.tidy(() => (perm ? tf.transpose(gt(t), perm) : gt(t)));
        expectNoLeaks(() => {
          const q = make();
          const x = tfjs(c.x);
          const G = tfjs(c.G);
          if (c.s_set) {
            q.setStep(c.s_set.data);
          } else {
            q.initFrom(x);
            assertClose(q.step!, c.s_init!.data, tolFor(backend), `${c.name} s_init`);
          }
          if (c.signed_buffer && q instanceof LSQQuantizer) expect(q.signed).toBe(c.signed_buffer.data[0] === 1);
          const loss = () => tf.sum(tf.mul(run(q, x), G)) as tf.Scalar;
          const out = run(q, x);
          const outT = perm ? tf.transpose(out, invert(perm)) : out.clone();
          assertClose(outT, c.out, tolFor(backend), `${c.name} out`);
          const gx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(run(q, a), G)))(x);
          const gxT = perm ? tf.transpose(gx, invert(perm)) : gx.clone();
          assertClose(gxT, c.grad_x, tolFor(backend), `${c.name} grad_x`);
          const { value, grads } = tf.variableGrads(loss, [q.step!]);
          const gs = grads[q.step!.name];
          // The backward follows PyTorch's autograd term by term, so even the step sums agree to ~1e-6.
          assertClose(gs, c.grad_s.data, tolFor(backend, { rtol: 1e-5, atol: 1e-6 }), `${c.name} grad_s`);
          tf.dispose([x, G, out, outT, gx, gxT, value, gs]);
          q.dispose();
        }, c.name);
      });
    }
  });
}

function invert(perm: number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => (inv[p] = i));
  return inv;
}
