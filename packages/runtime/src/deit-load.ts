// Loading a packed DeiT: @ofq/vit's own quantizeDeiT builds the model (so its forward pass IS vit's)
// from a zero-weight FP skeleton, with fixed-code block weight quantizers; weights are dequantized once,
// here, and the activation quantizers (LSQ steps, shifts) run as trained.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import { assertBits } from '@ofq/core';
import { LSQWeightQuantizer } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import {
  Attention, Block, DeiT, LayerNorm, Linear, Mlp, PatchEmbed, quantizeDeiT,
  resolveConfig, tokenCounts, type DeiTConfig, type WeightQuantizerFactory,
} from '@ofq/vit';
import { deitWeightSlots } from './deit-slots.js';
import { FixedWeightQuantizer, type WeightGrid } from './fixed-weight-quantizer.js';
import { PackedModelError, packedFail } from './errors.js';
import type { PackedModelFile } from './packed-format.js';

const zeros = (shape: number[]) => tf.tidy(() => tf.variable(tf.zeros(shape), false));

/** A full-precision DeiT of `config` with zero weights: the input quantizeDeiT converts. */
function floatSkeleton(c: DeiTConfig): DeiT {
  const dim = c.embedDim;
  const hidden = Math.round(dim * c.mlpRatio);
  const linear = (i: number, o: number) => new Linear(zeros([i, o]), zeros([o]));
  const blocks = Array.from({ length: c.depth }, () =>
    new Block(new LayerNorm(dim, c.layerNormEps), new Attention(linear(dim, 3 * dim), linear(dim, dim), c.numHeads),
      new LayerNorm(dim, c.layerNormEps), new Mlp(linear(dim, hidden), linear(hidden, dim))),
  );
  const { quant: _q, ...fpConfig } = c;
  return new DeiT(fpConfig, {
    patchEmbed: new PatchEmbed(zeros([c.patchSize, c.patchSize, c.inChans, dim]), zeros([dim])),
    clsToken: zeros([1, 1, dim]),
    distToken: c.distilled ? zeros([1, 1, dim]) : null,
    posEmbed: zeros([1, tokenCounts(c).tokens, dim]),
    blocks,
    norm: new LayerNorm(dim, c.layerNormEps),
    head: linear(dim, c.numClasses),
    headDist: c.distilled ? linear(dim, c.numClasses) : null,
  });
}

/** Block weights get fixed codes; the grid comes from the quantizer the model was trained with. */
const fixedQuantizers: WeightQuantizerFactory = ({ method, bits, name }) =>
  new FixedWeightQuantizer(method === 'lsq' ? new LSQWeightQuantizer({ bits }) : new StatsQuantizer({ bits }), name);

/**
 * A quantized DeiT with zero weights, ready for `loadPackedDeiT`: block weights have fixed-code
 * quantizers; the 8-bit LSQ patch embedding and heads keep theirs (with the stored scales as steps, LSQ
 * maps the dequantized weights onto themselves: round((k·s)/s) = k).
 */
export function buildLoadableDeiT(config: DeiTConfig): DeiT {
  const fp = floatSkeleton(config);
  try {
    return quantizeDeiT(fp, { ...config.quant!, referenceInit: false }, { weightQuantizer: fixedQuantizers });
  } finally {
    fp.dispose();
  }
}

/** The DeiT config of a packed file, validated (sizes as `resolveConfig`, quantization present). */
export function packedDeiTConfig(file: PackedModelFile): DeiTConfig {
  if (file.model.type !== 'deit') packedFail(`this file holds a ${file.model.type} model, not a DeiT`);
  let c: DeiTConfig;
  try {
    c = resolveConfig(file.model.config as Partial<DeiTConfig>);
    const q = c.quant;
    if (!q) throw new Error('quant is missing (a packed DeiT is a quantized one)');
    assertBits(q.weightBits, 'quant.weightBits');
    assertBits(q.actBits, 'quant.actBits');
    if (q.method !== 'ofq' && q.method !== 'lsq') throw new Error(`quant.method must be 'ofq' or 'lsq', got ${JSON.stringify(q.method)}`);
    if (typeof q.qkr !== 'boolean') throw new Error('quant.qkr must be a boolean');
  } catch (e) {
    throw new PackedModelError(`packed model: ofq.model.config: ${(e as Error).message}`, { cause: e });
  }
  return c;
}

