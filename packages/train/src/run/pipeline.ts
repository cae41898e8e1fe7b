import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeiTModel } from '@ofq/vit';
import { archOf, teacherNaming, type ModelNaming, type TrainModel } from './model-registry.js';
import { DataError, InterruptedError, MissingDataError, RecipeError } from '../errors.js';
import { openData, type DataSources } from './data-sources.js';
import { warnIfNoAccel } from '../runtime.js';
import type { BatchSource } from '../data/batches.js';
import { AdamW, type NamedParam } from '../optim/adamw.js';
import { lrForStep } from '../optim/schedule.js';
import { kdLoss, supervisedLoss } from '../loss.js';
import type { Recipe, StageConfig } from '../recipe/schema.js';
import { loadCheckpoint, disposeCheckpoint } from './checkpoint.js';
import { writeFileAtomic } from './durable-fs.js';
import { top1 } from './evaluate.js';
import { JsonlSink, RecorderSink, StageRouter } from './metrics-sink.js';
import { buildStudent, buildTeacher, loadModelCheckpoint, loadTeacherWeights } from './models.js';
import { PhaseTimer } from './phase-timer.js';
import { ProgressBar, SilentProgress, type ProgressSink } from './progress.js';
import { renderRunReport } from './report.js';
import { RUN_MODEL_FILE, formatPackedSize, writeRunModel } from './export-run.js';
import { RUN_CLASSES_FILE, readRunClasses } from './run-classes.js';
import { openRunDir } from './run-dir.js';
import { logLengths } from './run-logs.js';
import { runStage, type RunControl, type StageHooks, type StageOptions, type StageResult } from './stage.js';
import { makeCGAStepper } from './cga-stepper.js';
import { asWasmHeapError, phaseInProgress } from './wasm-abort.js';
import { cleanUp } from './clean-up.js';

export { MissingDataError };

