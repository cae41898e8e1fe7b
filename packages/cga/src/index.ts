export { confidenceMask, maskFromPreRound, assertBoundaryRange, type ConfidenceMaskOptions, type ThresholdRange } from './confidence-mask.js';
