export { lsqQuantize, type LSQQuantizeOptions, type LSQStepConstraint } from './lsq-quantize.js';
export { lsqRange, lsqGradScale, LSQ_MIN_STEP, type LSQGranularity } from './lsq-range.js';
export { LSQQuantizer, type LSQConfig } from './lsq-quantizer.js';
export { LSQWeightQuantizer, type LSQWeightConfig } from './lsq-weight-quantizer.js';
export { LearnableBias, PixelBias } from './learnable-bias.js';
export { ShiftedLSQ } from './shifted-lsq.js';
