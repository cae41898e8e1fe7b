import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initActivationSteps, loadSafetensors, type DeiTModel } from '@ofq/vit';
import { archOf, teacherNaming, type ModelNaming, type TrainModel } from './model-registry.js';
import { DataError } from '../data/idx.js';
import { openData, type DataSources } from './data-sources.js';
import { AdamW } from '../optim/adamw.js';
import { lrForStep } from '../optim/schedule.js';
import { kdLoss, supervisedLoss } from '../loss.js';
import { validateRecipe } from '../recipe/load.js';
import type { Recipe, StageConfig } from '../recipe/schema.js';
import { disposeCheckpoint, loadCheckpoint, writeFileAtomic } from './checkpoint.js';
import { top1 } from './evaluate.js';
import { JsonlSink, RecorderSink, StageRouter } from './metrics-sink.js';
import { ProgressBar, SilentProgress, type ProgressSink } from './progress.js';
import { InterruptedError, runStage, type RunControl, type StageHooks, type StageResult } from './stage.js';
import { makeCGAStepper } from './cga-stepper.js';
import { renderRunReport } from './report.js';
import { RUN_MODEL_FILE, formatPackedSize, writeRunModel } from './export-run.js';
import { warnIfNoAccel } from '../runtime.js';

export interface TrainOptions {
  /** The recipe (ignored when resuming: the run directory's config.json is used). */
  recipe?: Recipe;
  /** Run directory; default `runs/<recipe>-<timestamp>`. */
  outDir?: string;
  /** Continue the run in this directory exactly where it stopped. */
  resume?: string;
  quiet?: boolean;
  /** Line logger (default: stderr unless quiet). */
  log?: (line: string) => void;
  control?: RunControl;
  hooks?: StageHooks;
  /** Write the HTML report at the end (default true). */
  report?: boolean;
  /** Active tfjs backend name, recorded in run.json. */
  backend?: string;
  /** Stop after the FP teacher and its test figure (the shared per-seed teacher of `ofq ablate`). */
  teacherOnly?: boolean;
}

export interface TrainSummary {
  runDir: string;
  fpTop1: number;
  /** NaN for a `teacherOnly` run (as are the stage figures). */
  quantTop1: number;
  stage1ValTop1: number;
  stage2ValTop1: number | null;
  seconds: number;
  /** Wall seconds per phase of this process (setup, teacher, testFp, init, stage1, stage2, testQuant, report). */
  timings: Record<string, number>;
  reportPath: string | null;
  summaryLine: string;
}

/** Wall-clock seconds per pipeline phase: `lap(name)` closes the phase that ran since the previous lap. */
class PhaseTimer {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();
  lap(phase: string): void {
    const now = performance.now();
    this.seconds[phase] = Math.round((this.seconds[phase] ?? 0) * 1000 + (now - this.last)) / 1000;
    this.last = now;
  }
  /** One line for the log: `time: teacher 2.3 min · stage1 1.8 min · …` (phases under 0.5 s left out). */
  format(): string {
    const f = (v: number) => (v >= 60 ? `${(v / 60).toFixed(1)} min` : `${v.toFixed(0)} s`);
    return Object.entries(this.seconds)
      .filter(([, v]) => v >= 0.5)
      .map(([k, v]) => `${k} ${f(v)}`)
      .join(' · ');
  }
}

export class MissingDataError extends Error {
  override name = 'MissingDataError';
}

/** Fails early, before any model is built, when a recipe's data or weights are not on disk. */
export function checkInputs(recipe: Recipe): void {
  const missing: string[] = [];
  if (recipe.data.dataset === 'imagenet' || recipe.data.dataset === 'folder') {
    const dir = recipe.data.dir ? resolve(recipe.data.dir) : '(data.dir not set)';
    if (!recipe.data.dir || !existsSync(dir)) {
      const what = recipe.data.dataset === 'imagenet' ? 'ImageNet folder' : 'image folder';
      missing.push(`${what} not found at ${dir}: this recipe needs train/ and val/ class folders (ImageFolder layout); set it with --set data.dir=<path>`);
    }
  } else if (recipe.data.dir && !existsSync(recipe.data.dir)) {
    missing.push(`data directory not found: ${resolve(recipe.data.dir)} (data.dir)`);
  }
  if (recipe.teacher.weights && !existsSync(recipe.teacher.weights)) {
    missing.push(`FP teacher weights not found at ${resolve(recipe.teacher.weights)} (teacher.weights, a safetensors file in ${teacherNaming(recipe)} naming)`);
  }
  if (missing.length) throw new MissingDataError(`recipe '${recipe.name}' cannot run:\n  ${missing.join('\n  ')}`);
}

