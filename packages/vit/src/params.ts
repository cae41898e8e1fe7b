// One entry per state-dict tensor: its PyTorch name and layout, and how it maps onto our tf.Variables.
// Every module lists its entries with `params()`; models and module tests load and save through them.
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';

export interface ParamSpec {
  /** Name relative to the owning module, PyTorch style (`attn.qkv.weight`). */
  name: string;
  /** Shape in the PyTorch checkpoint. */
  torchShape: number[];
  /** 'parameter' (trainable), 'buffer' (state, not trained) or 'constant' (reference's fixed `clip_val`). */
  kind: 'parameter' | 'buffer' | 'constant';
  /** The trainable variable behind a parameter (null for buffers/constants and not-yet-initialised LSQ steps). */
  variable(): tf.Variable | null;
  /** Fresh tensor in PyTorch layout (caller disposes). Throws if the value does not exist yet. */
  read(): Tensor;
  /** Sets the value from a tensor in PyTorch layout (shape already checked). */
  write(t: Tensor): void;
  /** A tensor in the variable's layout (e.g. its gradient) converted to PyTorch layout. */
  toTorch(t: Tensor): Tensor;
}

/** Prefixes every name of `specs` with `prefix.`. */
export function prefixed(prefix: string, specs: ParamSpec[]): ParamSpec[] {
  return specs.map((s) => ({ ...s, name: `${prefix}.${s.name}`, variable: s.variable, read: s.read, write: s.write }));
}

/** A variable stored in the same layout as PyTorch (biases, norms, tokens). */
export function directSpec(name: string, v: tf.Variable): ParamSpec {
  return {
    name, torchShape: v.shape.slice(), kind: 'parameter',
    variable: () => v,
    read: () => tf.clone(v),
    write: (t) => v.assign(tf.reshape(t, v.shape) as Tensor),
    toTorch: (t) => tf.clone(t),
  };
}

/** A dense kernel `[in, out]` stored by PyTorch as `[out, in]`. */
export function linearWeightSpec(name: string, v: tf.Variable): ParamSpec {
  return {
    name, torchShape: [(v.shape as number[])[1], (v.shape as number[])[0]], kind: 'parameter',
    variable: () => v,
    read: () => tf.transpose(v),
    write: (t) => tf.tidy(() => v.assign(tf.transpose(t))),
    toTorch: (t) => tf.transpose(t),
  };
}

/** A conv kernel `[kh, kw, in, out]` stored by PyTorch as `[out, in, kh, kw]`. */
export function convWeightSpec(name: string, v: tf.Variable): ParamSpec {
  const [kh, kw, cin, cout] = v.shape;
  return {
    name, torchShape: [cout, cin, kh, kw], kind: 'parameter',
    variable: () => v,
    read: () => tf.transpose(v, [3, 2, 0, 1]),
    write: (t) => tf.tidy(() => v.assign(tf.transpose(t, [2, 3, 1, 0]))),
    toTorch: (t) => tf.transpose(t, [3, 2, 0, 1]),
  };
}

/** The reference's fixed StatsQ `clip_val` (always 2): exported for name parity, checked on load. */
export function constantSpec(name: string, value: number): ParamSpec {
  return {
    name, torchShape: [1], kind: 'constant',
    variable: () => null,
    read: () => tf.tensor1d([value]),
    toTorch: (t) => tf.clone(t),
    write: (t) => {
      const got = t.dataSync()[0];
      if (got !== value) throw new Error(`${name}: this constant must be ${value}, got ${got}`);
    },
  };
}

/** Decay group of docs/algorithm.md §7.2: no decay for ndim ≤ 1, `.bias`, pos_embed, cls_token, dist_token. */
export function takesWeightDecay(name: string, torchShape: number[]): boolean {
  if (torchShape.length <= 1 || name.endsWith('.bias')) return false;
  const last = name.split('.').pop();
  return !(last === 'pos_embed' || last === 'cls_token' || last === 'dist_token');
}

export interface NamedParameter {
  name: string;
  variable: tf.Variable;
  /** docs/algorithm.md §7.2: false for ndim ≤ 1, biases, LSQ steps, shifts, norms, tokens and pos_embed. */
  decay: boolean;
}

/** The trainable variables among a model's state-dict entries, with their weight-decay group. */
export function namedParametersOf(specs: ParamSpec[]): NamedParameter[] {
  const out: NamedParameter[] = [];
  for (const s of specs) {
    const v = s.kind === 'parameter' ? s.variable() : null;
    if (v) out.push({ name: s.name, variable: v, decay: takesWeightDecay(s.name, s.torchShape) });
  }
  return out;
}

/** The two AdamW groups of a model's parameters. */
export function decayGroups(params: NamedParameter[]): { decay: tf.Variable[]; noDecay: tf.Variable[] } {
  const decay: tf.Variable[] = [];
  const noDecay: tf.Variable[] = [];
  for (const p of params) (p.decay ? decay : noDecay).push(p.variable);
  return { decay, noDecay };
}

/** Fresh PyTorch-layout copies of every entry. */
export function collectState(specs: ParamSpec[]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const missing: string[] = [];
  for (const s of specs) {
    try {
      out.set(s.name, s.read());
    } catch (e) {
      missing.push(`${s.name} (${(e as Error).message})`);
    }
  }
  if (missing.length) {
    tf.dispose([...out.values()]);
    throw new Error(`stateDict: ${missing.length} value(s) do not exist yet: ${missing.join('; ')}`);
  }
  return out;
}

/**
 * Loads `tensors` (PyTorch names and layouts) into `specs`. Strict mode collects every missing,
 * unexpected and mis-shaped name into one error before anything is written.
 */
export function loadState(
  specs: ParamSpec[],
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  { strict = true, label = 'loadStateDict' }: { strict?: boolean; label?: string } = {},
): void {
  const map = tensors instanceof Map ? tensors : new Map(Object.entries(tensors));
  const known = new Set(specs.map((s) => s.name));
  // The reference's fixed clip_val constants are optional (checked when present).
  const missing = specs.filter((s) => !map.has(s.name) && s.kind !== 'constant').map((s) => s.name);
  const unexpected = [...map.keys()].filter((k) => !known.has(k));
  const misShaped: string[] = [];
  for (const s of specs) {
    const t = map.get(s.name);
    if (!t) continue;
    const sameShape = t.shape.length === s.torchShape.length && t.shape.every((d, i) => d === s.torchShape[i]);
    // A per-tensor LSQ step may come as a scalar or as [1].
    const scalarOk = s.torchShape.length === 1 && s.torchShape[0] === 1 && t.size === 1;
    if (!sameShape && !scalarOk) misShaped.push(`${s.name}: got [${t.shape}], expected [${s.torchShape}]`);
  }
  const problems: string[] = [];
  if (misShaped.length) problems.push(`mis-shaped: ${misShaped.join('; ')}`);
  if (strict && missing.length) problems.push(`missing: ${missing.join(', ')}`);
  if (strict && unexpected.length) problems.push(`unexpected: ${unexpected.join(', ')}`);
  if (problems.length) throw new Error(`${label}: ${problems.join(' | ')}`);
  for (const s of specs) {
    const t = map.get(s.name);
    if (t) tf.tidy(() => s.write(t.dtype === 'float32' ? t : tf.cast(t, 'float32')));
  }
}
