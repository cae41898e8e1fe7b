import * as tf from '@tensorflow/tfjs-core';
import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import { OfqError, type WeightQuantizer } from '@ofq/core';
import { LSQQuantizer, LSQWeightQuantizer } from '@ofq/lsq';
import { StatsQuantizer } from '@ofq/statsq';
import { ChannelViewQuantizer } from './channel-view-quantizer.js';
import type { LayerPlan, WeightMethod } from './ofq-plan.js';
import type { OFQLayerRecord, OFQStateRecord } from './ofq-metadata.js';
import type { LayerWeightLike, OFQLayerLike } from './layer-select.js';

/** Marks layers re-routed by applyOFQ so a second application fails loudly. */
const PATCHED = new WeakSet<object>();

function makeWeightQuantizer(method: WeightMethod, bits: number, className: string, name: string): WeightQuantizer {
  const inner: WeightQuantizer = method === 'lsq' ? new LSQWeightQuantizer({ bits, name: `${name}/lsq-w${bits}` }) : new StatsQuantizer({ bits, name: `${name}/statsq-w${bits}` });
  return className === 'DepthwiseConv2D' ? new ChannelViewQuantizer(inner) : inner;
}

function stateRecord(name: string, v: Variable): OFQStateRecord {
  return { name, shape: v.shape.slice(), values: Array.from(v.dataSync()) };
}

/**
 * One quantized layer: its kernel quantizer, its input quantizer (LSQ, per tensor, created on the sample
 * batch) and the re-routed `call` (tfmot-style, as applyStatsQ: the kernel read inside the call returns
 * the fake-quantized kernel, whose straight-through gradient reaches the float kernel).
 */
export class LayerQuant {
  readonly layer: OFQLayerLike;
  readonly kernelWeight: LayerWeightLike;
  readonly weightBits: number;
  readonly actBits: number | null;
  readonly method: WeightMethod;
  readonly weightQuantizer: WeightQuantizer;
  private act: LSQQuantizer | null = null;
  private initializing = false;
  private ownCall = false;
  private originalCall: OFQLayerLike['call'] | null = null;

  constructor(plan: LayerPlan) {
    this.layer = plan.candidate.layer;
    this.kernelWeight = plan.candidate.kernel;
    this.weightBits = plan.weightBits;
    this.actBits = plan.actBits;
    this.method = plan.method;
    this.weightQuantizer = makeWeightQuantizer(plan.method, plan.weightBits, this.layer.getClassName(), this.layer.name);
  }

  get name(): string {
    return this.layer.name;
  }

  get kernel(): Variable {
    return this.kernelWeight.read() as Variable;
  }

  /** The LSQ input quantizer (null for a float input, or before the sample pass). */
  get actQuantizer(): LSQQuantizer | null {
    return this.act;
  }

  /** Trainable quantizer variables: the input step and, for LSQ kernels, the kernel step. */
  variables(): Variable[] {
    const ws = this.weightQuantizer.state.filter((s) => s.trainable).flatMap((s) => s.variable() ?? []);
    return this.act?.step ? [this.act.step, ...ws] : ws;
  }

  patch(): void {
    if (PATCHED.has(this.layer)) throw new OfqError(`applyOFQ: layer "${this.name}" is already quantized; call remove() on its handle first`, { code: 'E_OFQ_TWICE' });
    this.ownCall = Object.prototype.hasOwnProperty.call(this.layer, 'call');
    const originalCall = this.layer.call;
    this.originalCall = originalCall;
    const self = this;
    (this.layer as { call: OFQLayerLike['call'] }).call = function (this: OFQLayerLike, inputs: unknown, kwargs: unknown): unknown {
      return self.quantizedCall(this, originalCall, inputs, kwargs);
    };
    PATCHED.add(this.layer);
    if (this.method === 'lsq') this.weightQuantizer.quantize(this.kernel).dispose(); // creates the LSQ kernel step from the kernel
  }

