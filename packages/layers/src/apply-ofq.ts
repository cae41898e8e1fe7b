import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { OfqError, type QuantizedWeightRef, type QuantizedWeights, type WeightQuantizer } from '@ofq/core';
import type { LSQQuantizer } from '@ofq/lsq';
import { LayerQuant } from './layer-quant.js';
import { QUANTIZABLE_KERNELS, type OFQLayerLike } from './layer-select.js';
import { OFQ_METADATA_FORMAT, OFQ_METADATA_KEY, parseOFQMetadata, type OFQMetadata } from './ofq-metadata.js';
import { planOFQ, type ApplyOFQOptions, type LayerPlan, type WeightMethod } from './ofq-plan.js';
import { formatSummary, type OFQSummary } from './ofq-summary.js';
import { hookTrainableSteps } from './trainable-steps-hook.js';
import { cgaForOFQ, type OFQCGAOptions } from './ofq-cga.js';
import { OFQMetricsCallback, type OFQMetricsOptions } from './metrics-callback.js';
import type { CGAOptimizer } from '@ofq/cga';

/** One quantized layer as the handle reports it. */
export interface OFQLayer {
  readonly name: string;
  readonly className: string;
  readonly method: WeightMethod;
  readonly weightBits: number;
  /** null: the layer's input stays float. */
  readonly actBits: number | null;
  /** The latent float kernel (what the optimizer updates). */
  readonly kernel: Variable;
  /** The quantizer the forward pass applies to the kernel. */
  readonly weightQuantizer: WeightQuantizer;
  /** The LSQ quantizer of the layer's input (null for a float input). */
  readonly actQuantizer: LSQQuantizer | null;
}

/** Quantizer steps as plain numbers (readable at any time, e.g. inside `model.fit` callbacks). */
export interface OFQStepValues {
  /** LSQ input step per layer (null for float inputs). */
  act: Record<string, number | null>;
  /** Mean LSQ kernel step per layer (`method: 'lsq'` only). */
  weight: Record<string, number>;
}

export interface OFQHandle {
  /** True until `remove()` / `dispose()`. */
  readonly active: boolean;
  readonly layers: readonly OFQLayer[];
  /** Layer names, bits, kernel shapes, weight counts; `toString()` prints a table. */
  summary(): OFQSummary;
  /** Every quantized kernel with its quantizer (for CGA, metrics and export; names `layer/kernel`). */
  quantizedWeights(): QuantizedWeightRef[];
  /** The quantizers' trainable variables (input steps, LSQ kernel steps); `model.fit` trains them. */
  variables(): Variable[];
  stepValues(): OFQStepValues;
  /** Integer codes and per-channel scales of every quantized kernel, keyed by layer name. */
  export(): Record<string, QuantizedWeights>;
  /** CGA around `optimizer` for these kernels with their own quantizers (see `cgaForOFQ`). */
  cga(optimizer: tf.Optimizer, o?: OFQCGAOptions): CGAOptimizer;
  /** A `model.fit` callback recording kernel and step statistics as plain numbers (see `OFQMetricsCallback`). */
  metricsCallback(o?: OFQMetricsOptions): OFQMetricsCallback;
  /** The record `model.save` stores under `userDefinedMetadata.ofq`. */
  toMetadata(): OFQMetadata;
  /** Restores the float forward pass and the model's own `save`/training lists; the steps stay until `dispose()`. */
  remove(): void;
  /** `remove()`, then releases the quantizers' variables. */
  dispose(): void;
}

interface AttachInput {
  plans: LayerPlan[];
  skipped: string[];
  sample?: unknown;
  restore?: OFQMetadata;
}

function asRoot(model: LayersModel, fn: string): OFQLayerLike {
  const root = model as unknown as OFQLayerLike;
  if (root == null || !Array.isArray(root.layers)) throw new OfqError(`${fn}: expected a tf.LayersModel (with .layers)`, { code: 'E_OFQ_OPTIONS' });
  return root;
}

/**
 * OFQ-style quantization-aware training for a tf.LayersModel in one call, in place: the kernels of the
 * selected Dense / Conv1D / Conv2D / DepthwiseConv2D layers go through StatsQ (or LSQ), their inputs
 * through LSQ with a learnable per-tensor step initialised on `sample`. `model.fit` trains the float
 * kernels and the steps; `model.save` stores the quantization in the model's metadata (see `loadOFQModel`).
 */
export function applyOFQ(model: LayersModel, o: ApplyOFQOptions): OFQHandle {
  const root = asRoot(model, 'applyOFQ');
  const { plans, skipped } = planOFQ(root, o);
  if (plans.some((p) => p.actBits !== null) && o.sample == null) {
    throw new OfqError('applyOFQ: `sample` (a batch the model accepts) is required to initialise the LSQ input steps when actBits is set', { code: 'E_OFQ_OPTIONS' });
  }
  return attach(model, { plans, skipped, sample: o.sample });
}

