// QAT overhead of applyOFQ on the example convnet: one training step (batch 64) FP vs W4A4 vs W2A2,
// interleaved in one run so machine load affects all alike. Writes bench/results/step-<date>.json.
// pnpm --filter @ofq/example-layers-cnn exec tsx --conditions=@ofq/source bench/step.ts [--rounds 8] [--backend wasm]
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { setBackend, type BackendChoice } from '@ofq/core';
import { applyOFQ } from '@ofq/layers';
import { installAccelIfPresent } from '../src/accel.js';
import { loadImages } from '../src/data.js';
import { createConvNet, toTensors } from '../src/model.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '8' }, backend: { type: 'string', default: 'wasm' }, batch: { type: 'string', default: '64' } } });
const backend = await setBackend(values.backend as BackendChoice);
const accel = await installAccelIfPresent('auto');
const batch = Number(values.batch);
const { x, y } = toTensors(loadImages('train', batch));

function makeModel(bits: number | null) {
  const model = createConvNet();
  const ofq = bits === null ? null : applyOFQ(model, { weightBits: bits, actBits: bits, sample: x, overrides: [{ layers: '<first>', weightBits: 8, actBits: null }] });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return { model, ofq };
}
const variants = { fp: makeModel(null), w4a4: makeModel(4), w2a2: makeModel(2) };
const times: Record<string, number[]> = { fp: [], w4a4: [], w2a2: [] };
for (const v of Object.values(variants)) await v.model.trainOnBatch(x, y); // warm-up (kernel setup, optimizer slots)
for (let r = 0; r < Number(values.rounds); r++) {
  for (const [name, v] of Object.entries(variants)) {
    const t0 = performance.now();
    await v.model.trainOnBatch(x, y);
    times[name].push(performance.now() - t0);
  }
}
const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const result = {
  date: new Date().toISOString(),
  uptime: execSync('uptime').toString().trim(),
  backend,
  accel,
  batch,
  rounds: Number(values.rounds),
  medianMs: Object.fromEntries(Object.entries(times).map(([k, a]) => [k, median(a)])),
  ratioToFP: { w4a4: median(times.w4a4) / median(times.fp), w2a2: median(times.w2a2) / median(times.fp) },
  times,
};
console.log(JSON.stringify({ ...result, times: undefined }, null, 2));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL(`./results/step-${result.date.replace(/[:.]/g, '-')}.json`, import.meta.url), JSON.stringify(result, null, 2) + '\n');
