/**
 * One training step (forward + backward, no optimizer update) of Swin-T at 224²: full precision and
 * W2A2 with QKR on wasm + @ofq/accel, side by side in one run with PyTorch's torchvision `swin_t`
 * (bench/swin_step.py, same thread count).
 *
 *   pnpm --filter @ofq/vit bench:swin
 *   BENCH_BATCH=8 BENCH_STEPS=1 BENCH_THREADS=2 …   (defaults; timed steps after one warm-up step)
 *
 * Each variant runs in its own child process, in the order tfjs FP, PyTorch FP, tfjs W2A2-QKR (so the
 * load of the shared machine is similar for the pairs compared). When a batch does not fit the 4 GiB
 * wasm heap, the step is retried as gradient accumulation over micro-batches of half the size
 * (`microBatch`). Records peak RSS per child. Writes bench/results/swin-step.json.
 */
import { execSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STEPS = Number(process.env.BENCH_STEPS ?? 1);
const BATCH = Number(process.env.BENCH_BATCH ?? 8);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

type Variant = 'fp' | 'w2a2-qkr' | 'torch-fp';
interface Result {
  variant: Variant;
  backend: string;
  batch: number;
  microBatch: number;
  stepMs: number[];
  medianMs: number;
  peakRssMiB: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Child: times one tfjs variant; prints one JSON line prefixed by RESULT. */
async function child(variant: Exclude<Variant, 'torch-fp'>, microBatch: number): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { setBackend } = await import('@ofq/core');
  await setBackend('wasm');
  const { installAccel } = await import('@ofq/accel');
  const accel = installAccel({ engine: 'auto', threads: THREADS });
  const { createSwin, initActivationSteps } = await import('../src/index.js');
  type T4 = import('@tensorflow/tfjs').Tensor4D;
  const quant = variant === 'fp' ? undefined : { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };
  const model = createSwin({ preset: 'swin-t', seed: 1, quant });
  const chunks = BATCH / microBatch;
  const xs = Array.from({ length: chunks }, (_, i) => tf.randomNormal([microBatch, 224, 224, 3], 0, 1, 'float32', 7 + i) as T4);
  const ys = xs.map((_, i) => tf.tidy(() => tf.oneHot(tf.randomUniform([microBatch], 0, 1000, 'int32', 100 + i) as import('@tensorflow/tfjs').Tensor1D, 1000).toFloat()));
  if (quant) initActivationSteps(model, xs[0]);
  const { decay, noDecay } = model.trainableVariables;
  const vars = [...decay, ...noDecay];
  const step = (): number => {
    const t0 = performance.now();
    let acc: Record<string, import('@tensorflow/tfjs').Tensor> | null = null;
    for (let i = 0; i < chunks; i++) {
      const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(ys[i], model.forwardTrain(xs[i]).cls) as import('@tensorflow/tfjs').Scalar, vars);
      value.dataSync();
      value.dispose();
      if (!acc) acc = grads;
      else {
        for (const k of Object.keys(grads)) {
          const sum = tf.add(acc[k], grads[k]);
          tf.dispose([acc[k], grads[k]]);
          acc[k] = sum;
        }
      }
    }
    Object.values(acc!)[0].dataSync();
    const ms = performance.now() - t0;
    tf.dispose(Object.values(acc!));
    return ms;
  };
  step(); // warm-up
  const stepMs: number[] = [];
  for (let i = 0; i < STEPS; i++) stepMs.push(step());
  const r: Result = {
    variant, backend: `wasm + @ofq/accel ${accel.engine}`, batch: BATCH, microBatch, stepMs, medianMs: median(stepMs),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(`RESULT ${JSON.stringify(r)}`);
}

function runChild(variant: Variant, microBatch: number): Result | string {
  const env = { ...process.env, BENCH_CHILD: variant, BENCH_MICRO: String(microBatch), BENCH_BATCH: String(BATCH), BENCH_STEPS: String(STEPS), BENCH_THREADS: String(THREADS) };
  const p = variant === 'torch-fp'
    ? spawnSync(PYTHON, [path.join(HERE, 'swin_step.py')], { env, encoding: 'utf8', maxBuffer: 64 << 20 })
    : spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (line) return JSON.parse(line.slice(7)) as Result;
  return `${(p.stderr ?? '').split('\n').filter((l) => /Error|error/.test(l)).slice(0, 2).join(' | ') || `exit ${p.status}`}`;
}

function measure(variant: Variant): Result {
  for (let micro = BATCH; micro >= 1; micro /= 2) {
    const r = runChild(variant, micro);
    if (typeof r !== 'string') {
      const note = micro < BATCH ? ` (${BATCH / micro} micro-batches of ${micro})` : '';
      console.log(`${variant.padEnd(9)} ${r.medianMs.toFixed(0).padStart(8)} ms/step${note}  steps: ${r.stepMs.map((m) => m.toFixed(0)).join(', ')}  peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
      return r;
    }
    console.log(`${variant}: batch ${micro} failed (${r}); retrying with micro-batches of ${micro / 2}`);
    if (micro % 2 !== 0) break;
  }
  throw new Error(`${variant}: no micro-batch size fits`);
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const uptimeBefore = execSync('uptime').toString().trim();
  console.log(`Swin-T step benchmark: 224², batch ${BATCH}, ${THREADS} threads, ${STEPS} timed step(s) after a warm-up; load ${loadBefore.map((l) => l.toFixed(1)).join(' ')}`);
  const fp = measure('fp');
  const torchFp = measure('torch-fp');
  const q = measure('w2a2-qkr');
  const out = {
    date: new Date().toISOString(),
    model: 'swin-t (224², patch 4, window 7, 1000 classes)',
    batch: BATCH,
    threads: THREADS,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    uptime: { before: uptimeBefore, after: execSync('uptime').toString().trim(), loadavgBefore: loadBefore, loadavgAfter: os.loadavg() },
    fp,
    w2a2Qkr: q,
    torchFp,
    ratios: { fpOverTorch: fp.medianMs / torchFp.medianMs, w2a2QkrOverFp: q.medianMs / fp.medianMs },
    note: 'forward + backward of CE over every trainable variable, no optimizer update; median of the timed steps; children run in the order tfjs FP, PyTorch FP, tfjs W2A2-QKR',
  };
  console.log(`ratios: FP / PyTorch ${out.ratios.fpOverTorch.toFixed(2)}×, W2A2-QKR / FP ${out.ratios.w2a2QkrOverFp.toFixed(2)}×`);
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = path.join(HERE, 'results', BATCH === 8 ? 'swin-step.json' : `swin-step-b${BATCH}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

const childVariant = process.env.BENCH_CHILD as Variant | undefined;
(childVariant ? child(childVariant as Exclude<Variant, 'torch-fp'>, Number(process.env.BENCH_MICRO ?? BATCH)) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
