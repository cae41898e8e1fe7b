/**
 * DeiT-Tiny 224² training-step benchmark (forward + backward, no optimizer update):
 * stock tfjs-wasm vs @ofq/accel engines vs PyTorch, batch 8 and 32, FP and W2A2-QKR.
 *
 *   pnpm --filter @ofq/accel bench            (all rows; a few minutes on 2 cores)
 *   BENCH_STEPS=1 BENCH_ROWS=fp-b8 ...        (subset; see ROWS below)
 *
 * Every configuration runs in its own child process so that peak RSS is per configuration.
 * Batch 32 runs as 4 micro-batches of 8 with gradient accumulation (the 4 GiB wasm heap does
 * not hold a whole batch-32 graph). Results: a table on stdout and JSON in bench/results/.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeAddonAvailable } from '../src/native-binding.js';

interface Row {
  id: string;
  model: 'fp' | 'w2a2-qkr';
  batch: number;
  engine: 'stock' | 'onnxruntime' | 'native' | 'wasm' | 'pytorch';
}

interface Result extends Row {
  ok: boolean;
  message?: string;
  stepMs?: number[];
  medianMs?: number;
  /** Process CPU time of the step (all threads): less distorted than wall time on a shared machine. */
  cpuMs?: number;
  imagesPerSec?: number;
  peakRssMiB?: number;
  microBatch?: number;
  accel?: unknown;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Micro-batch per model: the W2A2-QKR graph at 8 images overflows the 4 GiB wasm heap. */
const MICRO: Record<Row['model'], number> = {
  fp: Number(process.env.BENCH_MICRO ?? 8),
  'w2a2-qkr': Number(process.env.BENCH_MICRO_Q ?? process.env.BENCH_MICRO ?? 4),
};
const STEPS = Number(process.env.BENCH_STEPS ?? 2);

const ROWS: Row[] = [];
// The optional OpenBLAS addon gets its rows only where it is built (pnpm --filter @ofq/accel build:native).
const NATIVE_BUILT = nativeAddonAvailable();
for (const model of ['fp', 'w2a2-qkr'] as const) {
  for (const batch of [8, 32]) {
    for (const engine of ['stock', 'onnxruntime', ...(NATIVE_BUILT ? (['native'] as const) : []), 'pytorch'] as const) {
      ROWS.push({ id: `${model}-b${batch}-${engine}`, model, batch, engine });
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Child: one tfjs configuration. Prints one JSON line. */
async function child(row: Row): Promise<Result> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  const { installAccel } = await import('../src/index.js');
  const accel = row.engine === 'stock' ? null : installAccel({ engine: row.engine as 'onnxruntime' | 'native' | 'wasm' });
  // Relative import: @ofq/vit is a sibling workspace package, not a dependency of @ofq/accel.
  const vit = await import('../../vit/src/index.js');
  let model;
  try {
    const fp = vit.createDeiT({ preset: 'deit-tiny', seed: 0 });
    if (row.model === 'fp') model = fp;
    else {
      try {
        model = vit.quantizeDeiT(fp as never, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' });
      } finally {
        fp.dispose();
      }
    }
  } catch (e) {
    return { ...row, ok: false, message: `model unavailable: ${(e as Error).message}` };
  }
  const vars = [...model.trainableVariables.decay, ...model.trainableVariables.noDecay];
  const micro = Math.min(MICRO[row.model], row.batch);
  const x = tf.randomUniform([micro, 224, 224, 3], -1, 1) as import('@tensorflow/tfjs').Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: micro }, (_, i) => i % 1000), 'int32'), 1000);
  const step = (): void => {
    let acc: import('@tensorflow/tfjs').Tensor[] | null = null;
    for (let i = 0; i < row.batch / micro; i++) {
      const { value, grads } = tf.variableGrads(() => {
        const { cls, dist } = model.forwardTrain(x);
        const l = tf.losses.softmaxCrossEntropy(labels, cls);
        return (dist ? tf.div(tf.add(l, tf.losses.softmaxCrossEntropy(labels, dist)), 2) : l) as import('@tensorflow/tfjs').Scalar;
      }, vars);
      value.dispose();
      const gs = vars.map((v) => grads[v.name]);
      if (!acc) acc = gs;
      else {
        const next: import('@tensorflow/tfjs').Tensor[] = acc.map((a, j) => tf.add(a, gs[j]));
        tf.dispose([...acc, ...gs]);
        acc = next;
      }
    }
    acc![0].dataSync(); // wasm is synchronous; this just makes the end of the step explicit
    tf.dispose(acc!);
  };
  const times: number[] = [];
  const cpu: number[] = [];
  step(); // warm-up: kernel setup, ORT sessions, heap growth
  for (let s = 0; s < STEPS; s++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  tf.dispose([x, labels]);
  model.dispose();
  const med = median(times);
  return {
    ...row, ok: true, stepMs: times, medianMs: med, cpuMs: median(cpu), imagesPerSec: (row.batch * 1000) / med,
    peakRssMiB: process.resourceUsage().maxRSS / 1024, microBatch: micro, accel,
  };
}

