// Helpers that tests of every @ofq package share: golden-vector loading, closeness checks, leak
// checks and backend switching. Node only; kept out of the main entry.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { weightCodes, weightFakeQuant, type QuantizedWeights, type QuantizerState, type WeightQuantizer } from './quantizer.js';
import { straightThrough } from './ste.js';

export interface GoldenTensor {
  shape: number[];
  dtype: 'float32' | 'int32' | 'bool';
  data: number[];
}

/** Folder of the reference golden vectors: $OFQ_GOLDEN_DIR, else the nearest `golden/` above cwd. */
export function goldenDir(): string {
  if (process.env.OFQ_GOLDEN_DIR) return process.env.OFQ_GOLDEN_DIR;
  let dir = process.cwd();
  for (;;) {
    const candidate = path.join(dir, 'golden');
    if (fs.existsSync(path.join(candidate, 'README.md'))) return candidate;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('golden vectors not found: set OFQ_GOLDEN_DIR or run from the repository');
    dir = up;
  }
}

const goldenCache = new Map<string, unknown>();
/** Parsed JSON golden file (cached per process). */
export function loadGolden<T = any>(file: string): T {
  if (!goldenCache.has(file)) goldenCache.set(file, JSON.parse(fs.readFileSync(path.join(goldenDir(), file), 'utf8')));
  return goldenCache.get(file) as T;
}

/** Raw bytes of a golden file. */
export function loadGoldenBytes(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(goldenDir(), file)));
}

/** A golden tensor as a tfjs tensor (bool becomes bool, floats are float32). */
export function gt(t: GoldenTensor): Tensor {
  return tf.tensor(t.data, t.shape, t.dtype === 'bool' ? 'bool' : t.dtype);
}

export interface CloseOptions {
  rtol?: number;
  atol?: number;
}

/**
 * Throws with the worst element when `actual` and `expected` differ by more than
 * `atol + rtol·|expected|` anywhere (NaN never matches a number). Returns the max abs error.
 */
export function assertClose(
  actual: Tensor | ArrayLike<number>,
  expected: Tensor | GoldenTensor | ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: CloseOptions = {},
  label = 'tensor',
): number {
  const a = 'dataSync' in (actual as object) ? (actual as Tensor).dataSync() : (actual as ArrayLike<number>);
  const e =
    'dataSync' in (expected as object)
      ? (expected as Tensor).dataSync()
      : 'data' in (expected as object) && !ArrayBuffer.isView(expected)
        ? (expected as GoldenTensor).data
        : (expected as ArrayLike<number>);
  if ('shape' in (actual as object) && 'shape' in (expected as object)) {
    const sa = (actual as Tensor).shape.join(',');
    const se = (expected as GoldenTensor).shape.join(',');
    if (sa !== se) throw new Error(`${label}: shape [${sa}] != expected [${se}]`);
  }
  if (a.length !== e.length) throw new Error(`${label}: ${a.length} values, expected ${e.length}`);
  let worst = -1;
  let worstExcess = 0;
  let maxErr = 0;
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    const tol = atol + rtol * Math.abs(e[i]);
    if (!(err <= tol) && (worst < 0 || err - tol > worstExcess)) {
      worst = i;
      worstExcess = err - tol;
    }
    if (err > maxErr) maxErr = err;
  }
  if (worst >= 0) {
    throw new Error(
      `${label}: element ${worst} is ${a[worst]}, expected ${e[worst]} (|diff| ${Math.abs(a[worst] - e[worst])}, rtol ${rtol}, atol ${atol})`,
    );
  }
  return maxErr;
}