function accumSteps(s: { batchSize: number; globalBatch?: number }, what: string): number {
  if (!s.globalBatch) return 1;
  if (s.globalBatch % s.batchSize !== 0) {
    throw new RangeError(`${what}.globalBatch (${s.globalBatch}) must be a multiple of ${what}.batchSize (${s.batchSize})`);
  }
  return s.globalBatch / s.batchSize;
}

function scheduleOf(s: StageConfig | NonNullable<Recipe['teacher']['train']>) {
  const sched = { lr: s.lr, warmupLr: s.warmupLr, warmupEpochs: s.warmupEpochs, minLr: s.minLr, epochs: s.epochs };
  return (epoch: number, stepInEpoch: number, stepsPerEpoch: number) =>
    lrForStep(sched, epoch, stepInEpoch, stepsPerEpoch, s.perStepLr);
}

/**
 * Every quantized weight the recorder follows, each on its own quantizer's grid: QKR's merged W_qk,
 * q/k/v blocks of a fused qkv (the fused weight itself would only repeat them), proj, fc1, fc2, and the
 * 8-bit patch embedding and heads.
 */
function trackedWeights(model: TrainModel) {
  return model.quantizedWeights().filter((r) => !r.name.endsWith('.attn.qkv.weight'));
}

function paramsOf(model: TrainModel, naming: ModelNaming) {
  return model.namedParameters(naming).filter((p) => p.variable.trainable);
}