export interface TrainOptions {
  /** The recipe (not with `resume`: the run directory's config.json is the config). */
  recipe?: Recipe;
  /** Run directory of a new run; default `runs/<recipe>-<timestamp>`. Refused when it already holds a run. */
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

type TrainStageConfig = StageConfig | NonNullable<Recipe['teacher']['train']>;

function accumSteps(s: { batchSize: number; globalBatch?: number }, what: string): number {
  if (!s.globalBatch) return 1;
  if (s.globalBatch % s.batchSize !== 0) {
    throw new RecipeError(`${what}.globalBatch (${s.globalBatch}) must be a multiple of ${what}.batchSize (${s.batchSize})`);
  }
  return s.globalBatch / s.batchSize;
}

/**
 * Before any model is built: every training stage gets at least one optimizer step from the training
 * images (one global batch). A necessary condition only; the stage itself checks its exact count.
 */
function checkGlobalBatches(recipe: Recipe, trainCount: number, teacherOnly = false): void {
  const stages: Array<[string, { batchSize: number; globalBatch?: number }, boolean]> = [
    ['teacher.train', recipe.teacher.train ?? { batchSize: 1 }, !recipe.teacher.weights && !!recipe.teacher.train],
    ['stage1', recipe.stage1, !teacherOnly],
    [recipe.stage2.batchSize === undefined && recipe.stage2.globalBatch === undefined ? 'stage1' : 'stage2', stage2Settings(recipe), !teacherOnly && recipe.stage2.enabled],
  ];
  for (const [what, s, used] of stages) {
    const global = accumSteps(s, what) * s.batchSize;
    if (used && trainCount < global) {
      throw new DataError(`${trainCount} training images are fewer than one global batch of ${what} (${global}): no optimizer step could run; use more images or lower ${what}.globalBatch (and ${what}.batchSize)`);
    }
  }
}

function scheduleOf(s: TrainStageConfig) {
  const sched = { lr: s.lr, warmupLr: s.warmupLr, warmupEpochs: s.warmupEpochs, minLr: s.minLr, epochs: s.epochs };
  return (epoch: number, stepInEpoch: number, stepsPerEpoch: number) => lrForStep(sched, epoch, stepInEpoch, stepsPerEpoch, s.perStepLr);
}

/**
 * Every quantized weight the recorder follows, each on its own quantizer's grid: QKR's merged W_qk,
 * q/k/v blocks of a fused qkv (the fused weight itself would only repeat them), proj, fc1, fc2, and the
 * 8-bit patch embedding and heads.
 */
function trackedWeights(model: TrainModel) {
  return model.quantizedWeights().filter((r) => !r.name.endsWith('.attn.qkv.weight'));
}

function paramsOf(model: TrainModel, naming: ModelNaming): NamedParam[] {
  return model.namedParameters(naming).filter((p) => p.variable.trainable);
}

/** Stage 2's settings: its own fields where given, else stage 1's (weight decay, micro-batch, global batch). */
export function stage2Settings(recipe: Recipe): { weightDecay: number; batchSize: number; globalBatch?: number } {
  const { stage1: s1, stage2: s2 } = recipe;
  return {
    weightDecay: s2.weightDecay ?? s1.weightDecay,
    batchSize: s2.batchSize ?? s1.batchSize,
    globalBatch: s2.globalBatch ?? (s2.batchSize === undefined ? s1.globalBatch : undefined),
  };
}

/** What every stage of one run shares. */
interface RunContext {
  recipe: Recipe;
  runDir: string;
  log: (line: string) => void;
  progress: ProgressSink;
  metrics: StageRouter;
  data: DataSources;
  testLoader: BatchSource;
  timer: PhaseTimer;
  /** The StageOptions fields that are the same for every stage. */
  defaults: Pick<StageOptions, 'config' | 'control' | 'hooks' | 'metrics' | 'progress' | 'logEvery' | 'val' | 'logLengths'>;
}

function trainLoader(ctx: RunContext, batchSize: number): BatchSource {
  return ctx.data.train(batchSize);
}

/** Stage "teacher": loads or trains the FP teacher (best validation epoch), then its test top-1. */
async function teacherStage(ctx: RunContext, teacher: TrainModel): Promise<number> {
  const { recipe } = ctx;
  const fpNaming = archOf(recipe).fpNaming;
  if (recipe.teacher.weights) {
    loadTeacherWeights(teacher, recipe);
    ctx.log(`teacher: loaded ${recipe.teacher.weights}`);
  } else {
    const t = recipe.teacher.train!;
    const params = paramsOf(teacher, fpNaming);
    const optimizer = new AdamW(params, { learningRate: t.lr, weightDecay: t.weightDecay });
    try {
      await runStage({
        ...ctx.defaults,
        name: 'teacher',
        dir: join(ctx.runDir, 'teacher'),
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
        train: trainLoader(ctx, t.batchSize),
        accumSteps: accumSteps(t, 'teacher.train'),
        maxStepsPerEpoch: t.maxStepsPerEpoch,
      });
    } finally {
      optimizer.dispose();
    }
    loadModelCheckpoint(teacher, join(ctx.runDir, 'teacher', 'best'), fpNaming, recipe);
  }
  ctx.timer.lap('teacher');
  // A run resumed in a student stage already logged this figure before its checkpoint: not again.
  const logged = existsSync(join(ctx.runDir, 'stage1', 'last'));
  const fpTop1 = await top1(teacher, ctx.testLoader, ctx.progress, 'test fp');
  ctx.timer.lap('testFp');
  if (!logged) ctx.metrics.record({ type: 'eval', stage: 'teacher', split: 'test', top1: fpTop1 });
  return fpTop1;
}

/** The quantized student, its trainable parameters, its metrics recorder and the KD loss. */
interface Student {
  model: TrainModel;
  params: NamedParam[];
  sink: RecorderSink;
  kd: Pick<StageOptions, 'prepare' | 'loss'>;
}

/** Stage "student": conversion, LSQ activation-step initialisation, metrics recorder, KD loss. */
async function studentStage(ctx: RunContext, teacher: TrainModel): Promise<Student> {
  const { recipe, data } = ctx;
  const model = buildStudent(teacher, recipe, await data.initBatch(recipe.quant.initBatch));
  const params = paramsOf(model, 'ofq-reference');
  const sink = new RecorderSink(
    ctx.runDir,
    trackedWeights(model),
    params.filter((p) => /\.s$/.test(p.name)).map((p) => ({ name: p.name, variable: p.variable })),
    recipe as unknown as Record<string, unknown>,
    ctx.metrics.teacher,
  );
  ctx.metrics.student = sink;
  const kd: Student['kd'] = {
    prepare: (x) => teacher.forwardTrain(x).cls, // teacher logits: constants (outside the tape)
    loss: (x, y, t) => {
      const { cls, dist } = model.forwardTrain(x);
      return kdLoss(cls, dist, y, t as tf.Tensor2D);
    },
  };
  ctx.timer.lap('init');
  return { model, params, sink, kd };
}

/** Stage "stage1": QAT with knowledge distillation on the cosine schedule. */
async function qatStage(ctx: RunContext, st: Student): Promise<StageResult> {
  const s1 = ctx.recipe.stage1;
  const optimizer = new AdamW(st.params, { learningRate: s1.lr, weightDecay: s1.weightDecay });
  try {
    return await runStage({
      ...ctx.defaults,
      ...st.kd,
      name: 'stage1',
      dir: join(ctx.runDir, 'stage1'),
      model: st.model,
      naming: 'ofq-reference',
      params: st.params,
      optimizer,
      lrAt: scheduleOf(s1),
      epochs: s1.epochs + s1.cooldownEpochs,
      train: trainLoader(ctx, s1.batchSize),
      accumSteps: accumSteps(s1, 'stage1'),
      maxStepsPerEpoch: s1.maxStepsPerEpoch,
    });
  } finally {
    optimizer.dispose();
  }
}

/** Stage "stage2": CGA from the best stage-1 checkpoint (model and optimizer state) at constant LR. */
async function cgaStage(ctx: RunContext, st: Student, r1: StageResult): Promise<StageResult | null> {
  const { recipe, runDir } = ctx;
  const s2 = recipe.stage2;
  if (!s2.enabled) return null;
  const stage2Dir = join(runDir, 'stage2');
  const s = stage2Settings(recipe);
  st.sink.offsets.set('stage2', r1.steps);
  const optimizer = new AdamW(st.params, { learningRate: s2.lr, weightDecay: s.weightDecay });
  if (!existsSync(join(stage2Dir, 'last'))) {
    // Like the reference's `--resume <model_best>`: model and optimizer state from stage 1's best.
    const ck = loadCheckpoint(join(runDir, 'stage1', 'best'), { config: recipe });
    try {
      st.model.loadStateDict(ck.weights, { naming: 'ofq-reference', strict: true });
      if (ck.optimizer) optimizer.importState(ck.optimizer);
    } finally {
      disposeCheckpoint(ck);
    }
    // The weights jumped back to stage 1's best: compare the next codes with these, not the last ones.
    st.sink.resetTracking();
  }
  // CGA's selection (docs/algorithm.md §6.2; docs/decisions.md #18 for Swin): the recipe's, else the architecture's.
  // `cga: false`: the same steps at the same LR without annealing (the ablation's control).
  const cga = s2.cga ? makeCGAStepper(optimizer, st.model, { boundaryRange: s2.boundaryRange, includeQK: s2.includeQK, select: s2.select ?? archOf(recipe).cgaSelect }) : null;
  try {
    return await runStage({
      ...ctx.defaults,
      ...st.kd,
      name: 'stage2',
      dir: stage2Dir,
      model: st.model,
      naming: 'ofq-reference',
      params: st.params,
      optimizer,
      stepper: cga?.stepper,
      lrAt: () => s2.lr,
      epochs: s2.epochs,
      train: trainLoader(ctx, s.batchSize),
      accumSteps: accumSteps(s, 'stage2'),
      maxStepsPerEpoch: s2.maxStepsPerEpoch,
      stepExtras: cga ? () => ({ cgaFrozen: cga.frozenFraction() }) : undefined,
    });
  } finally {
    cga?.dispose();
    optimizer.dispose();
  }
}

/** Stage "finish": test top-1 of the selected student, summary.json, run.json, the HTML report. */
async function finishStage(
  ctx: RunContext,
  st: Student,
  r: { teacher: TrainModel; fpTop1: number; r1: StageResult; r2: StageResult | null; runInfo: Record<string, unknown>; started: number; report: boolean },
): Promise<TrainSummary> {
  const { recipe, runDir, timer } = ctx;
  const { fpTop1, r1, r2, runInfo } = r;
  loadModelCheckpoint(st.model, join(runDir, r2 ? 'stage2' : 'stage1', 'best'), 'ofq-reference', recipe);
  const tag = `w${recipe.quant.weightBits}a${recipe.quant.actBits}`;
  const quantTop1 = await top1(st.model, ctx.testLoader, ctx.progress, `test ${tag}`);
  timer.lap('testQuant');
  // The packed format (@ofq/runtime) holds DeiTs only: other architectures ship no model.ofq.
  const shipped =
    recipe.model.arch === 'deit'
      ? writeRunModel(join(runDir, RUN_MODEL_FILE), st.model as unknown as DeiTModel, r.teacher as unknown as DeiTModel, recipe, { testTop1: quantTop1, fpTestTop1: fpTop1 }, readRunClasses(ctx.runDir))
      : null;
  // Plotted at the last optimizer step of the stage the model came from.
  ctx.metrics.record({ type: 'eval', stage: r2 ? 'stage2' : 'stage1', split: 'test', top1: quantTop1, step: r2 ? r2.steps : r1.steps });
  ctx.metrics.close();
  if (ctx.data.skipped().length) runInfo.skippedImages = ctx.data.skipped();
  runInfo.finished = new Date().toISOString();
  writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(runInfo, null, 2));
  let reportPath: string | null = null;
  if (r.report) {
    try {
      reportPath = await renderRunReport(runDir, ctx.log);
    } catch (e) {
      // The training result stands; only the HTML view is missing (`ofq report` retries it).
      ctx.log(`warning: the report could not be written (${(e as Error).message.split('\n')[0]}); the run is complete, retry with: ofq report ${runDir}`);
    }
  }
  timer.lap('report');
  const seconds = (performance.now() - r.started) / 1000;
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
  writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify(summary, null, 2));
  ctx.log(`time: ${timer.format()}`);
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
}

