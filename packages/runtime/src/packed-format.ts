// The packed model file (`.ofq`, docs/packed-format.md): a safetensors container whose quantized
// weights are bit-packed U8 codes plus F32 per-channel scales, with the grid of each weight, the FP
// tensors and the model description in `__metadata__`. One file is everything a runtime needs.
import { readSafetensors, writeSafetensors, type QuantizedWeights, type WritableEntry } from '@ofq/core';
import { packCodes, packedByteLength, unpackCodes } from './bit-pack.js';
import { PackedModelError, packedFail } from './errors.js';

export const PACKED_FORMAT = 'ofq-packed';
export const PACKED_VERSION = 1;

/** What the file holds: a DeiT (`@ofq/vit` config) or a tfjs Layers model (topology + weight order). */
export type PackedModelSpec =
  | { type: 'deit'; config: Record<string, unknown> }
  | { type: 'layers'; modelTopology: unknown; weightSpecs: Array<{ name: string; shape: number[]; dtype: 'float32' }> };

/** Input preprocessing a user of the file needs: `x = (pixel − mean)/std` per channel, pixels in [0, 1]. */
export interface PackedInput {
  mean: number[];
  std: number[];
  labels?: string[];
}

/** The grid of one packed weight, as stored in `ofq.weights` (the `QuantizedWeights` record less its arrays). */
export interface PackedWeightLayout {
  kind: string;
  bits: number;
  codeRange: [number, number];
  offset: number;
  divisor: number;
  shape: number[];
  channelAxis: number;
}

export interface PackedFloat {
  shape: number[];
  data: Float32Array;
}

export interface PackedModelContent {
  model: PackedModelSpec;
  /** Quantized weights by name (codes are packed at `bits`). */
  weights: Map<string, QuantizedWeights>;
  /** Full-precision tensors by name (norms, tokens, biases, LSQ steps and shifts…). */
  floats: Map<string, PackedFloat>;
  input?: PackedInput;
  /** Free-form provenance (run directory, test top-1, FP size), JSON-serialisable. */
  info?: Record<string, unknown>;
}

export interface PackedModelFile extends PackedModelContent {
  version: number;
  /** Size of the file in bytes. */
  byteLength: number;
}

const CODES = '.codes';
const SCALES = '.scales';

function layoutOf(q: QuantizedWeights): PackedWeightLayout {
  return { kind: q.kind, bits: q.bits, codeRange: [q.codeRange[0], q.codeRange[1]], offset: q.offset, divisor: q.divisor, shape: q.shape.slice(), channelAxis: q.channelAxis };
}

/** Serialises a packed model to `.ofq` bytes (codes bit-packed at their width). */
export function writePackedModel(c: PackedModelContent): Uint8Array {
  const tensors = new Map<string, WritableEntry>();
  const layouts: Record<string, PackedWeightLayout> = {};
  for (const [name, q] of c.weights) {
    checkLayout(name, layoutOf(q));
    if (q.codes.length !== numel(q.shape)) packedFail(`weight "${name}": ${q.codes.length} codes for shape [${q.shape}]`);
    tensors.set(name + CODES, { shape: [packedByteLength(q.codes.length, q.bits)], data: packCodes(q.codes, q.bits, q.codeRange[0]) });
    tensors.set(name + SCALES, { shape: [q.scales.length], data: q.scales });
    layouts[name] = layoutOf(q);
  }
  for (const [name, f] of c.floats) {
    if (tensors.has(name) || c.weights.has(name)) packedFail(`tensor name "${name}" is used twice`);
    if (f.data.length !== numel(f.shape)) packedFail(`tensor "${name}": ${f.data.length} values for shape [${f.shape}]`);
    tensors.set(name, { shape: f.shape.slice(), data: f.data });
  }
  const meta: Record<string, string> = {
    format: PACKED_FORMAT,
    'ofq.version': String(PACKED_VERSION),
    'ofq.model': JSON.stringify(c.model),
    'ofq.weights': JSON.stringify(layouts),
  };
  if (c.input) meta['ofq.input'] = JSON.stringify(c.input);
  if (c.info) meta['ofq.info'] = JSON.stringify(c.info);
  return writeSafetensors(tensors, meta);
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isIntArray(v: unknown, min: number): v is number[] {
  return Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && d >= min);
}

