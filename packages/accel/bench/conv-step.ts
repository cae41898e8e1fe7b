/**
 * One training step of the tfjs MNIST-tutorial convnet (conv(8,5×5,relu)-maxpool-conv(16,5×5,relu)-
 * maxpool-flatten-dense(10) softmax, Adam, batch 64, 28×28×1), interleaved in one run:
 *   accel        tfjs-backend-wasm + installAccel() (the default backend as applications set it up)
 *   stock cpu    tfjs-backend-cpu, no accel (stock wasm cannot train a convnet: no Conv2DBackpropFilter)
 *   pytorch      bench/cnn_torch.py (same net, same threads), driven step by step over stdin
 *   … and accel / PyTorch with one thread each (a loaded machine stalls 2-thread OpenMP steps)
 * and, on accel, the same net written as plain ops (fp-ops) and as W4A4 QAT (w4a4-ops: StatsQ on
 * the conv/dense kernels, LSQ 4-bit on their inputs), which is what applyOFQ does to the model.
 *
 *   pnpm --filter @ofq/accel bench:conv        (BENCH_ROUNDS=5 BENCH_STEPS=10 BENCH_THREADS=2)
 *   BENCH_PROFILE=layers|fp-ops|w4a4-ops|w4a4-ops-float-image ... (per-kernel times of 10 accel steps of one row instead)
 *
 * Results: a table on stdout and JSON in bench/results/conv-step-<date>.json with the load average.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { lsqQuantize } from '@ofq/lsq';
import { statsQuantize } from '@ofq/statsq';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { installAccel } from '../src/index.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const THREADS = Number(process.env.BENCH_THREADS ?? 2);
const BATCH = 64;

type RowId = 'accel fp (layers)' | 'accel fp (layers), 1 thread' | 'pytorch fp, 1 thread' | 'accel fp-ops' | 'accel w4a4-ops' | 'accel w4a4-ops, float image' | 'stock cpu fp (layers)' | 'pytorch fp';
interface Samples {
  wall: number[];
  cpu: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The tfjs MNIST tutorial's model (as in examples/layers-cnn), compiled with Adam as there. */
function layersModel(): tf.Sequential {
  const m = tf.sequential();
  const init = (seed: number) => tf.initializers.varianceScaling({ seed });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], kernelSize: 5, filters: 8, strides: 1, activation: 'relu', kernelInitializer: init(1) }));
  m.add(tf.layers.maxPooling2d({ poolSize: [2, 2], strides: [2, 2] }));
  m.add(tf.layers.conv2d({ kernelSize: 5, filters: 16, strides: 1, activation: 'relu', kernelInitializer: init(2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: [2, 2], strides: [2, 2] }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(3) }));
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/**
 * The same net as plain ops; `quant`: W4A4 (StatsQ kernels, LSQ inputs with learnable steps).
 * `floatImage`: leave the image (conv1's input) unquantized, so that no input gradient of conv1 is
 * needed (the LSQ step of the image needs one): shows what that one gradient costs.
 */
function opsModel(quant: boolean, floatImage = false) {
  const v = (shape: number[], scale: number) => tf.variable(tf.randomNormal(shape, 0, scale));
  const params = {
    w1: v([5, 5, 1, 8], 0.2), b1: tf.variable(tf.zeros([8])),
    w2: v([5, 5, 8, 16], 0.07), b2: tf.variable(tf.zeros([16])),
    w3: v([256, 10], 0.09), b3: tf.variable(tf.zeros([10])),
    // LSQ steps of the three layers' inputs (4-bit unsigned: images and ReLU outputs are ≥ 0).
    s1: tf.variable(tf.scalar(1 / 15)), s2: tf.variable(tf.scalar(0.1)), s3: tf.variable(tf.scalar(0.1)),
  };
  const opt = tf.train.adam(1e-3);
  const w = (t: tf.Tensor) => (quant ? statsQuantize(t, { bits: 4 }) : t);
  const a = (t: tf.Tensor, step: tf.Variable) =>
    quant ? lsqQuantize(t, step, { bits: 4, unsigned: true, granularity: 'tensor', gradScale: 1 / Math.sqrt(t.size * 15) }) : t;
  const forward = (x: tf.Tensor4D) => {
    let h = tf.relu(tf.add(tf.conv2d((floatImage ? x : a(x, params.s1)) as tf.Tensor4D, w(params.w1) as tf.Tensor4D, 1, 'valid'), params.b1)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    h = tf.relu(tf.add(tf.conv2d(a(h, params.s2) as tf.Tensor4D, w(params.w2) as tf.Tensor4D, 1, 'valid'), params.b2)) as tf.Tensor4D;
    h = tf.maxPool(h, 2, 2, 'valid');
    return tf.add(tf.matMul(a(tf.reshape(h, [x.shape[0], 256]), params.s3) as tf.Tensor2D, w(params.w3) as tf.Tensor2D), params.b3);
  };
  const fp = [params.w1, params.b1, params.w2, params.b2, params.w3, params.b3];
  const trainable = quant ? [...fp, ...(floatImage ? [] : [params.s1]), params.s2, params.s3] : fp;
  return {
    step(x: tf.Tensor4D, y: tf.Tensor2D) {
      const loss = opt.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x)) as tf.Scalar, true, trainable);
      loss!.dataSync();
      loss!.dispose();
    },
    dispose() {
      opt.dispose();
      tf.dispose(Object.values(params));
    },
  };
}

