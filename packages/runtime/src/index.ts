// @ofq/runtime: the packed `.ofq` model file, export from @ofq/vit DeiTs and applyStatsQ Layers
// models, and browser-safe inference (tfjs-core only, no Node APIs).
export { PackedModelError } from './errors.js';
export { packCodes, unpackCodes, packedByteLength } from './bit-pack.js';
export {
  writePackedModel,
  readPackedModel,
  PACKED_FORMAT,
  PACKED_VERSION,
  type PackedModelContent,
  type PackedModelFile,
  type PackedModelSpec,
  type PackedWeightLayout,
  type PackedFloat,
  type PackedInput,
} from './packed-format.js';
export { FixedWeightQuantizer, type WeightGrid } from './fixed-weight-quantizer.js';
export { packDeiT, exportDeiT, type ExportOptions } from './deit-export.js';
export { loadPackedDeiT, buildLoadableDeiT, packedDeiTConfig, PackedDeiT } from './deit-load.js';
export { loadPackedModel, loadPackedModelSync, packedBytes, type PackedSource, type LoadOptions } from './load.js';
export { packLayersModel, exportLayersModel, type LayersModelLike, type QuantizedKernelsHandle } from './layers-export.js';
export { packedLayersHandler, layersArtifacts } from './layers-io-handler.js';
