import * as tf from '@tensorflow/tfjs-core';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { initActivationSteps, loadSafetensors } from '@ofq/vit';
import { archOf, teacherNaming, type ModelNaming, type TrainModel } from './model-registry.js';
import { isOfqError } from '@ofq/core';
import { DataError } from '../errors.js';
import type { Batch } from '../data/batches.js';
import type { Recipe } from '../recipe/schema.js';
import { disposeCheckpoint, loadCheckpoint } from './checkpoint.js';
import { assertFiniteTensors } from './finite-check.js';

// Model building and loading shared by `train` and `ofq eval`, so both see the same models.

export type Naming = ModelNaming;

/** The FP model of a recipe (`model.arch`, initialised from the recipe's seed). */
export function buildTeacher(recipe: Recipe): TrainModel {
  return archOf(recipe).createFP(recipe.model, recipe.seed);
}

/** Loads `teacher.weights` (safetensors); an unreadable, damaged or non-finite file is an error naming it. */
export function loadTeacherWeights(teacher: TrainModel, recipe: Recipe): void {
  const file = resolve(recipe.teacher.weights!);
  let tensors: Map<string, tf.Tensor>;
  try {
    tensors = loadSafetensors(new Uint8Array(readFileSync(file)));
  } catch (e) {
    const why = isOfqError(e) ? e.message : ((e as NodeJS.ErrnoException).code ?? (e as Error).message);
    throw new DataError(`cannot read the FP teacher weights ${file} (teacher.weights): ${why}`);
  }
  try {
    assertFiniteTensors(tensors, `${file} (teacher.weights)`);
    teacher.loadStateDict(tensors, { naming: teacherNaming(recipe), strict: true });
  } finally {
    tf.dispose([...tensors.values()]);
  }
}

/**
 * The quantized student of a recipe: `quantizeDeiT(teacher)` (sharing nothing the teacher still
 * needs) followed by the LSQ activation-step initialisation pass on `initBatch`.
 */
export function buildStudent(teacher: TrainModel, recipe: Recipe, initBatch: Batch): TrainModel {
  const { initBatch: _n, ...quant } = recipe.quant;
  const student = archOf(recipe).quantize(teacher, { ...quant, seed: recipe.seed });
  const x = tf.tensor4d(initBatch.x, initBatch.shape);
  try {
    initActivationSteps(student as Parameters<typeof initActivationSteps>[0], x);
  } finally {
    x.dispose();
  }
  return student;
}

/** Loads a checkpoint's weights into a model (refusing one saved under another config when `config` is given). */
export function loadModelCheckpoint(model: TrainModel, dir: string, naming: Naming, config?: unknown): void {
  const ck = loadCheckpoint(dir, { config });
  try {
    model.loadStateDict(ck.weights, { naming, strict: true });
  } finally {
    disposeCheckpoint(ck);
  }
}
