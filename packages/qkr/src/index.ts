export { mergedQKWeight, mergedQKPerHead, qkrLogits } from './merge.js';
export { splitHeads, mergeHeads } from './heads.js';
export { maskGradient, type GradientMask } from './gradient-mask.js';
export { QKRHeads, type QKRHeadsOptions, type QKGradientMask } from './qkr-heads.js';
export {
  qkrFromFusedQKV,
  qkrFromSeparate,
  measureQKRDrift,
  attentionHeads,
  type SeparateQKV,
  type QKRConversion,
  type QKRDrift,
} from './convert.js';
