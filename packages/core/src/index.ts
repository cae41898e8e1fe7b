export type { QuantizedWeights, QuantizedWeightRef, WeightQuantizer, QuantizerState, ActivationQuantizer } from './quantizer.js';
export { dequantizeWeights, weightCodes, weightFromCodes, weightFakeQuant, quantizerVariables } from './quantizer.js';
export { OfqError, isOfqError } from './errors.js';
export { nameMatcher, type NameSelector } from './name-selector.js';
export { assertBits } from './bits.js';
export { customGrad1, roundSTE, gradScale, clipIdentityGrad, clipInclusive, stopGradient, straightThrough, sumToNumber } from './ste.js';
export {
  readSafetensors,
  writeSafetensors,
  toFloat32,
  SafetensorsError,
  MAX_HEADER_BYTES,
  type SafetensorsDtype,
  type SafetensorsData,
  type SafetensorsEntry,
  type SafetensorsFile,
  type WritableEntry,
} from './safetensors.js';
export { setBackend, BackendUnavailableError, type BackendChoice } from './backend.js';
export {
  LSQ_QUANTIZE_KERNEL, LSQ_QUANTIZE_GRAD_KERNEL, STATSQ_QUANTIZE_KERNEL, hasKernel, type LSQKernelAttrs, type StatsQKernelAttrs,
} from './fused-kernels.js';
