// The DeiT model: patch embedding, class (+ distillation) token, position embedding, blocks, final
// norm and heads. The same class holds the full-precision and the quantized variants; only the
// modules inside differ.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Tensor2D, Tensor4D } from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import type { QKGradientMask } from '@ofq/qkr';
import type { DeiTConfig } from './config.js';
import { prefixedRefs, type Module } from './module.js';
import { collectState, decayGroups, directSpec, loadState, namedParametersOf, prefixed, type NamedParameter, type ParamSpec } from './params.js';
import type { Block } from './fp/block.js';
import type { LayerNorm } from './nn/layer-norm.js';
import { checkImages } from './nn/patchify.js';

export type Naming = 'timm' | 'ofq-reference';

export type { NamedParameter } from './params.js';

export interface DeiTModel {
  readonly config: DeiTConfig;
  predict(x: Tensor4D): Tensor2D;
  forwardTrain(x: Tensor4D): { cls: Tensor2D; dist: Tensor2D | null };
  namedParameters(naming?: Naming): NamedParameter[];
  readonly trainableVariables: { decay: tf.Variable[]; noDecay: tf.Variable[] };
  stateDict(o?: { naming?: Naming }): Map<string, Tensor>;
  loadStateDict(t: Map<string, Tensor> | Record<string, Tensor>, o?: { naming?: Naming; strict?: boolean }): void;
  /**
   * Every quantized weight (timm names) with the quantizer its forward pass applies: what CGA anneals,
   * what the metrics follow and what export packs. QKR's merged W_qk appears as `blocks.i.attn.qk.weight`;
   * without QKR, the fused qkv weight also appears as its q, k and v column blocks. Empty for FP models.
   */
  quantizedWeights(): QuantizedWeightRef[];
  setQKGradientMask(mask: QKGradientMask | null): void;
  dispose(): void;
}

/** Anything that accepts the CGA `includeQK` gradient-mask hook (the QKR attention). */
export interface QKMaskable {
  setQKGradientMask(mask: QKGradientMask | null): void;
}

function checkNaming(naming: unknown): Naming {
  if (naming !== 'timm' && naming !== 'ofq-reference') {
    throw new Error(`naming must be 'timm' or 'ofq-reference', got ${JSON.stringify(naming)}`);
  }
  return naming;
}

export interface DeiTParts {
  patchEmbed: Module;
  clsToken: tf.Variable;
  distToken: tf.Variable | null;
  posEmbed: tf.Variable;
  blocks: Block[];
  norm: LayerNorm;
  head: Module;
  headDist: Module | null;
}

export class DeiT implements DeiTModel {
  readonly patchEmbed: Module;
  readonly clsToken: tf.Variable;
  readonly distToken: tf.Variable | null;
  readonly posEmbed: tf.Variable;
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly head: Module;
  readonly headDist: Module | null;
  private disposed = false;
  /** Set by quantizeDeiT with QKR: the largest dropped pretrained q/k bias per block (docs/decisions.md #3). */
  conversionReport?: {
    droppedQKBiases: Array<{ maxAbsQBias: number; maxAbsKBias: number }>;
    /** Per block, when quantizeDeiT got sample images: FP attention drift from dropping the q/k biases. */
    drift?: Array<{ maxAbsLogits: number; maxAbsProbs: number; maxAbsOutput: number; relativeOutput: number }>;
  };

  constructor(readonly config: DeiTConfig, parts: DeiTParts) {
    this.patchEmbed = parts.patchEmbed;
    this.clsToken = parts.clsToken;
    this.distToken = parts.distToken;
    this.posEmbed = parts.posEmbed;
    this.blocks = parts.blocks;
    this.norm = parts.norm;
    this.head = parts.head;
    this.headDist = parts.headDist;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('DeiT: this model has been disposed');
  }

  /** Tokens after patch embedding, cls/dist tokens and position embedding: `[B, N, C]`. */
  embed(x: Tensor4D): Tensor {
    this.checkAlive();
    checkImages(x, this.config.imgSize, this.config.inChans);
    return tf.tidy(() => {
      const b = x.shape[0];
      const patches = this.patchEmbed.apply(x);
      const tokens: Tensor[] = [tf.tile(this.clsToken, [b, 1, 1])];
      if (this.distToken) tokens.push(tf.tile(this.distToken, [b, 1, 1]));
      tokens.push(patches);
      return tf.add(tf.concat(tokens, 1), this.posEmbed);
    });
  }

