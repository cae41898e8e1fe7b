import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@ofq/core/testing';
import { loadMnist, takeFirst } from '../data/datasets.js';
import { BatchLoader } from '../data/batches.js';
import { AdamW, type NamedParam } from '../optim/adamw.js';
import { crossEntropy } from '../loss.js';
import { InterruptedError, NonFiniteLossError, runStage, type StageOptions, type TrainableModel } from './stage.js';
import { CheckpointError, loadCheckpoint, disposeCheckpoint } from './checkpoint.js';
import { DataError } from '../errors.js';
import { SilentProgress } from './progress.js';
import type { MetricRecord } from './metrics-sink.js';

/** A linear softmax classifier: small enough that the stage mechanics are tested in milliseconds. */
class Linear implements TrainableModel {
  w = tf.variable(tf.randomNormal([784, 10], 0, 0.01, 'float32', 7));
  b = tf.variable(tf.zeros([10]));
  params(): NamedParam[] {
    return [
      { name: 'head.weight', variable: this.w, decay: true },
      { name: 'head.bias', variable: this.b, decay: false },
    ];
  }
  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(tf.reshape(x, [x.shape[0], 784]), this.w), this.b));
  }
  stateDict(): Map<string, tf.Tensor> {
    return new Map([
      ['head.weight', this.w.clone()],
      ['head.bias', this.b.clone()],
    ]);
  }
  loadStateDict(t: Map<string, tf.Tensor>): void {
    this.w.assign(t.get('head.weight')!);
    this.b.assign(t.get('head.bias')!);
  }
  dispose(): void {
    tf.dispose([this.w, this.b]);
  }
}

const { train: full } = loadMnist();
const trainSet = takeFirst(full, 640);
const valSet = { ...takeFirst(full, 700), name: 'val' };

function options(dir: string, model: Linear, opt: AdamW, extra: Partial<StageOptions> = {}): StageOptions {
  const records: MetricRecord[] = [];
  return {
    name: 'stage1',
    dir,
    model,
    naming: 'ofq-reference',
    params: model.params(),
    optimizer: opt,
    loss: (x, y) => crossEntropy(model.predict(x), y),
    lrAt: (e, s, n) => 0.01 * (1 - (e + s / n) / 4),
    epochs: 3,
    train: new BatchLoader(trainSet, { batchSize: 32, shuffle: true, seed: 42, dropLast: true }),
    val: new BatchLoader(valSet, { batchSize: 350, shuffle: false, seed: 42 }),
    accumSteps: 2,
    maxStepsPerEpoch: 0,
    config: { test: true },
    control: { stopRequested: false },
    metrics: { record: (r) => records.push(r), close: () => undefined },
    progress: new SilentProgress(),
    ...extra,
  };
}

async function weightsOf(m: Linear): Promise<Float32Array[]> {
  return [await m.w.data(), await m.b.data()] as Float32Array[];
}

