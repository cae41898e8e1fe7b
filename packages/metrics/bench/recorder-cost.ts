// Measures what MetricsRecorder costs per step on DeiT-Tiny-shaped weights (12 blocks × q, k, v, proj,
// fc1, fc2 = 72 StatsQ matrices, 5.3 M weights) on the wasm backend.
// Run: pnpm --filter @ofq/metrics bench   (or: npx tsx packages/metrics/bench/recorder-cost.ts)
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { MetricsRecorder, type TrackedLayer } from '../src/index.js';
import { StatsQuantizer } from '@ofq/statsq';

async function main() {
  await tf.setBackend(process.env.OFQ_BACKEND ?? 'wasm');
  const layers: TrackedLayer[] = [];
  const grads: Record<string, tf.Tensor> = {};
  const shapes: Array<[string, [number, number]]> = [
    ['attn.q', [192, 192]], ['attn.k', [192, 192]], ['attn.v', [192, 192]], ['attn.proj', [192, 192]], ['mlp.fc1', [192, 768]], ['mlp.fc2', [768, 192]],
  ];
  for (let b = 0; b < 12; b++) {
    for (const [n, shape] of shapes) {
      const name = `blocks.${b}.${n}.weight`;
      layers.push({ name, variable: tf.variable(tf.randomNormal(shape, 0, 0.02)), quantizer: new StatsQuantizer({ bits: 2 }) });
      grads[name] = tf.randomNormal(shape);
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ofq-cost-'));
  const steps = Number(process.env.STEPS ?? 30);
  for (const withGrads of [false, true]) {
    const r = new MetricsRecorder({ dir, layers });
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      r.record({ loss: 1, grads: withGrads ? grads : undefined });
      times.push(performance.now() - t);
    }
    r.close();
    const warm = times.slice(2);
    const agg = warm.filter((_, i) => (i + 2) % 10 === 0);
    const plain = warm.filter((_, i) => (i + 2) % 10 !== 0);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `${tf.getBackend()} ${withGrads ? 'with gradients   ' : 'without gradients'}: mean ${mean(warm).toFixed(0)} ms/step ` +
        `(plain steps ${mean(plain).toFixed(0)} ms, aggregate steps ${mean(agg).toFixed(0)} ms) over ${warm.length} steps`,
    );
  }
  fs.rmSync(dir, { recursive: true, force: true });
}
main();
