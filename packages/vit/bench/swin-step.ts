/**
 * One training step (forward + backward of CE over every trainable variable, no optimizer update) of
 * Swin-T at 224², side by side in one run with PyTorch: tfjs FP and W2A2-QKR on wasm + @ofq/accel, and
 * torchvision's `swin_t` FP and the same model with the OFQ W2A2-QKR modules (swin_step.py,
 * swin_w2a2_qkr.py), at the same thread count.
 *
 *   pnpm --filter @ofq/vit bench:swin
 *   BENCH_BATCH=8 BENCH_STEPS=1 BENCH_THREADS=2 BENCH_RSS_BUDGET_MIB=3072 …   (defaults)
 *
 * Each variant runs in its own child process, in the order tfjs FP, PyTorch FP, tfjs W2A2-QKR, tfjs FP in
 * W2A2-QKR's configuration, PyTorch W2A2-QKR (the pairs compared run close together on a shared machine). A global batch that does not
 * fit is gradient accumulation over micro-batches: each tfjs variant tries the configurations of
 * `CANDIDATES` in order and keeps the first that runs — for W2A2-QKR, the first whose peak RSS stays
 * within the budget (the issue's 3 GiB), with gradient checkpointing where the micro-batch needs it.
 * The warm-up is one micro-batch; then `BENCH_STEPS` timed global steps. Writes bench/results/swin-step[-bN].json.
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
const RSS_BUDGET_MIB = Number(process.env.BENCH_RSS_BUDGET_MIB ?? 3072);
const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3';

type Variant = 'fp' | 'w2a2-qkr' | 'torch-fp' | 'torch-w2a2-qkr';
type TfjsVariant = 'fp' | 'w2a2-qkr';
interface Config {
  microBatch: number;
  checkpointing: boolean;
}
interface Result extends Config {
  variant: Variant;
  backend: string;
  batch: number;
  stepMs: number[];
  medianMs: number;
  peakRssMiB: number;
}

/**
 * Configurations tried in order, larger micro-batches first (they amortise the per-micro-batch weight
 * work). Measured here: FP micro-batches of 8 overflow the 4 GiB wasm heap; checkpointed W2A2-QKR needs
 * ≈0.6 GiB plus ≈0.1 GiB per image.
 */
const CANDIDATES: Record<'fp' | 'w2a2-qkr', Config[]> = {
  fp: [4, 2, 1].map((m) => ({ microBatch: m, checkpointing: false })),
  'w2a2-qkr': [
    ...[16, 8, 4].map((m) => ({ microBatch: m, checkpointing: true })),
    ...[2, 1].map((m) => ({ microBatch: m, checkpointing: false })),
  ],
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Child: times one tfjs variant; prints one JSON line prefixed by RESULT. */
async function child(variant: TfjsVariant, cfg: Config): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { setBackend } = await import('@ofq/core');
  await setBackend('wasm');
  const { installAccel } = await import('@ofq/accel');
  const accel = installAccel({ engine: 'auto', threads: THREADS });
  const { createSwin, initActivationSteps } = await import('../src/index.js');
  type T = import('@tensorflow/tfjs').Tensor;
  const quant = variant === 'fp' ? undefined : { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };
  const model = createSwin({ preset: 'swin-t', seed: 1, quant });
  model.gradientCheckpointing = cfg.checkpointing;
  const { microBatch } = cfg;
  const chunks = Math.max(1, BATCH / microBatch);
  const x = tf.randomNormal([microBatch, 224, 224, 3], 0, 1, 'float32', 7) as import('@tensorflow/tfjs').Tensor4D;
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([microBatch], 0, 1000, 'int32', 100) as import('@tensorflow/tfjs').Tensor1D, 1000).toFloat());
  if (quant) initActivationSteps(model, x);
  const { decay, noDecay } = model.trainableVariables;
  const vars = [...decay, ...noDecay];
  const microStep = (acc: Record<string, T> | null): Record<string, T> => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forwardTrain(x).cls) as import('@tensorflow/tfjs').Scalar, vars);
    value.dataSync();
    value.dispose();
    if (!acc) return grads;
    for (const k of Object.keys(grads)) {
      const sum = tf.add(acc[k], grads[k]);
      tf.dispose([acc[k], grads[k]]);
      acc[k] = sum;
    }
    return acc;
  };
  tf.dispose(Object.values(microStep(null))); // warm-up: one micro-batch
  const stepMs: number[] = [];
  for (let s = 0; s < STEPS; s++) {
    const t0 = performance.now();
    let acc: Record<string, T> | null = null;
    for (let i = 0; i < chunks; i++) acc = microStep(acc);
    Object.values(acc!)[0].dataSync();
    stepMs.push(performance.now() - t0);
    tf.dispose(Object.values(acc!));
  }
  const r: Result = {
    variant, ...cfg, backend: `wasm + @ofq/accel ${accel.engine}`, batch: BATCH, stepMs, medianMs: median(stepMs),
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
  };
  console.log(`RESULT ${JSON.stringify(r)}`);
}

function runChild(variant: Variant, cfg: Config): Result | string {
  const env = {
    ...process.env, BENCH_CHILD: variant, BENCH_MICRO: String(cfg.microBatch), BENCH_CKPT: cfg.checkpointing ? '1' : '0',
    BENCH_BATCH: String(BATCH), BENCH_STEPS: String(STEPS), BENCH_THREADS: String(THREADS),
  };
  const p = variant.startsWith('torch')
    ? spawnSync(PYTHON, [path.join(HERE, 'swin_step.py')], { env, encoding: 'utf8', maxBuffer: 64 << 20, cwd: HERE })
    : spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (line) {
    const r = JSON.parse(line.slice(7)) as Result; // PyTorch's line has no checkpointing field
    return { ...r, checkpointing: r.checkpointing ?? false };
  }
  return `${(p.stderr ?? '').split('\n').filter((l) => /Error|error|Aborted/.test(l)).slice(0, 2).join(' | ') || `exit ${p.status}`}`;
}

