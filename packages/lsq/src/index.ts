export { lsqQuantize, type LsqQuantizeOptions } from './lsqQuantize.js';
export { lsqRange, lsqGradScale, LSQ_MIN_STEP, type LsqGranularity } from './lsqRange.js';
export { LsqQuantizer, type LsqConfig } from './LsqQuantizer.js';
export { LsqWeightQuantizer, type LsqWeightConfig } from './LsqWeightQuantizer.js';
export { LearnableBias, PixelBias } from './learnableBias.js';
