// StatsQ on MNIST: pnpm --filter @ofq/example-statsq-mnist start [--train 10000] [--test 2000] [--epochs 2] [--bits 2,4] [--backend wasm] [--accel auto|onnxruntime|wasm|off]
import { parseArgs } from 'node:util';
import '@tensorflow/tfjs';
import { setBackend, type BackendChoice } from '@ofq/core';
import { runStatsQMnist } from './run.js';
import { installAccelIfPresent } from './accel.js';

const { values } = parseArgs({
  options: {
    train: { type: 'string', default: '10000' },
    test: { type: 'string', default: '2000' },
    epochs: { type: 'string', default: '2' },
    bits: { type: 'string', default: '2,4' },
    backend: { type: 'string', default: 'wasm' },
    accel: { type: 'string', default: 'auto' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('usage: start [--train N (slice of the 60k training set)] [--test N] [--epochs E] [--bits 2,4] [--backend wasm|cpu|tensorflow|auto] [--accel auto|onnxruntime|wasm|off]');
  process.exit(0);
}
const positiveInt = (s: string, what: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${what} must be a positive integer, got ${s}`);
  return n;
};

const backend = await setBackend(values.backend as BackendChoice);
// @ofq/accel's kernels serve the wasm/cpu backends only; `--accel off` keeps the stock tfjs kernels.
const accel = values.accel !== 'off' && (backend === 'wasm' || backend === 'cpu') ? await installAccelIfPresent(values.accel) : null;
const o = {
  trainSize: positiveInt(values.train, 'train'),
  testSize: positiveInt(values.test, 'test'),
  epochs: positiveInt(values.epochs, 'epochs'),
  bits: values.bits.split(',').map((b) => positiveInt(b.trim(), 'bits')),
};
console.log(`MNIST MLP (784-128-10), ${o.trainSize} training / ${o.testSize} test images, ${o.epochs} epoch(s), backend ${backend}${accel ? ` · accel: ${accel}` : ''}`);
const t0 = Date.now();
await runStatsQMnist({ ...o, log: (l) => console.log(l) });
console.log(`done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