function describe(r: Result): string {
  const how = r.microBatch < r.batch ? ` (${r.batch / r.microBatch} micro-batches of ${r.microBatch}${r.checkpointing ? ', checkpointed' : ''})` : r.checkpointing ? ' (checkpointed)' : '';
  return `${r.variant.padEnd(15)} ${r.medianMs.toFixed(0).padStart(8)} ms/step${how}  steps: ${r.stepMs.map((m) => m.toFixed(0)).join(', ')}  peak RSS ${r.peakRssMiB.toFixed(0)} MiB`;
}

function measure(variant: Variant, budgetMiB = Infinity): Result {
  if (variant.startsWith('torch')) {
    // PyTorch keeps every activation too; micro-batches of 8 bound its memory at global batch 32.
    const r = runChild(variant, { microBatch: Math.min(BATCH, 8), checkpointing: false });
    if (typeof r === 'string') throw new Error(`${variant}: ${r}`);
    console.log(describe(r));
    return r;
  }
  return firstThatFits(variant as TfjsVariant, CANDIDATES[variant as TfjsVariant], budgetMiB);
}

function firstThatFits(variant: TfjsVariant, candidates: Config[], budgetMiB = Infinity): Result {
  for (const cfg of candidates.filter((c) => c.microBatch <= BATCH && BATCH % c.microBatch === 0)) {
    const r = runChild(variant, cfg);
    if (typeof r !== 'string' && r.peakRssMiB <= budgetMiB) {
      console.log(describe(r));
      return r;
    }
    const why = typeof r === 'string' ? r : `peak RSS ${r.peakRssMiB.toFixed(0)} MiB over the ${budgetMiB} MiB budget`;
    console.log(`${variant}: micro-batch ${cfg.microBatch}${cfg.checkpointing ? ' checkpointed' : ''} rejected (${why}); trying the next configuration`);
  }
  throw new Error(`${variant}: no configuration fits`);
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg();
  const uptimeBefore = execSync('uptime').toString().trim();
  console.log(`Swin-T step benchmark: 224², global batch ${BATCH}, ${THREADS} threads, ${STEPS} timed step(s) after a one-micro-batch warm-up; W2A2 RSS budget ${RSS_BUDGET_MIB} MiB; ${uptimeBefore}`);
  const fp = measure('fp');
  const torchFp = measure('torch-fp');
  const q = measure('w2a2-qkr', RSS_BUDGET_MIB);
  // FP in W2A2-QKR's own configuration: the ratio of the two models at the same micro-batching.
  const fpSame = q.checkpointing || q.microBatch !== fp.microBatch ? firstThatFits('fp', [{ microBatch: q.microBatch, checkpointing: q.checkpointing }]) : fp;
  const torchQ = measure('torch-w2a2-qkr');
  const out = {
    date: new Date().toISOString(),
    model: 'swin-t (224², patch 4, window 7, 1000 classes)',
    batch: BATCH,
    threads: THREADS,
    rssBudgetMiB: RSS_BUDGET_MIB,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    uptime: { before: uptimeBefore, after: execSync('uptime').toString().trim(), loadavgBefore: loadBefore, loadavgAfter: os.loadavg() },
    fp, w2a2Qkr: q, fpInW2a2QkrConfig: fpSame, torchFp, torchW2a2Qkr: torchQ,
    ratios: {
      fpOverTorch: fp.medianMs / torchFp.medianMs,
      w2a2QkrOverFp: q.medianMs / fp.medianMs,
      w2a2QkrOverFpSameConfig: q.medianMs / fpSame.medianMs,
      torchW2a2QkrOverTorchFp: torchQ.medianMs / torchFp.medianMs,
      w2a2QkrOverTorchW2a2Qkr: q.medianMs / torchQ.medianMs,
    },
    note: 'forward + backward of CE over every trainable variable, no optimizer update; median of the timed steps; children in the order tfjs FP, PyTorch FP, tfjs W2A2-QKR, tfjs FP in the W2A2-QKR configuration, PyTorch W2A2-QKR',
  };
  const r = out.ratios;
  console.log(`ratios: FP / PyTorch FP ${r.fpOverTorch.toFixed(2)}×, W2A2-QKR / FP ${r.w2a2QkrOverFp.toFixed(2)}× (${r.w2a2QkrOverFpSameConfig.toFixed(2)}× against FP in the same configuration; PyTorch's own ${r.torchW2a2QkrOverTorchFp.toFixed(2)}×), W2A2-QKR / PyTorch W2A2-QKR ${r.w2a2QkrOverTorchW2a2Qkr.toFixed(2)}×`);
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = path.join(HERE, 'results', BATCH === 8 ? 'swin-step.json' : `swin-step-b${BATCH}.json`);
  fs.writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

const childVariant = process.env.BENCH_CHILD as Variant | undefined;
const childConfig: Config = { microBatch: Number(process.env.BENCH_MICRO ?? BATCH), checkpointing: process.env.BENCH_CKPT === '1' };
(childVariant ? child(childVariant as TfjsVariant, childConfig) : main()).catch((e) => {
  console.error(e);
  process.exit(1);
});