function checkLayout(name: string, l: PackedWeightLayout): void {
  const f = (m: string) => packedFail(`ofq.weights["${name}"]: ${m}`);
  if (l === null || typeof l !== 'object') f('must be an object');
  if (typeof l.kind !== 'string' || l.kind === '') f(`kind must be a non-empty string, got ${JSON.stringify(l.kind)}`);
  if (!Number.isInteger(l.bits) || l.bits < 1 || l.bits > 8) f(`bits must be an integer in [1, 8], got ${JSON.stringify(l.bits)}`);
  const r = l.codeRange;
  if (!Array.isArray(r) || r.length !== 2 || !r.every(Number.isSafeInteger) || r[0] > r[1]) f(`codeRange must be [lo, hi] integers with lo ≤ hi, got ${JSON.stringify(r)}`);
  if (r[1] - r[0] + 1 > 2 ** l.bits) f(`codeRange [${r}] has ${r[1] - r[0] + 1} codes, more than ${l.bits} bits hold`);
  if (typeof l.offset !== 'number' || !Number.isFinite(l.offset)) f(`offset must be a finite number, got ${JSON.stringify(l.offset)}`);
  if (typeof l.divisor !== 'number' || !Number.isFinite(l.divisor) || l.divisor <= 0) f(`divisor must be a positive number, got ${JSON.stringify(l.divisor)}`);
  if (!isIntArray(l.shape, 1) || l.shape.length === 0) f(`shape must be a non-empty list of positive integers, got ${JSON.stringify(l.shape)}`);
  const rank = l.shape.length;
  if (!Number.isInteger(l.channelAxis) || l.channelAxis < -rank || l.channelAxis >= rank) f(`channelAxis ${JSON.stringify(l.channelAxis)} is not an axis of shape [${l.shape}]`);
}

function parseJSON(meta: Record<string, string>, key: string, required: boolean): unknown {
  const raw = meta[key];
  if (raw === undefined) {
    if (required) packedFail(`__metadata__ has no "${key}" (not an .ofq file, or damaged)`);
    return undefined;
  }
  try {
    return JSON.parse(raw);
  } catch (e) {
    packedFail(`__metadata__["${key}"] is not valid JSON (${(e as Error).message})`);
  }
}

function checkModelSpec(m: unknown): PackedModelSpec {
  if (m === null || typeof m !== 'object') packedFail('ofq.model must be an object');
  const spec = m as { type?: unknown; config?: unknown; weightSpecs?: unknown };
  if (spec.type === 'deit') {
    if (spec.config === null || typeof spec.config !== 'object') packedFail('ofq.model.config must be an object (the DeiT config)');
  } else if (spec.type === 'layers') {
    const ws = spec.weightSpecs;
    if (!Array.isArray(ws) || !ws.every((w) => w && typeof w.name === 'string' && isIntArray(w.shape, 0) && w.dtype === 'float32')) {
      packedFail('ofq.model.weightSpecs must list { name, shape, dtype: "float32" } entries');
    }
  } else {
    packedFail(`ofq.model.type must be "deit" or "layers", got ${JSON.stringify(spec.type)}`);
  }
  return m as PackedModelSpec;
}

function checkInput(v: unknown): PackedInput | undefined {
  if (v === undefined) return undefined;
  const i = v as PackedInput;
  const nums = (a: unknown) => Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  if (!i || !nums(i.mean) || !nums(i.std) || i.mean.length !== i.std.length || i.std.some((s) => s <= 0)) {
    packedFail('ofq.input must be { mean: number[], std: number[] } of the same length with std > 0');
  }
  if (i.labels !== undefined && !(Array.isArray(i.labels) && i.labels.every((l) => typeof l === 'string'))) packedFail('ofq.input.labels must be a list of strings');
  return i;
}

