import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { weightCodes, weightFakeQuant } from '@ofq/core';
import { DEFAULT_BOUNDARY_RANGES, boundaryOccupancyTensor, sqnrTensor, weightThresholdDistance } from '@ofq/metrics';
import type { OFQHandle } from './apply-ofq.js';

export interface OFQLayerStats {
  /** Kernel SQNR under its quantizer, dB. */
  sqnr: number;
  /** BR_x occupancy for each `boundaryRanges` x: share of kernel entries within ±x steps of a threshold. */
  boundary: number[];
  /** Share of kernel entries whose integer code changed since the previous record (0 at the first). */
  codeChanges: number;
}

export interface OFQMetricsRecord {
  /** Optimizer steps (batches) seen so far, counted from 1. */
  step: number;
  epoch: number;
  /** The batch loss `model.fit` reported, when it did. */
  loss?: number;
  layers: Record<string, OFQLayerStats>;
  /** LSQ input step of each layer (null for float inputs). */
  actSteps: Record<string, number | null>;
  /** CGA's frozen share at this step, when a CGA optimizer was given. */
  frozenFraction?: number;
}

export interface OFQMetricsOptions {
  /** Record every k batches (default 10; the first batch is always recorded). */
  every?: number;
  boundaryRanges?: readonly number[];
  /** A CGA optimizer (or anything with `frozenFraction`) whose frozen share to log. */
  cga?: { readonly frozenFraction: number };
  /** Called with each record (plain numbers, safe to keep). */
  onRecord?: (r: OFQMetricsRecord) => void;
}

/**
 * A `model.fit` callback (pass it in `callbacks`) that records quantization statistics of the kernels an
 * applyOFQ handle quantized, as plain numbers: SQNR, boundary occupancy, code changes, LSQ input steps,
 * CGA's frozen share. Built on @ofq/metrics' public functions and the `WeightQuantizer` contract.
 */
export class OFQMetricsCallback {
  readonly records: OFQMetricsRecord[] = [];
  private readonly every: number;
  private readonly ranges: readonly number[];
  private readonly prevCodes = new Map<string, Tensor>();
  private steps = 0;
  private epoch = 0;

  constructor(
    private readonly handle: OFQHandle,
    private readonly o: OFQMetricsOptions = {},
  ) {
    this.every = o.every ?? 10;
    if (!(Number.isInteger(this.every) && this.every > 0)) throw new RangeError(`OFQMetricsCallback: every must be a positive integer, got ${String(o.every)}`);
    this.ranges = o.boundaryRanges ?? DEFAULT_BOUNDARY_RANGES;
  }

  /** The last record (undefined before the first batch). */
  get latest(): OFQMetricsRecord | undefined {
    return this.records[this.records.length - 1];
  }

  // Arrow properties: tfjs-layers calls these detached from the object (CustomCallback copies them).
  readonly onEpochBegin = async (epoch: number): Promise<void> => {
    this.epoch = epoch;
  };

  readonly onBatchEnd = async (_batch: number, logs?: Record<string, unknown>): Promise<void> => {
    this.steps++;
    if (this.steps !== 1 && this.steps % this.every !== 0) return;
    const r = this.record();
    if (typeof logs?.loss === 'number') r.loss = logs.loss;
    this.records.push(r);
    this.o.onRecord?.(r);
  };

  /** Computes a record now (also usable outside `fit`). */
  record(): OFQMetricsRecord {
    const layers: Record<string, OFQLayerStats> = {};
    for (const ref of this.handle.quantizedWeights()) {
      const w = ref.read();
      const q = ref.quantizer;
      const codes = weightCodes(q, w);
      const prev = this.prevCodes.get(ref.name);
      const packed = tf.tidy(() =>
        tf.concat([
          tf.reshape(sqnrTensor(w, weightFakeQuant(q, w)), [1]),
          boundaryOccupancyTensor(weightThresholdDistance(w, q), this.ranges),
          tf.reshape(prev ? tf.mean(tf.cast(tf.notEqual(codes, prev), 'float32')) : tf.scalar(0), [1]),
        ]),
      );
      const v = Array.from(packed.dataSync());
      tf.dispose([packed, w]);
      prev?.dispose();
      this.prevCodes.set(ref.name, codes);
      layers[ref.name] = { sqnr: v[0], boundary: v.slice(1, 1 + this.ranges.length), codeChanges: v[v.length - 1] };
    }
    const r: OFQMetricsRecord = { step: this.steps, epoch: this.epoch, layers, actSteps: this.handle.stepValues().act };
    if (this.o.cga) r.frozenFraction = this.o.cga.frozenFraction;
    return r;
  }

  /** Releases the codes kept for the change count. */
  dispose(): void {
    tf.dispose([...this.prevCodes.values()]);
    this.prevCodes.clear();
  }
}
