/**
 * Where does a DeiT-Tiny training step spend its time, per tfjs kernel? Wraps every kernel of
 * the wasm backend with a timer and runs one forward+backward at batch 8 (after a warm-up),
 * with @ofq/accel installed (ACCEL=stock to profile the stock kernels).
 *   tsx --conditions=@ofq/source bench/profile.ts      (BATCH=8, MODEL=fp|w2a2-qkr, ACCEL=stock, BY_SHAPE=1)
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { installAccel } from '../src/index.js';

async function main(): Promise<void> {
  await tf.setBackend('wasm');
  await tf.ready();
  const engine = process.env.ACCEL ?? 'auto';
  if (engine !== 'stock') console.log(installAccel({ engine: engine as 'auto' }));
  const vit = await import('../../vit/src/index.js');
  const fp = vit.createDeiT({ preset: 'deit-tiny', seed: 0 });
  // MODEL=w2a2-qkr profiles the OFQ-quantized model (W2A2, QKR) instead of the FP one.
  const model = process.env.MODEL === 'w2a2-qkr' ? vit.quantizeDeiT(fp as never, { weightBits: 2, actBits: 2, qkr: true, method: 'ofq' }) : fp;
  if (model !== fp) fp.dispose();
  const batch = Number(process.env.BATCH ?? 8);
  const vars = [...model.trainableVariables.decay, ...model.trainableVariables.noDecay];
  const x = tf.randomUniform([batch, 224, 224, 3], -1, 1) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i), 'int32'), 1000);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(labels, model.forwardTrain(x).cls) as tf.Scalar, vars);
    tf.dispose([value, ...Object.values(grads)]);
  };
  step();
  const stats = new Map<string, { ms: number; calls: number; elems: number }>();
  for (const k of tf.getKernelsForBackend('wasm')) {
    const inner = k.kernelFunc;
    tf.unregisterKernel(k.kernelName, 'wasm');
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<typeof inner>[0]) => {
        const t0 = performance.now();
        const r = inner(args);
        const ins = Object.values(args.inputs) as tf.TensorInfo[];
        const key = !process.env.BY_SHAPE
          ? k.kernelName
          : k.kernelName === 'BatchMatMul'
            ? `MM [${ins[0].shape}]${args.attrs?.transposeA ? 'T' : ''}·[${ins[1].shape}]${args.attrs?.transposeB ? 'T' : ''}`
            : `${k.kernelName} ${ins.map((t) => `[${t.shape}]`).join('')}${args.attrs && 'axis' in args.attrs ? ` axis ${String(args.attrs.axis)}` : ''}`;
        const s = stats.get(key) ?? { ms: 0, calls: 0, elems: 0 };
        s.ms += performance.now() - t0;
        s.calls++;
        const out = Array.isArray(r) ? r[0] : r;
        s.elems += out.shape.reduce((p, d) => p * d, 1);
        stats.set(key, s);
        return r;
      }) as typeof inner,
    });
  }
  const t0 = performance.now();
  step();
  const total = performance.now() - t0;
  console.log(`step ${total.toFixed(0)} ms (batch ${batch}, engine ${engine})`);
  const rows = [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 25));
  for (const [name, s] of rows) {
    console.log(`${name.padEnd(process.env.BY_SHAPE ? 60 : 22)} ${s.ms.toFixed(0).padStart(6)} ms ${((100 * s.ms) / total).toFixed(1).padStart(5)}%  ${String(s.calls).padStart(5)} calls  ${(s.elems / 1e6).toFixed(1)} M out elems`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