/**
 * The OFQ pipeline (docs/algorithm.md §7): FP teacher (trained here or loaded) → conversion to the quantized
 * student → LSQ activation-step initialisation → stage 1 QAT with KD → stage 2 CGA from the best
 * stage-1 checkpoint at constant LR → test evaluation → HTML report.
 */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  const timer = new PhaseTimer();
  const quiet = opts.quiet ?? false;
  const log = opts.log ?? (quiet ? () => undefined : (l: string) => process.stderr.write(l + '\n'));
  const progress: ProgressSink = quiet ? new SilentProgress() : new ProgressBar();
  const control: RunControl = opts.control ?? { stopRequested: false };

  // Run directory and the resolved config.
  let recipe: Recipe;
  let runDir: string;
  if (opts.resume) {
    runDir = resolve(opts.resume);
    const cfgPath = join(runDir, 'config.json');
    if (!existsSync(cfgPath)) throw new DataError(`cannot resume: ${cfgPath} not found (is ${runDir} a run directory?)`);
    recipe = validateRecipe(JSON.parse(readFileSync(cfgPath, 'utf8')), cfgPath);
    log(`resuming ${runDir}`);
  } else {
    if (!opts.recipe) throw new Error('train: pass a recipe or resume');
    recipe = opts.recipe;
    checkInputs(recipe);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
    runDir = resolve(opts.outDir ?? join('runs', `${recipe.name}-${stamp}`));
    mkdirSync(runDir, { recursive: true });
    writeFileAtomic(join(runDir, 'config.json'), JSON.stringify(recipe, null, 2));
  }
  checkInputs(recipe);
  const runInfoPath = join(runDir, 'run.json');
  const runInfo: Record<string, unknown> = existsSync(runInfoPath) ? JSON.parse(readFileSync(runInfoPath, 'utf8')) : {};
  runInfo.recipe = recipe.name;
  runInfo.backend = opts.backend ?? tf.getBackend();
  warnIfNoAccel(log);
  runInfo.tfjs = tf.version_core;
  runInfo.started ??= new Date().toISOString();
  writeFileAtomic(runInfoPath, JSON.stringify(runInfo, null, 2));

  const metrics = new StageRouter(new JsonlSink(join(runDir, 'train-log.jsonl')));
  const data: DataSources = openData(recipe);
  log(`data: ${data.summary}`);
  // Image folders: the class names by index, for predictions and reports.
  if (data.classes) writeFileAtomic(join(runDir, 'classes.json'), JSON.stringify(data.classes));
  const valLoader = data.val;
  const testLoader = data.test;

  const arch = archOf(recipe);
  const fpNaming = arch.fpNaming;
  const teacher = arch.createFP(recipe.model, recipe.seed);
  let student: TrainModel | null = null;
  timer.lap('setup');
  try {
    // ---- FP teacher ----
    if (recipe.teacher.weights) {
      const tensors = loadSafetensors(new Uint8Array(readFileSync(recipe.teacher.weights)));
      try {
        teacher.loadStateDict(tensors, { naming: teacherNaming(recipe), strict: true });
      } finally {
        tf.dispose([...tensors.values()]);
      }
      log(`teacher: loaded ${recipe.teacher.weights}`);
    } else {
      const t = recipe.teacher.train!;
      const params = paramsOf(teacher, fpNaming);
      const optimizer = new AdamW(params, { learningRate: t.lr, weightDecay: t.weightDecay });
      try {
        await runStage({
          name: 'teacher',
          dir: join(runDir, 'teacher'),
          model: teacher,
          naming: fpNaming,
          params,
          optimizer,
          loss: (x, y) => {
            const { cls, dist } = teacher.forwardTrain(x);
            return supervisedLoss(cls, dist, y);
          },
          lrAt: scheduleOf(t),
          epochs: t.epochs + t.cooldownEpochs,
          train: data.train(t.batchSize),
          val: valLoader,
          accumSteps: accumSteps(t, 'teacher.train'),
          maxStepsPerEpoch: t.maxStepsPerEpoch,
          config: recipe,
          control,
          hooks: opts.hooks,
          metrics,
          progress,
          logEvery: recipe.logEvery,
        });
      } finally {
        optimizer.dispose();
      }
      loadBest(teacher, join(runDir, 'teacher', 'best'), fpNaming);
    }
    timer.lap('teacher');
    const fpTop1 = await top1(teacher, testLoader, progress, 'test fp');
    timer.lap('testFp');
    metrics.record({ type: 'eval', stage: 'teacher', split: 'test', top1: fpTop1 });
    if (opts.teacherOnly) return finishTeacherOnly(runDir, recipe, fpTop1, (performance.now() - started) / 1000, timer.seconds, runInfo, runInfoPath);

    // ---- Conversion and LSQ initialisation ----
    const quant = { ...recipe.quant, seed: recipe.seed };
    const { initBatch, ...quantConfig } = quant;
    student = arch.quantize(teacher, quantConfig);
    {
      const b = await data.initBatch(initBatch);
      const x = tf.tensor4d(b.x, b.shape);
      initActivationSteps(student as Parameters<typeof initActivationSteps>[0], x);
      x.dispose();
    }
    const s1 = recipe.stage1;
    const stage1Dir = join(runDir, 'stage1');
    const params = paramsOf(student, 'ofq-reference');
    // CGA's selection (docs/algorithm.md §6.2; docs/decisions.md #18 for Swin): the recipe's, else the architecture's.
    const cgaSelect = recipe.stage2.select ?? arch.cgaSelect;
    const studentSink = new RecorderSink(
      runDir,
      trackedWeights(student),
      params.filter((p) => /\.s$/.test(p.name)).map((p) => ({ name: p.name, variable: p.variable })),
      recipe as unknown as Record<string, unknown>,
      metrics.teacher,
    );
    metrics.student = studentSink;
    const trainLoader = data.train(s1.batchSize);
    const s = student;
    const kd = {
      prepare: (x: tf.Tensor4D) => teacher.forwardTrain(x).cls, // teacher logits: constants (outside the tape)
      loss: (x: tf.Tensor4D, y: tf.Tensor1D | tf.Tensor2D, t: tf.Tensor | null) => {
        const { cls, dist } = s.forwardTrain(x);
        return kdLoss(cls, dist, y, t as tf.Tensor2D);
      },
    };

    timer.lap('init');
    // ---- Stage 1: QAT with KD ----
    const opt1 = new AdamW(params, { learningRate: s1.lr, weightDecay: s1.weightDecay });
    let r1: StageResult;
    try {
      r1 = await runStage({
        name: 'stage1',
        dir: stage1Dir,
        model: student,
        naming: 'ofq-reference',
        params,
        optimizer: opt1,
        ...kd,
        lrAt: scheduleOf(s1),
        epochs: s1.epochs + s1.cooldownEpochs,
        train: trainLoader,
        val: valLoader,
        accumSteps: accumSteps(s1, 'stage1'),
        maxStepsPerEpoch: s1.maxStepsPerEpoch,
        config: recipe,
        control,
        hooks: opts.hooks,
        metrics,
        progress,
        logEvery: recipe.logEvery,
      });
    } finally {
      opt1.dispose();
    }

    timer.lap('stage1');
    // ---- Stage 2: CGA from the best stage-1 checkpoint, constant LR ----
    const s2 = recipe.stage2;
    let r2: StageResult | null = null;
    let finalDir = join(stage1Dir, 'best');
    if (s2.enabled && s2.epochs > 0) {
      const stage2Dir = join(runDir, 'stage2');
      studentSink.offsets.set('stage2', r1.steps);
      const opt2 = new AdamW(params, { learningRate: s2.lr, weightDecay: s1.weightDecay });
      if (!existsSync(join(stage2Dir, 'last'))) {
        // Like the reference's `--resume <model_best>`: model and optimizer state from stage 1's best.
        const ck = loadCheckpoint(join(stage1Dir, 'best'));
        try {
          student.loadStateDict(ck.weights, { naming: 'ofq-reference', strict: true });
          if (ck.optimizer) opt2.importState(ck.optimizer);
        } finally {
          disposeCheckpoint(ck);
        }
        // The weights jumped back to stage 1's best: compare the next codes with these, not the last ones.
        studentSink.resetTracking();
      }
      const cga = s2.cga ? makeCGAStepper(opt2, student, { boundaryRange: s2.boundaryRange, includeQK: s2.includeQK, select: cgaSelect }) : null;
      try {
        r2 = await runStage({
          name: 'stage2',
          dir: stage2Dir,
          model: student,
          naming: 'ofq-reference',
          params,
          optimizer: opt2,
          stepper: cga?.stepper,
          ...kd,
          lrAt: () => s2.lr,
          epochs: s2.epochs,
          train: trainLoader,
          val: valLoader,
          accumSteps: accumSteps(s1, 'stage1'),
          maxStepsPerEpoch: s2.maxStepsPerEpoch,
          config: recipe,
          control,
          hooks: opts.hooks,
          stepExtras: cga ? () => ({ cgaFrozen: cga.frozenFraction() }) : undefined,
          metrics,
          progress,
          logEvery: recipe.logEvery,
        });
      } finally {
        cga?.dispose();
        opt2.dispose();
      }
      finalDir = join(stage2Dir, 'best');
    }

    timer.lap('stage2');
    // ---- Final evaluation of the selected model ----
    loadBest(student, finalDir, 'ofq-reference');
    const quantTop1 = await top1(student, testLoader, progress, `test w${recipe.quant.weightBits}a${recipe.quant.actBits}`);
    timer.lap('testQuant');
    // The packed format holds DeiT models so far; other architectures keep their checkpoints only.
    const shipped =
      recipe.model.arch === 'deit'
        ? writeRunModel(join(runDir, RUN_MODEL_FILE), student as unknown as DeiTModel, teacher as unknown as DeiTModel, recipe, { testTop1: quantTop1, fpTestTop1: fpTop1 })
        : null;
    // Plotted at the last optimizer step of the stage the model came from.
    metrics.record({ type: 'eval', stage: r2 ? 'stage2' : 'stage1', split: 'test', top1: quantTop1, step: r2 ? r2.steps : r1.steps });
    metrics.close();
    let seconds = (performance.now() - started) / 1000;
    const tag = `w${recipe.quant.weightBits}a${recipe.quant.actBits}`;
    const summary = {
      recipe: recipe.name,
      fpTop1,
      quantTop1,
      stage1: { bestValTop1: r1.bestTop1, bestEpoch: r1.bestEpoch, steps: r1.steps },
      stage2: r2 ? { bestValTop1: r2.bestTop1, bestEpoch: r2.bestEpoch, steps: r2.steps } : null,
      seconds,
      timings: timer.seconds,
      backend: runInfo.backend,
    };
    runInfo.finished = new Date().toISOString();
    if (data.skipped().length) runInfo.skippedImages = data.skipped();
    writeFileAtomic(runInfoPath, JSON.stringify(runInfo, null, 2));
    const reportPath = opts.report === false ? null : await renderRunReport(runDir, log);
    timer.lap('report');
    seconds = (performance.now() - started) / 1000;
    summary.seconds = seconds;
    writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
    log(`time: ${timer.format()}`);
    return {
      runDir,
      fpTop1,
      quantTop1,
      stage1ValTop1: r1.bestTop1,
      stage2ValTop1: r2?.bestTop1 ?? null,
      seconds,
      timings: timer.seconds,
      reportPath,
      summaryLine: `top-1: fp ${(100 * fpTop1).toFixed(1)}% · ${tag} ${(100 * quantTop1).toFixed(1)}%${shipped ? ` · ${formatPackedSize(shipped)}` : ''}`,
    };
  } catch (e) {
    if (e instanceof InterruptedError) e.runDir = runDir;
    throw e;
  } finally {
    metrics.close();
    await data.close();
    student?.dispose();
    teacher.dispose();
  }
}

function finishTeacherOnly(
  runDir: string,
  recipe: Recipe,
  fpTop1: number,
  seconds: number,
  timings: Record<string, number>,
  runInfo: Record<string, unknown>,
  runInfoPath: string,
): TrainSummary {
  runInfo.finished = new Date().toISOString();
  writeFileAtomic(runInfoPath, JSON.stringify(runInfo, null, 2));
  writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify({ recipe: recipe.name, teacherOnly: true, fpTop1, seconds, timings, backend: runInfo.backend }, null, 2));
  return {
    runDir, fpTop1, quantTop1: NaN, stage1ValTop1: NaN, stage2ValTop1: null, seconds, timings, reportPath: null,
    summaryLine: `top-1: fp ${(100 * fpTop1).toFixed(1)}% (teacher only)`,
  };
}

function loadBest(model: TrainModel, dir: string, naming: ModelNaming): void {
  const ck = loadCheckpoint(dir);
  try {
    model.loadStateDict(ck.weights, { naming, strict: true });
  } finally {
    disposeCheckpoint(ck);
  }
}
