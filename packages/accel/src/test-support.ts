/**
 * Shared helpers of the kernel equivalence tests (kernels.test.ts for ONNX Runtime,
 * native.test.ts for the OpenBLAS addon): deterministic inputs, matmul shape cases and the
 * stock reference. Test-only: not exported from the package index.
 */
import * as tf from '@tensorflow/tfjs';

/** Deterministic values in [-1, 1) so stock and accel see identical inputs. */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

export interface MatMulCase {
  label: string;
  a: number[];
  b: number[];
  tA: boolean;
  tB: boolean;
}

/** Operand shapes for op(a)·op(b) with batch prefixes `ba`, `bb`. */
export function shapes(ba: number[], bb: number[], m: number, k: number, n: number, tA: boolean, tB: boolean): MatMulCase {
  const a = [...ba, ...(tA ? [k, m] : [m, k])];
  const b = [...bb, ...(tB ? [n, k] : [k, n])];
  return { label: `[${a}]${tA ? 'ᵀ' : ''}·[${b}]${tB ? 'ᵀ' : ''}`, a, b, tA, tB };
}

export const FLAGS: Array<[boolean, boolean]> = [
  [false, false],
  [true, false],
  [false, true],
  [true, true],
];

/** Every transpose combination × odd sizes, batches, broadcasting across ranks, random sizes. */
export function matMulCases(): MatMulCase[] {
  const rnd = seeded(7);
  const int = (lo: number, hi: number) => lo + Math.floor(((rnd() + 1) / 2) * (hi - lo + 1));
  const out: MatMulCase[] = [];
  for (const [tA, tB] of FLAGS) {
    out.push(shapes([], [], 1, 1, 1, tA, tB));
    out.push(shapes([], [], 7, 5, 3, tA, tB)); // odd sizes
    out.push(shapes([], [], 33, 65, 17, tA, tB)); // past SIMD widths
    out.push(shapes([4], [4], 9, 6, 11, tA, tB)); // batched
    out.push(shapes([2, 3], [2, 3], 5, 4, 3, tA, tB)); // rank 4
    out.push(shapes([2, 1], [1, 3], 3, 5, 2, tA, tB)); // broadcast both ways
    out.push(shapes([], [3], 6, 4, 5, tA, tB)); // rank 2 × rank 3
    out.push(shapes([5], [], 6, 4, 5, tA, tB)); // rank 3 × rank 2
    out.push(shapes([2, 1, 3], [3], 2, 3, 4, tA, tB)); // rank 5 × rank 3
    for (let r = 0; r < 3; r++) {
      const batch = int(0, 2) === 0 ? [] : [int(1, 3)];
      out.push(shapes(batch, batch, int(1, 40), int(1, 40), int(1, 40), tA, tB));
    }
  }
  return out;
}

export function randomTensor(shape: number[], rnd: () => number): tf.Tensor {
  const size = shape.reduce((p, d) => p * d, 1);
  return tf.tensor(Float32Array.from({ length: size }, rnd), shape);
}

/**
 * The stock kernel's product on operands broadcast to the full batch shape by hand (stock
 * BatchMatMul mishandles batches broadcast both ways, e.g. [2,1,…]·[1,3,…]). Call with accel off.
 */
export function stockMatMulReference(a: tf.Tensor, b: tf.Tensor, tA: boolean, tB: boolean): tf.Tensor {
  return tf.tidy(() => {
    const ra = a.rank;
    const rb = b.rank;
    const rank = Math.max(ra, rb);
    const batch = Array.from({ length: rank - 2 }, (_, j) => {
      const da = a.shape[ra - rank + j] ?? 1;
      const db = b.shape[rb - rank + j] ?? 1;
      return Math.max(da, db);
    });
    const fa = tf.broadcastTo(a, [...batch, ...a.shape.slice(-2)]);
    const fb = tf.broadcastTo(b, [...batch, ...b.shape.slice(-2)]);
    return tf.matMul(fa, fb, tA, tB);
  });
}

/** The unfused reference of each tfjs fused activation. */
export const ACTIVATIONS: Record<string, (y: tf.Tensor, alpha?: tf.Tensor) => tf.Tensor> = {
  linear: (y) => y,
  relu: (y) => tf.relu(y),
  relu6: (y) => tf.relu6(y),
  elu: (y) => tf.elu(y),
  sigmoid: (y) => tf.sigmoid(y),
  leakyrelu: (y) => tf.leakyRelu(y, 0.1),
  prelu: (y, alpha) => tf.prelu(y, alpha!),
};
