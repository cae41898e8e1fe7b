/**
 * Where a Swin-T 224² training step spends its time and memory: per-kernel wall time (tf.profile),
 * the step's peak tensor bytes, the wasm heap size, and the process's peak RSS, for one micro-batch.
 *
 *   pnpm --filter @ofq/vit exec tsx --conditions=@ofq/source bench/swin-profile.ts [fp|w2a2-qkr] [micro-batch] [ckpt]
 *
 * `ckpt`: with gradient checkpointing (each block recomputed in the backward pass).
 */
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '@ofq/core';
import { installAccel } from '@ofq/accel';
import { createSwin, initActivationSteps } from '../src/index.js';

const variant = process.argv[2] ?? 'w2a2-qkr';
const micro = Number(process.argv[3] ?? 2);
const checkpointing = process.argv[4] === 'ckpt';
const TOP = Number(process.env.PROFILE_TOP ?? 25);

async function main(): Promise<void> {
  await setBackend('wasm');
  const accel = installAccel({ engine: 'auto', threads: 2 });
  const quant = variant === 'fp' ? undefined : { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' as const };
  const model = createSwin({ preset: 'swin-t', seed: 1, quant });
  model.gradientCheckpointing = checkpointing;
  const x = tf.randomNormal([micro, 224, 224, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
  const y = tf.tidy(() => tf.oneHot(tf.randomUniform([micro], 0, 1000, 'int32', 100) as tf.Tensor1D, 1000).toFloat());
  if (quant) initActivationSteps(model, x);
  const { decay, noDecay } = model.trainableVariables;
  const vars = [...decay, ...noDecay];
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, model.forwardTrain(x).cls) as tf.Scalar, vars);
    value.dataSync();
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const t0 = performance.now();
  step();
  const plainMs = performance.now() - t0;
  const info = await tf.profile(step);
  const byKernel = new Map<string, { ms: number; n: number; bytes: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, n: 0, bytes: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.n++;
    e.bytes += k.bytesAdded;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  console.log(`${variant}${checkpointing ? ' (checkpointed)' : ''} micro-batch ${micro}, ${accel.engine}: step ${plainMs.toFixed(0)} ms, kernels ${total.toFixed(0)} ms, ${info.kernels.length} kernel calls`);
  console.log(`peak tensor bytes ${(info.peakBytes / 2 ** 20).toFixed(0)} MiB, wasm heap ${((tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.length / 2 ** 20).toFixed(0)} MiB, peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
  for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, TOP)) {
    console.log(`${name.padEnd(28)} ${e.ms.toFixed(0).padStart(7)} ms ${String(e.n).padStart(6)} calls ${(e.bytes / 2 ** 20).toFixed(0).padStart(7)} MiB out`);
  }
}
main().catch((e) => { console.error(e); process.exit(1); });
