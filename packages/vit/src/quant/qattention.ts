// Quantized attention without QKR (reference QAttention, spec §4.3): quantized qkv, a shift on the qkv
// output, per-token LSQ on q and k, per-channel LSQ on v, shifts after each, unsigned per-query LSQ
// on the probabilities, then the quantized projection.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LearnableBias, LSQQuantizer } from '@ofq/lsq';
import type { QuantizedWeightRef } from '@ofq/core';
import { prefixedRefs, type Module } from '../module.js';
import { columnBlockRef } from './column-block.js';
import { prefixed, type ParamSpec } from '../params.js';
import { mergeHeads, splitHeads } from '@ofq/qkr';
import type { QLinear } from './qlinear.js';
import { lsqStepSpec, shiftSpec } from './specs.js';

export class QAttention implements Module {
  readonly qkvShift: LearnableBias;
  readonly qQuant: LSQQuantizer;
  readonly kQuant: LSQQuantizer;
  readonly vQuant: LSQQuantizer;
  readonly qShift: LearnableBias;
  readonly kShift: LearnableBias;
  readonly vShift: LearnableBias;
  readonly softmaxQuant: LSQQuantizer;

  constructor(
    readonly qkv: QLinear,
    readonly proj: QLinear,
    readonly numHeads: number,
    readonly o: { actBits: number; tokens: number; gradScaleBatch?: number },
  ) {
    const c = proj.kernel.shape[0] as number;
    const bits = o.actBits;
    const gradScaleBatch = o.gradScaleBatch;
    this.qkvShift = new LearnableBias(3 * c);
    this.qQuant = new LSQQuantizer({ bits, granularity: 'token', gradScaleBatch, name: 'quan_a_q_fn' });
    this.kQuant = new LSQQuantizer({ bits, granularity: 'token', gradScaleBatch, name: 'quan_a_k_fn' });
    this.vQuant = new LSQQuantizer({ bits, granularity: 'channel', gradScaleBatch, name: 'quan_a_v_fn' });
    this.qShift = new LearnableBias(c);
    this.kShift = new LearnableBias(c);
    this.vShift = new LearnableBias(c);
    this.softmaxQuant = new LSQQuantizer({ bits, granularity: 'token', unsigned: true, gradScaleBatch, name: 'quan_a_softmax_fn' });
  }

  /**
   * `[B, N, C]` → `[B, N, C]`. `addToLogits` (Swin: relative position bias and shifted-window mask)
   * acts on the scaled logits `[B, H, N, N]` before the softmax.
   */
  apply(x: Tensor, addToLogits?: (logits: Tensor) => Tensor): Tensor {
    return tf.tidy(() => {
      const c = x.shape[2] as number;
      const h = this.numHeads;
      const d = c / h;
      const qkv = this.qkvShift.apply(this.qkv.apply(x));
      const [q0, k0, v0] = tf.split(qkv, 3, 2); // each [B, N, C]
      // q, k: per-token LSQ on [B, H, N, d] (steps shared across heads), then a C-shift on [B, N, C].
      const q = splitHeads(this.qShift.apply(mergeHeads(this.qQuant.apply(splitHeads(q0, h)))), h);
      const k = splitHeads(this.kShift.apply(mergeHeads(this.kQuant.apply(splitHeads(k0, h)))), h);
      const v = splitHeads(this.vShift.apply(this.vQuant.apply(v0)), h);
      const logits = tf.mul(tf.matMul(q, k, false, true), d ** -0.5);
      const probs = this.softmaxQuant.apply(tf.softmax(addToLogits ? addToLogits(logits) : logits));
      return this.proj.apply(mergeHeads(tf.matMul(probs, v)));
    });
  }

  params(): ParamSpec[] {
    const c = this.proj.kernel.shape[0] as number;
    const n = this.o.tokens;
    return [
      ...prefixed('qkv', this.qkv.params()),
      ...prefixed('proj', this.proj.params()),
      lsqStepSpec('quan_a_q_fn.s', this.qQuant, [n]),
      lsqStepSpec('quan_a_k_fn.s', this.kQuant, [n]),
      lsqStepSpec('quan_a_v_fn.s', this.vQuant, [c]),
      shiftSpec('move_qkv_b4.bias', this.qkvShift),
      shiftSpec('move_q_aft.bias', this.qShift),
      shiftSpec('move_k_aft.bias', this.kShift),
      shiftSpec('move_v_aft.bias', this.vShift),
      lsqStepSpec('quan_a_softmax_fn.s', this.softmaxQuant, [n]),
    ];
  }

  /** The fused qkv weight, its q, k and v column blocks (so each is measured on its own), and proj. */
  quantizedWeights(): QuantizedWeightRef[] {
    const c = this.proj.kernel.shape[0] as number;
    const { kernel, weightQuantizer } = this.qkv;
    return [
      ...prefixedRefs('qkv', this.qkv),
      ...(['q', 'k', 'v'] as const).map((part, i) => columnBlockRef(`${part}.weight`, kernel, weightQuantizer, i * c, c)),
      ...prefixedRefs('proj', this.proj),
    ];
  }

  activationQuantizers(): LSQQuantizer[] {
    return [...this.qkv.activationQuantizers(), this.qQuant, this.kQuant, this.vQuant, this.softmaxQuant, ...this.proj.activationQuantizers()];
  }

  dispose(): void {
    this.qkv.dispose();
    this.proj.dispose();
    for (const m of [this.qkvShift, this.qQuant, this.kQuant, this.vQuant, this.qShift, this.kShift, this.vShift, this.softmaxQuant]) m.dispose();
  }
}
