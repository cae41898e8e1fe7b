// The Swin model (torchvision `SwinTransformer`): features.0 patch embedding, then per stage i the
// blocks at features.{2i+1} and a PatchMerging at features.{2i+2}, final norm, average pool, head.
// The same class holds the full-precision and the quantized variants; only the modules inside differ.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import type { LSQQuantizer } from '@ofq/lsq';
import type { QKGradientMask } from '@ofq/qkr';
import { activationQuantizersOf, prefixedRefs, type Module } from '../module.js';
import { collectState, decayGroups, loadState, namedParametersOf, prefixed, type NamedParameter, type ParamSpec } from '../params.js';
import type { LayerNorm } from '../nn/layer-norm.js';
import type { QKMaskable } from '../model.js';
import type { SwinConfig } from './config.js';
import type { SwinBlock } from './swin-block.js';
import type { PatchMerging } from './patch-merging.js';
import type { SwinPatchEmbed } from './swin-patch-embed.js';

/** torchvision's names; 'ofq-reference' is the same (the reference kept them, renaming only the quantized MLP's fc1/fc2). */
export type SwinNaming = 'torchvision' | 'ofq-reference';

export interface SwinModel {
  readonly config: SwinConfig;
  predict(x: Tensor4D): Tensor2D;
  /** Training forwards recompute each block in the backward pass (less memory, one more forward of compute). */
  gradientCheckpointing: boolean;
  /** Training forward: logits (`dist` is always null: Swin has one head). */
  forwardTrain(x: Tensor4D): { cls: Tensor2D; dist: Tensor2D | null };
  namedParameters(naming?: SwinNaming): NamedParameter[];
  readonly trainableVariables: { decay: tf.Variable[]; noDecay: tf.Variable[] };
  stateDict(o?: { naming?: SwinNaming }): Map<string, Tensor>;
  loadStateDict(t: Map<string, Tensor> | Record<string, Tensor>, o?: { naming?: SwinNaming; strict?: boolean }): void;
  /**
   * Every quantized weight (torchvision names) with the quantizer its forward applies: what CGA anneals
   * and the metrics follow. QKR's merged W_qk appears as `features.i.j.attn.qk.weight`. Empty in FP.
   */
  quantizedWeights(): QuantizedWeightRef[];
  setQKGradientMask(mask: QKGradientMask | null): void;
  dispose(): void;
}

export interface SwinParts {
  patchEmbed: SwinPatchEmbed;
  /** Blocks per stage. */
  stages: SwinBlock[][];
  /** PatchMerging after every stage but the last. */
  merges: PatchMerging[];
  norm: LayerNorm;
  head: Module;
}

function checkNaming(naming: unknown): SwinNaming {
  if (naming !== 'torchvision' && naming !== 'ofq-reference') {
    throw new Error(`Swin naming must be 'torchvision' or 'ofq-reference', got ${JSON.stringify(naming)}`);
  }
  return naming;
}

export class Swin implements SwinModel {
  readonly patchEmbed: SwinPatchEmbed;
  readonly stages: SwinBlock[][];
  readonly merges: PatchMerging[];
  readonly norm: LayerNorm;
  readonly head: Module;
  private disposed = false;
  /**
   * Training forwards recompute each block's residual branches in the backward pass instead of keeping
   * their intermediates (`SwinBlock.applyCheckpointed`): a quantized Swin-T's activation memory per image
   * drops several-fold, for one more forward pass of compute. Off by default; the gradients are the same bits.
   */
  gradientCheckpointing = false;
  /** Set by quantizeSwin with QKR: the largest dropped pretrained q/k bias per block, in order (docs/decisions.md #14). */
  conversionReport?: {
    droppedQKBiases: Array<{ maxAbsQBias: number; maxAbsKBias: number }>;
    /** Per block, when quantizeSwin got sample images: FP attention drift from dropping the q/k biases. */
    drift?: Array<{ maxAbsLogits: number; maxAbsProbs: number; maxAbsOutput: number; relativeOutput: number }>;
  };

  constructor(readonly config: SwinConfig, parts: SwinParts) {
    if (parts.merges.length !== parts.stages.length - 1) throw new Error('Swin: one PatchMerging between every two stages');
    this.patchEmbed = parts.patchEmbed;
    this.stages = parts.stages;
    this.merges = parts.merges;
    this.norm = parts.norm;
    this.head = parts.head;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('Swin: this model has been disposed');
  }

  private checkImages(x: Tensor): void {
    const c = this.config;
    if (x.rank !== 4 || x.shape[1] !== c.imgSize || x.shape[2] !== c.imgSize || x.shape[3] !== c.inChans) {
      throw new Error(`Swin: expected NHWC images [B, ${c.imgSize}, ${c.imgSize}, ${c.inChans}], got [${x.shape}]`);
    }
  }

