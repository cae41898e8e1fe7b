/**
 * Loads the optional native engine: a small N-API addon over Debian's OpenBLAS or oneDNN
 * (`native/ofq_accel_native.cc`), built only on request with `pnpm --filter @ofq/accel build:native`.
 * Why: a direct synchronous sgemm on the tensors' own memory costs < 1 µs per call and its GEMM
 * is faster than ONNX Runtime's here (README, "Native engine (optional)").
 */
import type { MatMulRunner } from './kernels/matmul.js';
import { AccelEngineUnavailableError } from './ort-binding.js';
import { requireFromHere } from './require-from-here.js';

/** The addon's exports (see native/ofq_accel_native.cc). */
export interface NativeAddon {
  /** out = op(a)·op(b) with numpy batch broadcasting; throws on any length/shape mismatch. */
  matmul(
    a: Float32Array, aShape: readonly number[],
    b: Float32Array, bShape: readonly number[],
    transposeA: boolean, transposeB: boolean,
    out: Float32Array,
  ): void;
  setThreads(n: number): void;
  getThreads(): number;
  /** The BLAS it was built on, e.g. "OpenBLAS 0.3.21 … Zen MAX_THREADS=64" or "oneDNN 2.6.3 (OpenMP)". */
  config(): string;
}

/** Relative to this module: the same from src/ (tests, tsx) and from dist/ (the built package). */
export const NATIVE_ADDON_PATH = '../native/build/Release/ofq_accel_native.node';

export const NATIVE_BUILD_HINT =
  'build it with `pnpm --filter @ofq/accel build:native` after `apt-get install -y libdnnl-dev` (oneDNN) ' +
  'or `apt-get install -y libopenblas-dev` (OpenBLAS) on Debian/Ubuntu (needs g++, make, python3)';

/** Set while the addon loads: BLAS worker threads sleep between calls instead of spinning. */
const QUIET_THREADS_ENV: Record<string, string> = { OPENBLAS_THREAD_TIMEOUT: '4', OMP_WAIT_POLICY: 'PASSIVE' };

let addonPath = NATIVE_ADDON_PATH;
let cached: NativeAddon | Error | undefined;

function load(): NativeAddon {
  const req = requireFromHere();
  let resolved: string;
  try {
    resolved = req.resolve(addonPath);
  } catch {
    throw new AccelEngineUnavailableError(`native engine unavailable: the addon is not built; ${NATIVE_BUILD_HINT}`);
  }
  // OpenBLAS's idle workers busy-wait after every call (THREAD_TIMEOUT 2^28 cycles, about 0.1 s), stealing a
  // core from the tfjs ops that run between two matmuls (measured: a 1-thread GEMM used 2× its wall time in
  // CPU). 2^4 cycles puts them to sleep at once; OMP_WAIT_POLICY does the same for the OpenMP threads of a
  // oneDNN build. Both are read once, when the library loads; they are removed again so child processes
  // (PyTorch in bench/step.ts) keep their own defaults. A value the user set is left alone.
  const added = Object.entries(QUIET_THREADS_ENV).filter(([k]) => process.env[k] === undefined);
  for (const [k, v] of added) process.env[k] = v;
  try {
    return req(resolved) as NativeAddon;
  } catch (e) {
    // Typically libopenblas.so.0 missing at run time, or a build for another Node ABI.
    throw new AccelEngineUnavailableError(
      `native engine unavailable: ${resolved} failed to load (${(e as Error).message.split('\n')[0]}); ` +
        `rebuild it: ${NATIVE_BUILD_HINT}`,
    );
  } finally {
    for (const [k] of added) delete process.env[k];
  }
}

/** The addon, loaded once; throws AccelEngineUnavailableError (cached) when it is absent or broken. */
export function loadNativeAddon(): NativeAddon {
  if (cached === undefined) {
    try {
      cached = load();
    } catch (e) {
      cached = e as Error;
    }
  }
  if (cached instanceof Error) throw cached;
  return cached;
}

/** Whether the addon loads here (for tests and benchmarks). */
export function nativeAddonAvailable(): boolean {
  try {
    loadNativeAddon();
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests only: load the addon from another path (a missing one simulates an unbuilt addon);
 * no argument restores the default. Clears the cached result either way.
 */
export function setNativeAddonPathForTesting(path?: string): void {
  addonPath = path ?? NATIVE_ADDON_PATH;
  cached = undefined;
}

/**
 * A MatMulRunner over the addon. `threads` sets the BLAS's (process-wide) thread count; `dispose`
 * puts back the count found at creation.
 */
export function nativeMatMul(addon: NativeAddon, threads?: number): { run: MatMulRunner; dispose: () => void } {
  const previous = addon.getThreads();
  if (threads !== undefined) {
    if (!Number.isInteger(threads) || threads < 1) throw new Error(`installAccel: threads must be an integer >= 1, got ${threads}`);
    addon.setThreads(threads);
  }
  return {
    run: (a, aShape, b, bShape, tA, tB, out) => addon.matmul(a, aShape, b, bShape, tA, tB, out),
    dispose: () => addon.setThreads(previous),
  };
}
