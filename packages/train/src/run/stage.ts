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
import type { ModelNaming } from './model-registry.js';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
}
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  /** The run directory to pass to `--resume` (set by the pipeline). */
  runDir?: string;
}

/** Cooperative stop: Ctrl-C sets `stopRequested`; tests can stop after a given number of optimizer steps. */
export interface RunControl {
  stopRequested: boolean;
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
  config: unknown;
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
  const ck = loadCheckpoint(last);
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
    saveCheckpoint(join(o.dir, which), { weights, optimizer, position }, o.config);
  } finally {
    disposeCheckpoint({ weights, optimizer });
  }
}

/**
 * Runs one training stage: epochs of (micro-batches → accumulated gradients → optimizer step), a
 * validation pass after every epoch keeping the best checkpoint, and a resumable `last` checkpoint.
 * The batch order of an epoch is a pure function of (seed, epoch), so a resumed stage replays
 * exactly the batches the interrupted one would have seen.
 */
export async function runStage(o: StageOptions): Promise<StageResult> {
  const restored = restore(o);
  const pos: TrainPosition = restored ?? {
    stage: o.name,
    epoch: 0,
    batchInEpoch: 0,
    step: 0,
    bestTop1: -1,
    bestEpoch: -1,
    history: [],
    finished: false,
  };
  const result = (): StageResult => ({
    bestTop1: pos.bestTop1,
    bestEpoch: pos.bestEpoch,
    steps: pos.step,
    history: pos.history,
    resumed: restored !== null,
  });
  if (pos.finished) return result();

  const vars = o.params.filter((p) => p.variable.trainable).map((p) => p.variable);
  const stepper = o.stepper ?? o.optimizer;
  const acc = new GradAccumulator();
  const perEpochBatches = Math.floor(o.train.numBatches / o.accumSteps);
  const stepsPerEpoch = o.maxStepsPerEpoch > 0 ? Math.min(o.maxStepsPerEpoch, perEpochBatches) : perEpochBatches;
  if (stepsPerEpoch < 1) {
    throw new RangeError(
      `${o.name}: ${o.train.numBatches} batches cannot make one step of ${o.accumSteps} accumulated micro-batches`,
    );
  }
  const imagesPerStep = o.train.batchSize * o.accumSteps;
  try {
    for (; pos.epoch < o.epochs; pos.epoch++, pos.batchInEpoch = 0) {
      const epoch = pos.epoch;
      const batches = stepsPerEpoch * o.accumSteps;
      let lossSum = 0;
      let lossCount = 0;
      let lr = o.lrAt(epoch, Math.floor(pos.batchInEpoch / o.accumSteps), stepsPerEpoch);
      let stepLoss = 0;
      const t0 = performance.now();
      let imagesSeen = 0;
      o.progress.start(`${o.name} ${epoch + 1}/${o.epochs}`, stepsPerEpoch);
      for await (const batch of o.train.epoch(epoch, pos.batchInEpoch)) {
        if (pos.batchInEpoch >= batches) break;
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
            `${o.name}: the loss became ${loss} at epoch ${epoch}, step ${pos.step + 1}; training stopped without applying that step. ` +
              `The last good checkpoint is kept in ${join(o.dir, 'last')} (if one was saved). Lower the learning rate or check the data.`,
          );
        }
        acc.add(grads);
        stepLoss += loss;
        pos.batchInEpoch++;
        imagesSeen += batch.size;
        if (acc.count < o.accumSteps) continue;

        const stepInEpoch = pos.batchInEpoch / o.accumSteps - 1;
        lr = o.lrAt(epoch, stepInEpoch, stepsPerEpoch);
        o.optimizer.learningRate = lr;
        const mean = acc.takeMean();
        stepper.applyGradients(mean);
        tf.dispose(Object.values(mean));
        pos.step++;
        const meanLoss = stepLoss / o.accumSteps;
        stepLoss = 0;
        lossSum += meanLoss;
        lossCount++;
        const secs = (performance.now() - t0) / 1000;
        const ips = imagesSeen / Math.max(secs, 1e-9);
        if (pos.step % (o.logEvery ?? 1) === 0) {
          o.metrics.record({ type: 'step', stage: o.name, epoch, step: pos.step, loss: meanLoss, lr, imagesPerSec: ips, ...o.stepExtras?.() });
        }
        // After the metrics record: the recorder's one-time tracker state belongs to step 1.
        o.hooks?.onStep?.({ stage: o.name, epoch, step: pos.step, loss: meanLoss, lr, numTensors: tf.memory().numTensors });
        o.progress.update(stepInEpoch + 1, {
          loss: meanLoss.toFixed(4),
          lr: lr.toExponential(2),
          'img/s': ips.toFixed(0),
        });
        const stopHere = o.control.stopAfterSteps?.stage === o.name && pos.step >= o.control.stopAfterSteps.steps;
        if (o.control.stopRequested || stopHere) {
          save(o, 'last', { ...pos });
          o.progress.finish(`interrupted at step ${pos.step}`);
          throw new InterruptedError(`${o.name}: stopped at epoch ${epoch}, step ${pos.step}; checkpoint saved in ${join(o.dir, 'last')}`);
        }
      }
      const trainLoss = lossCount ? lossSum / lossCount : NaN;
      const secs = (performance.now() - t0) / 1000;
      const valTop1 = await top1(o.model, o.val);
      pos.history.push({ epoch, valTop1, trainLoss, lr });
      o.metrics.record({ type: 'epoch', stage: o.name, epoch, step: pos.step, trainLoss, valTop1, lr, seconds: secs, imagesPerSec: (stepsPerEpoch * imagesPerStep) / secs });
      o.progress.finish(
        `loss ${trainLoss.toFixed(4)} · val top-1 ${(100 * valTop1).toFixed(2)}% · ${secs.toFixed(0)} s · ${((stepsPerEpoch * imagesPerStep) / secs).toFixed(0)} img/s`,
      );
      const next: TrainPosition = { ...pos, epoch: epoch + 1, batchInEpoch: 0 };
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
    pos.finished = true;
    return result();
  } finally {
    acc.dispose();
  }
}
