/**
 * Matrix products on ONNX Runtime's CPU GEMM (MLAS), called synchronously on caller-owned
 * Float32Arrays: inputs and the pre-allocated output are wrapped, never copied, so views onto
 * the tfjs-wasm heap work zero-copy.
 *
 * One tiny model per (rank of a, rank of b, transposeA, transposeB), all dimensions symbolic:
 * `com.microsoft.FusedMatMul` does batched matmul with numpy broadcasting and transpose flags
 * in one call (plain ONNX MatMul has no transpose flags; Gemm is 2-D only).
 */
import { encodeONNXModel } from './onnx-proto.js';
import type { OrtBinding, OrtNativeSession } from './ort-binding.js';

export interface OrtMatMulOptions {
  /** Intra-op threads (default: all cores ONNX Runtime sees). */
  threads?: number;
  /**
   * Let ORT's worker threads spin-wait between calls. Off by default: tfjs runs the other ops on
   * the main thread right after each matmul, and spinning workers steal those cores.
   */
  spin?: boolean;
}

/** Session options shared by every accel model: one op, sequential, no arena (outputs are ours). */
export function ortSessionOptions(o: OrtMatMulOptions): Record<string, unknown> {
  const opts: Record<string, unknown> = {
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: false,
    enableMemPattern: false,
    extra: { session: { intra_op: { allow_spinning: o.spin ? '1' : '0' } } },
  };
  if (o.threads) opts.intraOpNumThreads = o.threads;
  return opts;
}

export class OrtMatMul {
  private readonly sessions = new Map<string, OrtNativeSession>();

  constructor(
    private readonly ort: OrtBinding,
    private readonly options: OrtMatMulOptions = {},
  ) {}

  private session(rankA: number, rankB: number, tA: boolean, tB: boolean): OrtNativeSession {
    const key = `${rankA}:${rankB}:${+tA}:${+tB}`;
    let s = this.sessions.get(key);
    if (s) return s;
    const dims = (prefix: string, rank: number) => Array.from({ length: rank }, (_, i) => `${prefix}${i}`);
    const model = encodeONNXModel({
      opsets: { '': 17, 'com.microsoft': 1 },
      nodes: [
        {
          opType: 'FusedMatMul',
          domain: 'com.microsoft',
          inputs: ['a', 'b'],
          outputs: ['y'],
          attributes: [
            { name: 'transA', value: tA ? 1 : 0, kind: 'int' },
            { name: 'transB', value: tB ? 1 : 0, kind: 'int' },
            { name: 'alpha', value: 1, kind: 'float' },
          ],
        },
      ],
      inputs: [
        { name: 'a', dims: dims('a', rankA) },
        { name: 'b', dims: dims('b', rankB) },
      ],
      outputs: [{ name: 'y', dims: dims('y', Math.max(rankA, rankB)) }],
    });
    s = this.ort.createSession(model, ortSessionOptions(this.options));
    this.sessions.set(key, s);
    return s;
  }

  /**
   * out = op(a)·op(b) with broadcasting batch axes. `out` must have the product's size; the
   * caller handles zero-size products (ORT is never called with an empty tensor).
   */
  run(
    a: Float32Array, aShape: readonly number[],
    b: Float32Array, bShape: readonly number[],
    transposeA: boolean, transposeB: boolean,
    out: Float32Array, outShape: readonly number[],
  ): void {
    const s = this.session(aShape.length, bShape.length, transposeA, transposeB);
    const T = this.ort.Tensor;
    s.run({ a: new T('float32', a, aShape), b: new T('float32', b, bShape) }, { y: new T('float32', out, outShape) }, {});
  }

  dispose(): void {
    for (const s of this.sessions.values()) s.dispose();
    this.sessions.clear();
  }
}
