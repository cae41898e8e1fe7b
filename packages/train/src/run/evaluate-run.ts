import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Batch } from '../data/batches.js';
import { DataError } from '../errors.js';
import { openData } from './data-sources.js';
import { top1 } from './evaluate.js';
import { buildStudent, buildTeacher, loadModelCheckpoint, loadTeacherWeights } from './models.js';
import type { ProgressSink } from './progress.js';
import { readRunConfig, repairRunDir } from './run-dir.js';
import { archOf } from './model-registry.js';
import { acquireRunLock } from './run-lock.js';
import { asEvalWasmHeapError } from './wasm-abort.js';

export interface EvalResult {
  fpTop1: number | null;
  quantTop1: number | null;
  split: 'test' | 'val';
  images: number;
}

export interface EvaluateRunOptions {
  split?: 'test' | 'val';
  progress?: ProgressSink;
  log?: (line: string) => void;
  /** Evaluation batch size instead of the run's `eval.batchSize` (accuracy does not depend on it). */
  batchSize?: number;
}

const hasCheckpoint = (d: string) => existsSync(join(d, 'state.json'));

/**
 * Re-evaluates a run directory's best FP teacher and best quantized student on the test (or val)
 * split, with the models and checkpoint loading `train` uses. Holds the run's lock while it reads.
 */
export async function evaluateRun(runDirIn: string, o: EvaluateRunOptions = {}): Promise<EvalResult> {
  const runDir = resolve(runDirIn);
  const recipe = readRunConfig(runDir, `${runDir} is not a run directory`);
  // Only the loaders see another batch size: the checkpoints are checked against the run's own config.
  const batchSize = o.batchSize ?? recipe.eval.batchSize;
  const dataRecipe = { ...recipe, eval: { ...recipe.eval, batchSize } };
  const log = o.log ?? (() => undefined);
  const lock = acquireRunLock(runDir, 'eval', log);
  const teacher = buildTeacher(recipe);
  let closeData: () => Promise<void> = async () => undefined;
  try {
    repairRunDir(runDir, log);
    const data = openData(dataRecipe);
    closeData = () => data.close();
    const split = o.split ?? 'test';
    const loader = split === 'test' ? data.test : data.val;
    const images = split === 'test' ? data.testCount : data.valCount;
    let fpTop1: number | null = null;
    const teacherDir = join(runDir, 'teacher', 'best');
    if (hasCheckpoint(teacherDir) || (recipe.teacher.weights && existsSync(recipe.teacher.weights))) {
      if (hasCheckpoint(teacherDir)) loadModelCheckpoint(teacher, teacherDir, archOf(recipe).fpNaming, recipe);
      else loadTeacherWeights(teacher, recipe);
      fpTop1 = await top1(teacher, loader, o.progress, `${split} fp`);
    }
    let quantTop1: number | null = null;
    const studentDir = [join(runDir, 'stage2', 'best'), join(runDir, 'stage1', 'best')].find(hasCheckpoint);
    if (studentDir) {
      // LSQ steps exist only after the init pass; the checkpoint then overwrites them.
      let first: Batch | undefined;
      for await (const b of loader.epoch(0)) {
        first = b;
        break;
      }
      if (!first) throw new DataError(`no ${split} images to initialise the activation steps`);
      const student = buildStudent(teacher, recipe, first);
      try {
        loadModelCheckpoint(student, studentDir, 'ofq-reference', recipe);
        quantTop1 = await top1(student, loader, o.progress, `${split} w${recipe.quant.weightBits}a${recipe.quant.actBits}`);
      } finally {
        student.dispose();
      }
    }
    if (fpTop1 === null && quantTop1 === null) throw new DataError(`${runDir} has no best checkpoint to evaluate yet`);
    return { fpTop1, quantTop1, split, images };
  } catch (e) {
    throw asEvalWasmHeapError(e, batchSize);
  } finally {
    await closeData();
    teacher.dispose();
    lock.release();
  }
}
