// Conversion of a full-precision DeiT (or one of its modules) into the OFQ-quantized form (docs/algorithm.md §4.2),
// copying the pretrained weights (docs/decisions.md #1; `referenceInit` reproduces the reference's random init
// of attention proj, and of qkv without QKR).
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { assertBits, type WeightQuantizer } from '@ofq/core';
import { measureQKRDrift, qkrFromFusedQKV, QKRHeads, type QKRDrift } from '@ofq/qkr';
import type { LSQQuantizer } from '@ofq/lsq';
import { tokenCounts, type QuantConfig } from '../config.js';
import { DeiT } from '../model.js';
import { Swin, type SwinModel } from '../swin/swin-model.js';
import { activationQuantizersOf } from '../module.js';
import { Attention } from '../fp/attention.js';
import { Block } from '../fp/block.js';
import { Mlp } from '../fp/mlp.js';
import { PatchEmbed } from '../fp/patch-embed.js';
import { LayerNorm } from '../nn/layer-norm.js';
import type { Linear } from '../nn/linear.js';
import { SeedSequence, copyVar, torchDefaultUniform } from '../nn/init.js';
import { QHead, QLinear, makeWeightQuantizer } from './qlinear.js';
import { QMLP } from './qmlp.js';
import { QAttention } from './qattention.js';
import { QKRAttention } from './qkr-attention.js';
import { QPatchEmbed } from './qpatch-embed.js';
import { ShiftedAct } from './shifted-act.js';

/** What a block's quantized modules need besides their FP weights. */
export interface BlockQuantOptions {
  weightBits: number;
  actBits: number;
  method: 'ofq' | 'lsq';
  qkr: boolean;
  /** Tokens N of the sequence (per-token LSQ steps). */
  tokens: number;
  referenceInit?: boolean;
  gradScaleBatch?: number;
  /** LSQ weight step constraint (see QuantConfig.lsqStep). */
  lsqStep?: 'abs' | 'clamp';
  /** Random source of `referenceInit` draws. */
  seeds?: SeedSequence;
  /** Makes the block weight quantizers instead of StatsQ / LSQ (e.g. @ofq/runtime's fixed-code ones). */
  weightQuantizer?: WeightQuantizerFactory;
}

/** A block weight quantizer for a weight (`kernel` when it exists before the first forward). */
export type WeightQuantizerFactory = (o: { method: 'statsq' | 'lsq'; bits: number; name: string; kernel?: Tensor }) => WeightQuantizer;

function blockWeightQuantizer(o: BlockQuantOptions, name: string, kernel?: Tensor): WeightQuantizer {
  const method = weightMethod(o);
  return o.weightQuantizer ? o.weightQuantizer({ method, bits: o.weightBits, name, kernel }) : makeWeightQuantizer(method, o.weightBits, name, kernel, o.lsqStep);
}

function linearQuantizerName(o: BlockQuantOptions): string {
  return weightMethod(o) === 'lsq' ? 'lsqw_fn' : 'statsq_fn';
}

function weightMethod(o: BlockQuantOptions): 'statsq' | 'lsq' {
  return o.method === 'lsq' ? 'lsq' : 'statsq';
}

function checkQuant(q: QuantConfig): void {
  if (q == null || typeof q !== 'object') throw new TypeError('quant config { weightBits, actBits, qkr, method } is required');
  assertBits(q.weightBits, 'quant.weightBits');
  assertBits(q.actBits, 'quant.actBits');
  if (q.method !== 'ofq' && q.method !== 'lsq') throw new Error(`quant.method must be 'ofq' or 'lsq', got ${JSON.stringify(q.method)}`);
  if (typeof q.qkr !== 'boolean') throw new TypeError(`quant.qkr must be a boolean, got ${String(q.qkr)}`);
}

/** A quantized copy of an FP Linear with a per-token input quantizer (signed unless `unsignedInput`). */
export function quantizeLinear(fp: Linear, o: BlockQuantOptions, unsignedInput = false): QLinear {
  return new QLinear(copyVar(fp.kernel), fp.bias ? copyVar(fp.bias) : null, {
    weightBits: o.weightBits, weightMethod: weightMethod(o), lsqStep: o.lsqStep, actBits: o.actBits,
    inputGranularity: 'token', unsignedInput, tokens: o.tokens, gradScaleBatch: o.gradScaleBatch,
    weightQuantizer: blockWeightQuantizer(o, linearQuantizerName(o), fp.kernel),
  });
}

