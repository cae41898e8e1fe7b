import type { AccelReport } from './install.js';

/** One line for a program's startup log: `onnxruntime (BatchMatMul, …); <why a faster engine was not used>`. */
export function describeAccelReport(r: Pick<AccelReport, 'engine' | 'kernels' | 'fallbackReason'>): string {
  return `${r.engine}${r.kernels.length ? ` (${r.kernels.join(', ')})` : ''}${r.fallbackReason ? `; ${r.fallbackReason}` : ''}`;
}
