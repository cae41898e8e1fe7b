import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Batch, BatchSource } from '../data/batches.js';
import type { AdamW, NamedParam } from '../optim/adamw.js';
import { GradAccumulator } from '../optim/accumulate.js';
import { disposeCheckpoint, loadCheckpoint, saveCheckpoint, type TrainPosition } from './checkpoint.js';
import { top1, type Predictor } from './evaluate.js';
import type { MetricsSink } from './metrics-sink.js';
import type { ProgressSink } from './progress.js';
import { DataError, InterruptedError, NonFiniteLossError } from '../errors.js';
import type { ModelNaming } from './model-registry.js';

export { NonFiniteLossError, InterruptedError };

/** Cooperative stop: Ctrl-C sets `stopRequested`; tests can stop after a given number of optimizer steps. */
export interface RunControl {
  stopRequested: boolean;
  /** Why the stop was requested (for the message), e.g. 'Ctrl-C' or 'the launcher exited'. */
  stopReason?: string;
  /** Stop (saving a checkpoint) once the stage has taken this many optimizer steps. */
  stopAfterSteps?: { stage: string; steps: number };
}

export interface StepInfo {
  stage: string;
  epoch: number;
  step: number;
  loss: number;
  lr: number;
  numTensors: number;
}

export interface StageHooks {
  /** Sees (and may alter) every training micro-batch before it becomes a tensor. */
  onBatch?(batch: Batch, stage: string): void;
  onStep?(info: StepInfo): void;
}

/** The model as a stage sees it: state for checkpoints, a training forward inside the loss, predict for eval. */
export interface TrainableModel extends Predictor {
  stateDict(o?: { naming?: ModelNaming }): Map<string, tf.Tensor>;
  loadStateDict(t: Map<string, tf.Tensor>, o?: { naming?: ModelNaming; strict?: boolean }): void;
}

export interface StageOptions {
  name: string;
  /** Checkpoints go to `<dir>/last` (resume point) and `<dir>/best` (best validation top-1). */
  dir: string;
  model: TrainableModel;
  naming: ModelNaming;
  params: NamedParam[];
  optimizer: AdamW;
  /** What applies the averaged gradients (a CGA wrapper in stage 2); defaults to the optimizer. */
  stepper?: { applyGradients(g: tf.NamedTensorMap): void };
  /** Constants computed outside the gradient tape (the teacher's logits). */
  prepare?: (x: tf.Tensor4D) => tf.Tensor | null;
  /** Loss of one micro-batch; runs inside tf.variableGrads. */
  /** `y` is int32 labels [B], or soft targets [B, classes] when the batch carries them. */
  loss: (x: tf.Tensor4D, y: tf.Tensor1D | tf.Tensor2D, prepared: tf.Tensor | null) => tf.Scalar;
  lrAt: (epoch: number, stepInEpoch: number, stepsPerEpoch: number) => number;
  epochs: number;
  train: BatchSource;
  val: BatchSource;
  accumSteps: number;
  /** 0 = whole epoch. */
  maxStepsPerEpoch: number;
  /** The run's config: stored (with its hash) in every checkpoint, checked on restore. */
  config: unknown;
  /** Byte lengths of the run's logs, recorded in each checkpoint (resume cuts the logs back to them). */
  logLengths?: () => Record<string, number>;
  control: RunControl;
  hooks?: StageHooks;
  metrics: MetricsSink;
  progress: ProgressSink;
  logEvery?: number;
  /** Extra numbers for each step's metrics record (e.g. CGA's frozen fraction). */
  stepExtras?: () => Record<string, number>;
}

export interface StageResult {
  bestTop1: number;
  bestEpoch: number;
  steps: number;
  history: TrainPosition['history'];
  resumed: boolean;
}

/** Restores `<dir>/last` into the model and optimizer; returns its position, or null when starting fresh. */
function restore(o: StageOptions): TrainPosition | null {
  const last = join(o.dir, 'last');
  if (!existsSync(last)) return null;
  const ck = loadCheckpoint(last, { config: o.config });
  try {
    o.model.loadStateDict(ck.weights, { naming: o.naming, strict: true });
    if (ck.optimizer) o.optimizer.importState(ck.optimizer);
  } finally {
    disposeCheckpoint(ck);
  }
  return ck.position;
}

