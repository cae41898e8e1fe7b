export { confidenceMask, maskFromPreRound, assertBoundaryRange, type ConfidenceMaskOptions, type ThresholdRange } from './confidence-mask.js';
export {
  createCGA,
  CGAOptimizer,
  type CGAOptions,
  type CGAParam,
  type CGAStepStats,
  type QKGradientMask,
  type QKGradientMaskTarget,
} from './cga-optimizer.js';
export { DEFAULT_CGA_PATTERNS, toPredicate, type ParamSelector } from './select.js';
export { cgaForLayersModel, type LayersModelLike } from './layers-model.js';
