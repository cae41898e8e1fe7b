// Bundled into the Chromium page of size-latency.ts: exposes measurePair on the picked backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { measurePair } from './measure.js';

declare global {
  interface Window {
    runBench(backend: string, cases: Array<{ name: string; config: Record<string, unknown>; reps: number }>): Promise<unknown>;
  }
}

window.runBench = async (backend, cases) => {
  setWasmPaths(new URL('./wasm/', location.href).href);
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} did not start`);
  await tf.ready();
  const out: Record<string, unknown> = { backend: tf.getBackend() };
  for (const c of cases) {
    const get = async (f: string) => new Uint8Array(await (await fetch(`./${c.name}.${f}`)).arrayBuffer());
    out[c.name] = await measurePair(await get('safetensors'), await get('ofq'), c.config, c.reps);
  }
  return out;
};
