// Builds a full-precision DeiT with timm's initialisation (truncated normal std 0.02, zero biases,
// unit LayerNorms), then quantizes it when the config asks for it.
import type { DeiTConfig, DeiTPreset } from './config.js';
import { resolveConfig, tokenCounts } from './config.js';
import { DeiT, type DeiTModel } from './model.js';
import { Attention } from './fp/attention.js';
import { Block } from './fp/block.js';
import { Mlp } from './fp/mlp.js';
import { PatchEmbed } from './fp/patch-embed.js';
import { LayerNorm } from './nn/layer-norm.js';
import { Linear } from './nn/linear.js';
import { SeedSequence, truncNormal, zerosVar } from './nn/init.js';
import { quantizeDeiT } from './quant/convert.js';

function linear(inF: number, outF: number, seeds: SeedSequence): Linear {
  return new Linear(truncNormal([inF, outF], seeds), zerosVar([outF]));
}

/** A full-precision DeiT from a resolved config (ignores `quant`). */
export function buildFloatDeiT(c: DeiTConfig): DeiT {
  const seeds = new SeedSequence(c.seed);
  const dim = c.embedDim;
  const hidden = Math.round(dim * c.mlpRatio);
  const { tokens } = tokenCounts(c);
  const blocks: Block[] = [];
  for (let i = 0; i < c.depth; i++) {
    blocks.push(
      new Block(
        new LayerNorm(dim, c.layerNormEps),
        new Attention(linear(dim, 3 * dim, seeds), linear(dim, dim, seeds), c.numHeads),
        new LayerNorm(dim, c.layerNormEps),
        new Mlp(linear(dim, hidden, seeds), linear(hidden, dim, seeds)),
      ),
    );
  }
  const { quant: _q, ...fpConfig } = c;
  return new DeiT(fpConfig, {
    patchEmbed: new PatchEmbed(truncNormal([c.patchSize, c.patchSize, c.inChans, dim], seeds), zerosVar([dim])),
    clsToken: truncNormal([1, 1, dim], seeds),
    distToken: c.distilled ? truncNormal([1, 1, dim], seeds) : null,
    posEmbed: truncNormal([1, tokens, dim], seeds),
    blocks,
    norm: new LayerNorm(dim, c.layerNormEps),
    head: linear(dim, c.numClasses, seeds),
    headDist: c.distilled ? linear(dim, c.numClasses, seeds) : null,
  });
}

/**
 * A DeiT from a preset name or a partial config (missing fields come from `preset`, default
 * 'deit-tiny'). With `quant`, returns the quantized model converted from the freshly initialised FP one.
 */
export function createDeiT(config: DeiTPreset | (Partial<DeiTConfig> & { preset?: DeiTPreset })): DeiTModel {
  const c = resolveConfig(config);
  const fp = buildFloatDeiT(c);
  if (!c.quant) return fp;
  try {
    return quantizeDeiT(fp, c.quant);
  } finally {
    fp.dispose();
  }
}
