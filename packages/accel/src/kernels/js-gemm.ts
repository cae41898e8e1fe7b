/**
 * A plain-JS 2-D GEMM with transpose flags: the engine of last resort for the convolution kernels
 * that stock wasm lacks (Conv2DBackpropFilter, depthwise backprops) when neither ONNX Runtime nor
 * the native addon loads. ≈1–2 GFLOP/s: correct, not fast.
 */
import type { MatMulRunner } from './matmul.js';

export const jsGemm: MatMulRunner = (a, aShape, b, bShape, tA, tB, out, outShape) => {
  if (aShape.length !== 2 || bShape.length !== 2) throw new Error('accel: the JS GEMM takes 2-D operands only');
  const [m, n] = outShape.slice(-2);
  const k = tA ? aShape[0] : aShape[1];
  const lda = aShape[1];
  const ldb = bShape[1];
  out.fill(0, 0, m * n);
  for (let i = 0; i < m; i++) {
    const oi = i * n;
    for (let p = 0; p < k; p++) {
      const av = tA ? a[p * lda + i] : a[i * lda + p];
      if (tB) for (let j = 0; j < n; j++) out[oi + j] += av * b[j * ldb + p];
      else for (let j = 0, bp = p * ldb; j < n; j++) out[oi + j] += av * b[bp + j];
    }
  }
};
