export { mergedQKWeight, mergedQKPerHead, qkrLogits } from './merge.js';
export { maskGradient, type GradientMask } from './gradient-mask.js';
export { QKRHeads, applyShiftedLsq, type QKRHeadsOptions, type ShiftedLsq } from './QKRHeads.js';
export {
  qkrFromFusedQKV,
  qkrFromSeparate,
  measureQKRDrift,
  attentionHeads,
  type SeparateQKV,
  type QKRConversion,
  type QKRDrift,
} from './convert.js';
