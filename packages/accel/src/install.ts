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
import { simdMeanKernel, simdSumKernel } from './kernels/sum-wasm.js';
import { statsQuantizeWasmKernel } from './kernels/statsq-wasm.js';
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

/** One installation in progress: where kernels go, what they replace, and how to release them. */
interface InstallContext {
  backendName: string;
  backend: ReturnType<ReturnType<typeof tf.engine>['findBackend']>;
  isWasm: boolean;
  mem: TensorMemory;
  stock: Map<string, KernelConfig | undefined>;
  options: AccelOptions;
  disposers: Array<() => void>;
}

/** What an engine installed: its matmul (the convolution kernels reuse it) and ONNX Runtime's version. */
interface EngineResult {
  run: MatMulRunner;
  ortVersion?: string;
}

const stockOf = (ctx: InstallContext) => (name: string) => tf.getKernel(name, ctx.backendName);

/** BatchMatMul, _FusedMatMul and Sum on an engine's matmul. */
function installMatMulKernels(ctx: InstallContext, run: MatMulRunner): void {
  const { backendName, mem, stock } = ctx;
  replace(backendName, batchMatMulKernel(backendName, mem, run, tf.getKernel('BatchMatMul', backendName)), stock);
  replace(backendName, fusedMatMulKernel(backendName, mem, run, tf.getKernel('_FusedMatMul', backendName)), stock);
}

/** Erf and Exp on ONNX Runtime (no BLAS counterpart). */
function installOrtUnary(ctx: InstallContext, ort: ReturnType<typeof loadOrtBinding>): void {
  const unary = new OrtUnary(ort, ortSessionOptions({ threads: ctx.options.threads, spin: ctx.options.spin }));
  const runUnary = unary.run.bind(unary);
  for (const op of ['Erf', 'Exp'] as const) replace(ctx.backendName, unaryKernel(op, ctx.backendName, ctx.mem, runUnary, tf.getKernel(op, ctx.backendName)), ctx.stock);
  ctx.disposers.push(() => unary.dispose());
}

/** The native (oneDNN/OpenBLAS) engine; Erf/Exp from ONNX Runtime when it also loads (optional here). */
function installNative(ctx: InstallContext): EngineResult {
  const native = nativeMatMul(loadNativeAddon(), ctx.options.threads);
  ctx.disposers.push(native.dispose);
  installMatMulKernels(ctx, native.run);
  let ortVersion: string | undefined;
  try {
    const ort = loadOrtBinding();
    installOrtUnary(ctx, ort);
    ortVersion = ort.version;
  } catch (e) {
    if (!(e instanceof AccelEngineUnavailableError)) throw e;
  }
  replace(ctx.backendName, sumKernel(ctx.backendName, ctx.mem, native.run, tf.getKernel('Sum', ctx.backendName)), ctx.stock);
  return { run: native.run, ortVersion };
}

/** The ONNX Runtime engine: matmuls, Erf/Exp and Sum. */
function installOnnxRuntime(ctx: InstallContext): EngineResult {
  const ort = loadOrtBinding();
  const mm = new OrtMatMul(ort, { threads: ctx.options.threads, spin: ctx.options.spin });
  ctx.disposers.push(() => mm.dispose());
  const run: MatMulRunner = (a, as, b, bs, tA, tB, o, os) => mm.run(a, as, b, bs, tA, tB, o, os);
  installMatMulKernels(ctx, run);
  installOrtUnary(ctx, ort);
  replace(ctx.backendName, sumKernel(ctx.backendName, ctx.mem, run, tf.getKernel('Sum', ctx.backendName)), ctx.stock);
  return { run, ortVersion: ort.version };
}

/** Kernels that need only the backend itself: convolutions, wasm memory tricks, the fused LSQ contract. */
function installBackendKernels(ctx: InstallContext, convRun: MatMulRunner | undefined): void {
  const { backendName, stock, isWasm } = ctx;
  // Convolutions (im2col + GEMM); with no engine only the kernels the backend lacks (JS GEMM).
  if (convRun || isWasm) {
    const conv = convKernels({ backendName, mem: ctx.mem, run: convRun, wasm: isWasm, stockKernel: stockOf(ctx) });
    for (const k of conv.kernels) replace(backendName, k, stock);
    ctx.disposers.push(() => conv.dispose());
  }
  if (isWasm) {
    // Stock wasm MaxPoolGrad drops the gradient of windows whose maximum is negative (kernels/max-pool-grad.ts).
    replace(backendName, maxPoolGradKernel(backendName, ctx.mem, tf.getKernel('MaxPoolGrad', backendName)), stock);
    replace(backendName, sharedIdentityKernel(backendName, tf.getKernel('Identity', backendName)), stock);
    // Copy-free Slice/SplitV/Unpack: heap aliases of contiguous ranges (kernels/slice-alias.ts).
    for (const k of sliceAliasKernels(backendName, stockOf(ctx))) replace(backendName, k, stock);
    ctx.disposers.push(() => releaseSliceAliasing()); // stock disposeData back once no alias is alive
    // Fused library ops (the @ofq/core kernel contracts) in WebAssembly SIMD on the backend's own heap;
    // the leading/trailing Sum beats any engine's GEMV.
    const simd = simdKernelsFor(ctx.backend);
    replace(backendName, lsqQuantizeWasmKernel(simd), stock);
    replace(backendName, lsqQuantizeGradWasmKernel(simd), stock);
    replace(backendName, simdSumKernel(simd, tf.getKernel('Sum', backendName)), stock);
    replace(backendName, simdMeanKernel(simd, tf.getKernel('Mean', backendName)), stock);
    replace(backendName, statsQuantizeWasmKernel(simd), stock);
  } else {
    replace(backendName, lsqQuantizeKernel(backendName, ctx.mem), stock);
    replace(backendName, lsqQuantizeGradKernel(backendName, ctx.mem), stock);
  }
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

  const ctx: InstallContext = {
    backendName, backend, isWasm, options,
    mem: isWasm ? wasmMemory(backend) : cpuMemory(backend),
    stock: new Map(),
    disposers: [],
  };
  let chosen: AccelReport['engine'] = 'stock';
  let result: EngineResult | undefined;
  const reasons: string[] = [];
  // Engine order: native → ONNX Runtime → none (auto falls through; a named engine must load).
  const engines: Array<[AccelReport['engine'], (c: InstallContext) => EngineResult]> = [['native', installNative], ['onnxruntime', installOnnxRuntime]];
  for (const [name, install] of engines) {
    if (engine !== 'auto' && engine !== name) continue;
    try {
      result = install(ctx);
      chosen = name;
      break;
    } catch (e) {
      if (engine === name || !(e instanceof AccelEngineUnavailableError)) throw e;
      reasons.push(e.message);
    }
  }
  installBackendKernels(ctx, result?.run);
  if (chosen === 'stock') chosen = 'wasm';
  const report: AccelReport = { engine: chosen, kernels: [...ctx.stock.keys()], backend: backendName };
  if (reasons.length) report.fallbackReason = reasons.join('; ');
  if (result?.ortVersion) report.ortVersion = result.ortVersion;
  const disposers = ctx.disposers;
  installed.set(backendName, { stock: ctx.stock, report, dispose: () => disposers.forEach((d) => d()) });
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