describe('runStage [cpu]', () => {
  beforeAll(() => useBackend('cpu'));

  it('resume after an interruption gives bit-identical final weights', async () => {
    const a = new Linear();
    const optA = new AdamW(a.params(), { learningRate: 0.01, weightDecay: 0.05 });
    const dirA = mkdtempSync(join(tmpdir(), 'ofq-stage-a-'));
    const ra = await runStage(options(dirA, a, optA));
    expect(ra.steps).toBe(30); // 3 epochs × (20 batches / 2 accumulated)
    const want = await weightsOf(a);

    const dirB = mkdtempSync(join(tmpdir(), 'ofq-stage-b-'));
    const b1 = new Linear();
    const opt1 = new AdamW(b1.params(), { learningRate: 0.01, weightDecay: 0.05 });
    await expect(runStage(options(dirB, b1, opt1, { control: { stopRequested: false, stopAfterSteps: { stage: 'stage1', steps: 13 } } }))).rejects.toThrow(InterruptedError);
    const pos = JSON.parse(readFileSync(join(dirB, 'last', 'state.json'), 'utf8')).position;
    expect(pos).toMatchObject({ epoch: 1, batchInEpoch: 6, step: 13 });
    b1.dispose();
    opt1.dispose();

    // A fresh process would rebuild everything: new model (different init), new optimizer.
    const b2 = new Linear();
    b2.w.assign(tf.randomNormal([784, 10], 0, 1, 'float32', 99));
    const opt2 = new AdamW(b2.params(), { learningRate: 0.01, weightDecay: 0.05 });
    const rb = await runStage(options(dirB, b2, opt2));
    expect(rb.resumed).toBe(true);
    expect(rb.steps).toBe(30);
    const got = await weightsOf(b2);
    expect(Buffer.from(got[0]!.buffer).equals(Buffer.from(want[0]!.buffer))).toBe(true);
    expect(Buffer.from(got[1]!.buffer).equals(Buffer.from(want[1]!.buffer))).toBe(true);
    expect(rb.bestTop1).toBe(ra.bestTop1);
    expect(rb.bestTop1).toBeGreaterThan(0.7);
    // The epoch interrupted at step 13 averages all of its steps, not only those after the resume.
    expect(rb.history).toEqual(ra.history);
    // A finished stage is not re-run.
    const again = await runStage(options(dirB, b2, opt2));
    expect(again.steps).toBe(30);
    for (const m of [a, b2]) m.dispose();
    optA.dispose();
    opt2.dispose();
  });

  it('the tensor count is identical after step 1 and step 50', async () => {
    const m = new Linear();
    const opt = new AdamW(m.params(), { learningRate: 0.01, weightDecay: 0.05 });
    const counts = new Map<number, number>();
    const dir = mkdtempSync(join(tmpdir(), 'ofq-stage-leak-'));
    await runStage(
      options(dir, m, opt, {
        epochs: 3,
        accumSteps: 1,
        hooks: { onStep: (i) => counts.set(i.step, i.numTensors) },
      }),
    );
    expect(counts.size).toBe(60);
    expect(counts.get(50)).toBe(counts.get(1));
    m.dispose();
    opt.dispose();
  });

  it('a NaN loss stops with a clear message and keeps the last good checkpoint', async () => {
    const m = new Linear();
    const opt = new AdamW(m.params(), { learningRate: 0.01, weightDecay: 0.05 });
    const dir = mkdtempSync(join(tmpdir(), 'ofq-stage-nan-'));
    let n = 0;
    const before = tf.memory().numTensors;
    await expect(
      runStage(
        options(dir, m, opt, {
          hooks: {
            onBatch: (b) => {
              if (++n === 25) b.x[0] = NaN; // epoch 1 (20 batches per epoch)
            },
          },
        }),
      ),
    ).rejects.toThrow(/stage1: the loss became NaN at epoch 1, step 13; training stopped.*last good checkpoint/s);
    opt.dispose(); // its moments are the only tensors the stage created
    expect(tf.memory().numTensors).toBe(before);
    const ck = loadCheckpoint(join(dir, 'last'));
    expect(ck.position).toMatchObject({ epoch: 1, batchInEpoch: 0, step: 10 });
    const w = await ck.weights.get('head.weight')!.data();
    expect(w.every(Number.isFinite)).toBe(true);
    disposeCheckpoint(ck);
    expect(NonFiniteLossError.name).toBe('NonFiniteLossError');
    m.dispose();
  });

  it('a corrupt checkpoint is a clear error, not a crash or silent restart', async () => {
    const m = new Linear();
    const opt = new AdamW(m.params(), { learningRate: 0.01, weightDecay: 0.05 });
    const dir = mkdtempSync(join(tmpdir(), 'ofq-stage-bad-'));
    await runStage(options(dir, m, opt, { epochs: 1 }));
    const wPath = join(dir, 'last', 'weights.safetensors');
    const bytes = readFileSync(wPath);
    writeFileSync(wPath, bytes.subarray(0, bytes.length - 100));
    await expect(runStage(options(dir, m, opt, { epochs: 2 }))).rejects.toThrow(CheckpointError);
    await expect(runStage(options(dir, m, opt, { epochs: 2 }))).rejects.toThrow(/corrupt checkpoint file .*weights\.safetensors/);
    writeFileSync(join(dir, 'last', 'state.json'), '{"format": "x"');
    await expect(runStage(options(dir, m, opt, { epochs: 2 }))).rejects.toThrow(/corrupt checkpoint file .*state\.json/);
    expect(existsSync(join(dir, 'best', 'weights.safetensors'))).toBe(true);
    m.dispose();
    opt.dispose();
  });

  it('too few micro-batches for one accumulated step is a DataError naming the stage and its globalBatch, before any step', async () => {
    const m = new Linear();
    const opt = new AdamW(m.params(), { learningRate: 0.01, weightDecay: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'ofq-stage-few-'));
    // 640 images / 32 = 20 micro-batches < 32 accumulated ones.
    const run = runStage(options(dir, m, opt, { accumSteps: 32 }));
    await expect(run).rejects.toThrow(DataError);
    await expect(runStage(options(dir, m, opt, { accumSteps: 32 }))).rejects.toThrow(/^stage1: 20 training micro-batches of 32 per epoch cannot make one optimizer step of 32 accumulated micro-batches; use more training images or a smaller stage1\.globalBatch$/);
    expect(existsSync(join(dir, 'last'))).toBe(false);
    m.dispose();
    opt.dispose();
  });
});

afterAll(() => undefined);
