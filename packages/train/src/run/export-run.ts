// Shipping a run: the best quantized student as a packed `.ofq` file (@ofq/runtime), with the FP
// safetensors size of the same architecture for comparison.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initActivationSteps, saveSafetensors, type DeiTModel } from '@ofq/vit';
import { archOf, type TrainModel } from './model-registry.js';
import { exportDeiT } from '@ofq/runtime';
import { IMAGENET_MEAN, IMAGENET_STD } from '@ofq/data';
import type { Recipe } from '../recipe/schema.js';
import { validateRecipe } from '../recipe/load.js';
import { NORMALISATION } from '../data/datasets.js';
import { DataError } from '../data/idx.js';
import { disposeCheckpoint, loadCheckpoint } from './checkpoint.js';
import { writeFileAtomic } from './durable-fs.js';
import { readRunClasses } from './run-classes.js';

/** File name of the packed model the main job writes into its run directory. */
export const RUN_MODEL_FILE = 'model.ofq';

export interface PackedRunModel {
  path: string;
  bytes: number;
  /** Size of the same architecture's FP safetensors file. */
  fpBytes: number;
}

const DIGITS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/**
 * `ofq.input`: normalisation and labels; for image folders also the class names (label index order) and
 * the eval transform the run tested with, so `ofq predict --data <folder>` feeds the same pixels.
 */
export function inputOf(recipe: Recipe, classes: string[] | null = null) {
  const d = recipe.data;
  if (d.dataset === 'imagenet' || d.dataset === 'folder') {
    return {
      mean: d.mean ?? [...IMAGENET_MEAN],
      std: d.std ?? [...IMAGENET_STD],
      ...(classes ? { labels: classes } : {}),
      imgSize: recipe.model.imgSize,
      cropPct: d.cropPct,
      ...(d.evalResize !== undefined ? { resize: d.evalResize } : {}),
      interpolation: d.evalInterpolation,
      normalize: d.normalize,
    };
  }
  const norm = NORMALISATION[d.dataset] ?? { mean: [0.5], std: [0.5] };
  return { mean: d.mean ?? norm.mean, std: d.std ?? norm.std, ...(d.dataset === 'mnist' ? { labels: DIGITS } : {}) };
}

function fpBytesOf(fp: DeiTModel): number {
  const state = fp.stateDict();
  try {
    return saveSafetensors(state).byteLength;
  } finally {
    tf.dispose([...state.values()]);
  }
}

/**
 * Writes `student` packed to `path` and reports its size against the FP `teacher`'s safetensors;
 * `classes` (an image-folder run's names by label index) become `ofq.input.labels`.
 */
export function writeRunModel(path: string, student: DeiTModel, teacher: DeiTModel, recipe: Recipe, info: Record<string, unknown> = {}, classes: string[] | null = null): PackedRunModel {
  const fpBytes = fpBytesOf(teacher);
  const bytes = exportDeiT(student, { input: inputOf(recipe, classes), info: { recipe: recipe.name, exported: new Date().toISOString(), fpBytes, ...info } });
  writeFileAtomic(path, bytes);
  return { path, bytes: bytes.byteLength, fpBytes };
}

/** `model.ofq 131.2 kB (FP 828.4 kB, 6.3x smaller)`. */
export function formatPackedSize(r: PackedRunModel, name = RUN_MODEL_FILE): string {
  const kb = (b: number) => `${(b / 1000).toFixed(1)} kB`;
  return `${name} ${kb(r.bytes)} (FP ${kb(r.fpBytes)}, ${(r.fpBytes / r.bytes).toFixed(1)}x smaller)`;
}

function bestStudentDir(runDir: string): string {
  for (const d of [join(runDir, 'stage2', 'best'), join(runDir, 'stage1', 'best')]) if (existsSync(join(d, 'state.json'))) return d;
  throw new DataError(`${runDir} has no quantized checkpoint yet (stage1/best or stage2/best)`);
}

/** `ofq export`: packs the best quantized checkpoint of a run directory (default `<runDir>/model.ofq`). */
export function exportRun(runDirIn: string, o: { out?: string } = {}): PackedRunModel & { checkpoint: string } {
  const runDir = resolve(runDirIn);
  const cfgPath = join(runDir, 'config.json');
  if (!existsSync(cfgPath)) throw new DataError(`${runDir} is not a run directory (config.json missing)`);
  const recipe = validateRecipe(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  const checkpoint = bestStudentDir(runDir);
  if (recipe.model.arch !== 'deit') throw new DataError(`${cfgPath}: model.arch is '${recipe.model.arch}'; the packed format (@ofq/runtime) holds DeiT models only so far`);
  const m = recipe.model;
  const { initBatch: _i, ...q } = recipe.quant;
  const arch = archOf(recipe);
  const fp = arch.createFP(m, recipe.seed) as unknown as DeiTModel;
  const student = arch.quantize(fp as unknown as TrainModel, { ...q, seed: recipe.seed }) as unknown as DeiTModel;
  try {
    // LSQ steps exist after an init pass; the checkpoint then overwrites them (as `ofq eval` does).
    const x = tf.zeros([1, m.imgSize, m.imgSize, m.inChans]) as tf.Tensor4D;
    initActivationSteps(student, x);
    x.dispose();
    const ck = loadCheckpoint(checkpoint);
    try {
      student.loadStateDict(ck.weights, { naming: 'ofq-reference', strict: true });
    } finally {
      disposeCheckpoint(ck);
    }
    const summaryPath = join(runDir, 'summary.json');
    const summary = existsSync(summaryPath) ? (JSON.parse(readFileSync(summaryPath, 'utf8')) as { quantTop1?: number; fpTop1?: number }) : {};
    const out = resolve(o.out ?? join(runDir, RUN_MODEL_FILE));
    return { ...writeRunModel(out, student, fp, recipe, { checkpoint: checkpoint.slice(runDir.length + 1), testTop1: summary.quantTop1, fpTestTop1: summary.fpTop1 }, readRunClasses(runDir)), checkpoint };
  } finally {
    student.dispose();
    fp.dispose();
  }
}
