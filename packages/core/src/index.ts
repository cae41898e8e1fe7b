export type { QuantizedWeights, WeightQuantizer, ActivationQuantizer } from './quantizer.js';
export { dequantizeWeights } from './quantizer.js';
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
export { LSQ_QUANTIZE_KERNEL, LSQ_QUANTIZE_GRAD_KERNEL, hasKernel, type LsqKernelAttrs } from './fusedKernels.js';
