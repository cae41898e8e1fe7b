import type { QuantConfig } from '../../config.js';
import type { Swin } from '../swin-model.js';
export function quantizeSwin(_fp: Swin, _q: QuantConfig): Swin {
  throw new Error('not yet');
}
