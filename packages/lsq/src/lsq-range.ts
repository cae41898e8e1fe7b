import { assertBits } from '@ofq/core';

export type LSQGranularity = 'token' | 'channel' | 'tensor';

/** Smallest step used in the forward pass (`s' = max(s, 1e-5)`); the gradient passes the clip unchanged. */
export const LSQ_MIN_STEP = 1e-5;

/**
 * Integer clamp range of LSQ. Signed: `[-2^(b-1), 2^(b-1)-1]` (asymmetric, includes 0);
 * unsigned: `[0, 2^b-1]`. Bits must be an integer in [2, 8] (1-bit LSQ is rejected: docs/decisions.md #9).
 */
export function lsqRange(bits: number, unsigned = false): { qn: number; qp: number } {
  assertBits(bits, 'LSQ bits');
  return unsigned ? { qn: 0, qp: 2 ** bits - 1 } : { qn: -(2 ** (bits - 1)), qp: 2 ** (bits - 1) - 1 };
}

export function assertGranularity(g: unknown): LSQGranularity {
  if (g !== 'token' && g !== 'channel' && g !== 'tensor') {
    throw new RangeError(`LSQ granularity must be 'token', 'channel' or 'tensor', got ${JSON.stringify(g)}`);
  }
  return g;
}

/** Axis the step indexes (-1 for a single per-tensor step), checked against the input's rank. */
export function stepAxis(granularity: LSQGranularity, rank: number, what: string): number {
  if (granularity === 'tensor') return -1;
  if (granularity === 'token') {
    if (rank < 2) throw new RangeError(`${what}: 'token' granularity needs an input of rank >= 2 (step per index of axis -2), got rank ${rank}`);
    return rank - 2;
  }
  if (rank < 1) throw new RangeError(`${what}: 'channel' granularity needs an input of rank >= 1, got a scalar`);
  return rank - 1;
}

/** Number of steps an input of this shape needs. */
export function stepCountFor(granularity: LSQGranularity, shape: number[], what: string): number {
  const axis = stepAxis(granularity, shape.length, what);
  return axis < 0 ? 1 : shape[axis];
}

/** Every axis except the step axis: the axes a step is shared across. */
export function sharedAxes(granularity: LSQGranularity, rank: number, what: string): number[] {
  const axis = stepAxis(granularity, rank, what);
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
}

/** LSQ gradient scale `g = 1/sqrt(Qp·count)`, count = elements sharing one step (docs/decisions.md #5: optional pinned batch). */
export function lsqGradScale(qp: number, granularity: LSQGranularity, shape: number[], gradScaleBatch?: number): number {
  const size = shape.reduce((a, b) => a * b, 1);
  let count = size / stepCountFor(granularity, shape, 'lsqGradScale');
  if (gradScaleBatch !== undefined && shape.length >= 2 && shape[0] > 0) count = (count / shape[0]) * gradScaleBatch;
  return 1 / Math.sqrt(qp * count);
}