/** Runs `fn` and throws if it changed the number of live tensors. Returns fn's result. */
export function expectNoLeaks<T>(fn: () => T, label = 'operation'): T {
  const before = tf.memory().numTensors;
  const out = fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${label} leaked ${after - before} tensor(s) (${before} → ${after})`);
  return out;
}

/** Backends every numeric test runs on. `OFQ_TEST_BACKENDS=cpu` narrows it. */
export const TEST_BACKENDS: string[] = (process.env.OFQ_TEST_BACKENDS ?? 'cpu,wasm').split(',').filter(Boolean);

/** Loads (once) and activates a backend by name for a test file. */
export async function useBackend(name: string): Promise<void> {
  if (name === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
  if (name === 'cpu') await import('@tensorflow/tfjs-backend-cpu');
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`could not activate backend ${name}`);
  await tf.ready();
}

/** Tolerance suited to a backend's float32 arithmetic (wasm's XNNPACK reorders sums). */
export function tolFor(backend: string, base: CloseOptions = {}): CloseOptions {
  const rtol = base.rtol ?? 1e-5;
  const atol = base.atol ?? 1e-6;
  return backend === 'wasm' ? { rtol: rtol * 4, atol: atol * 4 } : { rtol, atol };
}

/**
 * A minimal third-party `WeightQuantizer` for contract tests: a fixed step per channel (no statistics,
 * no learning), codes in `[lo, hi]`, value `step·code`. If CGA, the metrics or export work with this, they
 * depend on the contract only.
 */
export class FixedStepQuantizer implements WeightQuantizer {
  readonly kind = 'fixed-step';
  readonly name = 'fixed-step';
  readonly offset = 0;
  readonly divisor = 1;
  readonly state: readonly QuantizerState[] = [];
  readonly codeRange: readonly [number, number];

  constructor(readonly steps: number[], readonly bits = 3) {
    this.codeRange = [-(2 ** (bits - 1)), 2 ** (bits - 1) - 1];
  }

  scale(w: Tensor): Tensor {
    if (w.shape[w.rank - 1] !== this.steps.length) throw new Error(`FixedStepQuantizer: expected ${this.steps.length} channels`);
    return tf.tensor1d(this.steps);
  }

  preRound(w: Tensor): Tensor {
    return tf.tidy(() => tf.div(w, this.scale(w)));
  }

  quantize(w: Tensor): Tensor {
    return tf.tidy(() => straightThrough(w, weightFakeQuant(this, w)));
  }

  codes(w: Tensor): QuantizedWeights {
    const c = weightCodes(this, w);
    const codes = Int32Array.from(c.dataSync());
    c.dispose();
    return { kind: this.kind, codes, scales: Float32Array.from(this.steps), offset: 0, divisor: 1, bits: this.bits, codeRange: [...this.codeRange], shape: w.shape.slice(), channelAxis: -1 };
  }

  dispose(): void {}
}

/** A fenced code block of a Markdown file, with the line its code starts on. */
export interface MarkdownBlock {
  line: number;
  lang: string;
  code: string;
}

/** The fenced code blocks whose info string has the word `tag` (e.g. ```` ```ts runnable ````). */
export function markdownBlocks(file: string, tag = 'runnable'): MarkdownBlock[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: MarkdownBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`${file}:${i + 1}: unterminated code block`);
    if (open[2].split(/\s+/).includes(tag)) out.push({ line: i + 2, lang: open[1], code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return out;
}

/**
 * Runs README blocks as ES modules of the package in `packageDir` (so `import '@ofq/<pkg>'` resolves to
 * it through the package's self-reference): each is written to `<packageDir>/.tmp/` and imported.
 */
export async function runMarkdownBlocks(blocks: MarkdownBlock[], packageDir: string, label: string): Promise<void> {
  const dir = path.join(packageDir, '.tmp');
  fs.mkdirSync(dir, { recursive: true });
  for (const b of blocks) {
    const file = path.join(dir, `readme-block-${b.line}-${process.pid}.ts`);
    fs.writeFileSync(file, b.code + '\n');
    try {
      await import(/* @vite-ignore */ `${new URL(`file://${file}`).href}`);
    } catch (e) {
      throw new Error(`${label} block at line ${b.line} failed: ${(e as Error).message}`, { cause: e });
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
}
