// The model families a recipe can train (`model.arch`): how to build the FP teacher, convert it to
// the OFQ student, which names its checkpoints use, and which weights CGA anneals (docs/algorithm.md §6.2).
import type * as tf from '@tensorflow/tfjs-core';
import type { QuantizedWeightRef } from '@ofq/core';
import { DEFAULT_CGA_PATTERNS } from '@ofq/cga';
import { createDeiT, createSwin, quantizeDeiT, quantizeSwin, type DeiTModel, type NamedParameter, type QuantConfig, type SwinModel } from '@ofq/vit';
import type { Recipe } from '../recipe/schema.js';

/** Checkpoint naming of a model family ('ofq-reference' for quantized students of both). */
export type ModelNaming = 'timm' | 'torchvision' | 'ofq-reference';

/** What the pipeline needs of a model (DeiT and Swin both provide it; they check the naming they get). */
export interface TrainModel {
  readonly config: unknown;
  predict(x: tf.Tensor4D): tf.Tensor2D;
  forwardTrain(x: tf.Tensor4D): { cls: tf.Tensor2D; dist: tf.Tensor2D | null };
  namedParameters(naming?: ModelNaming): NamedParameter[];
  stateDict(o?: { naming?: ModelNaming }): Map<string, tf.Tensor>;
  loadStateDict(t: Map<string, tf.Tensor> | Record<string, tf.Tensor>, o?: { naming?: ModelNaming; strict?: boolean }): void;
  quantizedWeights(): QuantizedWeightRef[];
  setQKGradientMask(mask: Parameters<DeiTModel['setQKGradientMask']>[0]): void;
  dispose(): void;
}

export interface ModelArch {
  /** Naming of the FP model's own checkpoints (and the default of `teacher.naming`). */
  fpNaming: ModelNaming;
  /** The reference's CGA selection for QKR students (docs/decisions.md #18 for Swin: the PatchMerging reductions too). */
  cgaSelect: readonly string[];
  createFP(model: Recipe['model'], seed: number): TrainModel;
  quantize(fp: TrainModel, quant: QuantConfig): TrainModel;
}

const asTrain = (m: DeiTModel | SwinModel) => m as unknown as TrainModel;

export const MODEL_ARCHS: Record<Recipe['model']['arch'], ModelArch> = {
  deit: {
    fpNaming: 'timm',
    cgaSelect: DEFAULT_CGA_PATTERNS,
    createFP: ({ arch: _a, preset, depth, numHeads, distilled, depths: _d, windowSize: _w, stochasticDepthProb: _s, gradientCheckpointing: _g, ...m }, seed) =>
      asTrain(createDeiT({ ...(preset ? { preset: preset as 'deit-tiny' } : {}), ...m, depth, numHeads: numHeads as number, distilled: distilled ?? true, seed })),
    quantize: (fp, quant) => asTrain(quantizeDeiT(fp as unknown as DeiTModel, quant)),
  },
  swin: {
    fpNaming: 'torchvision',
    // The reference's Swin CGA loop: module names ending in fc1, fc2, .v, proj or reduction.
    cgaSelect: ['features.*.*.attn.v.weight', 'features.*.*.attn.proj.weight', 'features.*.*.mlp.fc1.weight', 'features.*.*.mlp.fc2.weight', 'features.*.reduction.weight'],
    createFP: ({ arch: _a, preset, depth: _d, distilled: _x, numHeads, depths, windowSize, stochasticDepthProb, gradientCheckpointing, ...m }, seed) => {
      const swin = createSwin({
        ...(preset ? { preset: preset as 'swin-t' } : {}), ...m, numHeads: numHeads as number[], depths, windowSize,
        stochasticDepthProb: stochasticDepthProb ?? 0, seed,
      });
      swin.gradientCheckpointing = gradientCheckpointing ?? false;
      return asTrain(swin);
    },
    quantize: (fp, quant) => asTrain(quantizeSwin(fp as unknown as SwinModel, quant)), // keeps fp's gradientCheckpointing
  },
};

export function archOf(recipe: Recipe): ModelArch {
  return MODEL_ARCHS[recipe.model.arch];
}

/** The teacher file's naming: the recipe's, else the architecture's. */
export function teacherNaming(recipe: Recipe): ModelNaming {
  return recipe.teacher.naming ?? archOf(recipe).fpNaming;
}
