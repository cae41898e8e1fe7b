/**
 * installAccel / uninstallAccel: swap tfjs kernels of the active backend for faster ones, and
 * put the stock ones back. Nothing happens on import; applications opt in.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig } from '@tensorflow/tfjs-core';
import { fusedMatMulKernel, batchMatMulKernel, type MatMulRunner } from './kernels/matmul.js';
import { sharedIdentityKernel } from './kernels/identity.js';
import { sliceAliasKernels } from './kernels/slice-alias.js';
import { releaseSliceAliasing } from './kernels/slice-alias-memory.js';
import { AccelEngineUnavailableError, loadOrtBinding } from './ort-binding.js';
import { OrtMatMul, ortSessionOptions } from './ort-matmul.js';
import { loadNativeAddon, nativeMatMul } from './native-binding.js';
import { OrtUnary } from './ort-unary.js';
import { sumKernel, unaryKernel } from './kernels/elementwise.js';
import { lsqQuantizeGradKernel, lsqQuantizeKernel } from './kernels/lsq.js';
import { lsqQuantizeGradWasmKernel, lsqQuantizeWasmKernel } from './kernels/lsq-wasm.js';
import { simdKernelsFor } from './kernels/simd-module.js';
import { simdSumKernel } from './kernels/sum-wasm.js';
import { convKernels } from './kernels/conv-kernels.js';
import { maxPoolGradKernel } from './kernels/max-pool-grad.js';
import { cpuMemory, isWasmBackend, wasmMemory, type TensorMemory } from './tensor-memory.js';

export type AccelEngine = 'auto' | 'onnxruntime' | 'native' | 'wasm';

export interface AccelOptions {
  /**
   * 'auto' (default): the fastest engine that loads (native, else onnxruntime, else wasm-only
   * kernels, else stock), silently, saying why in `fallbackReason`. A named engine that cannot
   * load throws AccelEngineUnavailableError.
   * 'wasm': only the kernels that need nothing outside tfjs itself (copy-free Identity on wasm,
   * the fused LSQ kernels on wasm and cpu).
   * 'native': the optional N-API addon over OpenBLAS (built with `pnpm --filter @ofq/accel
   * build:native`) for BatchMatMul/_FusedMatMul/Sum, plus ONNX Runtime's Erf/Exp when it loads.
   */
  engine?: AccelEngine;
  /** Threads of the engine's thread pool: ONNX Runtime intra-op, and OpenBLAS for 'native' (default: every core). */
  threads?: number;
  /** Let ONNX Runtime's threads spin between calls (default false; see OrtMatMul). */
  spin?: boolean;
}

export interface AccelReport {
  /**
   * The engine now serving the matmul kernels ('native': OpenBLAS addon, 'onnxruntime': ONNX
   * Runtime, 'wasm': only the engine-free kernels); 'stock' when nothing was replaced.
   */
  engine: 'onnxruntime' | 'native' | 'wasm' | 'stock';
  /** Kernel names replaced on `backend`. */
  kernels: string[];
  /** The tfjs backend the kernels were registered for. */
  backend: string;
  /** Why a faster engine was not used (auto fallback), when it was not. */
  fallbackReason?: string;
  /** onnxruntime-node version when ONNX Runtime serves kernels ('onnxruntime', or Erf/Exp under 'native'). */
  ortVersion?: string;
}

interface Installed {
  stock: Map<string, KernelConfig | undefined>;
  report: AccelReport;
  dispose: () => void;
}

const installed = new Map<string, Installed>();

const SUPPORTED_BACKENDS = ['wasm', 'cpu'];

function activeBackendName(): string {
  // Reading the name only: never initialise (pick) a backend on the caller's behalf.
  const name = (tf.engine() as unknown as { backendName: string | null }).backendName;
  if (!name) throw new Error('installAccel: no tfjs backend is active yet; call tf.setBackend(...) and await tf.ready() first');
  return name;
}

