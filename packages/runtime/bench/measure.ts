// Load + first prediction and per-image latency of an FP safetensors DeiT vs a packed .ofq one, on
// the active backend. Runs in Node and in the browser (bundled by size-latency.ts).
import * as tf from '@tensorflow/tfjs-core';
import { createDeiT, loadSafetensors, type DeiTConfig, type DeiTModel } from '@ofq/vit';
import { loadPackedModelSync } from '@ofq/runtime';

export interface Timing {
  loadFirstMs: number;
  perImageMs: number;
}

type Predictor = { predict(x: tf.Tensor4D): tf.Tensor2D; dispose(): void };

function loadFP(bytes: Uint8Array, config: Partial<DeiTConfig>): DeiTModel {
  const m = createDeiT(config);
  const t = loadSafetensors(bytes);
  m.loadStateDict(t);
  tf.dispose([...t.values()]);
  return m;
}

async function once(m: Predictor, x: tf.Tensor4D): Promise<number> {
  const t0 = performance.now();
  const y = m.predict(x);
  await y.data();
  y.dispose();
  return performance.now() - t0;
}

/** Interleaves FP and packed: load + first prediction, then `reps` single-image predictions each. */
export async function measurePair(fpBytes: Uint8Array, packedBytes: Uint8Array, config: Partial<DeiTConfig>, reps: number): Promise<{ fp: Timing; packed: Timing }> {
  const c = { imgSize: 224, inChans: 3, ...config };
  const x = tf.randomNormal([1, c.imgSize, c.imgSize, c.inChans], 0, 1, 'float32', 3) as tf.Tensor4D;
  const t0 = performance.now();
  const fp: Predictor = loadFP(fpBytes, config);
  await once(fp, x);
  const fpLoad = performance.now() - t0;
  const t1 = performance.now();
  const packed: Predictor = loadPackedModelSync(packedBytes);
  await once(packed, x);
  const packedLoad = performance.now() - t1;
  const times = { fp: [] as number[], packed: [] as number[] };
  for (let i = 0; i < reps; i++) {
    times.fp.push(await once(fp, x));
    times.packed.push(await once(packed, x));
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
  fp.dispose();
  packed.dispose();
  x.dispose();
  return { fp: { loadFirstMs: fpLoad, perImageMs: median(times.fp) }, packed: { loadFirstMs: packedLoad, perImageMs: median(times.packed) } };
}
