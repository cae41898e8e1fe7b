/** Shape arithmetic of tfjs BatchMatMul (numpy-style broadcasting of the batch axes). */

export interface MatMulGeometry {
  outShape: number[];
  m: number;
  k: number;
  n: number;
  outSize: number;
}

/** Mirrors tfjs-core's checks so the same bad input fails with an equally clear message. */
export function matMulGeometry(aShape: readonly number[], bShape: readonly number[], transposeA: boolean, transposeB: boolean): MatMulGeometry {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) throw new Error(`matMul: both operands need rank >= 2, got shapes [${aShape}] and [${bShape}]`);
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const ka = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (ka !== kb) {
    throw new Error(
      `Error in matMul: inner shapes (${ka}) and (${kb}) of Tensors with shapes ${aShape} and ${bShape} and ` +
        `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const batchA = aShape.slice(0, -2);
  const batchB = bShape.slice(0, -2);
  const rank = Math.max(batchA.length, batchB.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = batchA[batchA.length - rank + i] ?? 1;
    const db = batchB[batchB.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`Operands could not be broadcast together with shapes ${aShape} and ${bShape}.`);
    }
    batch.push(da === 1 ? db : da);
  }
  const outShape = [...batch, m, n];
  return { outShape, m, k: ka, n, outSize: outShape.reduce((p, d) => p * d, 1) };
}
