// Builds a full-precision Swin with torchvision's initialisation (Linear: truncated normal std 0.02,
// zero bias; position tables: truncated normal std 0.02; patch conv: PyTorch's default uniform;
// unit LayerNorms), then quantizes it when the config asks for it.
import { LayerNorm } from '../nn/layer-norm.js';
import { Linear } from '../nn/linear.js';
import { SeedSequence, torchDefaultUniform, truncNormal, zerosVar } from '../nn/init.js';
import { PatchEmbed } from '../fp/patch-embed.js';
import { resolveSwinConfig, type SwinConfig, type SwinPreset } from './config.js';
import { PatchMerging } from './patch-merging.js';
import { RelativePositionBias } from './relative-position-bias.js';
import { SwinBlock } from './swin-block.js';
import { SwinMlp } from './swin-mlp.js';
import { Swin, type SwinModel } from './swin-model.js';
import { SwinPatchEmbed } from './swin-patch-embed.js';
import { WindowAttention } from './window-attention.js';
import { WindowFrame } from './window-frame.js';
import { quantizeSwin } from './quant/convert-swin.js';

function linear(inF: number, outF: number, seeds: SeedSequence, bias = true): Linear {
  return new Linear(truncNormal([inF, outF], seeds), bias ? zerosVar([outF]) : null);
}

/** Stochastic-depth probability of block `k` of `total` (torchvision: linear from 0 to p). */
function dropPathProb(p: number, k: number, total: number): number {
  return total > 1 ? (p * k) / (total - 1) : 0;
}

/** A full-precision Swin from a resolved config (ignores `quant`). */
export function buildFloatSwin(c: SwinConfig): Swin {
  const seeds = new SeedSequence(c.seed);
  const ws = c.windowSize;
  const eps = c.layerNormEps;
  const fanIn = c.patchSize * c.patchSize * c.inChans;
  const conv = new PatchEmbed(torchDefaultUniform([c.patchSize, c.patchSize, c.inChans, c.embedDim], fanIn, seeds), torchDefaultUniform([c.embedDim], fanIn, seeds));
  const patchEmbed = new SwinPatchEmbed(conv, new LayerNorm(c.embedDim, eps), c.patchSize);
  const total = c.depths.reduce((a, b) => a + b, 0);
  let k = 0;
  const stages: SwinBlock[][] = [];
  const merges: PatchMerging[] = [];
  c.depths.forEach((depth, i) => {
    const dim = c.embedDim * 2 ** i;
    const hidden = Math.round(dim * c.mlpRatio);
    const blocks: SwinBlock[] = [];
    for (let j = 0; j < depth; j++) {
      const frame = new WindowFrame(ws, j % 2 === 0 ? 0 : Math.floor(ws / 2));
      const bias = new RelativePositionBias(truncNormal([(2 * ws - 1) ** 2, c.numHeads[i]], seeds), ws);
      const attn = new WindowAttention(linear(dim, 3 * dim, seeds), linear(dim, dim, seeds), c.numHeads[i], frame, bias);
      const mlp = new SwinMlp(linear(dim, hidden, seeds), linear(hidden, dim, seeds));
      blocks.push(new SwinBlock(new LayerNorm(dim, eps), attn, new LayerNorm(dim, eps), mlp, dropPathProb(c.stochasticDepthProb, k++, total)));
    }
    stages.push(blocks);
    if (i < c.depths.length - 1) merges.push(new PatchMerging(new LayerNorm(4 * dim, eps), linear(4 * dim, 2 * dim, seeds, false)));
  });
  const last = c.embedDim * 2 ** (c.depths.length - 1);
  const { quant: _q, ...fpConfig } = c;
  return new Swin(fpConfig, { patchEmbed, stages, merges, norm: new LayerNorm(last, eps), head: linear(last, c.numClasses, seeds) });
}

/**
 * A Swin from a preset name or a partial config (missing fields come from `preset`, default
 * 'swin-t'). With `quant`, returns the OFQ model converted from the freshly initialised FP one.
 */
export function createSwin(config: SwinPreset | (Partial<SwinConfig> & { preset?: SwinPreset })): SwinModel {
  const c = resolveSwinConfig(config);
  const fp = buildFloatSwin(c);
  if (!c.quant) return fp;
  try {
    return quantizeSwin(fp, c.quant);
  } finally {
    fp.dispose();
  }
}