/** A new QLinear with PyTorch's default random init (the reference's freshly built layers). */
function randomQLinear(inF: number, outF: number, o: BlockQuantOptions): QLinear {
  const seeds = o.seeds ?? new SeedSequence();
  const kernel = torchDefaultUniform([inF, outF], inF, seeds);
  return new QLinear(kernel, torchDefaultUniform([outF], inF, seeds), {
    weightBits: o.weightBits, weightMethod: weightMethod(o), lsqStep: o.lsqStep, actBits: o.actBits,
    inputGranularity: 'token', tokens: o.tokens, gradScaleBatch: o.gradScaleBatch,
    weightQuantizer: blockWeightQuantizer(o, linearQuantizerName(o), kernel),
  });
}

export function quantizeMlp(fp: Mlp, o: BlockQuantOptions): QMLP {
  return new QMLP(quantizeLinear(fp.fc1, o), quantizeLinear(fp.fc2, o, true));
}

/** Dropped q/k biases of one QKR conversion (docs/decisions.md #3), for the conversion report. */
export interface DroppedQKBias {
  maxAbsQBias: number;
  maxAbsKBias: number;
}

function maxAbs(t: Tensor | null): number {
  if (!t) return 0;
  const m = tf.tidy(() => tf.max(tf.abs(t)));
  const v = m.dataSync()[0];
  m.dispose();
  return v;
}

/** QKR attention (docs/algorithm.md §5) from an FP attention: q/k biases dropped, v bias kept, proj copied (or random). */
export function quantizeAttentionQKR(fp: Attention, o: BlockQuantOptions, report?: DroppedQKBias[]): QKRAttention {
  const c = fp.dim;
  const conv = qkrFromFusedQKV(fp.qkv.kernel, fp.qkv.bias, { numHeads: fp.numHeads });
  report?.push({ maxAbsQBias: maxAbs(conv.droppedQBias), maxAbsKBias: maxAbs(conv.droppedKBias) });
  const heads = new QKRHeads({
    numHeads: fp.numHeads,
    weights: { q: conv.q, k: conv.k, v: conv.v, vBias: conv.vBias },
    qkQuantizer: blockWeightQuantizer(o, 'qk_quant'), // W_qk's LSQ step: lazily, from the merged weight
    vQuantizer: blockWeightQuantizer(o, 'v_quant', conv.v),
    actBits: o.actBits,
    gradScaleBatch: o.gradScaleBatch,
  });
  tf.dispose([conv.q, conv.k, conv.v, conv.vBias, conv.droppedQBias, conv.droppedKBias].filter((t): t is Tensor => t !== null));
  const input = new ShiftedAct(c, { bits: o.actBits, granularity: 'token', gradScaleBatch: o.gradScaleBatch, name: 'quant_x_4_qkv' }, [o.tokens]);
  const proj = o.referenceInit ? randomQLinear(c, c, o) : quantizeLinear(fp.proj, o);
  return new QKRAttention(input, heads, proj, o.tokens);
}

/** Quantized attention without QKR (docs/algorithm.md §4.3): qkv and proj copied (or random with referenceInit). */
export function quantizeAttentionPlain(fp: Attention, o: BlockQuantOptions): QAttention {
  const c = fp.dim;
  const qkv = o.referenceInit ? randomQLinear(c, 3 * c, o) : quantizeLinear(fp.qkv, o);
  const proj = o.referenceInit ? randomQLinear(c, c, o) : quantizeLinear(fp.proj, o);
  return new QAttention(qkv, proj, fp.numHeads, { actBits: o.actBits, tokens: o.tokens, gradScaleBatch: o.gradScaleBatch });
}

/** A quantized block: FP LayerNorms (copied), quantized attention and MLP. */
export function quantizeBlock(fp: Block, o: BlockQuantOptions, report?: DroppedQKBias[]): Block {
  if (!(fp.attn instanceof Attention) || !(fp.mlp instanceof Mlp)) throw new Error('quantizeBlock: the block is already quantized');
  const ln = (n: LayerNorm) => new LayerNorm(n.weight.shape[0] as number, n.eps, copyVar(n.weight), copyVar(n.bias));
  const attn = o.qkr ? quantizeAttentionQKR(fp.attn, o, report) : quantizeAttentionPlain(fp.attn, o);
  return new Block(ln(fp.norm1), attn, ln(fp.norm2), quantizeMlp(fp.mlp, o));
}

/** 8-bit patch embedding from the FP one (copied conv weights). */
export function quantizePatchEmbed(fp: PatchEmbed, imgSize: number, o: { gradScaleBatch?: number } = {}): QPatchEmbed {
  return new QPatchEmbed(copyVar(fp.kernel), copyVar(fp.bias), imgSize, { bits: 8, gradScaleBatch: o.gradScaleBatch });
}

/** 8-bit classifier head from an FP Linear. */
export function quantizeHead(fp: Linear, o: { gradScaleBatch?: number } = {}): QHead {
  return new QHead(copyVar(fp.kernel), fp.bias ? copyVar(fp.bias) : null, { bits: 8, gradScaleBatch: o.gradScaleBatch });
}

