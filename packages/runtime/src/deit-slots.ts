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

/**
 * Puts loaded codes into a weight's quantizer: a fixed-code quantizer takes the record; an LSQ-grid
 * quantizer (offset 0, divisor 1, state `s`) takes the scales as its step, which maps the dequantized
 * weight onto itself.
 */
function fixQuantizer(qz: WeightQuantizer, r: QuantizedWeights, name: string, value?: Tensor): void {
  if (qz instanceof FixedWeightQuantizer) return qz.fix(r, value);
  const step = qz.state.find((s) => s.name === 's');
  if (!step || qz.offset !== 0 || qz.divisor !== 1 || value) throw new Error(`${name}: this model was not built for loading a packed file`);
  const t = tf.tensor1d(r.scales, 'float32');
  step.write(t);
  t.dispose();
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
      fixQuantizer(l.weightQuantizer, q, name);
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
        fixQuantizer(h.qkQuantizer as WeightQuantizer, q, qkName, dequantized(q));
      },
    },
    {
      name: vName,
      latent: () => tf.clone(h.v),
      quantizer: h.vQuantizer,
      covers: [vName, `${prefix}.v_quant.clip_val`, `${prefix}.v_quant.s`],
      load: (q) => {
        assignKernel(h.v, q, vName);
        fixQuantizer(h.vQuantizer as WeightQuantizer, q, vName);
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
      load: (q) => {
        assignKernel(m.kernel, q, name);
        fixQuantizer(m.weightQuant, q, name);
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
