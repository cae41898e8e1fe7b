import * as tf from '@tensorflow/tfjs-core';
import { LSQ_QUANTIZE_KERNEL, hasKernel, setBackend, type BackendChoice } from '@ofq/core';

export interface RuntimeInfo {
  backend: string;
  accel: string | null;
}

/**
 * Application-side setup: loads the union `@tensorflow/tfjs` package (it registers the gradients
 * that the CJS tfjs-core lacks), selects the backend, and installs @ofq/accel's kernels when asked.
 */
export async function setupRuntime(backend: BackendChoice = 'auto', accel: string = 'auto'): Promise<RuntimeInfo> {
  try {
    await import('@tensorflow/tfjs');
  } catch (e) {
    throw new Error(
      `@tensorflow/tfjs could not be loaded (${(e as Error).message.split('\n')[0]}); training needs it for gradients: npm install @tensorflow/tfjs@4.22.0`,
    );
  }
  const name = await setBackend(backend);
  let accelDesc: string | null = null;
  if (accel !== 'off' && (name === 'wasm' || name === 'cpu')) {
    accelDesc = await installAccelIfPresent(accel);
  }
  return { backend: name, accel: accelDesc };
}

/** Installs @ofq/accel kernels when the package exports installAccel; returns a one-line description. */
export async function installAccelIfPresent(engine = 'auto'): Promise<string | null> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import('@ofq/accel')) as Record<string, unknown>;
  } catch {
    return null;
  }
  const install = mod.installAccel as ((o: { engine?: string }) => { engine: string; kernels: string[]; fallbackReason?: string }) | undefined;
  if (typeof install !== 'function') return null;
  const r = install({ engine });
  return `${r.engine}${r.kernels.length ? ` (${r.kernels.join(', ')})` : ''}${r.fallbackReason ? `; ${r.fallbackReason}` : ''}`;
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