  /** The residual stream after each block (before the final norm). */
  blockOutputs(x: Tensor4D): Tensor[] {
    return tf.tidy(() => {
      const outs: Tensor[] = [];
      let h: Tensor = this.embed(x);
      for (const block of this.blocks) {
        h = block.apply(h);
        outs.push(h);
      }
      return outs;
    });
  }

  /** Final-normed class and distillation tokens `[B, C]`. */
  features(x: Tensor4D): { cls: Tensor2D; dist: Tensor2D | null } {
    const [cls, dist] = tf.tidy(() => {
      let h = this.embed(x);
      for (const block of this.blocks) h = block.apply(h);
      // Only the cls/dist tokens reach the heads: normalise just those rows (LayerNorm is per token).
      const [b, , c] = h.shape;
      const nHead = this.distToken ? 2 : 1;
      const normed = this.norm.apply(tf.slice(h, [0, 0, 0], [b, nHead, c]));
      const cls = tf.reshape(tf.slice(normed, [0, 0, 0], [b, 1, c]), [b, c]) as Tensor2D;
      const dist = this.distToken ? (tf.reshape(tf.slice(normed, [0, 1, 0], [b, 1, c]), [b, c]) as Tensor2D) : null;
      return dist ? [cls, dist] : [cls];
    });
    return { cls, dist: dist ?? null };
  }

  /** Training forward: both heads' logits (dist is null for a model without distillation token). */
  forwardTrain(x: Tensor4D): { cls: Tensor2D; dist: Tensor2D | null } {
    const [cls, dist] = tf.tidy(() => {
      const f = this.features(x);
      const cls = this.head.apply(f.cls) as Tensor2D;
      return f.dist && this.headDist ? [cls, this.headDist.apply(f.dist) as Tensor2D] : [cls];
    });
    return { cls, dist: dist ?? null };
  }

  /** Evaluation logits: `(cls + dist)/2` for a distilled model, else the class head. */
  predict(x: Tensor4D): Tensor2D {
    return tf.tidy(() => {
      const { cls, dist } = this.forwardTrain(x);
      return (dist ? tf.div(tf.add(cls, dist), 2) : cls) as Tensor2D;
    });
  }

  /** Every state-dict entry, PyTorch names (both namings coincide: the reference kept timm's module names). */
  params(naming: Naming = 'timm'): ParamSpec[] {
    checkNaming(naming);
    const specs: ParamSpec[] = [directSpec('cls_token', this.clsToken), directSpec('pos_embed', this.posEmbed)];
    if (this.distToken) specs.push(directSpec('dist_token', this.distToken));
    specs.push(...prefixed('patch_embed', this.patchEmbed.params()));
    this.blocks.forEach((b, i) => specs.push(...prefixed(`blocks.${i}`, b.params())));
    specs.push(...prefixed('norm', this.norm.params()));
    specs.push(...prefixed('head', this.head.params()));
    if (this.headDist) specs.push(...prefixed('head_dist', this.headDist.params()));
    return specs;
  }

  namedParameters(naming: Naming = 'timm'): NamedParameter[] {
    this.checkAlive();
    return namedParametersOf(this.params(naming));
  }

  get trainableVariables(): { decay: tf.Variable[]; noDecay: tf.Variable[] } {
    return decayGroups(this.namedParameters());
  }

  stateDict({ naming = 'timm' }: { naming?: Naming } = {}): Map<string, Tensor> {
    this.checkAlive();
    return collectState(this.params(naming));
  }

  loadStateDict(
    tensors: Map<string, Tensor> | Record<string, Tensor>,
    { naming = 'timm', strict = true }: { naming?: Naming; strict?: boolean } = {},
  ): void {
    this.checkAlive();
    loadState(this.params(naming), tensors, { strict, label: `loadStateDict (${naming})` });
  }

  quantizedWeights(): QuantizedWeightRef[] {
    this.checkAlive();
    return [
      ...prefixedRefs('patch_embed', this.patchEmbed),
      ...this.blocks.flatMap((b, i) => prefixedRefs(`blocks.${i}`, b)),
      ...prefixedRefs('head', this.head),
      ...prefixedRefs('head_dist', this.headDist),
    ];
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
    if (found === 0 && mask) throw new Error('setQKGradientMask: this model has no QKR attention (quantize with qkr: true)');
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.patchEmbed.dispose();
    this.clsToken.dispose();
    this.distToken?.dispose();
    this.posEmbed.dispose();
    for (const b of this.blocks) b.dispose();
    this.norm.dispose();
    this.head.dispose();
    this.headDist?.dispose();
  }
}
