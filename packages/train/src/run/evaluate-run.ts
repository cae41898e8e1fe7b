import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initActivationSteps, loadSafetensors } from '@ofq/vit';
import { archOf, teacherNaming } from './model-registry.js';
import { validateRecipe } from '../recipe/load.js';
import { DataError } from '../data/idx.js';
import { openData } from './data-sources.js';
import { disposeCheckpoint, loadCheckpoint } from './checkpoint.js';
import { top1 } from './evaluate.js';
import type { ProgressSink } from './progress.js';

export interface EvalResult {
  fpTop1: number | null;
  quantTop1: number | null;
  split: 'test' | 'val';
  images: number;
}

function newestExisting(...dirs: string[]): string | null {
  for (const d of dirs) if (existsSync(join(d, 'state.json'))) return d;
  return null;
}

/** Re-evaluates a run directory's best FP teacher and best quantized student on the test (or val) split. */
export async function evaluateRun(runDirIn: string, o: { split?: 'test' | 'val'; progress?: ProgressSink } = {}): Promise<EvalResult> {
  const runDir = resolve(runDirIn);
  const cfgPath = join(runDir, 'config.json');
  if (!existsSync(cfgPath)) throw new DataError(`${runDir} is not a run directory (config.json missing)`);
  const recipe = validateRecipe(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
  const data = openData(recipe);
  const split = o.split ?? 'test';
  const loader = split === 'test' ? data.test : data.val;
  const images = split === 'test' ? data.testCount : data.valCount;
  const arch = archOf(recipe);
  const teacher = arch.createFP(recipe.model, recipe.seed);
  try {
    let fpTop1: number | null = null;
    const teacherDir = newestExisting(join(runDir, 'teacher', 'best'));
    if (teacherDir) {
      const ck = loadCheckpoint(teacherDir);
      try {
        teacher.loadStateDict(ck.weights, { naming: arch.fpNaming, strict: true });
      } finally {
        disposeCheckpoint(ck);
      }
      fpTop1 = await top1(teacher, loader, o.progress, `${split} fp`);
    } else if (recipe.teacher.weights && existsSync(recipe.teacher.weights)) {
      const tensors = loadSafetensors(new Uint8Array(readFileSync(recipe.teacher.weights)));
      try {
        teacher.loadStateDict(tensors, { naming: teacherNaming(recipe), strict: true });
      } finally {
        tf.dispose([...tensors.values()]);
      }
      fpTop1 = await top1(teacher, loader, o.progress, `${split} fp`);
    }
    let quantTop1: number | null = null;
    const studentDir = newestExisting(join(runDir, 'stage2', 'best'), join(runDir, 'stage1', 'best'));
    if (studentDir) {
      const { initBatch: _initBatch, ...q } = recipe.quant;
      const student = arch.quantize(teacher, { ...q, seed: recipe.seed });
      try {
        // LSQ steps exist only after the init pass; the checkpoint then overwrites them.
        let x: tf.Tensor4D | undefined;
        for await (const b of loader.epoch(0)) {
          x = tf.tensor4d(b.x, b.shape);
          break;
        }
        if (!x) throw new DataError(`no ${split} images to initialise the activation steps`);
        initActivationSteps(student as Parameters<typeof initActivationSteps>[0], x);
        x.dispose();
        const ck = loadCheckpoint(studentDir);
        try {
          student.loadStateDict(ck.weights, { naming: 'ofq-reference', strict: true });
        } finally {
          disposeCheckpoint(ck);
        }
        quantTop1 = await top1(student, loader, o.progress, `${split} w${recipe.quant.weightBits}a${recipe.quant.actBits}`);
      } finally {
        student.dispose();
      }
    }
    if (fpTop1 === null && quantTop1 === null) throw new DataError(`${runDir} has no best checkpoint to evaluate yet`);
    return { fpTop1, quantTop1, split, images };
  } finally {
    teacher.dispose();
    await data.close();
  }
}