  unpatch(): void {
    if (this.originalCall === null) return;
    if (this.ownCall) (this.layer as { call: OFQLayerLike['call'] }).call = this.originalCall;
    else delete (this.layer as { call?: unknown }).call;
    this.originalCall = null;
    PATCHED.delete(this.layer);
  }

  private quantizedCall(layer: OFQLayerLike, originalCall: OFQLayerLike['call'], inputs: unknown, kwargs: unknown): unknown {
    let x = inputs;
    if (this.actBits !== null) {
      const list = Array.isArray(inputs) ? inputs : [inputs];
      if (list.length !== 1) throw new OfqError(`applyOFQ: layer "${this.name}" has ${list.length} inputs; only single-input layers are quantized`, { code: 'E_OFQ_LAYER' });
      const xq = this.actFor(list[0] as Tensor).apply(list[0] as Tensor);
      x = Array.isArray(inputs) ? [xq] : xq;
    }
    // Re-route the kernel read for the duration of this call only (weights and getWeights() stay float).
    const kernel = this.kernelWeight as { read: () => Tensor };
    const hadOwnRead = Object.prototype.hasOwnProperty.call(kernel, 'read');
    const originalRead = kernel.read;
    kernel.read = () => this.weightQuantizer.quantize(originalRead.call(kernel));
    try {
      return originalCall.call(layer, x, kwargs);
    } finally {
      if (hadOwnRead) kernel.read = originalRead;
      else delete (kernel as { read?: unknown }).read;
    }
  }

  /** Allows (during the sample pass) or forbids creating the input step from the incoming batch. */
  setInitializing(on: boolean): void {
    this.initializing = on;
  }

  private actFor(x: Tensor): LSQQuantizer {
    if (this.act) return this.act;
    if (!this.initializing) throw new OfqError(`applyOFQ: the input step of "${this.name}" is not initialised (pass \`sample\`)`, { code: 'E_OFQ_INIT' });
    // Unsigned grid when the sample has no negative input (post-ReLU / pooled features, pixels).
    const min = tf.tidy(() => tf.min(x));
    const unsigned = min.dataSync()[0] >= 0;
    min.dispose();
    this.act = new LSQQuantizer({ bits: this.actBits as number, granularity: 'tensor', unsigned, name: `${this.name}/lsq-a${this.actBits}` });
    this.act.initFrom(x);
    return this.act;
  }

  record(): OFQLayerRecord {
    const weightState = this.weightQuantizer.state.flatMap((s) => {
      const v = s.variable();
      return v ? [stateRecord(s.name, v)] : [];
    });
    const step = this.act?.step;
    return {
      name: this.name,
      className: this.layer.getClassName(),
      method: this.method,
      weightBits: this.weightBits,
      weightState,
      act: this.act && step ? { bits: this.act.bits, unsigned: this.act.unsigned, step: stateRecord('s', step) } : null,
    };
  }

  /** Restores the quantizer state saved by `record()` (exact float32 values). */
  restore(r: OFQLayerRecord): void {
    for (const s of r.weightState) {
      const target = this.weightQuantizer.state.find((t) => t.name === s.name);
      if (!target) throw new OfqError(`loadOFQModel: layer "${this.name}" has no quantizer state "${s.name}"`, { code: 'E_OFQ_METADATA' });
      tf.tidy(() => target.write(tf.tensor(s.values, s.shape, 'float32')));
    }
    if (r.act) {
      this.act = new LSQQuantizer({ bits: r.act.bits, granularity: 'tensor', unsigned: r.act.unsigned, name: `${this.name}/lsq-a${r.act.bits}` });
      this.act.setStep(r.act.step.values, r.act.step.shape);
    }
  }

  dispose(): void {
    this.unpatch();
    this.weightQuantizer.dispose();
    this.act?.dispose();
    this.act = null;
  }
}