/** The first python with torch: `python3` on PATH, else Debian's (python3-torch installs there). */
function findPython(): string | null {
  for (const py of [process.env.BENCH_PYTHON, 'python3', '/usr/bin/python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  return null;
}

function runPytorch(row: Row): Result {
  const py = findPython();
  if (!py) return { ...row, ok: false, message: 'PyTorch absent (python3 -c "import torch" failed): skipped' };
  const r = spawnSync(py, [path.join(HERE, 'deit_torch.py'), '--batch', String(row.batch), '--model', row.model, '--steps', String(STEPS)], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: String(os.cpus().length) },
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(line) as { stepMs: number[]; cpuMs: number[]; peakRssMiB: number };
    const med = median(j.stepMs);
    return { ...row, ok: true, stepMs: j.stepMs, medianMs: med, cpuMs: median(j.cpuMs), imagesPerSec: (row.batch * 1000) / med, peakRssMiB: j.peakRssMiB };
  } catch {
    return { ...row, ok: false, message: `pytorch run failed: ${(r.stderr || line).trim().split('\n').slice(-2).join(' ')}` };
  }
}

function runChild(row: Row): Result {
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    encoding: 'utf8',
    env: { ...process.env, BENCH_CHILD: JSON.stringify(row) },
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) return { ...row, ok: false, message: `child failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' ')}` };
  return JSON.parse(line) as Result;
}

function fmt(x: number | undefined, digits = 0): string {
  return x === undefined ? '—' : x.toFixed(digits);
}

async function main(): Promise<void> {
  if (process.env.BENCH_CHILD) {
    const row = JSON.parse(process.env.BENCH_CHILD) as Row;
    console.log(JSON.stringify(await child(row)));
    return;
  }
  const only = process.env.BENCH_ROWS?.split(',');
  const rows = ROWS.filter((r) => !only || only.some((o) => r.id.startsWith(o)));
  const started = new Date().toISOString();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  console.log(`DeiT-Tiny 224² fwd+bwd, ${STEPS} timed step(s) after 1 warm-up, micro-batches fp ${MICRO.fp} / w2a2 ${MICRO['w2a2-qkr']} (tfjs only); ${machine}; load ${os.loadavg()[0].toFixed(2)}`);
  const results: Result[] = [];
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = path.join(HERE, 'results', `step-${started.replace(/[:.]/g, '-')}.json`);
  // Saved after every row, so an interrupted run keeps what it measured.
  const save = () => fs.writeFileSync(file, JSON.stringify({ started, machine, loadavg: os.loadavg(), steps: STEPS, microBatch: MICRO, results }, null, 2));
  for (const row of rows) {
    const r = row.engine === 'pytorch' ? runPytorch(row) : runChild(row);
    results.push(r);
    save();
    console.log(r.ok ? `  ${r.id}: ${fmt(r.medianMs)} ms (cpu ${fmt(r.cpuMs)} ms)` : `  ${r.id}: ${r.message}`);
  }
  const find = (model: string, batch: number, engine: string) => results.find((r) => r.model === model && r.batch === batch && r.engine === engine && r.ok);
  console.log('\n| model | batch | engine | micro | step ms | CPU ms | images/s | peak RSS MiB | ×PyTorch | ×stock | ×own FP |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    if (!r.ok) {
      console.log(`| ${r.model} | ${r.batch} | ${r.engine} | | ${r.message} | | | | | | |`);
      continue;
    }
    const torch = find(r.model, r.batch, 'pytorch');
    const stock = find(r.model, r.batch, 'stock');
    const fp = find('fp', r.batch, r.engine);
    const ratio = (o?: Result) => (o?.medianMs ? `${(r.medianMs! / o.medianMs).toFixed(2)}×` : '—');
    console.log(
      `| ${r.model} | ${r.batch} | ${r.engine} | ${r.microBatch ?? r.batch} | ${fmt(r.medianMs)} | ${fmt(r.cpuMs)} | ${fmt(r.imagesPerSec, 1)} | ${fmt(r.peakRssMiB)} | ${ratio(torch)} | ${ratio(stock)} | ${r.model === 'fp' ? '—' : ratio(fp)} |`,
    );
  }
  save();
  console.log(`\nsaved ${path.relative(process.cwd(), file)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
