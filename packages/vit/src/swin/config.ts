// Swin configuration (torchvision `swin_t/s/b`): presets and validation of custom sizes.
import { OfqError } from '@ofq/core';
import type { QuantConfig } from '../config.js';

/** Named Swin sizes (torchvision `swin_{t,s,b}`). */
export type SwinPreset = 'swin-t' | 'swin-s' | 'swin-b';

export interface SwinConfig {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  /** Blocks per stage (torchvision `depths`). */
  depths: number[];
  /** Heads per stage. */
  numHeads: number[];
  windowSize: number;
  mlpRatio: number;
  numClasses: number;
  /** LayerNorm epsilon (1e-5 in torchvision's Swin). */
  layerNormEps: number;
  /** Stochastic depth: the last block's drop probability (torchvision's linear rule); 0 = off (paper recipes). */
  stochasticDepthProb: number;
  /** Seed of the random initialisation. */
  seed?: number;
  quant?: QuantConfig;
}

/** A bad Swin configuration (a user error: one clear message naming the field). */
export class SwinConfigError extends OfqError {
  constructor(message: string) {
    super(`Swin config: ${message}`, { code: 'E_SWIN_CONFIG' });
  }
}

const BASE = { imgSize: 224, patchSize: 4, inChans: 3, windowSize: 7, mlpRatio: 4, numClasses: 1000, layerNormEps: 1e-5, stochasticDepthProb: 0 };

export const SWIN_PRESETS: Record<SwinPreset, SwinConfig> = {
  'swin-t': { ...BASE, embedDim: 96, depths: [2, 2, 6, 2], numHeads: [3, 6, 12, 24] },
  'swin-s': { ...BASE, embedDim: 96, depths: [2, 2, 18, 2], numHeads: [3, 6, 12, 24] },
  'swin-b': { ...BASE, embedDim: 128, depths: [2, 2, 18, 2], numHeads: [4, 8, 16, 32] },
};

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new SwinConfigError(`${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Fills a partial config from its preset (default 'swin-t') and validates every size. */
export function resolveSwinConfig(config: SwinPreset | (Partial<SwinConfig> & { preset?: SwinPreset })): SwinConfig {
  const partial = typeof config === 'string' ? { preset: config } : config;
  const presetName = partial.preset ?? 'swin-t';
  const preset = SWIN_PRESETS[presetName];
  if (!preset) throw new SwinConfigError(`unknown preset ${JSON.stringify(presetName)} (use ${Object.keys(SWIN_PRESETS).join(', ')})`);
  const { preset: _p, ...rest } = partial;
  const c: SwinConfig = { ...preset, ...rest, depths: [...(rest.depths ?? preset.depths)], numHeads: [...(rest.numHeads ?? preset.numHeads)] };
  for (const k of ['imgSize', 'patchSize', 'inChans', 'embedDim', 'windowSize', 'numClasses'] as const) positiveInt(c[k], k);
  if (!Array.isArray(c.depths) || c.depths.length === 0) throw new SwinConfigError('depths must be a non-empty array of block counts');
  if (!Array.isArray(c.numHeads) || c.numHeads.length !== c.depths.length) {
    throw new SwinConfigError(`numHeads must have one entry per stage (${c.depths.length}), got ${JSON.stringify(c.numHeads)}`);
  }
  c.depths.forEach((d, i) => positiveInt(d, `depths[${i}]`));
  c.numHeads.forEach((h, i) => {
    positiveInt(h, `numHeads[${i}]`);
    const dim = c.embedDim * 2 ** i;
    if (dim % h !== 0) throw new SwinConfigError(`stage ${i} width ${dim} is not divisible by numHeads[${i}] = ${h}`);
  });
  if (c.imgSize % c.patchSize !== 0) throw new SwinConfigError(`imgSize ${c.imgSize} is not a multiple of patchSize ${c.patchSize}`);
  if (!(c.mlpRatio > 0) || !Number.isInteger(c.embedDim * c.mlpRatio)) throw new SwinConfigError(`mlpRatio ${c.mlpRatio} must give an integer hidden size`);
  if (!(c.layerNormEps > 0)) throw new SwinConfigError(`layerNormEps must be > 0, got ${c.layerNormEps}`);
  if (!(c.stochasticDepthProb >= 0 && c.stochasticDepthProb < 1)) throw new SwinConfigError(`stochasticDepthProb must be in [0, 1), got ${c.stochasticDepthProb}`);
  return c;
}

/** Feature-map side per stage: patches per side, then halved (rounded up, torchvision pads odd maps) by each PatchMerging. */
export function stageResolutions(c: SwinConfig): number[] {
  const out: number[] = [];
  let r = c.imgSize / c.patchSize;
  for (let i = 0; i < c.depths.length; i++) {
    out.push(r);
    r = Math.ceil(r / 2);
  }
  return out;
}

/** Window geometry of a feature map of side `res`: padded side, windows, and the effective shift (0 when one window covers the map). */
export function windowLayout(res: number, windowSize: number, shift: number): { padded: number; windows: number; shift: number } {
  const padded = Math.ceil(res / windowSize) * windowSize;
  // torchvision (decision #17 area, golden README quirk 7): no shift when the window covers the padded map.
  return { padded, windows: (padded / windowSize) ** 2, shift: windowSize >= padded ? 0 : shift };
}
