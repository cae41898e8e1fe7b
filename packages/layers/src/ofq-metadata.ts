import { OfqError } from '@ofq/core';
import type { WeightMethod } from './ofq-plan.js';

/** Key of the quantization record in a model's `userDefinedMetadata` (saved in model.json). */
export const OFQ_METADATA_KEY = 'ofq';
export const OFQ_METADATA_FORMAT = 'ofq-layers/1';

/** A piece of quantizer state (e.g. an LSQ step) as saved: float32 values written as JSON numbers (exact). */
export interface OFQStateRecord {
  name: string;
  shape: number[];
  values: number[];
}

export interface OFQLayerRecord {
  name: string;
  className: string;
  method: WeightMethod;
  weightBits: number;
  /** The kernel quantizer's state (empty for StatsQ). */
  weightState: OFQStateRecord[];
  /** null: the input stays float. */
  act: { bits: number; unsigned: boolean; step: OFQStateRecord } | null;
}

/** What `model.save` writes under `userDefinedMetadata.ofq` once applyOFQ has run. */
export interface OFQMetadata {
  format: typeof OFQ_METADATA_FORMAT;
  layers: OFQLayerRecord[];
}

function bad(where: string, what: string): OfqError {
  return new OfqError(`${where}: userDefinedMetadata.ofq ${what}`, { code: 'E_OFQ_METADATA' });
}

function checkState(s: unknown, where: string, field: string): OFQStateRecord {
  const r = s as OFQStateRecord;
  if (r == null || typeof r.name !== 'string' || !Array.isArray(r.shape) || !Array.isArray(r.values)) {
    throw bad(where, `${field} must be { name, shape, values }`);
  }
  const size = r.shape.reduce((a, b) => a * b, 1);
  if (r.values.length !== size || r.values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
    throw bad(where, `${field} needs ${size} finite numbers for shape [${r.shape}], got ${r.values.length}`);
  }
  return r;
}

/** Validates a saved record; `where` names the model in messages. */
export function parseOFQMetadata(x: unknown, where: string): OFQMetadata {
  const m = x as OFQMetadata;
  if (m == null || typeof m !== 'object') throw bad(where, 'is missing (was the model saved after applyOFQ?)');
  if (m.format !== OFQ_METADATA_FORMAT) throw bad(where, `has format ${JSON.stringify(m.format)}, this version reads ${OFQ_METADATA_FORMAT}`);
  if (!Array.isArray(m.layers) || m.layers.length === 0) throw bad(where, 'lists no layers');
  m.layers.forEach((l, i) => {
    const f = `layers[${i}]`;
    if (typeof l?.name !== 'string' || typeof l.className !== 'string') throw bad(where, `${f} needs name and className`);
    if (l.method !== 'statsq' && l.method !== 'lsq') throw bad(where, `${f}.method must be 'statsq' or 'lsq'`);
    if (!Number.isInteger(l.weightBits)) throw bad(where, `${f}.weightBits must be an integer`);
    if (!Array.isArray(l.weightState)) throw bad(where, `${f}.weightState must be an array`);
    l.weightState.forEach((s, j) => checkState(s, where, `${f}.weightState[${j}]`));
    if (l.act !== null) {
      if (typeof l.act !== 'object' || !Number.isInteger(l.act.bits) || typeof l.act.unsigned !== 'boolean') throw bad(where, `${f}.act must be null or { bits, unsigned, step }`);
      checkState(l.act.step, where, `${f}.act.step`);
    }
  });
  return m;
}
