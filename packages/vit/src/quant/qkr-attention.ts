// QKR attention of a DeiT block (reference QAttention_qkreparam, spec §5): the input quantizer
// (`quant_x_4_qkv`), the @ofq/qkr heads on X̂, then the quantized projection.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { LSQQuantizer } from '@ofq/lsq';
import { QKRHeads } from '@ofq/qkr';
import type { QuantizedWeightRef } from '@ofq/core';
import type { QKGradientMask } from '@ofq/qkr';
import { prefixedRefs, variableRef, type Module } from '../module.js';
import { directSpec, linearWeightSpec, prefixed, type ParamSpec } from '../params.js';
import type { QLinear } from './qlinear.js';
import { ShiftedAct } from './shifted-act.js';
import { lsqStepSpec, shiftSpec, weightQuantizerSpec } from './specs.js';

export class QKRAttention implements Module {
  constructor(
    /** `quant_x_4_qkv`: signed per-token LSQ with C shifts; its output X̂ feeds v, W_qk·X̂ᵀ and the logits. */
    readonly input: ShiftedAct,
    readonly heads: QKRHeads,
    readonly proj: QLinear,
    readonly tokens: number,
  ) {}

  get numHeads(): number {
    return this.heads.numHeads;
  }

  apply(x: Tensor): Tensor {
    return tf.tidy(() => this.proj.apply(this.heads.apply(this.input.apply(x))));
  }

  setQKGradientMask(mask: QKGradientMask | null): void {
    this.heads.setGradientMask(mask);
  }

  /** The merged W_qk (recomputed from q and k at every read), v, and proj. */
  quantizedWeights(): QuantizedWeightRef[] {
    const h = this.heads;
    const refs: QuantizedWeightRef[] = [];
    if (h.qkQuantizer) refs.push({ name: 'qk.weight', quantizer: h.qkQuantizer, variable: null, read: () => h.mergedQKWeight() });
    if (h.vQuantizer) refs.push(variableRef('v.weight', h.v, h.vQuantizer));
    return [...refs, ...prefixedRefs('proj', this.proj)];
  }

  params(): ParamSpec[] {
    const h = this.heads;
    const c = h.dim;
    const n = this.tokens;
    return [
      ...prefixed('proj', this.proj.params()),
      ...prefixed('quant_x_4_qkv', [this.input.stepSpec(), ...this.input.shiftSpecs()]),
      linearWeightSpec('q.weight', h.q),
      linearWeightSpec('k.weight', h.k),
      linearWeightSpec('v.weight', h.v),
      directSpec('v.bias', h.vBias),
      ...weightQuantizerSpec('qk_quant', 'qk_quant', h.qkQuantizer!, [h.numHeads * c]),
      ...weightQuantizerSpec('v_quant', 'v_quant', h.vQuantizer!, [c]),
      lsqStepSpec('quan_a_qkx_fn.s', h.qkx!.quantizer, [n * h.numHeads]),
      lsqStepSpec('quan_a_v_fn.s', h.vAct!.quantizer, [c]),
      shiftSpec('move_qkx_b4.bias', h.qkx!.before),
      shiftSpec('move_qkx_aft.bias', h.qkx!.after),
      shiftSpec('move_v_b4.bias', h.vAct!.before),
      shiftSpec('move_v_aft.bias', h.vAct!.after),
      lsqStepSpec('quan_a_softmax_fn.s', h.softmaxQuantizer!, [n]),
    ];
  }

  activationQuantizers(): LSQQuantizer[] {
    const h = this.heads;
    return [this.input.quantizer, h.qkx!.quantizer, h.vAct!.quantizer, h.softmaxQuantizer!, ...this.proj.activationQuantizers()];
  }

  dispose(): void {
    this.input.dispose();
    this.heads.dispose();
    this.proj.dispose();
  }
}
