import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { OfqError, nameMatcher } from '@ofq/core';

/** The parts of a tfjs-layers weight (`LayerVariable`) that applyOFQ uses. */
export interface LayerWeightLike {
  readonly name: string;
  readonly originalName?: string;
  readonly shape: number[];
  read(): Tensor;
}

/** The parts of a tfjs-layers `Layer` that applyOFQ uses (matchers receive the real layer). */
export interface OFQLayerLike {
  readonly name: string;
  readonly weights: LayerWeightLike[];
  getClassName(): string;
  call(inputs: unknown, kwargs: unknown): unknown;
  layers?: OFQLayerLike[];
}

/**
 * Selects layers, with applyStatsQ's meaning: a glob on the layer name or the class name (the @ofq glob
 * meaning), a RegExp on the name, or a predicate. In `overrides`, `'<first>'` and `'<last>'` also name
 * the first and last quantizable layer of the model (OFQ keeps those at 8 bits).
 */
export type LayerMatcher = string | RegExp | ((layer: OFQLayerLike) => boolean);

/** Quantizable layer classes and the weight each one multiplies its input with. */
export const QUANTIZABLE_KERNELS: Readonly<Record<string, string>> = {
  Dense: 'kernel',
  Conv1D: 'kernel',
  Conv2D: 'kernel',
  DepthwiseConv2D: 'depthwise_kernel',
};

export interface Candidate {
  layer: OFQLayerLike;
  kernel: LayerWeightLike;
  /** Position among the quantizable layers of the model (for `'<first>'` / `'<last>'`). */
  index: number;
  count: number;
}

function baseName(w: LayerWeightLike): string | undefined {
  return (w.originalName ?? w.name).split('/').pop()?.replace(/_\d+$/, '');
}

/** Every layer of the model, descending into nested models. */
export function allLayers(layers: OFQLayerLike[], out: OFQLayerLike[] = []): OFQLayerLike[] {
  for (const l of layers) {
    if (Array.isArray(l.layers) && l.layers.length > 0 && l.layers !== layers) allLayers(l.layers, out);
    else out.push(l);
  }
  return out;
}

/** The quantizable layers of a model, in model order, with their kernel weight. */
export function quantizableLayers(root: OFQLayerLike): Candidate[] {
  const found: Array<{ layer: OFQLayerLike; kernel: LayerWeightLike }> = [];
  for (const layer of allLayers(root.layers ?? [])) {
    const kernelName = QUANTIZABLE_KERNELS[layer.getClassName()];
    if (kernelName === undefined) continue;
    const kernel = (layer.weights ?? []).find((w) => baseName(w) === kernelName);
    if (kernel) found.push({ layer, kernel });
  }
  return found.map((f, index) => ({ ...f, index, count: found.length }));
}

/** True when a layer matches any of the matchers. */
export function matchesLayer(c: Candidate, m: LayerMatcher | readonly LayerMatcher[], what: string): boolean {
  const list = Array.isArray(m) ? m : [m];
  return list.some((one: LayerMatcher) => {
    if (one === '<first>') return c.index === 0;
    if (one === '<last>') return c.index === c.count - 1;
    if (typeof one === 'function') return Boolean(one(c.layer));
    if (one instanceof RegExp) return one.test(c.layer.name);
    if (typeof one === 'string') {
      const test = nameMatcher(one);
      return test(c.layer.name) || test(c.layer.getClassName());
    }
    throw new OfqError(`applyOFQ: ${what} must be a string glob, a RegExp or a function, got ${typeof one}`, { code: 'E_OFQ_OPTIONS' });
  });
}

/** A weight read that is a variable (what `LayerVariable.read()` returns). */
export function kernelVariable(k: LayerWeightLike): Variable {
  return k.read() as Variable;
}
