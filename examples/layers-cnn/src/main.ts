// applyOFQ on a tfjs-layers convnet: pnpm --filter @ofq/example-layers-cnn start [--train 10000] [--test 10000] [--epochs 2] [--backend wasm|cpu] [--accel auto|off]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setBackend, type BackendChoice } from '@ofq/core';
import { installAccelIfPresent } from './accel.js';
import { runLayersCnn } from './run.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '10000' },
    test: { type: 'string', default: '10000' },
    epochs: { type: 'string', default: '2' },
    backend: { type: 'string', default: 'wasm' },
    accel: { type: 'string', default: 'auto' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: start [--train N] [--test N] [--epochs E] [--backend wasm|cpu|auto] [--accel auto|onnxruntime|native|wasm|off]');
  process.exit(0);
}
const positiveInt = (s: string, what: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got ${s}`);
  return n;
};
const o = { trainSize: positiveInt(values.train, 'train'), testSize: positiveInt(values.test, 'test'), epochs: positiveInt(values.epochs, 'epochs') };

let backend = await setBackend(values.backend as BackendChoice);
const accel = values.accel !== 'off' && (backend === 'wasm' || backend === 'cpu') ? await installAccelIfPresent(values.accel) : null;
if (!tf.getKernel('Conv2DBackpropFilter', backend)) {
  // Stock tfjs-backend-wasm cannot train convolutions; @ofq/accel adds the kernels.
  console.error(`backend ${backend} has no Conv2DBackpropFilter kernel (install @ofq/accel); training on cpu instead (slow)`);
  backend = await setBackend('cpu');
}
console.log(`tfjs MNIST-tutorial convnet, ${o.trainSize} train / ${o.testSize} test images, ${o.epochs} epoch(s), backend ${backend}${accel ? ` · accel: ${accel}` : ''}`);
const t0 = Date.now();
const r = await runLayersCnn({ ...o, log: (l) => console.log(l) });
console.log(`dataset ${r.dataset}; done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
