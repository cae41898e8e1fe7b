import { OfqError } from './errors.js';
import * as tf from '@tensorflow/tfjs-core';

export type BackendChoice = 'auto' | 'wasm' | 'cpu' | 'tensorflow' | 'tensorflow-gpu';

const PACKAGE_OF: Record<Exclude<BackendChoice, 'auto'>, string> = {
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
  tensorflow: '@tensorflow/tfjs-node',
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
};

const INSTALL_HINT: Record<Exclude<BackendChoice, 'auto'>, string> = {
  wasm: 'npm install @tensorflow/tfjs-backend-wasm@4.22.0',
  cpu: 'npm install @tensorflow/tfjs-backend-cpu@4.22.0',
  tensorflow:
    'npm install @tensorflow/tfjs-node@4.22.0 (its install step downloads libtensorflow, so it needs internet access)',
  'tensorflow-gpu':
    'npm install @tensorflow/tfjs-node-gpu@4.22.0 (needs CUDA, and internet access at install time to download libtensorflow)',
};

export class BackendUnavailableError extends OfqError {
  constructor(message: string) {
    super(message, { code: 'E_BACKEND' });
  }
}

async function importBackendPackage(choice: Exclude<BackendChoice, 'auto'>): Promise<void> {
  try {
    // The specifier is a variable so bundlers leave these optional peers alone.
    const spec = PACKAGE_OF[choice];
    await import(/* @vite-ignore */ spec);
  } catch (e) {
    throw new BackendUnavailableError(
      `backend '${choice}' is not available: ${PACKAGE_OF[choice]} could not be loaded (${(e as Error).message.split('\n')[0]}). ` +
        `Install it with: ${INSTALL_HINT[choice]}`,
    );
  }
}

async function activate(choice: Exclude<BackendChoice, 'auto'>): Promise<string> {
  await importBackendPackage(choice);
  const name = choice === 'tensorflow-gpu' ? 'tensorflow' : choice;
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new BackendUnavailableError(`backend '${choice}' failed to initialise: ${(e as Error).message}`);
  }
  if (!ok) throw new BackendUnavailableError(`backend '${choice}' failed to initialise (tf.setBackend returned false)`);
  await tf.ready();
  return tf.getBackend();
}

/** True when a package can be resolved from here without loading it. */
async function isResolvable(spec: string): Promise<boolean> {
  try {
    const { createRequire } = await import('node:module');
    createRequire(import.meta.url ?? `${process.cwd()}/`).resolve(spec);
    return true;
  } catch {
    return false;
  }
}

/**
 * Selects and initialises a tfjs backend, loading its package only now (never on import).
 * `auto`: tfjs-node (native TensorFlow) when installed, else wasm, else cpu. A requested backend
 * that is missing raises `BackendUnavailableError` with the install command.
 * Returns the name of the active backend.
 */
export async function setBackend(choice: BackendChoice = 'auto'): Promise<string> {
  if (!(choice in PACKAGE_OF) && choice !== 'auto') {
    throw new BackendUnavailableError(
      `unknown backend '${String(choice)}'; expected one of auto, wasm, cpu, tensorflow, tensorflow-gpu`,
    );
  }
  if (choice !== 'auto') return activate(choice);
  const order: Array<Exclude<BackendChoice, 'auto'>> = [];
  if (await isResolvable(PACKAGE_OF.tensorflow)) order.push('tensorflow');
  order.push('wasm', 'cpu');
  const errors: string[] = [];
  for (const c of order) {
    try {
      return await activate(c);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  throw new BackendUnavailableError(`no tfjs backend could be initialised:\n  ${errors.join('\n  ')}`);
}