function sameGrid(a: WeightGrid, b: WeightGrid): boolean {
  return a.kind === b.kind && a.bits === b.bits && a.codeRange[0] === b.codeRange[0] && a.codeRange[1] === b.codeRange[1] && a.offset === b.offset && a.divisor === b.divisor;
}

function gridText(g: WeightGrid): string {
  return `${g.kind} ${g.bits}-bit codes [${g.codeRange}] offset ${g.offset} divisor ${g.divisor}`;
}

function loadWeights(model: DeiT, file: PackedModelFile): Set<string> {
  const covered = new Set<string>();
  const names = new Set<string>();
  for (const slot of deitWeightSlots(model)) {
    const r = file.weights.get(slot.name);
    if (!r) packedFail(`weight "${slot.name}" is missing (the config needs it)`);
    if (!sameGrid(r, slot.quantizer)) packedFail(`weight "${slot.name}" is ${gridText(r)}, the config needs ${gridText(slot.quantizer)}`);
    const rank = r.shape.length;
    if (r.channelAxis !== -1 && r.channelAxis !== rank - 1) packedFail(`weight "${slot.name}": channelAxis must be the last axis, got ${r.channelAxis}`);
    slot.load(r);
    slot.covers.forEach((c) => covered.add(c));
    names.add(slot.name);
  }
  const extra = [...file.weights.keys()].filter((n) => !names.has(n));
  if (extra.length) packedFail(`weights not in this model's config: ${extra.join(', ')}`);
  return covered;
}

function loadFloats(model: DeiT, file: PackedModelFile, covered: Set<string>): void {
  const expected = model.params('ofq-reference').filter((s) => !covered.has(s.name) && s.kind !== 'constant');
  const problems: string[] = [];
  const map = new Map<string, Tensor>();
  for (const s of expected) {
    const f = file.floats.get(s.name);
    if (!f) problems.push(`missing "${s.name}"`);
    else if (f.shape.join(',') !== s.torchShape.join(',') && !(s.torchShape.length === 1 && s.torchShape[0] === 1 && f.data.length === 1)) {
      problems.push(`"${s.name}" is [${f.shape}], the config needs [${s.torchShape}]`);
    }
  }
  const known = new Set(expected.map((s) => s.name));
  for (const n of file.floats.keys()) if (!known.has(n)) problems.push(`unexpected tensor "${n}"`);
  if (problems.length) packedFail(`float tensors do not match the config: ${problems.join('; ')}`);
  try {
    for (const s of expected) {
      const f = file.floats.get(s.name)!;
      map.set(s.name, tf.tensor(f.data, f.shape, 'float32'));
    }
    model.loadStateDict(map, { naming: 'ofq-reference', strict: false });
  } finally {
    tf.dispose([...map.values()]);
  }
}

/** A packed DeiT ready for inference; `predict` gives the QAT model's eval logits. */
export class PackedDeiT {
  constructor(readonly model: DeiT, readonly file: PackedModelFile) {}

  get config(): DeiTConfig {
    return this.model.config;
  }

  /** Eval logits `[B, classes]` of NHWC images (normalised as `file.input` says). */
  predict(x: Tensor4D): Tensor2D {
    return this.model.predict(x);
  }

  dispose(): void {
    this.model.dispose();
  }
}

/** Builds the DeiT a validated packed file describes; every shape and grid is checked against its config. */
export function loadPackedDeiT(file: PackedModelFile): PackedDeiT {
  const config = packedDeiTConfig(file);
  const model = buildLoadableDeiT(config);
  try {
    const covered = loadWeights(model, file);
    loadFloats(model, file, covered);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return new PackedDeiT(model, file);
}