/**
 * FP drift of dropping each block's q/k biases (docs/decisions.md #3), measured on the attention inputs
 * (norm1 outputs) that `sample` images produce in the FP model.
 */
export function measureDeiTQKRDrift(fp: DeiT, sample: Tensor4D): QKRDrift[] {
  const out: QKRDrift[] = [];
  let h = fp.embed(sample);
  for (const block of fp.blocks) {
    const attn = block.attn;
    if (!(attn instanceof Attention)) throw new Error('measureDeiTQKRDrift: expects a full-precision DeiT');
    const xn = block.norm1.apply(h);
    const [q, k, v] = tf.split(attn.qkv.kernel, 3, 1);
    const biases = attn.qkv.bias ? tf.split(attn.qkv.bias, 3, 0) : [null, null, null];
    out.push(measureQKRDrift(xn, { q, k, v, qBias: biases[0], kBias: biases[1], vBias: biases[2] }, attn.numHeads));
    const next = block.apply(h);
    tf.dispose([h, xn, q, k, v, ...biases.filter((b): b is Tensor => b !== null)]);
    h = next;
  }
  h.dispose();
  return out;
}

/**
 * A quantized DeiT converted from `fp` (left untouched): the model of docs/algorithm.md §4.2. With QKR, the
 * dropped q/k biases are recorded in `conversionReport`, and with `options.sample` (a few images)
 * so is the FP output drift they cause per block.
 */
export function quantizeDeiT(
  fp: DeiT | import('../model.js').DeiTModel,
  quant: QuantConfig,
  options: { sample?: Tensor4D; weightQuantizer?: WeightQuantizerFactory } = {},
): DeiT {
  checkQuant(quant);
  if (!(fp instanceof DeiT) || !(fp.patchEmbed instanceof PatchEmbed)) throw new Error('quantizeDeiT: expects a full-precision DeiT (from createDeiT without quant)');
  const c = fp.config;
  const o: BlockQuantOptions = {
    weightBits: quant.weightBits, actBits: quant.actBits, method: quant.method, qkr: quant.qkr,
    tokens: tokenCounts(c).tokens, referenceInit: quant.referenceInit, gradScaleBatch: quant.gradScaleBatch, lsqStep: quant.lsqStep,
    seeds: new SeedSequence(quant.seed ?? c.seed), weightQuantizer: options.weightQuantizer,
  };
  const report: DroppedQKBias[] = [];
  const model = new DeiT({ ...c, quant: { ...quant } }, {
    patchEmbed: quantizePatchEmbed(fp.patchEmbed, c.imgSize, o),
    clsToken: copyVar(fp.clsToken),
    distToken: fp.distToken ? copyVar(fp.distToken) : null,
    posEmbed: copyVar(fp.posEmbed),
    blocks: fp.blocks.map((b) => quantizeBlock(b, o, report)),
    norm: new LayerNorm(c.embedDim, fp.norm.eps, copyVar(fp.norm.weight), copyVar(fp.norm.bias)),
    head: quantizeHead(fp.head as Linear, o),
    headDist: fp.headDist ? quantizeHead(fp.headDist as Linear, o) : null,
  });
  if (quant.qkr) {
    model.conversionReport = { droppedQKBiases: report };
    if (options.sample) model.conversionReport.drift = measureDeiTQKRDrift(fp, options.sample);
  }
  return model;
}

/** Every LSQ activation quantizer of a model, in forward order. */
export function modelActivationQuantizers(model: DeiT): LSQQuantizer[] {
  return [model.patchEmbed, ...model.blocks, model.head, ...(model.headDist ? [model.headDist] : [])].flatMap((m) => activationQuantizersOf(m));
}

/**
 * The LSQ initialisation pass (the reference's "setup_alpha"): every activation step is (re)created
 * from `batch` as it flows through the model, without gradient. Run it before building the optimizer:
 * it replaces the step variables. A no-op for a full-precision model.
 */
export function initActivationSteps(model: DeiT | import('../model.js').DeiTModel | Swin | SwinModel, batch: Tensor4D): void {
  if (!(model instanceof DeiT) && !(model instanceof Swin)) throw new Error('initActivationSteps: expects a DeiT (createDeiT/quantizeDeiT) or a Swin (createSwin/quantizeSwin)');
  const qs = model instanceof Swin ? model.activationQuantizers() : modelActivationQuantizers(model);
  if (qs.length === 0) return; // a full-precision model: nothing to initialise
  for (const q of qs) q.dispose(); // drops the step; the next apply initialises it from its input
  tf.tidy(() => {
    model.forwardTrain(batch);
  });
}
