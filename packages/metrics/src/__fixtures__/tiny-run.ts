// A short real training run for the recorder and report tests: a 2-bit StatsQ MLP with LSQ-quantized
// hidden activations, trained with Adam on a seeded synthetic 4-class problem, recorded every step.
import * as tf from '@tensorflow/tfjs';
import { StatsQuantizer } from '@ofq/statsq';
import { statsQuantize } from '@ofq/statsq';
import { LSQQuantizer } from '@ofq/lsq';
import { MetricsRecorder, type RecorderOptions } from '../recorder.js';
import { weightThresholdDistance } from '../quant-metrics.js';

export interface TinyRunResult {
  dir: string;
  steps: number;
  meanStepMs: number;
  meanTrackMs: number;
}

function seededNormal(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 1) / 4294967297;
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/** Synthetic classification data: 4 overlapping Gaussian clusters in 16 dimensions (about 85% separable). */
function makeData(n: number, seed: number): { train: { x: tf.Tensor2D; y: tf.Tensor2D }; test: { x: tf.Tensor2D; y: tf.Tensor2D } } {
  const rnd = seededNormal(seed);
  const centres = Array.from({ length: 4 }, () => Array.from({ length: 16 }, () => rnd() * 0.35));
  const draw = (count: number) => {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let i = 0; i < count; i++) {
      const c = i % 4;
      for (let d = 0; d < 16; d++) xs.push(centres[c][d] + rnd());
      ys.push(c);
    }
    return tf.tidy(() => ({ x: tf.tensor2d(xs, [count, 16]), y: tf.oneHot(tf.tensor1d(ys, 'int32'), 4).toFloat() as tf.Tensor2D }));
  };
  return { train: draw(n), test: draw(256) };
}

/**
 * `cgaFrom`: from this step on, a second stage anneals fc1/fc2 like CGA (boundary range 0.01, lr 2e-3):
 * weights farther than 0.01 steps from every threshold get no gradient and are restored after the step.
 * (A few lines of the idea so the report shows annealing; @ofq/cga is the real implementation.)
 */
export function runTinyTraining(dir: string, o: { steps?: number; cgaFrom?: number; recorder?: Partial<RecorderOptions> } = {}): TinyRunResult {
  const steps = o.steps ?? 60;
  const rnd = seededNormal(7);
  const init = (shape: [number, number]) => tf.tidy(() => tf.variable(tf.tensor2d(Array.from({ length: shape[0] * shape[1] }, () => rnd() / Math.sqrt(shape[0])), shape)));
  const fc1 = init([16, 64]);
  const fc2 = init([64, 4]);
  const act = new LSQQuantizer({ bits: 2, granularity: 'tensor', unsigned: true, name: 'fc2.input' });
  const { train, test } = makeData(512, 1);
  const forward = (x: tf.Tensor) => {
    const h = tf.relu(tf.matMul(x, statsQuantize(fc1, { bits: 2 })));
    return tf.matMul(act.apply(h), statsQuantize(fc2, { bits: 2 }));
  };
  // LSQ's data-dependent init pass (outside tidy: it creates the step variable).
  const first = tf.tidy(() => tf.relu(tf.matMul(train.x.slice([0, 0], [64, 16]), statsQuantize(fc1, { bits: 2 }))));
  act.initFrom(first);
  first.dispose();
  const recorder = new MetricsRecorder({
    dir,
    name: 'tiny-statsq-mlp',
    config: { model: 'MLP 16-64-4', weights: 'StatsQ 2-bit', activations: 'LSQ 2-bit', optimizer: 'adam 0.02', batch: 32 },
    layers: [
      { name: 'fc1.weight', variable: fc1, quantizer: new StatsQuantizer({ bits: 2 }) },
      { name: 'fc2.weight', variable: fc2, quantizer: new StatsQuantizer({ bits: 2 }) },
    ],
    scales: [{ name: 'fc2.input.step', variable: act.step! }],
    aggregateEvery: 5,
    sampleSize: 512,
    ...o.recorder,
  });
  const opt = tf.train.adam(0.02);
  const cgaOpt = tf.train.adam(0.002);
  const cgaFrom = o.cgaFrom ?? Infinity;
  const names = new Map([[fc1.name, 'fc1.weight'], [fc2.name, 'fc2.weight']]);
  let stepMs = 0;
  let trackMs = 0;
  for (let step = 0; step < steps; step++) {
    const t0 = performance.now();
    const b = (step * 32) % 512;
    const { loss, acc, grads, frozen } = tf.tidy(() => {
      const x = train.x.slice([b, 0], [32, 16]);
      const y = train.y.slice([b, 0], [32, 4]);
      let accT: tf.Tensor | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(x);
        accT = tf.keep(tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(y, 1)), 'float32')));
        return tf.losses.softmaxCrossEntropy(y, logits) as unknown as tf.Scalar;
      });
      if (step < cgaFrom) {
        opt.applyGradients(grads as unknown as Parameters<typeof opt.applyGradients>[0]);
        return { loss: value as tf.Tensor, acc: accT! as tf.Tensor, grads, frozen: tf.scalar(0) };
      }
      const annealed = [fc1, fc2].map((w) => ({ w, trainable: tf.lessEqual(weightThresholdDistance(w, new StatsQuantizer({ bits: 2 })), 0.01), saved: w.clone() }));
      const masked = { ...grads };
      for (const a of annealed) masked[a.w.name] = tf.where(a.trainable, grads[a.w.name], tf.zerosLike(grads[a.w.name]));
      cgaOpt.applyGradients(masked as unknown as Parameters<typeof opt.applyGradients>[0]);
      for (const a of annealed) a.w.assign(tf.where(a.trainable, a.w, a.saved));
      const frozen = tf.div(tf.add(...(annealed.map((a) => tf.sum(tf.cast(tf.logicalNot(a.trainable), 'float32'))) as [tf.Tensor, tf.Tensor])), fc1.size + fc2.size);
      return { loss: value as tf.Tensor, acc: accT! as tf.Tensor, grads, frozen };
    });
    const named = new Map<string, tf.Tensor>();
    for (const [vn, g] of Object.entries(grads)) if (names.has(vn)) named.set(names.get(vn)!, g);
    const t1 = performance.now();
    const lossV = loss.dataSync()[0];
    const extra: Record<string, number> = { 'grad norm fc1': tf.tidy(() => tf.norm(named.get('fc1.weight')!).dataSync()[0]) };
    if (step >= cgaFrom) extra['CGA frozen fraction'] = frozen.dataSync()[0];
    recorder.record({ step, loss: lossV, accuracy: acc.dataSync()[0], lr: step < cgaFrom ? 0.02 : 0.002, grads: named, extra });
    trackMs += performance.now() - t1;
    stepMs += t1 - t0;
    tf.dispose([loss, acc, frozen, ...Object.values(grads)]);
    if (step % 10 === 9 || step === steps - 1) {
      const [l, a] = tf.tidy(() => {
        const logits = forward(test.x);
        return [tf.losses.softmaxCrossEntropy(test.y, logits), tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), tf.argMax(test.y, 1)), 'float32'))];
      });
      recorder.recordEval({ step, loss: l.dataSync()[0], accuracy: a.dataSync()[0] });
      tf.dispose([l, a]);
    }
  }
  recorder.close();
  opt.dispose();
  cgaOpt.dispose();
  act.dispose();
  tf.dispose([fc1, fc2, train.x, train.y, test.x, test.y]);
  return { dir, steps, meanStepMs: stepMs / steps, meanTrackMs: trackMs / steps };
}
