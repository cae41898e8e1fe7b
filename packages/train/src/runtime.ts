import * as tf from '@tensorflow/tfjs-core';
import { LSQ_QUANTIZE_KERNEL, hasKernel, setBackend, type BackendChoice } from '@ofq/core';
import { describeAccelReport, installAccel, type AccelEngine } from '@ofq/accel';

export interface RuntimeInfo {
  backend: string;
  accel: string | null;
}

/**
 * Loads the union `@tensorflow/tfjs` package (an optional peer dependency: it registers the gradients
 * that the CJS tfjs-core lacks), with a clear message when it is not installed.
 */
export async function loadTfjs(): Promise<void> {
  try {
    await import('@tensorflow/tfjs');
  } catch (e) {
    throw new Error(
      `@tensorflow/tfjs could not be loaded (${(e as Error).message.split('\n')[0]}); training needs it for gradients: npm install @tensorflow/tfjs@4.22.0`,
    );
  }
}

/** Application-side setup: tfjs, the backend, and @ofq/accel's kernels on wasm/cpu unless `accel` is 'off'. */
export async function setupRuntime(backend: BackendChoice = 'auto', accel: string = 'auto'): Promise<RuntimeInfo> {
  await loadTfjs();
  const name = await setBackend(backend);
  const accelDesc = accel !== 'off' && (name === 'wasm' || name === 'cpu') ? await installAccelIfPresent(accel) : null;
  return { backend: name, accel: accelDesc };
}

/** Installs @ofq/accel's kernels on the active backend; returns a one-line description of the engine. */
export async function installAccelIfPresent(engine = 'auto'): Promise<string | null> {
  return describeAccelReport(installAccel({ engine: engine as AccelEngine }));
}

let accelWarned = false;

/**
 * Says once per process when a library caller trains on wasm/cpu without @ofq/accel's kernels (the fused
 * LSQ kernel is the marker): `train()` then runs several times slower than the `ofq` CLI, which installs them.
 */
export function warnIfNoAccel(log: (line: string) => void): void {
  const backend = tf.getBackend();
  if (accelWarned || (backend !== 'wasm' && backend !== 'cpu') || hasKernel(LSQ_QUANTIZE_KERNEL)) return;
  accelWarned = true;
  log(`warning: @ofq/accel's kernels are not installed on the ${backend} backend, so training runs several times slower than the \`ofq\` CLI; call \`await setupRuntime()\` from @ofq/train first, as the CLI does`);
}
