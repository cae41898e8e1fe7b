// What CGA adds to an optimizer step on DeiT-Tiny-shaped weights (12 blocks × v, proj, fc1, fc2 = 48
// StatsQ matrices, 3.5 M weights), wasm backend: plain Adam step vs the same step through createCGA.
// Run: pnpm --filter @ofq/cga bench
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { createCGA } from '../src/index.js';
import { StatsQuantizer } from '@ofq/statsq';

async function main() {
  await tf.setBackend(process.env.OFQ_BACKEND ?? 'wasm');
  const params: Array<{ name: string; variable: tf.Variable }> = [];
  const grads: tf.NamedTensorMap = {};
  const shapes: Array<[string, [number, number]]> = [['attn.v', [192, 192]], ['attn.proj', [192, 192]], ['mlp.fc1', [192, 768]], ['mlp.fc2', [768, 192]]];
  for (let b = 0; b < 12; b++) {
    for (const [n, shape] of shapes) {
      const variable = tf.variable(tf.randomNormal(shape, 0, 0.02));
      params.push({ name: `blocks.${b}.${n}.weight`, variable });
      grads[variable.name] = tf.randomNormal(shape, 0, 1e-3);
    }
  }
  const steps = Number(process.env.STEPS ?? 12);
  const time = (label: string, opt: tf.Optimizer, sync: () => void) => {
    const ts: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t = performance.now();
      opt.applyGradients(grads);
      sync();
      ts.push(performance.now() - t);
    }
    const warm = ts.slice(2);
    const mean = warm.reduce((a, b) => a + b, 0) / warm.length;
    console.log(`${tf.getBackend()} ${label}: ${mean.toFixed(0)} ms/step`);
    return mean;
  };
  const sync = () => params[0].variable.dataSync();
  const plain = time('Adam alone          ', tf.train.adam(1e-5), sync);
  const cga = createCGA(tf.train.adam(1e-5), params, { quantizer: new StatsQuantizer({ bits: 2 }), boundaryRange: 0.005 });
  const withCGA = time('Adam through CGA    ', cga, () => cga.frozenFraction);
  console.log(`CGA adds ${(withCGA - plain).toFixed(0)} ms per step; frozen fraction ${cga.frozenFraction.toFixed(4)}`);
}
main();
