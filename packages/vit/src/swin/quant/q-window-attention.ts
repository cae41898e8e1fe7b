// The quantized Swin window attentions (reference QAttention_swin / QAttention_swin_qkreparam): the
// DeiT quantized attentions (QAttention, QKRAttention) run on the windows `[B·nW, N, C]` inside the
// Swin window frame, with the full-precision relative position bias and mask added to the scaled
// logits before the softmax (spec §4.4). Steps are per window position (N = ws²), shared by all windows.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { LSQQuantizer } from '@ofq/lsq';
import type { Module } from '../../module.js';
import type { ParamSpec } from '../../params.js';
import type { QAttention } from '../../quant/qattention.js';
import type { QKRAttention } from '../../quant/qkr-attention.js';
import type { RelativePositionBias } from '../relative-position-bias.js';
import type { WindowFrame } from '../window-frame.js';

/** Non-QKR quantized window attention (the "StatsQ without QKR" ablation on Swin). */
export class QWindowAttention implements Module {
  constructor(
    readonly core: QAttention,
    readonly frame: WindowFrame,
    readonly relativeBias: RelativePositionBias,
  ) {}

  get numHeads(): number {
    return this.core.numHeads;
  }

  apply(x: Tensor): Tensor {
    return this.frame.run(x, this.relativeBias, (win, addBias) => this.core.apply(win, addBias));
  }

  params(): ParamSpec[] {
    return [...this.relativeBias.params(), ...this.core.params()];
  }

  activationQuantizers(): LSQQuantizer[] {
    return this.core.activationQuantizers();
  }

  dispose(): void {
    this.core.dispose();
    this.frame.dispose();
    this.relativeBias.dispose();
  }
}

/** QKR window attention (spec §5 on windows): X̂ = LSQ(x), logits x̂·Q(W_qk)·x̂ᵀ·d^-0.5 + bias (+ mask), softmax, LSQ, P̂·v̂, proj. */
export class QKRWindowAttention implements Module {
  constructor(
    readonly core: QKRAttention,
    readonly frame: WindowFrame,
    readonly relativeBias: RelativePositionBias,
  ) {}

  get numHeads(): number {
    return this.core.numHeads;
  }

  apply(x: Tensor): Tensor {
    return this.frame.run(x, this.relativeBias, (win, addBias) => {
      const heads = this.core.heads;
      const [bn, n, c] = win.shape as number[];
      const h = heads.numHeads;
      const xq = this.core.input.apply(win);
      let probs = tf.softmax(addBias(heads.logits(xq)));
      if (heads.softmaxQuantizer) probs = heads.softmaxQuantizer.apply(probs);
      const v = tf.transpose(tf.reshape(heads.values(xq), [bn, n, h, c / h]), [0, 2, 1, 3]);
      const out = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [bn, n, c]);
      return this.core.proj.apply(out);
    });
  }

  /** CGA's `includeQK` hook (decision #2), as the DeiT QKR attention. */
  setQKGradientMask(mask: ((wqk: Tensor) => Tensor) | null): void {
    this.core.setQKGradientMask(mask);
  }

  params(): ParamSpec[] {
    return [...this.relativeBias.params(), ...this.core.params()];
  }

  activationQuantizers(): LSQQuantizer[] {
    return this.core.activationQuantizers();
  }

  dispose(): void {
    this.core.dispose();
    this.frame.dispose();
    this.relativeBias.dispose();
  }
}
