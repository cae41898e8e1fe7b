// Conversion of a full-precision Swin (or one of its modules) into the OFQ-quantized form, as the
// reference's Swin conversion does it (docs/algorithm.md §4.4): 8-bit patch conv and head, every window attention
// (QKR or plain) and MLP at the model's bits, and the PatchMerging reductions at the model's bits.
// Pretrained weights are copied (docs/decisions.md #13, #15); `referenceInit` reproduces the reference's
// random proj / relative position table / non-QKR qkv and the random reduction bias.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { measureQKRDrift, type QKRDrift } from '@ofq/qkr';
import { assertBits } from '@ofq/core';
import type { QuantConfig } from '../../config.js';
import { LayerNorm } from '../../nn/layer-norm.js';
import { Linear } from '../../nn/linear.js';
import { SeedSequence, copyVar, newVar, torchDefaultUniform, zerosVar } from '../../nn/init.js';
import {
  quantizeAttentionPlain, quantizeAttentionQKR, quantizeHead, quantizeMlp, quantizePatchEmbed,
  type BlockQuantOptions, type DroppedQKBias,
} from '../../quant/convert.js';
import type { Attention } from '../../fp/attention.js';
import { PatchEmbed } from '../../fp/patch-embed.js';
import { Mlp } from '../../fp/mlp.js';
import { QLinear } from '../../quant/qlinear.js';
import { stageResolutions, windowLayout } from '../config.js';
import { PatchMerging } from '../patch-merging.js';
import { RelativePositionBias } from '../relative-position-bias.js';
import { SwinBlock } from '../swin-block.js';
import { Swin, type SwinModel } from '../swin-model.js';
import { SwinPatchEmbed } from '../swin-patch-embed.js';
import { WindowAttention } from '../window-attention.js';
import { WindowFrame } from '../window-frame.js';
import { QKRWindowAttention, QWindowAttention } from './q-window-attention.js';

/** What a Swin module's quantized form needs besides its FP weights (token counts come from the map size). */
export type SwinQuantOptions = Omit<BlockQuantOptions, 'tokens'>;

function checkQuant(q: QuantConfig): void {
  if (q == null || typeof q !== 'object') throw new TypeError('quant config { weightBits, actBits, qkr, method } is required');
  assertBits(q.weightBits, 'quant.weightBits');
  assertBits(q.actBits, 'quant.actBits');
  if (q.method !== 'ofq' && q.method !== 'lsq') throw new Error(`quant.method must be 'ofq' or 'lsq', got ${JSON.stringify(q.method)}`);
  if (typeof q.qkr !== 'boolean') throw new TypeError(`quant.qkr must be a boolean, got ${String(q.qkr)}`);
}

const seedsOf = (o: SwinQuantOptions) => o.seeds ?? new SeedSequence();

/**
 * A quantized window attention from an FP one whose input map has side `width`. Steps are per
 * window position (ws²); a pinned `gradScaleBatch` B counts B·nW windows, as the reference's B·nW rows.
 */
export function quantizeWindowAttention(fp: WindowAttention, o: SwinQuantOptions, width: number, report?: DroppedQKBias[]): QKRWindowAttention | QWindowAttention {
  const ws = fp.frame.windowSize;
  const { windows } = windowLayout(width, ws, 0);
  const bo: BlockQuantOptions = { ...o, tokens: ws * ws, gradScaleBatch: o.gradScaleBatch === undefined ? undefined : o.gradScaleBatch * windows };
  // Decision #13: the reference re-draws the table (trunc_normal std 0.02, i.e. an untruncated normal at this std).
  const table = o.referenceInit
    ? newVar(() => tf.randomNormal(fp.relativeBias.table.shape, 0, 0.02, 'float32', seedsOf(o).take()))
    : copyVar(fp.relativeBias.table);
  const bias = new RelativePositionBias(table, ws);
  const frame = new WindowFrame(ws, fp.frame.configuredShift);
  frame.shift = fp.frame.shift;
  const asAttention = fp as unknown as Attention; // same qkv / proj / numHeads / dim shape as the DeiT attention
  return o.qkr
    ? new QKRWindowAttention(quantizeAttentionQKR(asAttention, bo, report), frame, bias)
    : new QWindowAttention(quantizeAttentionPlain(asAttention, bo), frame, bias);
}

/** The quantized Swin MLP (reference QMLP_swin): its inputs are `[B, H, W, C]`, so one step per map column (`width`). */
export function quantizeSwinMlp(fp: Mlp, o: SwinQuantOptions, width: number) {
  return quantizeMlp(fp, { ...o, tokens: width });
}

/**
 * PatchMerging with its reduction as a QLinear at the model's bits (input map side `width`, so
 * ⌈width/2⌉ column steps). The reference's QLinear always has a bias: zero here (docs/decisions.md #15),
 * PyTorch's uniform ±1/√(4C) with `referenceInit`.
 */
export function quantizePatchMerging(fp: PatchMerging, o: SwinQuantOptions, width: number): PatchMerging {
  if (!(fp.reduction instanceof Linear)) throw new Error('quantizePatchMerging: the reduction is already quantized');
  const red = fp.reduction;
  const [inF, outF] = red.kernel.shape as number[];
  const bias = o.referenceInit ? torchDefaultUniform([outF], inF, seedsOf(o)) : red.bias ? copyVar(red.bias) : zerosVar([outF]);
  const q = new QLinear(copyVar(red.kernel), bias, {
    weightBits: o.weightBits, weightMethod: o.method === 'lsq' ? 'lsq' : 'statsq', lsqStep: o.lsqStep, actBits: o.actBits,
    inputGranularity: 'token', tokens: Math.ceil(width / 2), gradScaleBatch: o.gradScaleBatch,
  });
  const n = fp.norm;
  return new PatchMerging(new LayerNorm(n.weight.shape[0] as number, n.eps, copyVar(n.weight), copyVar(n.bias)), q);
}