function batch(): { x: tf.Tensor4D; y: tf.Tensor2D } {
  return tf.tidy(() => ({
    x: tf.randomUniform([BATCH, 28, 28, 1], 0, 1, 'float32', 1) as tf.Tensor4D,
    y: tf.oneHot(tf.randomUniform([BATCH], 0, 10, 'int32', 2) as tf.Tensor1D, 10).toFloat() as tf.Tensor2D,
  }));
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function timed(n: number, step: () => unknown | Promise<unknown>, into: Samples): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const c = cpuMs();
    await step();
    into.wall.push(performance.now() - t);
    into.cpu.push(cpuMs() - c);
  }
}

function torchPython(): string | undefined {
  for (const py of [process.env.BENCH_PYTHON, '/usr/bin/python3', 'python3']) {
    if (py && spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) return py;
  }
  return undefined;
}

/** cnn_torch.py in server mode: `run(n)` times n steps there and returns its samples. */
async function startTorch(py: string, threads: number) {
  const child = spawn(py, [path.join(HERE, 'cnn_torch.py'), '--batch', String(BATCH), '--threads', String(threads)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, OMP_NUM_THREADS: String(threads) },
  });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse((await lines.next()).value as string);
  const hello = await next();
  return {
    version: hello.torch as string,
    async run(n: number, into: Samples) {
      child.stdin!.write(`step ${n}\n`);
      const r = await next();
      into.wall.push(...r.wall_ms);
      into.cpu.push(...r.cpu_ms);
    },
    stop: () => child.stdin!.end('quit\n'),
  };
}

/** CPU time (process, all threads: steadier than wall time on a shared machine) of every wasm kernel call of `n` steps. */
async function profile(n: number, step: () => unknown | Promise<unknown>): Promise<void> {
  const stats = new Map<string, { ms: number; calls: number }>();
  for (const k of tf.getKernelsForBackend('wasm')) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<typeof inner>[0]) => {
        const t0 = cpuMs();
        const r = inner(args);
        const s = stats.get(k.kernelName) ?? { ms: 0, calls: 0 };
        s.ms += cpuMs() - t0;
        s.calls++;
        stats.set(k.kernelName, s);
        return r;
      }) as typeof inner,
    });
  }
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) await step();
  const total = (cpuMs() - t0) / n;
  let inKernels = 0;
  for (const s of stats.values()) inKernels += s.ms / n;
  console.log(`step ${total.toFixed(1)} ms CPU time (all threads), of which ${inKernels.toFixed(1)} ms inside kernels; per step:`);
  for (const [name, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
    console.log(`${name.padEnd(36)} ${(s.ms / n).toFixed(2).padStart(8)} ms  ${String(s.calls / n).padStart(5)} calls`);
  }
}

