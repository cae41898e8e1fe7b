// DeiT configuration: presets (timm's distilled DeiTs) and validation of custom sizes.

/** Named DeiT sizes (timm `deit_{tiny,small,base}_distilled_patch16_224`). */
export type DeiTPreset = 'deit-tiny' | 'deit-small' | 'deit-base';

/** Quantization of a DeiT as the OFQ reference trains it (docs/algorithm.md §4.2). */
export interface QuantConfig {
  /** Bits of every block weight (StatsQ, or LSQ for `method: 'lsq'`): integer in [2, 8]. */
  weightBits: number;
  /** Bits of every block activation quantizer (LSQ): integer in [2, 8]. */
  actBits: number;
  /** Query-key reparameterization (docs/algorithm.md §5); false gives the plain quantized attention (docs/algorithm.md §4.3). */
  qkr: boolean;
  /** 'ofq': StatsQ weights; 'lsq': the LSQ-weights baseline (learnable per-row step). */
  method: 'ofq' | 'lsq';
  /** Reproduce the reference's random (PyTorch default) init of attention proj (and non-QKR qkv) (docs/decisions.md #1). */
  referenceInit?: boolean;
  /** Pins the batch size B in every activation LSQ gradient scale (docs/decisions.md #5). */
  gradScaleBatch?: number;
  /** Seed of the `referenceInit` random draws. */
  seed?: number;
  /** LSQ block weights (`method: 'lsq'`): how the step stays positive, 'abs' (default) or the reference's 'clamp' (docs/decisions.md #19). */
  lsqStep?: 'abs' | 'clamp';
}

export interface DeiTConfig {
  imgSize: number;
  patchSize: number;
  inChans: number;
  embedDim: number;
  depth: number;
  numHeads: number;
  mlpRatio: number;
  numClasses: number;
  /** Adds the distillation token and `head_dist`. */
  distilled: boolean;
  /** LayerNorm epsilon (1e-6 in DeiT). */
  layerNormEps: number;
  /** Seed of the random initialisation (truncated normal, std 0.02). */
  seed?: number;
  quant?: QuantConfig;
}

const BASE = { imgSize: 224, patchSize: 16, inChans: 3, depth: 12, mlpRatio: 4, numClasses: 1000, distilled: true, layerNormEps: 1e-6 };

export const DEIT_PRESETS: Record<DeiTPreset, DeiTConfig> = {
  'deit-tiny': { ...BASE, embedDim: 192, numHeads: 3 },
  'deit-small': { ...BASE, embedDim: 384, numHeads: 6 },
  'deit-base': { ...BASE, embedDim: 768, numHeads: 12 },
};

function positiveInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new RangeError(`DeiT config: ${what} must be a positive integer, got ${String(v)}`);
  return v;
}

/** Fills a partial config from its preset (default 'deit-tiny') and validates every size. */
export function resolveConfig(config: DeiTPreset | (Partial<DeiTConfig> & { preset?: DeiTPreset })): DeiTConfig {
  const partial = typeof config === 'string' ? { preset: config } : config;
  const presetName = partial.preset ?? 'deit-tiny';
  const preset = DEIT_PRESETS[presetName];
  if (!preset) throw new RangeError(`DeiT config: unknown preset ${JSON.stringify(presetName)} (use ${Object.keys(DEIT_PRESETS).join(', ')})`);
  const { preset: _p, ...rest } = partial;
  const c: DeiTConfig = { ...preset, ...rest };
  for (const k of ['imgSize', 'patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'numClasses'] as const) positiveInt(c[k], k);
  if (c.imgSize % c.patchSize !== 0) throw new RangeError(`DeiT config: imgSize ${c.imgSize} is not a multiple of patchSize ${c.patchSize}`);
  if (c.embedDim % c.numHeads !== 0) throw new RangeError(`DeiT config: embedDim ${c.embedDim} is not divisible by numHeads ${c.numHeads}`);
  if (!(c.mlpRatio > 0) || !Number.isInteger(c.embedDim * c.mlpRatio)) throw new RangeError(`DeiT config: mlpRatio ${c.mlpRatio} must give an integer hidden size`);
  if (!(c.layerNormEps > 0)) throw new RangeError(`DeiT config: layerNormEps must be > 0, got ${c.layerNormEps}`);
  if (typeof c.distilled !== 'boolean') throw new TypeError('DeiT config: distilled must be a boolean');
  return c;
}

/** Patches per image side, patches, and tokens (patches + cls + dist when distilled). */
export function tokenCounts(c: DeiTConfig): { grid: number; patches: number; tokens: number } {
  const grid = c.imgSize / c.patchSize;
  return { grid, patches: grid * grid, tokens: grid * grid + (c.distilled ? 2 : 1) };
}
