/**
 * One training step (forward + backward, no optimizer update) of DeiT-Tiny at 224², batch 8:
 * full precision vs W2A2 with QKR, on the default backend (`setBackend('auto')`).
 *
 *   pnpm --filter @ofq/vit bench
 *   BENCH_CONFIG=micro pnpm --filter @ofq/vit bench   (the MNIST model: 28², patch 7, dim 64, 4 blocks, batch 64)
 *   BENCH_STEPS=3 …                                    (timed steps after one warm-up step; default 2)
 *
 * Each model runs in its own child process (a wasm heap overflow cannot be recovered in-process).
 * When a batch does not fit the 4 GiB wasm heap, the step is retried as gradient accumulation over
 * micro-batches of half the size (recorded as `microBatch`). Prints both times and their ratio;
 * writes bench/results/deit-step.json (or deit-step-micro.json).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MICRO_MODEL = process.env.BENCH_CONFIG === 'micro';
const STEPS = Number(process.env.BENCH_STEPS ?? 2);
const BATCH = Number(process.env.BENCH_BATCH ?? (MICRO_MODEL ? 64 : 8));

type Variant = 'fp' | 'w2a2-qkr';
interface Result {
  variant: Variant;
  backend: string;
  batch: number;
  microBatch: number;
  stepMs: number[];
  medianMs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Child: times one variant; prints one JSON line prefixed by RESULT. */
async function child(variant: Variant, microBatch: number): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { setBackend } = await import('@ofq/core');
  const { createDeiT, initActivationSteps } = await import('../src/index.js');
  const backend = await setBackend('auto');
  const cfg = MICRO_MODEL
    ? { imgSize: 28, patchSize: 7, inChans: 1, embedDim: 64, depth: 4, numHeads: 4, mlpRatio: 4, numClasses: 10, distilled: true, seed: 1 }
    : { preset: 'deit-tiny' as const, seed: 1 };
  const size = MICRO_MODEL ? 28 : 224;
  const chans = MICRO_MODEL ? 1 : 3;
  const classes = MICRO_MODEL ? 10 : 1000;
  const quant = variant === 'fp' ? undefined : { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };
  const model = createDeiT({ ...cfg, quant });
  const chunks = BATCH / microBatch;
  const xs = Array.from({ length: chunks }, (_, i) => tf.randomNormal([microBatch, size, size, chans], 0, 1, 'float32', 7 + i) as import('@tensorflow/tfjs').Tensor4D);
  const ys = xs.map((_, i) => tf.tidy(() => tf.oneHot(tf.randomUniform([microBatch], 0, classes, 'int32', 100 + i) as import('@tensorflow/tfjs').Tensor1D, classes).toFloat()));
  if (quant) initActivationSteps(model, xs[0]);
  const { decay, noDecay } = model.trainableVariables;
  const vars = [...decay, ...noDecay];
  const step = (): number => {
    const t0 = performance.now();
    let acc: Record<string, import('@tensorflow/tfjs').Tensor> | null = null;
    for (let i = 0; i < chunks; i++) {
      const { value, grads } = tf.variableGrads(() => {
        const { cls, dist } = model.forwardTrain(xs[i]);
        const hard = tf.losses.softmaxCrossEntropy(ys[i], cls);
        return (dist ? tf.add(hard, tf.losses.softmaxCrossEntropy(ys[i], dist)) : hard) as import('@tensorflow/tfjs').Scalar;
      }, vars);
      value.dataSync();
      if (!acc) acc = grads;
      else {
        for (const k of Object.keys(grads)) {
          const sum = tf.add(acc[k], grads[k]);
          tf.dispose([acc[k], grads[k]]);
          acc[k] = sum;
        }
      }
    }
    Object.values(acc!)[0].dataSync(); // make sure the backend has finished
    const ms = performance.now() - t0;
    tf.dispose(Object.values(acc!));
    return ms;
  };
  step(); // warm-up
  const stepMs: number[] = [];
  for (let i = 0; i < STEPS; i++) stepMs.push(step());
  const r: Result = { variant, backend, batch: BATCH, microBatch, stepMs, medianMs: median(stepMs) };
  console.log(`RESULT ${JSON.stringify(r)}`);
}

function runChild(variant: Variant, microBatch: number): Result | string {
  const p = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, BENCH_CHILD: variant, BENCH_MICRO: String(microBatch) },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (line) return JSON.parse(line.slice(7)) as Result;
  return `${(p.stderr ?? '').split('\n').filter((l) => /Error|error/.test(l)).slice(0, 2).join(' | ') || `exit ${p.status}`}`;
}

function measure(variant: Variant): Result {
  for (let micro = BATCH; micro >= 1; micro /= 2) {
    const r = runChild(variant, micro);
    if (typeof r !== 'string') {
      const note = micro < BATCH ? ` (${BATCH / micro} micro-batches of ${micro})` : '';
      console.log(`${variant.padEnd(9)} ${r.medianMs.toFixed(0).padStart(8)} ms/step${note}  steps: ${r.stepMs.map((m) => m.toFixed(0)).join(', ')}`);
      return r;
    }
    console.log(`${variant}: batch ${micro} failed (${r}); retrying with micro-batches of ${micro / 2}`);
    if (micro % 2 !== 0) break;
  }
  throw new Error(`${variant}: no micro-batch size fits`);
}

async function main(): Promise<void> {
  console.log(`DeiT step benchmark: ${MICRO_MODEL ? 'micro (MNIST) 28²' : 'deit-tiny 224²'}, batch ${BATCH}, default backend, ${STEPS} timed steps after a warm-up`);
  const fp = measure('fp');
  const q = measure('w2a2-qkr');
  const ratio = q.medianMs / fp.medianMs;
  console.log(`backend ${fp.backend}; ratio W2A2-QKR / FP: ${ratio.toFixed(2)}×`);
  const out = {
    date: new Date().toISOString(),
    model: MICRO_MODEL ? 'micro-mnist (28², patch 7, dim 64, depth 4, heads 4)' : 'deit-tiny (224², patch 16, distilled)',
    batch: BATCH,
    backend: fp.backend,
    node: process.version,
    fp,
    w2a2Qkr: q,
    ratio,
    note: 'forward + backward of CE(cls) + CE(dist) over every trainable variable, no optimizer update; median of the timed steps',
  };
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = path.join(HERE, 'results', MICRO_MODEL ? 'deit-step-micro.json' : 'deit-step.json');
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

const childVariant = process.env.BENCH_CHILD as Variant | undefined;
(childVariant ? child(childVariant, Number(process.env.BENCH_MICRO ?? BATCH)) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