async function main() {
  if (process.env.BENCH_PROFILE) {
    await tf.setBackend('wasm');
    await tf.ready();
    console.log(installAccel({ threads: THREADS }));
    const { x, y } = batch();
    const which = process.env.BENCH_PROFILE;
    const m = which === 'layers' ? layersModel() : opsModel(which.startsWith('w4a4'), which === 'w4a4-ops-float-image');
    const step = () => ('trainOnBatch' in m ? m.trainOnBatch(x, y) : m.step(x, y));
    for (let i = 0; i < 3; i++) await step();
    await profile(10, step);
    return;
  }
  const started = new Date().toISOString();
  const loadStart = os.loadavg();
  const samples = new Map<RowId, Samples>();
  const rec = (id: RowId) => (samples.has(id) ? samples.get(id)! : (samples.set(id, { wall: [], cpu: [] }), samples.get(id)!));

  // Stock wasm first: what a user gets today.
  await tf.setBackend('wasm');
  await tf.ready();
  let stockWasm = 'trains';
  {
    const m = layersModel();
    const { x, y } = batch();
    try {
      await m.trainOnBatch(x, y);
    } catch (e) {
      stockWasm = (e as Error).message;
    }
    tf.dispose([x, y]);
    m.dispose();
  }
  const accel = installAccel({ threads: THREADS });
  const wasmData = batch();
  const wasmLayers = layersModel();
  const fpOps = opsModel(false);
  const qOps = opsModel(true);
  const qOpsFloatImage = opsModel(true, true);
  await tf.setBackend('cpu');
  const cpuData = batch();
  const cpuLayers = layersModel();
  const py = torchPython();
  const torch = py ? await startTorch(py, THREADS) : undefined;
  // One thread each as well: on a loaded machine a 2-thread OpenMP step waits at every barrier.
  const torch1 = py && THREADS !== 1 ? await startTorch(py, 1) : undefined;

  const onWasm = async (n: number, record: boolean) => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const { x, y } = wasmData;
    await timed(n, () => wasmLayers.trainOnBatch(x, y), record ? rec('accel fp (layers)') : { wall: [], cpu: [] });
    await timed(n, () => fpOps.step(x, y), record ? rec('accel fp-ops') : { wall: [], cpu: [] });
    await timed(n, () => qOps.step(x, y), record ? rec('accel w4a4-ops') : { wall: [], cpu: [] });
    await timed(n, () => qOpsFloatImage.step(x, y), record ? rec('accel w4a4-ops, float image') : { wall: [], cpu: [] });
    if (THREADS !== 1) {
      installAccel({ threads: 1 });
      await timed(n, () => wasmLayers.trainOnBatch(x, y), record ? rec('accel fp (layers), 1 thread') : { wall: [], cpu: [] });
      installAccel({ threads: THREADS });
    }
    if (record && tf.memory().numTensors !== before) throw new Error(`accel steps leaked ${tf.memory().numTensors - before} tensors`);
  };
  const onCpu = async (n: number, record: boolean) => {
    await tf.setBackend('cpu');
    await timed(n, () => cpuLayers.trainOnBatch(cpuData.x, cpuData.y), record ? rec('stock cpu fp (layers)') : { wall: [], cpu: [] });
  };
  // Warm-up, then rounds that interleave every row (the load moves during a run; ratios of one round are fair).
  await onWasm(3, false);
  await onCpu(1, false);
  if (torch) await torch.run(3, { wall: [], cpu: [] });
  if (torch1) await torch1.run(3, { wall: [], cpu: [] });
  for (let r = 0; r < ROUNDS; r++) {
    await onWasm(STEPS, true);
    if (torch) await torch.run(STEPS, rec('pytorch fp'));
    if (torch1) await torch1.run(STEPS, rec('pytorch fp, 1 thread'));
    await onCpu(Math.max(1, Math.round(STEPS / 5)), true);
    process.stderr.write(`round ${r + 1}/${ROUNDS} done, load ${os.loadavg()[0].toFixed(1)}\n`);
  }
  torch?.stop();
  torch1?.stop();

  const med = (id: RowId) => median(samples.get(id)?.wall ?? []);
  const rows = [...samples.entries()].map(([id, s]) => ({
    id,
    steps: s.wall.length,
    medianMs: +median(s.wall).toFixed(2),
    cpuMs: +median(s.cpu).toFixed(2),
    imagesPerSec: +(BATCH / (median(s.wall) / 1000)).toFixed(0),
    xPyTorch: torch ? +(median(s.wall) / med('pytorch fp')).toFixed(2) : undefined,
    xStockCpu: +(median(s.wall) / med('stock cpu fp (layers)')).toFixed(3),
  }));
  const summary = {
    accelVsPyTorch: torch ? +(med('accel fp (layers)') / med('pytorch fp')).toFixed(2) : undefined,
    accelVsPyTorch1Thread: torch1 ? +(med('accel fp (layers), 1 thread') / med('pytorch fp, 1 thread')).toFixed(2) : undefined,
    accelVsPyTorchCpuTime: torch ? +(median(samples.get('accel fp (layers)')!.cpu) / median(samples.get('pytorch fp')!.cpu)).toFixed(2) : undefined,
    cpuOverAccel: +(med('stock cpu fp (layers)') / med('accel fp (layers)')).toFixed(1),
    qatOverhead: +(med('accel w4a4-ops') / med('accel fp-ops')).toFixed(2),
    qatOverheadFloatImage: +(med('accel w4a4-ops, float image') / med('accel fp-ops')).toFixed(2),
  };
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, Node ${process.version}, tfjs ${tf.version.tfjs}`;
  const out = {
    started, finished: new Date().toISOString(), machine, uptimeLoadStart: loadStart, uptimeLoadEnd: os.loadavg(),
    batch: BATCH, threads: THREADS, rounds: ROUNDS, stepsPerRound: STEPS, accel, torch: torch?.version ?? 'absent', stockWasm, rows, summary,
  };
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = path.join(HERE, 'results', `conv-step-${started.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2));
  console.log(`${machine}; load ${loadStart.map((l) => l.toFixed(2)).join(' ')} → ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; accel engine ${accel.engine}`);
  console.log(`stock wasm: ${stockWasm}`);
  console.table(rows);
  console.log(summary, '→', path.relative(process.cwd(), file));
  for (const m of [fpOps, qOps, qOpsFloatImage]) m.dispose();
}

await main();
