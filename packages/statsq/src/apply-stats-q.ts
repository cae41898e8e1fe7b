import type { Tensor } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { nameMatcher, type QuantizedWeights } from '@ofq/core';
import { statsCodes } from './stats-codes.js';
import { statsQuantize } from './stats-quantize.js';
import { statsLevels } from './stats-scale.js';

// Structural views of tfjs-layers objects (type-only: this file never imports tfjs-layers at runtime).
interface KernelVariable {
  readonly name: string;
  readonly originalName?: string;
  readonly shape: number[];
  read(): Tensor;
}
/** The parts of a tfjs-layers `Layer` that applyStatsQ uses (matchers receive the real layer). */
export interface LayerLike {
  readonly name: string;
  readonly weights: KernelVariable[];
  getClassName(): string;
  call(inputs: unknown, kwargs: unknown): unknown;
  layers?: LayerLike[];
}

/** Selects layers: a glob on the layer name or class name (the @ofq glob meaning, see `NameSelector`), a RegExp on the name, or a predicate. */
export type LayerMatcher = string | RegExp | ((layer: LayerLike) => boolean);

export interface ApplyStatsQOptions {
  /** Bit-width of the kernels: an integer in [2, 8]. */
  bits: number;
  /** Layers to quantize (default: every layer that owns a `kernel` weight). */
  include?: LayerMatcher | LayerMatcher[];
  /** Layers to leave in float, applied after `include`. */
  exclude?: LayerMatcher | LayerMatcher[];
}

export interface StatsQLayerInfo {
  name: string;
  className: string;
  kernelName: string;
  kernelShape: number[];
  /** Number of kernel weights quantized in this layer. */
  weights: number;
}

export interface StatsQSummary {
  bits: number;
  layers: StatsQLayerInfo[];
  /** Kernel weights quantized, over all layers. */
  quantizedWeights: number;
  /** Every weight of the model (kernels, biases, norms…), for the quantized fraction. */
  totalWeights: number;
  /** Layers with a kernel that the filters left in float. */
  skipped: string[];
  /** A printable table. */
  toString(): string;
}

export interface StatsQHandle {
  readonly bits: number;
  /** True until `remove()` has been called. */
  readonly active: boolean;
  /** What was quantized: layer names, kernel shapes, weight counts. */
  summary(): StatsQSummary;
  /** Restores every layer's float forward pass (the latent float kernels, trained or not, stay in place). */
  remove(): void;
  /** Integer codes and per-channel scales of every quantized kernel, keyed by layer name. */
  export(): Record<string, QuantizedWeights>;
}

/** Marks layers patched by applyStatsQ so a second application fails loudly. */
const PATCHED = new WeakSet<object>();


function matches(layer: LayerLike, m: LayerMatcher | LayerMatcher[]): boolean {
  const list = Array.isArray(m) ? m : [m];
  return list.some((one) => {
    if (typeof one === 'function') return Boolean(one(layer));
    if (one instanceof RegExp) return one.test(layer.name);
    if (typeof one === 'string') {
      const test = nameMatcher(one);
      return test(layer.name) || test(layer.getClassName());
    }
    throw new TypeError(`applyStatsQ: a layer matcher must be a string glob, a RegExp or a function, got ${typeof one}`);
  });
}

/** The layer's own `kernel` weight (Dense, Conv*, recurrent input kernels, custom layers naming a weight "kernel"). */
function findKernel(layer: LayerLike): KernelVariable | null {
  for (const w of layer.weights ?? []) {
    const base = (w.originalName ?? w.name).split('/').pop()?.replace(/_\d+$/, '');
    if (base === 'kernel') return w;
  }
  return null;
}

/** Every layer of the model, descending into nested models. */
function allLayers(layers: LayerLike[], out: LayerLike[] = []): LayerLike[] {
  for (const l of layers) {
    if (Array.isArray(l.layers) && l.layers.length > 0 && l.layers !== layers) allLayers(l.layers, out);
    else out.push(l);
  }
  return out;
}

interface Patch {
  layer: LayerLike;
  kernel: KernelVariable;
  ownCall: boolean;
  originalCall: LayerLike['call'];
}

/**
 * Quantizes the kernels of a tf.LayersModel with StatsQ, in place and without cloning (tfmot-style
 * kernel re-routing): inside each selected layer's `call`, reading the kernel returns
 * `statsQuantize(kernel)`, whose straight-through gradient flows to the latent float kernel. Training
 * with `model.fit` / `optimizer.minimize` therefore sees fake-quantized kernels and updates the float ones.
 */
