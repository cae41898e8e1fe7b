/**
 * Raw matmul throughput: stock tfjs-wasm kernels vs @ofq/accel engines on the DeiT-Tiny shapes
 * (batch 32 at 224²: 32·197 = 6304 tokens). Short on purpose (shared 2-core machine): a few
 * repetitions per shape, ratios within this one run.
 *   tsx --conditions=@ofq/source bench/matmul.ts      (REPS=3, BENCH_CONFIGS='stock wasm,native')
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import * as os from 'node:os';
import { installAccel, uninstallAccel, type AccelOptions } from '../src/index.js';
import { nativeAddonAvailable } from '../src/native-binding.js';

interface Shape {
  label: string;
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}

const T = 6304;
const SHAPES: Shape[] = [
  { label: 'qkv fwd  [6304,192]·[192,576]', a: [T, 192], b: [192, 576], tA: false, tB: false },
  { label: 'fc2 fwd  [6304,768]·[768,192]', a: [T, 768], b: [768, 192], tA: false, tB: false },
  { label: 'fc2 dX   [6304,192]·[768,192]ᵀ', a: [T, 192], b: [768, 192], tA: false, tB: true },
  { label: 'fc2 dW   [6304,768]ᵀ·[6304,192]', a: [T, 768], b: [T, 192], tA: true, tB: false },
  { label: 'attn q·kᵀ [96,197,64]·[96,197,64]ᵀ', a: [96, 197, 64], b: [96, 197, 64], tA: false, tB: true },
  { label: 'attn p·v  [96,197,197]·[96,197,64]', a: [96, 197, 197], b: [96, 197, 64], tA: false, tB: false },
];

function flops(s: Shape): number {
  const ra = s.a.length;
  const m = s.tA ? s.a[ra - 1] : s.a[ra - 2];
  const k = s.tA ? s.a[ra - 2] : s.a[ra - 1];
  const n = s.tB ? s.b[s.b.length - 2] : s.b[s.b.length - 1];
  const batch = s.a.slice(0, -2).reduce((p, d) => p * d, 1);
  return 2 * batch * m * k * n;
}

/** Wall and process-CPU milliseconds per call (CPU time is less distorted by other load). */
function timeIt(s: Shape, a: tf.Tensor, b: tf.Tensor, reps: number): { wall: number; cpu: number } {
  tf.matMul(a, b, s.tA, s.tB).dispose(); // warm-up
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) tf.matMul(a, b, s.tA, s.tB).dispose();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / reps, cpu: (c.user + c.system) / 1000 / reps };
}

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const configs: Array<{ name: string; opts: AccelOptions | null }> = [
    { name: 'stock wasm', opts: null },
    { name: 'ort (no spin)', opts: { engine: 'onnxruntime' } },
    { name: 'ort 1 thread', opts: { engine: 'onnxruntime', threads: 1 } },
  ];
  // The optional OpenBLAS addon, where it is built (pnpm --filter @ofq/accel build:native).
  if (nativeAddonAvailable()) {
    configs.push({ name: 'native', opts: { engine: 'native' } }, { name: 'native 1 thread', opts: { engine: 'native', threads: 1 } });
  } else {
    console.log('native engine not built: no native columns');
  }
  const only = process.env.BENCH_CONFIGS?.split(',');
  if (only) configs.splice(0, configs.length, ...configs.filter((c) => only.includes(c.name)));
  const reps = Number(process.env.REPS ?? 3);
  const results: Record<string, Record<string, number>> = {};
  console.log(`${new Date().toISOString()}  ${os.cpus()[0]?.model} ×${os.cpus().length}  load ${os.loadavg()[0].toFixed(2)}`);
  for (const s of SHAPES) {
    const a = tf.randomUniform(s.a, -1, 1);
    const b = tf.randomUniform(s.b, -1, 1);
    results[s.label] = {};
    const row: string[] = [];
    for (const c of configs) {
      uninstallAccel();
      if (c.opts) installAccel(c.opts);
      const t = timeIt(s, a, b, reps);
      const gflops = flops(s) / t.wall / 1e6;
      results[s.label][c.name] = gflops;
      row.push(`${c.name}: ${t.wall.toFixed(1)} ms (cpu ${t.cpu.toFixed(1)}) ${gflops.toFixed(0)} GF/s`);
    }
    uninstallAccel();
    console.log(`${s.label.padEnd(38)} ${row.join(' | ')}`);
    tf.dispose([a, b]);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
