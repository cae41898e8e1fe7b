// Where the quantized weights of an @ofq/vit DeiT live: one slot per packed weight with its file name,
// the latent tensor its quantizer sees (QKR: the merged W_qk), the quantizer, the state-dict entries the
// packed record replaces, and how a loaded record is put back. Shared by export and load, so both
// walk the model the same way.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { dequantizeWeights, type QuantizedWeights, type WeightQuantizer } from '@ofq/core';
import { mergedQKWeight } from '@ofq/qkr';
import { DeiT, QAttention, QKRAttention, QLinear, QMLP, QPatchEmbed } from '@ofq/vit';
import { FixedWeightQuantizer } from './fixed-weight-quantizer.js';
import { packedFail } from './errors.js';

export interface WeightSlot {
  /** Name in the packed file (`blocks.0.attn.qk.weight` for a merged W_qk). */
  name: string;
  /** The float tensor the quantizer quantizes (caller disposes). */
  latent(): Tensor;
  quantizer: WeightQuantizer;
  /** State-dict names this slot replaces (latent weights, weight-quantizer state). */
  covers: string[];
  /** Writes a loaded record into the model (the model must have been built for loading). */
  load(q: QuantizedWeights): void;
}

function dequantized(q: QuantizedWeights): Tensor {
  return tf.tensor(dequantizeWeights(q), q.shape, 'float32');
}

function assignKernel(v: tf.Variable, q: QuantizedWeights, name: string): void {
  if (v.shape.join(',') !== q.shape.join(',')) packedFail(`weight "${name}" is [${q.shape}], the model config needs [${v.shape}]`);
  const t = dequantized(q);
  v.assign(t);
  t.dispose();
}

function fixedOf(q: WeightQuantizer, name: string): FixedWeightQuantizer {
  if (!(q instanceof FixedWeightQuantizer)) throw new Error(`${name}: this model was not built for loading a packed file`);
  return q;
}

function linearSlot(prefix: string, l: QLinear): WeightSlot {
  const name = `${prefix}.weight`;
  return {
    name,
    latent: () => tf.clone(l.kernel),
    quantizer: l.weightQuantizer,
    covers: [name, `${prefix}.statsq_fn.clip_val`, `${prefix}.lsqw_fn.s`],
    load: (q) => {
      assignKernel(l.kernel, q, name);
      fixedOf(l.weightQuantizer, name).fix(q);
    },
  };
}

function qkrSlots(prefix: string, a: QKRAttention): WeightSlot[] {
  const h = a.heads;
  if (!h.qkQuantizer || !h.vQuantizer) packedFail(`${prefix}: QKR heads without weight quantizers cannot be packed`);
  const qkName = `${prefix}.qk.weight`;
  const vName = `${prefix}.v.weight`;
  return [
    {
      name: qkName,
      latent: () => mergedQKWeight(h.q, h.k, h.numHeads),
      quantizer: h.qkQuantizer,
      covers: [`${prefix}.q.weight`, `${prefix}.k.weight`, `${prefix}.qk_quant.clip_val`, `${prefix}.qk_quant.s`],
      load: (q) => {
        const c = h.dim;
        if (q.shape.join(',') !== `${c},${h.numHeads * c}`) packedFail(`weight "${qkName}" is [${q.shape}], the model config needs [${c},${h.numHeads * c}]`);
        fixedOf(h.qkQuantizer as WeightQuantizer, qkName).fix(q, dequantized(q));
      },
    },
    {
      name: vName,
      latent: () => tf.clone(h.v),
      quantizer: h.vQuantizer,
      covers: [vName, `${prefix}.v_quant.clip_val`, `${prefix}.v_quant.s`],
      load: (q) => {
        assignKernel(h.v, q, vName);
        fixedOf(h.vQuantizer as WeightQuantizer, vName).fix(q);
      },
    },
    ...moduleSlots(`${prefix}.proj`, a.proj),
  ];
}

function moduleSlots(prefix: string, m: unknown): WeightSlot[] {
  if (m instanceof QLinear) return [linearSlot(prefix, m)];
  if (m instanceof QKRAttention) return qkrSlots(prefix, m);
  if (m instanceof QAttention) return [linearSlot(`${prefix}.qkv`, m.qkv), linearSlot(`${prefix}.proj`, m.proj)];
  if (m instanceof QMLP) return [linearSlot(`${prefix}.fc1`, m.fc1), linearSlot(`${prefix}.fc2`, m.fc2)];
  if (m instanceof QPatchEmbed) {
    const name = `${prefix}.proj.weight`;
    return [{
      name,
      latent: () => tf.clone(m.kernel),
      quantizer: m.weightQuant,
      covers: [name, `${prefix}.proj.lsqw_fn.s`],
      // The 8-bit LSQ patch weight keeps its own quantizer: with the step = the stored scales, it maps the
      // dequantized kernel onto itself (round((k·s)/s) = k).
      load: (q) => {
        assignKernel(m.kernel, q, name);
        m.weightQuant.setStep(q.scales);
      },
    }];
  }
  packedFail(`${prefix}: not a quantized @ofq/vit module (export a model from quantizeDeiT / createDeiT with quant)`);
}

/** Every packed weight of a quantized DeiT, in forward order. */
export function deitWeightSlots(model: DeiT): WeightSlot[] {
  return [
    ...moduleSlots('patch_embed', model.patchEmbed),
    ...model.blocks.flatMap((b, i) => [...moduleSlots(`blocks.${i}.attn`, b.attn), ...moduleSlots(`blocks.${i}.mlp`, b.mlp)]),
    ...moduleSlots('head', model.head),
    ...(model.headDist ? moduleSlots('head_dist', model.headDist) : []),
  ];
}