function save(o: StageOptions, which: 'last' | 'best', position: TrainPosition): void {
  const weights = o.model.stateDict({ naming: o.naming });
  const optimizer = o.optimizer.exportState();
  try {
    saveCheckpoint(join(o.dir, which), { weights, optimizer, position }, { config: o.config, logs: o.logLengths?.() });
  } finally {
    disposeCheckpoint({ weights, optimizer });
  }
}

/** Forward + backward of one micro-batch: its loss, with the gradients added to `acc`. */
async function microBatch(o: StageOptions, vars: tf.Variable[], batch: Batch, acc: GradAccumulator, at: { epoch: number; step: number }): Promise<number> {
  o.hooks?.onBatch?.(batch, o.name);
  const x = tf.tensor4d(batch.x, batch.shape);
  const y = batch.targets ? tf.tensor2d(batch.targets, [batch.size, batch.targets.length / batch.size]) : tf.tensor1d(batch.y, 'int32');
  const prepared = o.prepare ? (tf.tidy(() => o.prepare!(x) ?? tf.scalar(0)) as tf.Tensor) : null;
  const { value, grads } = tf.variableGrads(() => o.loss(x, y, prepared), vars);
  const loss = (await value.data())[0]!;
  tf.dispose([x, y, value]);
  if (prepared) prepared.dispose();
  if (!Number.isFinite(loss)) {
    tf.dispose(Object.values(grads));
    throw new NonFiniteLossError(
      `${o.name}: the loss became ${loss} at epoch ${at.epoch}, step ${at.step + 1}; training stopped without applying that step. ` +
        `The last good checkpoint is kept in ${join(o.dir, 'last')} (if one was saved). Lower the learning rate or check the data.`,
    );
  }
  acc.add(grads);
  return loss;
}

/** The running loss of the epoch in progress (continued from the checkpoint after a mid-epoch resume). */
interface EpochState {
  epoch: number;
  lossSum: number;
  lossCount: number;
  lr: number;
  t0: number;
}

/** Saves `last` and throws InterruptedError when a stop was requested (Ctrl-C) or a test's step budget is reached. */
function stopIfRequested(o: StageOptions, pos: TrainPosition, e: EpochState): void {
  const stopHere = o.control.stopAfterSteps?.stage === o.name && pos.step >= o.control.stopAfterSteps.steps;
  if (!o.control.stopRequested && !stopHere) return;
  save(o, 'last', { ...pos, epochLossSum: e.lossSum, epochLossCount: e.lossCount });
  o.progress.finish(`interrupted at step ${pos.step}`);
  const why = o.control.stopReason ? ` (${o.control.stopReason})` : '';
  throw new InterruptedError(`${o.name}: stopped${why} at epoch ${e.epoch}, step ${pos.step}; checkpoint saved in ${join(o.dir, 'last')}`);
}

/** End of an epoch: validation, history, the epoch record, `best` when it improved, then `last`. */
async function endEpoch(o: StageOptions, pos: TrainPosition, e: EpochState, imagesPerEpoch: number): Promise<void> {
  const { epoch, lr } = e;
  const trainLoss = e.lossCount ? e.lossSum / e.lossCount : NaN;
  const secs = (performance.now() - e.t0) / 1000;
  const valTop1 = await top1(o.model, o.val);
  pos.history.push({ epoch, valTop1, trainLoss, lr });
  o.metrics.record({ type: 'epoch', stage: o.name, epoch, step: pos.step, trainLoss, valTop1, lr, seconds: secs, imagesPerSec: imagesPerEpoch / secs });
  o.progress.finish(`loss ${trainLoss.toFixed(4)} · val top-1 ${(100 * valTop1).toFixed(2)}% · ${secs.toFixed(0)} s · ${(imagesPerEpoch / secs).toFixed(0)} img/s`);
  const next: TrainPosition = { ...pos, epoch: epoch + 1, batchInEpoch: 0, epochLossSum: 0, epochLossCount: 0 };
  if (valTop1 > pos.bestTop1) {
    pos.bestTop1 = valTop1;
    pos.bestEpoch = epoch;
    next.bestTop1 = valTop1;
    next.bestEpoch = epoch;
    save(o, 'best', next);
  }
  next.finished = epoch + 1 >= o.epochs;
  save(o, 'last', next);
}