  /** Output of every `features[i]` (patch embedding, stages and merges, before the final norm), `[B, H, W, C]`. */
  featureOutputs(x: Tensor4D, train = false): Tensor[] {
    this.checkAlive();
    this.checkImages(x);
    return tf.tidy(() => {
      const outs: Tensor[] = [];
      let h: Tensor = this.patchEmbed.apply(x);
      outs.push(h);
      this.stages.forEach((blocks, i) => {
        for (const b of blocks) h = train ? this.trainBlock(b, h) : b.apply(h);
        outs.push(h);
        if (i < this.merges.length) {
          h = this.merges[i].apply(h);
          outs.push(h);
        }
      });
      return outs;
    });
  }

  private trainBlock(b: SwinBlock, h: Tensor): Tensor {
    return this.gradientCheckpointing ? b.applyCheckpointed(h) : b.applyTrain(h);
  }

  /** The head input: final norm, then the average over the map, `[B, C]`. */
  pooled(x: Tensor4D, train = false): Tensor2D {
    return tf.tidy(() => {
      const outs = this.featureOutputs(x, train);
      return tf.mean(this.norm.apply(outs[outs.length - 1]), [1, 2]) as Tensor2D;
    });
  }

  predict(x: Tensor4D): Tensor2D {
    return tf.tidy(() => this.head.apply(this.pooled(x)) as Tensor2D);
  }

  forwardTrain(x: Tensor4D): { cls: Tensor2D; dist: Tensor2D | null } {
    const cls = tf.tidy(() => this.head.apply(this.pooled(x, true)) as Tensor2D);
    return { cls, dist: null };
  }

  /** Every state-dict entry, torchvision names. */
  params(naming: SwinNaming = 'torchvision'): ParamSpec[] {
    checkNaming(naming);
    const specs: ParamSpec[] = [...prefixed('features.0', this.patchEmbed.params())];
    this.stages.forEach((blocks, i) => {
      blocks.forEach((b, j) => specs.push(...prefixed(`features.${2 * i + 1}.${j}`, b.params())));
      if (i < this.merges.length) specs.push(...prefixed(`features.${2 * i + 2}`, this.merges[i].params()));
    });
    specs.push(...prefixed('norm', this.norm.params()), ...prefixed('head', this.head.params()));
    return specs;
  }

  namedParameters(naming: SwinNaming = 'torchvision'): NamedParameter[] {
    this.checkAlive();
    return namedParametersOf(this.params(naming));
  }

  get trainableVariables(): { decay: tf.Variable[]; noDecay: tf.Variable[] } {
    return decayGroups(this.namedParameters());
  }

  stateDict({ naming = 'torchvision' }: { naming?: SwinNaming } = {}): Map<string, Tensor> {
    this.checkAlive();
    return collectState(this.params(naming));
  }

  loadStateDict(
    tensors: Map<string, Tensor> | Record<string, Tensor>,
    { naming = 'torchvision', strict = true }: { naming?: SwinNaming; strict?: boolean } = {},
  ): void {
    this.checkAlive();
    loadState(this.params(naming), tensors, { strict, label: `Swin loadStateDict (${naming})` });
  }

  /** Every block in order (stage by stage). */
  get blocks(): SwinBlock[] {
    return this.stages.flat();
  }

  /** Every LSQ activation quantizer, in forward order (none in a full-precision Swin). */
  activationQuantizers(): LSQQuantizer[] {
    const out = activationQuantizersOf(this.patchEmbed.conv);
    this.stages.forEach((blocks, i) => {
      for (const b of blocks) out.push(...activationQuantizersOf(b));
      if (i < this.merges.length) out.push(...activationQuantizersOf(this.merges[i].reduction));
    });
    out.push(...activationQuantizersOf(this.head));
    return out;
  }

  quantizedWeights(): QuantizedWeightRef[] {
    this.checkAlive();
    const out = prefixedRefs('features.0', this.patchEmbed);
    this.stages.forEach((blocks, i) => {
      blocks.forEach((b, j) => out.push(...prefixedRefs(`features.${2 * i + 1}.${j}`, b)));
      if (i < this.merges.length) out.push(...prefixedRefs(`features.${2 * i + 2}`, this.merges[i]));
    });
    out.push(...prefixedRefs('head', this.head));
    return out;
  }

  setQKGradientMask(mask: QKGradientMask | null): void {
    let found = 0;
    for (const b of this.blocks) {
      const attn = b.attn as Partial<QKMaskable>;
      if (typeof attn.setQKGradientMask === 'function') {
        attn.setQKGradientMask(mask);
        found++;
      }
    }
    if (found === 0 && mask) throw new Error('setQKGradientMask: this Swin has no QKR attention (quantize with qkr: true)');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.patchEmbed.dispose();
    for (const b of this.blocks) b.dispose();
    for (const m of this.merges) m.dispose();
    this.norm.dispose();
    this.head.dispose();
  }
}