export function applyStatsQ(model: LayersModel, o: ApplyStatsQOptions): StatsQHandle {
  if (o == null || typeof o !== 'object') throw new TypeError('applyStatsQ: options { bits } are required');
  statsLevels(o); // validates bits
  const bits = o.bits;
  const root = model as unknown as LayerLike;
  if (root == null || !Array.isArray(root.layers)) throw new TypeError('applyStatsQ: expected a tf.LayersModel (with .layers)');
  const { patches, skipped } = selectLayers(root, o);
  for (const p of patches) patchKernelRead(p, bits);

  let active = true;
  return {
    bits,
    get active() {
      return active;
    },
    summary: () => summarize(root, patches, skipped, bits, active),
    remove(): void {
      if (!active) return;
      for (const p of patches) {
        if (p.ownCall) (p.layer as { call: LayerLike['call'] }).call = p.originalCall;
        else delete (p.layer as { call?: unknown }).call;
        PATCHED.delete(p.layer);
      }
      active = false;
    },
    export(): Record<string, QuantizedWeights> {
      const out: Record<string, QuantizedWeights> = {};
      for (const { layer, kernel } of patches) out[layer.name] = statsCodes(kernel.read(), { bits });
      return out;
    },
  };
}

/** The layers with a kernel that pass include/exclude (and the ones left in float). */
function selectLayers(root: LayerLike, o: ApplyStatsQOptions): { patches: Patch[]; skipped: string[] } {
  const patches: Patch[] = [];
  const skipped: string[] = [];
  for (const layer of allLayers(root.layers ?? [])) {
    const kernel = findKernel(layer);
    if (kernel === null) continue;
    const selected = (o.include === undefined || matches(layer, o.include)) && !(o.exclude !== undefined && matches(layer, o.exclude));
    if (!selected) {
      skipped.push(layer.name);
      continue;
    }
    if (PATCHED.has(layer)) throw new Error(`applyStatsQ: layer "${layer.name}" is already quantized; call remove() on its handle first`);
    patches.push({ layer, kernel, ownCall: Object.prototype.hasOwnProperty.call(layer, 'call'), originalCall: layer.call });
  }
  if (o.include !== undefined && patches.length === 0) {
    throw new Error('applyStatsQ: the include filter matched no layer with a kernel weight');
  }
  return { patches, skipped };
}

/** Makes the layer's `call` read its kernel through StatsQ. */
function patchKernelRead(p: Patch, bits: number): void {
  const { layer, kernel, originalCall } = p;
  const quantizedCall = function (this: LayerLike, inputs: unknown, kwargs: unknown): unknown {
    // Re-route the kernel read for the duration of this call only: weights, getWeights() and
    // regularizers outside the call still see the float kernel.
    const hadOwnRead = Object.prototype.hasOwnProperty.call(kernel, 'read');
    const originalRead = kernel.read;
    (kernel as { read: () => Tensor }).read = () => statsQuantize(originalRead.call(kernel), { bits });
    try {
      return originalCall.call(this, inputs, kwargs);
    } finally {
      if (hadOwnRead) (kernel as { read: () => Tensor }).read = originalRead;
      else delete (kernel as { read?: unknown }).read;
    }
  };
  (layer as { call: LayerLike['call'] }).call = quantizedCall;
  PATCHED.add(layer);
}

/** What was quantized, with a printable table. */
function summarize(root: LayerLike, patches: Patch[], skipped: string[], bits: number, active: boolean): StatsQSummary {
  const layers: StatsQLayerInfo[] = patches.map(({ layer, kernel }) => ({
    name: layer.name,
    className: layer.getClassName(),
    kernelName: kernel.name,
    kernelShape: kernel.shape.slice(),
    weights: kernel.shape.reduce((a, b) => a * b, 1),
  }));
  const quantizedWeights = layers.reduce((a, l) => a + l.weights, 0);
  const totalWeights = allLayers(root.layers ?? []).reduce((a, l) => a + (l.weights ?? []).reduce((b, w) => b + w.shape.reduce((x, y) => x * y, 1), 0), 0);
  return {
    bits,
    layers,
    quantizedWeights,
    totalWeights,
    skipped: skipped.slice(),
    toString() {
      const rows = layers.map((l) => `  ${l.name} (${l.className}) kernel [${l.kernelShape.join(', ')}]: ${l.weights} weights`);
      const pct = totalWeights > 0 ? ((100 * quantizedWeights) / totalWeights).toFixed(1) : '0';
      return [
        `StatsQ ${bits}-bit${active ? '' : ' (removed)'}: ${layers.length} layer(s), ${quantizedWeights} of ${totalWeights} weights (${pct}%)`,
        ...rows,
        ...(skipped.length ? [`  left in float: ${skipped.join(', ')}`] : []),
      ].join('\n');
    },
  };
}

/** Storage of a `QuantizedWeights` record: `bits` per code, bit-packed, plus float32 scales. */
export function quantizedWeightBytes(q: QuantizedWeights): number {
  return Math.ceil((q.codes.length * q.bits) / 8) + q.scales.length * 4;
}