/** A quantized Swin block on a map of side `width`: FP LayerNorms (copied), quantized attention and MLP. */
export function quantizeSwinBlock(fp: SwinBlock, o: SwinQuantOptions, width: number, report?: DroppedQKBias[]): SwinBlock {
  if (!(fp.attn instanceof WindowAttention) || !(fp.mlp instanceof Mlp)) throw new Error('quantizeSwinBlock: the block is already quantized');
  const ln = (n: LayerNorm) => new LayerNorm(n.weight.shape[0] as number, n.eps, copyVar(n.weight), copyVar(n.bias));
  return new SwinBlock(ln(fp.norm1), quantizeWindowAttention(fp.attn, o, width, report), ln(fp.norm2), quantizeSwinMlp(fp.mlp, o, width), fp.dropPathProb);
}

/**
 * FP drift of dropping each block's q/k biases (docs/decisions.md #14), measured on the windows of the
 * attention inputs (norm1 outputs) that `sample` images produce in the FP model. The relative position
 * bias and mask are left out: they are the same with and without the q/k biases, so the logit drift is
 * exact and the probability / output drift an estimate.
 */
export function measureSwinQKRDrift(fp: Swin | SwinModel, sample: Tensor4D): QKRDrift[] {
  if (!(fp instanceof Swin)) throw new Error('measureSwinQKRDrift: expects a full-precision Swin');
  const out: QKRDrift[] = [];
  const feats = fp.featureOutputs(sample);
  let k = 0;
  fp.stages.forEach((blocks, i) => {
    let h: Tensor = tf.clone(feats[k]); // the stage input: patch embedding or the previous PatchMerging
    for (const block of blocks) {
      const attn = block.attn;
      if (!(attn instanceof WindowAttention)) throw new Error('measureSwinQKRDrift: expects a full-precision Swin');
      const xn = block.norm1.apply(h);
      const y = attn.frame.run(xn, attn.relativeBias, (win) => {
        const [q, kk, v] = tf.split(attn.qkv.kernel, 3, 1);
        const biases = attn.qkv.bias ? tf.split(attn.qkv.bias, 3, 0) : [null, null, null];
        out.push(measureQKRDrift(win, { q, k: kk, v, qBias: biases[0], kBias: biases[1], vBias: biases[2] }, attn.numHeads));
        return win;
      });
      const next = block.apply(h);
      tf.dispose([h, xn, y]);
      h = next;
    }
    h.dispose();
    k += i < fp.merges.length ? 2 : 1;
  });
  tf.dispose(feats);
  return out;
}

/**
 * The OFQ Swin converted from `fp` (left untouched). The activation steps are tied to the config's
 * resolution (docs/decisions.md #16). With QKR, the dropped q/k biases are recorded in `conversionReport`
 * (docs/decisions.md #14), and with `options.sample` (a few images) so is the FP drift they cause per block.
 * `gradientCheckpointing` is carried over from `fp`.
 */
export function quantizeSwin(fp: Swin | SwinModel, quant: QuantConfig, options: { sample?: Tensor4D } = {}): Swin {
  checkQuant(quant);
  if (!(fp instanceof Swin) || !(fp.patchEmbed.conv instanceof PatchEmbed)) throw new Error('quantizeSwin: expects a full-precision Swin (from createSwin without quant)');
  const c = fp.config;
  const o: SwinQuantOptions = {
    weightBits: quant.weightBits, actBits: quant.actBits, method: quant.method, qkr: quant.qkr,
    referenceInit: quant.referenceInit, gradScaleBatch: quant.gradScaleBatch, lsqStep: quant.lsqStep, seeds: new SeedSequence(quant.seed ?? c.seed),
  };
  const res = stageResolutions(c);
  const report: DroppedQKBias[] = [];
  const pn = fp.patchEmbed.norm;
  const patchEmbed = new SwinPatchEmbed(
    quantizePatchEmbed(fp.patchEmbed.conv, c.imgSize, o),
    new LayerNorm(pn.weight.shape[0] as number, pn.eps, copyVar(pn.weight), copyVar(pn.bias)),
    c.patchSize,
  );
  const model = new Swin({ ...c, quant: { ...quant } }, {
    patchEmbed,
    stages: fp.stages.map((blocks, i) => blocks.map((b) => quantizeSwinBlock(b, o, res[i], report))),
    merges: fp.merges.map((m, i) => quantizePatchMerging(m, o, res[i])),
    norm: new LayerNorm(fp.norm.weight.shape[0] as number, fp.norm.eps, copyVar(fp.norm.weight), copyVar(fp.norm.bias)),
    head: quantizeHead(fp.head as Linear, o),
  });
  model.gradientCheckpointing = fp.gradientCheckpointing; // the quantized model trains as the FP one did
  if (quant.qkr) {
    model.conversionReport = { droppedQKBiases: report };
    if (options.sample) model.conversionReport.drift = measureSwinQKRDrift(fp, options.sample);
  }
  return model;
}