function replace(backendName: string, config: KernelConfig, stock: Map<string, KernelConfig | undefined>): void {
  if (!stock.has(config.kernelName)) stock.set(config.kernelName, tf.getKernel(config.kernelName, backendName));
  if (tf.getKernel(config.kernelName, backendName)) tf.unregisterKernel(config.kernelName, backendName);
  tf.registerKernel(config);
}

/**
 * Registers faster kernels for the active backend (wasm or cpu) and returns what it did.
 * Calling it again replaces the previous installation on that backend.
 */
export function installAccel(options: AccelOptions = {}): AccelReport {
  const engine = options.engine ?? 'auto';
  if (!['auto', 'onnxruntime', 'native', 'wasm'].includes(engine)) {
    throw new Error(`installAccel: unknown engine '${String(engine)}'; expected auto, onnxruntime, native or wasm`);
  }
  const backendName = activeBackendName();
  uninstallAccel(backendName);
  const backend = tf.engine().findBackend(backendName);
  const isWasm = backendName === 'wasm' && isWasmBackend(backend);
  if (!SUPPORTED_BACKENDS.includes(backendName) || (backendName === 'wasm' && !isWasm)) {
    const reason = `backend '${backendName}' is not one @ofq/accel accelerates (wasm, cpu)`;
    if (engine !== 'auto') throw new AccelEngineUnavailableError(`installAccel: ${reason}`);
    return { engine: 'stock', kernels: [], backend: backendName, fallbackReason: reason };
  }

  const mem: TensorMemory = isWasm ? wasmMemory(backend) : cpuMemory(backend);
  const stock = new Map<string, KernelConfig | undefined>();
  let chosen: AccelReport['engine'] = 'stock';
  let fallbackReason: string | undefined;
  let ortVersion: string | undefined;
  let dispose = () => {};
  let convRun: MatMulRunner | undefined; // the chosen engine's matmul, for the convolution kernels

  if (engine === 'auto' || engine === 'native') {
    try {
      const native = nativeMatMul(loadNativeAddon(), options.threads);
      dispose = native.dispose;
      chosen = 'native';
      convRun = native.run;
      replace(backendName, batchMatMulKernel(backendName, mem, native.run, tf.getKernel('BatchMatMul', backendName)), stock);
      replace(backendName, fusedMatMulKernel(backendName, mem, native.run, tf.getKernel('_FusedMatMul', backendName)), stock);
      try {
        // Erf/Exp have no BLAS counterpart: ONNX Runtime's, when it loads (optional here).
        const ort = loadOrtBinding();
        const unary = new OrtUnary(ort, ortSessionOptions({ threads: options.threads, spin: options.spin }));
        const runUnary = unary.run.bind(unary);
        for (const op of ['Erf', 'Exp'] as const) replace(backendName, unaryKernel(op, backendName, mem, runUnary, tf.getKernel(op, backendName)), stock);
        ortVersion = ort.version;
        dispose = () => {
          native.dispose();
          unary.dispose();
        };
      } catch (e) {
        if (!(e instanceof AccelEngineUnavailableError)) throw e;
      }
      replace(backendName, sumKernel(backendName, mem, native.run, tf.getKernel('Sum', backendName)), stock);
    } catch (e) {
      if (engine === 'native' || !(e instanceof AccelEngineUnavailableError)) throw e;
      fallbackReason = e.message;
    }
  }
  if (chosen === 'stock' && (engine === 'auto' || engine === 'onnxruntime')) {
    try {
      const ort = loadOrtBinding();
      const mm = new OrtMatMul(ort, { threads: options.threads, spin: options.spin });
      const run: MatMulRunner = (a, as, b, bs, tA, tB, o, os) => mm.run(a, as, b, bs, tA, tB, o, os);
      replace(backendName, batchMatMulKernel(backendName, mem, run, tf.getKernel('BatchMatMul', backendName)), stock);
      replace(backendName, fusedMatMulKernel(backendName, mem, run, tf.getKernel('_FusedMatMul', backendName)), stock);
      const unary = new OrtUnary(ort, ortSessionOptions({ threads: options.threads, spin: options.spin }));
      const runUnary = unary.run.bind(unary);
      for (const op of ['Erf', 'Exp'] as const) replace(backendName, unaryKernel(op, backendName, mem, runUnary, tf.getKernel(op, backendName)), stock);
      replace(backendName, sumKernel(backendName, mem, run, tf.getKernel('Sum', backendName)), stock);
      chosen = 'onnxruntime';
      convRun = run;
      ortVersion = ort.version;
      dispose = () => {
        mm.dispose();
        unary.dispose();
      };
    } catch (e) {
      if (engine === 'onnxruntime' || !(e instanceof AccelEngineUnavailableError)) throw e;
      fallbackReason = fallbackReason ? `${fallbackReason}; ${e.message}` : e.message;
    }
  }
  // Convolutions (im2col + GEMM); with no engine only the kernels the backend lacks (JS GEMM).
  if (convRun || isWasm) {
    const conv = convKernels({ backendName, mem, run: convRun, wasm: isWasm, stockKernel: (name) => tf.getKernel(name, backendName) });
    for (const k of conv.kernels) replace(backendName, k, stock);
    const disposeEngine = dispose;
    dispose = () => {
      disposeEngine();
      conv.dispose();
    };
  }
  if (isWasm) {
    // Stock wasm MaxPoolGrad drops the gradient of windows whose maximum is negative (kernels/max-pool-grad.ts).
    replace(backendName, maxPoolGradKernel(backendName, mem, tf.getKernel('MaxPoolGrad', backendName)), stock);
    replace(backendName, sharedIdentityKernel(backendName, tf.getKernel('Identity', backendName)), stock);
    // Copy-free Slice/SplitV/Unpack: heap aliases of contiguous ranges (kernels/slice-alias.ts).
    for (const k of sliceAliasKernels(backendName, (name) => tf.getKernel(name, backendName))) replace(backendName, k, stock);
    const disposeEngine = dispose;
    dispose = () => {
      disposeEngine();
      releaseSliceAliasing(); // stock disposeData back once no alias is alive
    };
  }
  // Fused library ops (the @ofq/core kernel contracts): they need only the backend's memory.
  if (isWasm) {
    // WebAssembly SIMD on the backend's own heap; the leading/trailing Sum beats any engine's GEMV.
    const simd = simdKernelsFor(backend);
    replace(backendName, lsqQuantizeWasmKernel(simd), stock);
    replace(backendName, lsqQuantizeGradWasmKernel(simd), stock);
    replace(backendName, simdSumKernel(simd, tf.getKernel('Sum', backendName)), stock);
  } else {
    replace(backendName, lsqQuantizeKernel(backendName, mem), stock);
    replace(backendName, lsqQuantizeGradKernel(backendName, mem), stock);
  }
  if (chosen === 'stock') chosen = 'wasm';
  const report: AccelReport = { engine: chosen, kernels: [...stock.keys()], backend: backendName };
  if (fallbackReason) report.fallbackReason = fallbackReason;
  if (ortVersion) report.ortVersion = ortVersion;
  installed.set(backendName, { stock, report, dispose });
  return { ...report, kernels: [...report.kernels] };
}

/** Restores the stock kernels (of one backend, or of every backend accel touched). */
export function uninstallAccel(backendName?: string): void {
  for (const [name, inst] of [...installed]) {
    if (backendName !== undefined && name !== backendName) continue;
    for (const [kernelName, config] of inst.stock) {
      tf.unregisterKernel(kernelName, name);
      if (config) tf.registerKernel(config);
    }
    inst.dispose();
    installed.delete(name);
  }
}

/** What is installed now, per backend (for diagnostics such as `ofq doctor`). */
export function accelStatus(): AccelReport[] {
  return [...installed.values()].map((i) => ({ ...i.report, kernels: [...i.report.kernels] }));
}
