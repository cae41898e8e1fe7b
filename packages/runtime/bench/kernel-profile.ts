// Where a packed model's per-image time goes, by tfjs kernel (tf.profile on the wasm backend): the
// share of the weight matmuls bounds what a low-bit matmul kernel could save.
//   pnpm exec tsx --conditions=@ofq/source packages/runtime/bench/kernel-profile.ts [file.ofq]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createDeiT, initActivationSteps, type DeiTConfig } from '@ofq/vit';
import { exportDeiT, loadPackedModelSync } from '@ofq/runtime';

await tf.setBackend(process.env.OFQ_BACKEND ?? 'wasm');
const file = process.argv[2];
let bytes: Uint8Array;
if (file) bytes = new Uint8Array(readFileSync(file));
else {
  const q = createDeiT({ preset: 'deit-tiny', seed: 1, quant: { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' } });
  const x0 = tf.randomNormal([1, 224, 224, 3]) as tf.Tensor4D;
  initActivationSteps(q, x0);
  bytes = exportDeiT(q);
  q.dispose();
  x0.dispose();
}
const m = loadPackedModelSync(bytes);
const c = m.config as DeiTConfig;
const x = tf.randomNormal([1, c.imgSize, c.imgSize, c.inChans]) as tf.Tensor4D;
m.predict(x).dispose(); // warm-up
const info = await tf.profile(() => m.predict(x));
const byKernel = new Map<string, { ms: number; calls: number }>();
for (const k of info.kernels) {
  const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
  e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.calls++;
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((a, b) => a + b.ms, 0);
const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms);
console.log(JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg().map((v) => +v.toFixed(2)), backend: tf.getBackend(), model: file ?? 'deit-tiny w2a2 (random)', totalKernelMs: +total.toFixed(1), top: rows.slice(0, 12).map(([n, e]) => ({ kernel: n, ms: +e.ms.toFixed(1), share: +(e.ms / total).toFixed(3), calls: e.calls })) }, null, 1));
m.dispose();
x.dispose();
