import type { QuantConfig } from '../config.js';
import type { DeiT } from '../model.js';
export function quantizeDeiT(_fp: DeiT, _q: QuantConfig): DeiT {
  throw new Error('not yet');
}