/**
 * Reads and validates `.ofq` bytes: container offsets and sizes (via the safetensors reader), format
 * and version, every weight's grid, code byte length, scale count, code range and padding. Model
 * shapes against the config are checked by the model loaders (`loadPackedDeiT`, `packedLayersHandler`).
 */
export function readPackedModel(bytes: Uint8Array | ArrayBuffer): PackedModelFile {
  const byteLength = bytes instanceof Uint8Array ? bytes.byteLength : bytes.byteLength;
  let st;
  try {
    st = readSafetensors(bytes);
  } catch (e) {
    throw new PackedModelError(`packed model: ${(e as Error).message}`, { cause: e });
  }
  const meta = st.metadata;
  if (meta.format !== PACKED_FORMAT) packedFail(`__metadata__.format is ${JSON.stringify(meta.format)}, expected "${PACKED_FORMAT}" (a plain safetensors file?)`);
  const version = Number(meta['ofq.version']);
  if (!Number.isInteger(version) || version < 1) packedFail(`__metadata__["ofq.version"] must be a positive integer, got ${JSON.stringify(meta['ofq.version'])}`);
  if (version > PACKED_VERSION) packedFail(`format version ${version} is newer than this @ofq/runtime reads (${PACKED_VERSION}); upgrade @ofq/runtime`);
  const model = checkModelSpec(parseJSON(meta, 'ofq.model', true));
  const layouts = parseJSON(meta, 'ofq.weights', true) as Record<string, PackedWeightLayout>;
  if (layouts === null || typeof layouts !== 'object' || Array.isArray(layouts)) packedFail('ofq.weights must be an object');
  const input = checkInput(parseJSON(meta, 'ofq.input', false));
  const info = parseJSON(meta, 'ofq.info', false) as Record<string, unknown> | undefined;

  const weights = new Map<string, QuantizedWeights>();
  const claimed = new Set<string>();
  for (const [name, l] of Object.entries(layouts)) {
    checkLayout(name, l);
    const codesE = st.tensors.get(name + CODES);
    const scalesE = st.tensors.get(name + SCALES);
    if (!codesE) packedFail(`weight "${name}" has no tensor "${name}${CODES}"`);
    if (!scalesE) packedFail(`weight "${name}" has no tensor "${name}${SCALES}"`);
    if (codesE.dtype !== 'U8' || codesE.shape.length !== 1) packedFail(`"${name}${CODES}" must be a 1-D U8 tensor, got ${codesE.dtype} [${codesE.shape}]`);
    const axis = l.channelAxis < 0 ? l.shape.length + l.channelAxis : l.channelAxis;
    const channels = l.shape[axis];
    if (scalesE.dtype !== 'F32' || scalesE.shape.length !== 1 || scalesE.shape[0] !== channels) {
      packedFail(`"${name}${SCALES}" must be F32 [${channels}] (one per channel of axis ${l.channelAxis} of [${l.shape}]), got ${scalesE.dtype} [${scalesE.shape}]`);
    }
    const scales = scalesE.data as Float32Array;
    const bad = scales.findIndex((s) => !Number.isFinite(s));
    if (bad >= 0) packedFail(`"${name}${SCALES}"[${bad}] is not finite (${scales[bad]})`);
    const count = numel(l.shape);
    const codes = unpackCodes(codesE.data as Uint8Array, l.bits, count, l.codeRange[0], l.codeRange[1], `"${name}${CODES}"`);
    weights.set(name, { ...l, codes, scales });
    claimed.add(name + CODES).add(name + SCALES);
  }
  const floats = new Map<string, PackedFloat>();
  for (const [name, e] of st.tensors) {
    if (claimed.has(name)) continue;
    if (name.endsWith(CODES) || name.endsWith(SCALES)) packedFail(`tensor "${name}" belongs to no weight in ofq.weights (tampered file?)`);
    if (e.dtype !== 'F32') packedFail(`tensor "${name}" must be F32, got ${e.dtype}`);
    floats.set(name, { shape: e.shape, data: e.data as Float32Array });
  }
  return { version, byteLength, model, weights, floats, input, info };
}