function updateRunInfo(runDir: string, recipe: Recipe, backend: string | undefined): Record<string, unknown> {
  const path = join(runDir, 'run.json');
  let info: Record<string, unknown> = {};
  if (existsSync(path)) {
    try {
      info = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      info = {}; // informational only (started/backend): rewritten whole below
    }
  }
  info.recipe = recipe.name;
  info.backend = backend ?? tf.getBackend();
  info.tfjs = tf.version_core;
  info.started ??= new Date().toISOString();
  writeFileAtomic(path, JSON.stringify(info, null, 2));
  return info;
}

/**
 * The OFQ pipeline (docs/algorithm.md §7) as named stages over one context: teacher (FP, trained here
 * or loaded) → student (conversion + LSQ initialisation) → stage1 (QAT with KD) → stage2 (CGA from the
 * best stage-1 checkpoint at constant LR) → finish (test evaluation, summary, report).
 */
export async function train(opts: TrainOptions): Promise<TrainSummary> {
  const started = performance.now();
  const timer = new PhaseTimer();
  const quiet = opts.quiet ?? false;
  const log = opts.log ?? (quiet ? () => undefined : (l: string) => process.stderr.write(l + '\n'));
  const progress: ProgressSink = quiet ? new SilentProgress() : new ProgressBar();
  const control: RunControl = opts.control ?? { stopRequested: false };
  if (opts.resume && opts.recipe) throw new TypeError('train: pass either a recipe or resume, not both');
  if (opts.recipe) checkInputs(opts.recipe);
  const run = openRunDir({ recipe: opts.recipe, outDir: opts.outDir, resume: opts.resume, log });
  const { dir: runDir, recipe } = run;
  let teacher: TrainModel | null = null;
  let student: Student | null = null;
  let data: DataSources | null = null;
  const metrics = new StageRouter(new JsonlSink(join(runDir, 'train-log.jsonl')));
  let failing = false;
  try {
    checkInputs(recipe);
    const runInfo = updateRunInfo(runDir, recipe, opts.backend);
    warnIfNoAccel(log);
    data = openData(recipe);
    log(`data: ${data.summary}`);
    checkGlobalBatches(recipe, data.trainCount, opts.teacherOnly);
    // Image folders: the class names by index, for predictions and reports.
    if (data.classes) writeFileAtomic(join(runDir, RUN_CLASSES_FILE), JSON.stringify(data.classes));
    const ctx: RunContext = {
      recipe,
      runDir,
      log,
      progress,
      metrics,
      data,
      testLoader: data.test,
      timer,
      defaults: {
        config: recipe,
        control,
        hooks: opts.hooks,
        metrics,
        progress,
        logEvery: recipe.logEvery,
        val: data.val,
        logLengths: () => logLengths(runDir),
      },
    };
    teacher = buildTeacher(recipe);
    timer.lap('setup');
    const fpTop1 = await teacherStage(ctx, teacher);
    if (opts.teacherOnly) return finishTeacherOnly(ctx, fpTop1, runInfo, started);
    student = await studentStage(ctx, teacher);
    const r1 = await qatStage(ctx, student);
    timer.lap('stage1');
    const r2 = await cgaStage(ctx, student, r1);
    timer.lap('stage2');
    return await finishStage(ctx, student, { teacher, fpTop1, r1, r2, runInfo, started, report: opts.report !== false });
  } catch (e) {
    if (e instanceof InterruptedError) e.runDir = runDir;
    failing = true;
    throw asWasmHeapError(e, recipe, phaseInProgress(timer));
  } finally {
    await cleanUp([() => metrics.close(), () => student?.model.dispose(), () => teacher?.dispose(), () => data?.close(), () => run.lock.release()], failing);
  }
}

/** The end of a `teacherOnly` run: run.json, a summary with the FP figure only. */
function finishTeacherOnly(ctx: RunContext, fpTop1: number, runInfo: Record<string, unknown>, started: number): TrainSummary {
  const { recipe, runDir, timer } = ctx;
  const seconds = (performance.now() - started) / 1000;
  runInfo.finished = new Date().toISOString();
  writeFileAtomic(join(runDir, 'run.json'), JSON.stringify(runInfo, null, 2));
  writeFileAtomic(join(runDir, 'summary.json'), JSON.stringify({ recipe: recipe.name, teacherOnly: true, fpTop1, seconds, timings: timer.seconds, backend: runInfo.backend }, null, 2));
  return {
    runDir, fpTop1, quantTop1: NaN, stage1ValTop1: NaN, stage2ValTop1: null, seconds, timings: timer.seconds, reportPath: null,
    summaryLine: `top-1: fp ${(100 * fpTop1).toFixed(1)}% (teacher only)`,
  };
}