function stepsPerEpochOf(o: StageOptions): number {
  const perEpochBatches = Math.floor(o.train.numBatches / o.accumSteps);
  const steps = o.maxStepsPerEpoch > 0 ? Math.min(o.maxStepsPerEpoch, perEpochBatches) : perEpochBatches;
  if (steps < 1) {
    throw new DataError(
      `${o.name}: ${o.train.numBatches} training micro-batches of ${o.train.batchSize} per epoch cannot make one optimizer step of ${o.accumSteps} accumulated micro-batches; ` +
        `use more training images or a smaller ${o.name}.globalBatch`,
    );
  }
  return steps;
}

/**
 * Runs one training stage: epochs of (micro-batches → accumulated gradients → optimizer step), a
 * validation pass after every epoch keeping the best checkpoint, and a resumable `last` checkpoint.
 * The batch order of an epoch is a pure function of (seed, epoch), so a resumed stage replays
 * exactly the batches the interrupted one would have seen.
 */
export async function runStage(o: StageOptions): Promise<StageResult> {
  const restored = restore(o);
  const pos: TrainPosition = restored ?? { stage: o.name, epoch: 0, batchInEpoch: 0, step: 0, bestTop1: -1, bestEpoch: -1, history: [], finished: false };
  const result = (): StageResult => ({ bestTop1: pos.bestTop1, bestEpoch: pos.bestEpoch, steps: pos.step, history: pos.history, resumed: restored !== null });
  if (pos.finished) return result();

  const vars = o.params.filter((p) => p.variable.trainable).map((p) => p.variable);
  const stepper = o.stepper ?? o.optimizer;
  const acc = new GradAccumulator();
  const stepsPerEpoch = stepsPerEpochOf(o);
  const batches = stepsPerEpoch * o.accumSteps;
  try {
    for (; pos.epoch < o.epochs; pos.epoch++, pos.batchInEpoch = 0) {
      const mid = pos.batchInEpoch > 0; // resumed mid-epoch: the epoch's loss continues from the checkpoint
      const e: EpochState = {
        epoch: pos.epoch,
        lossSum: mid ? (pos.epochLossSum ?? 0) : 0,
        lossCount: mid ? (pos.epochLossCount ?? 0) : 0,
        lr: o.lrAt(pos.epoch, Math.floor(pos.batchInEpoch / o.accumSteps), stepsPerEpoch),
        t0: performance.now(),
      };
      let stepLoss = 0;
      let imagesSeen = 0;
      o.progress.start(`${o.name} ${e.epoch + 1}/${o.epochs}`, stepsPerEpoch);
      for await (const batch of o.train.epoch(e.epoch, pos.batchInEpoch)) {
        if (pos.batchInEpoch >= batches) break;
        stepLoss += await microBatch(o, vars, batch, acc, { epoch: e.epoch, step: pos.step });
        pos.batchInEpoch++;
        imagesSeen += batch.size;
        if (acc.count < o.accumSteps) continue;

        const stepInEpoch = pos.batchInEpoch / o.accumSteps - 1;
        e.lr = o.lrAt(e.epoch, stepInEpoch, stepsPerEpoch);
        o.optimizer.learningRate = e.lr;
        const mean = acc.takeMean();
        stepper.applyGradients(mean);
        tf.dispose(Object.values(mean));
        pos.step++;
        const meanLoss = stepLoss / o.accumSteps;
        stepLoss = 0;
        e.lossSum += meanLoss;
        e.lossCount++;
        const ips = imagesSeen / Math.max((performance.now() - e.t0) / 1000, 1e-9);
        if (pos.step % (o.logEvery ?? 1) === 0) {
          o.metrics.record({ type: 'step', stage: o.name, epoch: e.epoch, step: pos.step, loss: meanLoss, lr: e.lr, imagesPerSec: ips, ...o.stepExtras?.() });
        }
        // After the metrics record: the recorder's one-time tracker state belongs to step 1.
        o.hooks?.onStep?.({ stage: o.name, epoch: e.epoch, step: pos.step, loss: meanLoss, lr: e.lr, numTensors: tf.memory().numTensors });
        o.progress.update(stepInEpoch + 1, { loss: meanLoss.toFixed(4), lr: e.lr.toExponential(2), 'img/s': ips.toFixed(0) });
        stopIfRequested(o, pos, e);
      }
      await endEpoch(o, pos, e, stepsPerEpoch * o.train.batchSize * o.accumSteps);
    }
    pos.finished = true;
    return result();
  } finally {
    acc.dispose();
  }
}
