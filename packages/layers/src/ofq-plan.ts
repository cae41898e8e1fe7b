import { OfqError, assertBits } from '@ofq/core';
import { matchesLayer, quantizableLayers, type Candidate, type LayerMatcher, type OFQLayerLike } from './layer-select.js';

/** How a layer's kernel is quantized: StatsQ (OFQ) or LSQ with a learnable per-channel step. */
export type WeightMethod = 'statsq' | 'lsq';

/** One entry of `ApplyOFQOptions.overrides`: later entries win over earlier ones. */
export interface OFQOverride {
  /** Which layers (same meaning as `include`, plus `'<first>'` / `'<last>'`). */
  layers: LayerMatcher | LayerMatcher[];
  weightBits?: number;
  /** `null` leaves the layer's input in float. */
  actBits?: number | null;
  method?: WeightMethod;
}

export interface ApplyOFQOptions {
  /** Kernel bit-width of the selected layers, an integer in [2, 8]. */
  weightBits: number;
  /** Input bit-width of the selected layers (LSQ, learnable step); omitted or null: weights only. */
  actBits?: number | null;
  /** A batch the model accepts; the LSQ input steps are initialised on it (required with `actBits`). */
  sample?: unknown;
  /** Default `'statsq'` (OFQ); `'lsq'` learns a per-output-channel step for each kernel. */
  method?: WeightMethod;
  /** Layers to quantize (default: every Dense, Conv1D, Conv2D and DepthwiseConv2D layer). */
  include?: LayerMatcher | LayerMatcher[];
  /** Layers to leave in float, applied after `include`. */
  exclude?: LayerMatcher | LayerMatcher[];
  /** Per-layer bit-widths, e.g. `[{ layers: ['<first>', '<last>'], weightBits: 8, actBits: 8 }]` as OFQ does. */
  overrides?: OFQOverride[];
}

/** What applyOFQ does to one layer. */
export interface LayerPlan {
  candidate: Candidate;
  weightBits: number;
  actBits: number | null;
  method: WeightMethod;
}

function optionsError(message: string): OfqError {
  return new OfqError(`applyOFQ: ${message}`, { code: 'E_OFQ_OPTIONS' });
}

function checkBits(bits: unknown, what: string): number {
  try {
    return assertBits(bits as number, what);
  } catch (e) {
    throw optionsError((e as Error).message);
  }
}

function checkMethod(m: unknown, what: string): WeightMethod {
  if (m !== 'statsq' && m !== 'lsq') throw optionsError(`${what} must be 'statsq' or 'lsq', got ${String(m)}`);
  return m;
}

/** Resolves the options into one plan per selected layer (validates every field first). */
export function planOFQ(root: OFQLayerLike, o: ApplyOFQOptions): { plans: LayerPlan[]; skipped: string[] } {
  if (o == null || typeof o !== 'object') throw optionsError('options { weightBits, actBits?, sample? } are required');
  const weightBits = checkBits(o.weightBits, 'weightBits');
  const actBits = o.actBits == null ? null : checkBits(o.actBits, 'actBits');
  const method = checkMethod(o.method ?? 'statsq', 'method');
  const overrides = o.overrides ?? [];
  if (!Array.isArray(overrides)) throw optionsError('overrides must be an array of { layers, weightBits?, actBits?, method? }');
  overrides.forEach((ov, i) => {
    if (ov == null || ov.layers === undefined) throw optionsError(`overrides[${i}].layers is required`);
    if (ov.weightBits !== undefined) checkBits(ov.weightBits, `overrides[${i}].weightBits`);
    if (ov.actBits != null) checkBits(ov.actBits, `overrides[${i}].actBits`);
    if (ov.method !== undefined) checkMethod(ov.method, `overrides[${i}].method`);
  });

  const plans: LayerPlan[] = [];
  const skipped: string[] = [];
  const used = new Set<number>();
  for (const c of quantizableLayers(root)) {
    const selected = (o.include === undefined || matchesLayer(c, o.include, 'include')) && !(o.exclude !== undefined && matchesLayer(c, o.exclude, 'exclude'));
    if (!selected) {
      skipped.push(c.layer.name);
      continue;
    }
    const plan: LayerPlan = { candidate: c, weightBits, actBits, method };
    overrides.forEach((ov, i) => {
      if (!matchesLayer(c, ov.layers, `overrides[${i}].layers`)) return;
      used.add(i);
      if (ov.weightBits !== undefined) plan.weightBits = ov.weightBits;
      if (ov.actBits !== undefined) plan.actBits = ov.actBits;
      if (ov.method !== undefined) plan.method = ov.method;
    });
    plans.push(plan);
  }
  if (plans.length === 0) {
    throw optionsError(
      o.include !== undefined || o.exclude !== undefined
        ? 'the include/exclude filters left no Dense, Conv1D, Conv2D or DepthwiseConv2D layer to quantize'
        : 'the model has no Dense, Conv1D, Conv2D or DepthwiseConv2D layer to quantize',
    );
  }
  const unused = overrides.map((_, i) => i).filter((i) => !used.has(i));
  if (unused.length) throw optionsError(`overrides[${unused.join(', ')}] matched no selected layer`);
  return { plans, skipped };
}
