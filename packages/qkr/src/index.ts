export { mergedQKWeight, mergedQKPerHead, qkrLogits } from './merge.js';
export { maskGradient, type GradientMask } from './gradient-mask.js';
export { QKRHeads, applyShiftedLSQ, type QKRHeadsOptions, type ShiftedLSQ } from './qkr-heads.js';
export {
  qkrFromFusedQKV,
  qkrFromSeparate,
  measureQKRDrift,
  attentionHeads,
  type SeparateQKV,
  type QKRConversion,
  type QKRDrift,
} from './convert.js';