/** Re-applies the quantization recorded in `model`'s metadata (a model saved after applyOFQ and loaded by any means). */
export function restoreOFQ(model: LayersModel): OFQHandle {
  const root = asRoot(model, 'restoreOFQ');
  const where = `model "${model.name}"`;
  const meta = parseOFQMetadata((model.getUserDefinedMetadata() as Record<string, unknown> | undefined)?.[OFQ_METADATA_KEY], where);
  const byName = new Map(meta.layers.map((l) => [l.name, l]));
  const { plans, skipped } = planOFQ(root, { weightBits: 2, include: (l) => byName.has(l.name) });
  const found = new Set(plans.map((p) => p.candidate.layer.name));
  const missing = meta.layers.filter((l) => !found.has(l.name)).map((l) => l.name);
  if (missing.length) throw new OfqError(`restoreOFQ: ${where} has no quantizable layer named ${missing.join(', ')}`, { code: 'E_OFQ_METADATA' });
  for (const p of plans) {
    const r = byName.get(p.candidate.layer.name)!;
    if (r.className !== p.candidate.layer.getClassName()) throw new OfqError(`restoreOFQ: layer "${r.name}" is a ${p.candidate.layer.getClassName()}, the record says ${r.className}`, { code: 'E_OFQ_METADATA' });
    Object.assign(p, { weightBits: r.weightBits, actBits: r.act ? r.act.bits : null, method: r.method });
  }
  return attach(model, { plans, skipped, restore: meta });
}

function initSteps(model: LayersModel, quants: LayerQuant[], sample: unknown): void {
  // One forward pass on the sample; each layer creates its input step from what reaches it there.
  for (const q of quants) q.setInitializing(true);
  try {
    tf.tidy(() => void model.predict(sample as Tensor | Tensor[]));
  } finally {
    for (const q of quants) q.setInitializing(false);
  }
}

function attach(model: LayersModel, input: AttachInput): OFQHandle {
  const quants = input.plans.map((p) => new LayerQuant(p));
  const patched: LayerQuant[] = [];
  try {
    for (const q of quants) {
      q.patch();
      patched.push(q);
    }
    if (input.restore) {
      const byName = new Map(input.restore.layers.map((l) => [l.name, l]));
      for (const q of quants) q.restore(byName.get(q.name)!);
    } else if (quants.some((q) => q.actBits !== null)) {
      initSteps(model, quants, input.sample);
    }
  } catch (e) {
    for (const q of quants) q.dispose();
    throw e;
  }
  return createHandle(model, quants, input.skipped);
}

function createHandle(model: LayersModel, quants: LayerQuant[], skipped: string[]): OFQHandle {
  let active = true;
  const variables = () => quants.flatMap((q) => q.variables());
  const unhookSteps = hookTrainableSteps(model, () => (active ? variables() : []));
  const m = model as unknown as { save: LayersModel['save'] };
  const hadOwnSave = Object.prototype.hasOwnProperty.call(m, 'save');
  const originalSave = m.save;
  const toMetadata = (): OFQMetadata => ({ format: OFQ_METADATA_FORMAT, layers: quants.map((q) => q.record()) });
  // The quantization travels with the model: every save writes the current steps into model.json.
  m.save = function (this: LayersModel, ...args: Parameters<LayersModel['save']>) {
    const own = (this.getUserDefinedMetadata() as Record<string, unknown> | undefined) ?? {};
    this.setUserDefinedMetadata({ ...own, [OFQ_METADATA_KEY]: toMetadata() as unknown as object });
    return originalSave.apply(this, args);
  };
  const layers: OFQLayer[] = quants.map((q) => ({
    name: q.name,
    className: q.layer.getClassName(),
    method: q.method,
    weightBits: q.weightBits,
    actBits: q.actBits,
    get kernel() {
      return q.kernel;
    },
    weightQuantizer: q.weightQuantizer,
    get actQuantizer() {
      return q.actQuantizer;
    },
  }));
  const remove = () => {
    if (!active) return;
    for (const q of quants) q.unpatch();
    unhookSteps();
    if (hadOwnSave) m.save = originalSave;
    else delete (m as { save?: unknown }).save;
    // A later save of the float model must not carry a stale record that would re-quantize it on load.
    const meta = model.getUserDefinedMetadata() as Record<string, unknown> | undefined;
    if (meta && OFQ_METADATA_KEY in meta) {
      const { [OFQ_METADATA_KEY]: _stale, ...rest } = meta;
      model.setUserDefinedMetadata(rest);
    }
    active = false;
  };
  const handle: OFQHandle = {
    get active() {
      return active;
    },
    layers,
    cga: (optimizer, o) => cgaForOFQ(handle, optimizer, o),
    metricsCallback: (o) => new OFQMetricsCallback(handle, o),
    summary: () => formatSummary(model, quants, skipped, active),
    quantizedWeights: () =>
      quants.map((q) => ({ name: `${q.name}/${QUANTIZABLE_KERNELS[q.layer.getClassName()]}`, quantizer: q.weightQuantizer, variable: q.kernel, read: () => q.kernel.clone() })),
    variables,
    stepValues: () => stepValues(quants),
    export: () => Object.fromEntries(quants.map((q) => [q.name, q.weightQuantizer.codes(q.kernel)])),
    toMetadata,
    remove,
    dispose() {
      remove();
      for (const q of quants) q.dispose();
    },
  };
  return handle;
}

function stepValues(quants: LayerQuant[]): OFQStepValues {
  const act: Record<string, number | null> = {};
  const weight: Record<string, number> = {};
  for (const q of quants) {
    const s = q.actQuantizer?.step;
    act[q.name] = s ? s.dataSync()[0] : null;
    const ws = q.weightQuantizer.state.find((st) => st.name === 's')?.variable();
    if (ws) {
      const d = Array.from(ws.dataSync());
      weight[q.name] = d.reduce((a, b) => a + b, 0) / d.length;
    }
  }
  return { act, weight };
}
