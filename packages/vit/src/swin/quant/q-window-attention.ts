// The quantized Swin window attentions (reference QAttention_swin / QAttention_swin_qkreparam): the
// DeiT quantized attentions (QAttention, QKRAttention) run on the windows `[B·nW, N, C]` inside the
// Swin window frame, with the full-precision relative position bias and mask added to the scaled
// logits before the softmax (spec §4.4). Steps are per window position (N = ws²), shared by all windows.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import type { LSQQuantizer } from '@ofq/lsq';
import { mergeHeads, splitHeads, type QKGradientMask } from '@ofq/qkr';
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

  /** As the DeiT QAttention: qkv, its q/k/v column blocks, proj. */
  quantizedWeights(): QuantizedWeightRef[] {
    return this.core.quantizedWeights();
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
      const xq = this.core.input.apply(win);
      let probs = tf.softmax(addBias(heads.logits(xq)));
      if (heads.softmaxQuantizer) probs = heads.softmaxQuantizer.apply(probs);
      return this.core.proj.apply(mergeHeads(tf.matMul(probs, splitHeads(heads.values(xq), heads.numHeads))));
    });
  }

  /** CGA's `includeQK` hook (decision #2), as the DeiT QKR attention. */
  setQKGradientMask(mask: QKGradientMask | null): void {
    this.core.setQKGradientMask(mask);
  }

  /** As the DeiT QKR attention: the merged W_qk (`qk.weight`), v, proj. */
  quantizedWeights(): QuantizedWeightRef[] {
    return this.core.quantizedWeights();
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
