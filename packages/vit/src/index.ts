export { DEIT_PRESETS, resolveConfig, tokenCounts, type DeiTConfig, type DeiTPreset, type QuantConfig } from './config.js';
export { createDeiT } from './create.js';
export { DeiT, type DeiTModel, type Naming, type NamedParameter } from './model.js';
export { loadSafetensors, saveSafetensors } from './weights.js';
export type { Module } from './module.js';
export type { ParamSpec } from './params.js';
export { Linear, dense } from './nn/linear.js';
export { LayerNorm } from './nn/layer-norm.js';
export { gelu } from './nn/gelu.js';
export { patchify } from './nn/patchify.js';
export { Attention } from './fp/attention.js';
export { Mlp } from './fp/mlp.js';
export { Block } from './fp/block.js';
export { PatchEmbed } from './fp/patch-embed.js';
export {
  initActivationSteps,
  measureDeiTQKRDrift,
  quantizeDeiT,
  quantizeBlock,
  quantizeAttentionQKR,
  quantizeAttentionPlain,
  quantizeMlp,
  quantizeLinear,
  quantizePatchEmbed,
  quantizeHead,
  type BlockQuantOptions,
  type WeightQuantizerFactory,
} from './quant/convert.js';
export { QLinear, QHead, type QLinearOptions } from './quant/qlinear.js';
export { QMLP } from './quant/qmlp.js';
export { QAttention } from './quant/qattention.js';
export { QKRAttention } from './quant/qkr-attention.js';
export { QPatchEmbed } from './quant/qpatch-embed.js';
export { loadModuleState, moduleStateDict } from './module-state.js';
export { SWIN_PRESETS, SwinConfigError, resolveSwinConfig, stageResolutions, type SwinConfig, type SwinPreset } from './swin/config.js';
export { createSwin } from './swin/create-swin.js';
export { Swin, type SwinModel, type SwinNaming, type SwinParts } from './swin/swin-model.js';
export { SwinBlock } from './swin/swin-block.js';
export { SwinMlp } from './swin/swin-mlp.js';
export { SwinPatchEmbed } from './swin/swin-patch-embed.js';
export { PatchMerging, mergePatches } from './swin/patch-merging.js';
export { WindowAttention } from './swin/window-attention.js';
export { WindowFrame } from './swin/window-frame.js';
export { RelativePositionBias } from './swin/relative-position-bias.js';
export { SHIFT_MASK_VALUE, relativePositionIndex, shiftedWindowMask } from './swin/windows.js';
export {
  quantizeSwin, measureSwinQKRDrift, quantizeSwinBlock, quantizeWindowAttention, quantizeSwinMlp, quantizePatchMerging, type SwinQuantOptions,
} from './swin/quant/convert-swin.js';
export { QKRWindowAttention, QWindowAttention } from './swin/quant/q-window-attention.js';
