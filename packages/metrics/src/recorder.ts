import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Tensor } from '@tensorflow/tfjs-core';
import { weightFromCodes, type WeightQuantizer } from '@ofq/core';
import { DEFAULT_BOUNDARY_RANGES, GradientFlipCounter, boundaryOccupancyTensor, sqnrTensor, thresholdDistance } from './quant-metrics.js';
import { TrackOscillation } from './track-oscillation.js';
import {
  METRICS_FILE,
  META_FILE,
  RUN_FORMAT,
  type EvalRecord,
  type LayerStepStats,
  type RunLayerMeta,
  type RunMeta,
  type TrainRecord,
} from './run-format.js';

/**
 * A weight to follow, with the quantizer its forward pass applies (a `QuantizedWeightRef` from a model's
 * `quantizedWeights()` fits). Give `read` for derived weights (QKR's merged W_qk, a block of a fused
 * qkv kernel), recomputed every step, or `variable` for a weight that is a tensor itself.
 */
export interface TrackedLayer {
  /** Display name (e.g. `blocks.0.mlp.fc1.weight`). */
  name: string;
  quantizer: WeightQuantizer;
  /** The latent float weight, tfjs layout (channels on the last axis), as a new tensor the recorder disposes. */
  read?: () => Tensor;
  /** The latent float weight itself (not disposed by the recorder). */
  variable?: Tensor | null;
}

export interface TrackedScale {
  name: string;
  /** e.g. an LSQ activation step; its mean is logged every step. */
  variable: Tensor;
}

export interface RecorderOptions {
  /** Run directory (created if needed); `meta.json` and `metrics.jsonl` go there. */
  dir: string;
  layers: TrackedLayer[];
  scales?: TrackedScale[];
  name?: string;
  config?: Record<string, unknown>;
  /** Elements per layer followed by the per-element statistics (default 2048; seeded, fixed for the run). */
  sampleSize?: number;
  /** Whole-tensor statistics (BR occupancy, SQNR, histogram) every k steps (default 10; also at step 0). */
  aggregateEvery?: number;
  boundaryRanges?: number[];
  /** τ for the "oscillating" fraction (default 0.02 = 2× the momentum, Nagel's lower freeze threshold). */
  oscillationThreshold?: number;
  /** EMA momentum of the oscillation frequency (default 0.01, the reference's). */
  momentum?: number;
  /** Band for the in/out gradient flip rate, units of one step (default 0.005, CGA's boundary range). */
  flipBand?: number;
  histogramBins?: number;
  /** Channels per layer whose scale is logged every step (default 4, evenly spaced). */
  scaleRows?: number;
  seed?: number;
}

export interface StepInput {
  step?: number;
  epoch?: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  /** Gradients of the tracked weights by layer name (for the flip rate); optional. */
  grads?: Map<string, Tensor> | Record<string, Tensor>;
  extra?: Record<string, number>;
}

interface LayerState {
  layer: TrackedLayer;
  /** Oscillation events on the sampled entries and tracked steps since the last reset (per-stage counts). */
  events: number;
  steps: number;
  meta: RunLayerMeta;
  indices: Tensor; // int32 [sampled], flat indices into the weight
  columns: Tensor; // int32 [sampled], channel (last-axis index) of each sampled element
  scaleRowIdx: Tensor; // int32 [rows]
  tracker: TrackOscillation;
  flips: GradientFlipCounter;
}

/** Seeded sample of k distinct indices out of [0, total), sorted (Floyd's algorithm over a small LCG). */
export function sampleIndices(total: number, k: number, seed: number): Int32Array {
  if (k >= total) return Int32Array.from({ length: total }, (_, i) => i);
  let state = (seed >>> 0) || 1;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const chosen = new Set<number>();
  for (let j = total - k; j < total; j++) {
    const t = Math.floor(rand() * (j + 1));
    chosen.add(chosen.has(t) ? j : t);
  }
  return Int32Array.from([...chosen].sort((a, b) => a - b));
}

/** FNV-1a hash of a name (a stable per-layer seed). */
function nameHash(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Runs `fn` on the layer's current weight, disposing it afterwards when it was read for the call. */
function withWeight<T>(layer: TrackedLayer, fn: (w: Tensor) => T): T {
  if (layer.read) {
    const w = layer.read();
    try {
      return fn(w);
    } finally {
      w.dispose();
    }
  }
  if (!layer.variable) throw new TypeError(`MetricsRecorder: layer ${layer.name} needs \`read\` or \`variable\``);
  return fn(layer.variable);
}

/** Where one layer's numbers sit in a step's flat read-back. */
interface PartLayout {
  name: string;
  rows: number;
  hasGrad: boolean;
  sampled: number;
}

interface LayerTensors {
  codesS: Tensor;
  distS: Tensor;
  head: Tensor;
  aggregatePart?: Tensor;
}

/** The step's tensors of one layer: sampled codes and threshold distances, scale summary, aggregates. */
function layerTensors(w: Tensor, q: WeightQuantizer, st: LayerState, aggregate: boolean, boundaryRanges: number[]): LayerTensors {
  const [lo, hi] = q.codeRange;
  return tf.tidy(() => {
    const s = q.scale(w);
    const v = q.preRound(w);
    const vS = tf.gather(tf.reshape(v, [-1]), st.indices);
    const out: LayerTensors = {
      codesS: tf.round(tf.clipByValue(vS, lo, hi)),
      distS: thresholdDistance(vS, q.codeRange),
      head: tf.concat([tf.reshape(tf.mean(s), [1]), tf.gather(s, st.scaleRowIdx)]),
    };
    if (aggregate) {
      const wq = weightFromCodes(q, tf.round(tf.clipByValue(v, lo, hi)), s);
      out.aggregatePart = tf.concat([boundaryOccupancyTensor(thresholdDistance(v, q.codeRange), boundaryRanges), tf.reshape(sqnrTensor(w, wq), [1])]);
    }
    return out as unknown as tf.TensorContainerObject;
  }) as unknown as LayerTensors;
}

function gradOf(grads: StepInput['grads'], name: string): Tensor | undefined {
  if (!grads) return undefined;
  return grads instanceof Map ? grads.get(name) : grads[name];
}

const round6 = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(7)) : x);

/**
 * Records oscillation and quantization statistics of the tracked weights once per optimizer step and
 * appends one JSON line per step to `<dir>/metrics.jsonl` (format in run-format.ts and the README).
 *
 * Cost is bounded: per-element statistics follow a fixed sample of `sampleSize` elements per layer; the
 * only whole-tensor work per step is the scale (one |w| mean); BR occupancy, SQNR and the histogram run
 * every `aggregateEvery` steps. All numbers of a step come back in one device read.
 */
export class MetricsRecorder {
  readonly dir: string;
  readonly meta: RunMeta;
  private readonly states: LayerState[];
  private readonly scales: TrackedScale[];
  private readonly started = Date.now();
  private stepCount = 0;
  private totalTrackMs = 0;
  private closed = false;

  constructor(o: RecorderOptions) {
    if (!o || typeof o.dir !== 'string' || !o.dir) throw new TypeError('MetricsRecorder: option `dir` (run directory) is required');
    if (!Array.isArray(o.layers)) throw new TypeError('MetricsRecorder: option `layers` must be an array');
    const sampleSize = o.sampleSize ?? 2048;
    const aggregateEvery = o.aggregateEvery ?? 10;
    if (!(Number.isInteger(sampleSize) && sampleSize > 0)) throw new RangeError(`sampleSize must be a positive integer, got ${sampleSize}`);
    if (!(Number.isInteger(aggregateEvery) && aggregateEvery > 0)) throw new RangeError(`aggregateEvery must be a positive integer, got ${aggregateEvery}`);
    const momentum = o.momentum ?? 0.01;
    const seed = o.seed ?? 1234;
    const rows = o.scaleRows ?? 4;
    const names = new Set<string>();
    this.dir = o.dir;
    this.scales = o.scales ?? [];
    this.states = o.layers.map((layer) => {
      if (names.has(layer.name)) throw new Error(`MetricsRecorder: duplicate layer name ${layer.name}`);
      names.add(layer.name);
      if (!layer.quantizer || typeof layer.quantizer.preRound !== 'function') throw new TypeError(`MetricsRecorder: layer ${layer.name} needs a WeightQuantizer`);
      const shape = withWeight(layer, (w) => w.shape.slice());
      if (shape.length < 1) throw new RangeError(`MetricsRecorder: layer ${layer.name} must have rank >= 1`);
      const total = shape.reduce((a, b) => a * b, 1);
      // Seeded by the layer's name, not its position: runs that track different layer sets (with and
      // without QKR, say) follow the same entries of the layers they share, so variants compare.
      const idx = sampleIndices(total, sampleSize, (seed + nameHash(layer.name)) >>> 0);
      const channels = shape[shape.length - 1];
      const scaleRows = Array.from(new Set(Array.from({ length: Math.min(rows, channels) }, (_, r) => Math.floor((r * channels) / Math.min(rows, channels)))));
      const meta: RunLayerMeta = { name: layer.name, shape, quantizer: layer.quantizer.kind, bits: layer.quantizer.bits, sampled: idx.length, scaleRows };
      return {
        layer,
        events: 0,
        steps: 0,
        meta,
        indices: tf.tensor1d(idx, 'int32'),
        columns: tf.tensor1d(idx.map((i) => i % channels), 'int32'),
        scaleRowIdx: tf.tensor1d(scaleRows, 'int32'),
        tracker: new TrackOscillation({ momentum }),
        flips: new GradientFlipCounter(),
      };
    });
    this.meta = {
      format: RUN_FORMAT,
      name: o.name ?? path.basename(path.resolve(o.dir)),
      startedAt: new Date(this.started).toISOString(),
      config: o.config,
      layers: this.states.map((s) => s.meta),
      scales: this.scales.map((s) => s.name),
      boundaryRanges: o.boundaryRanges ?? [...DEFAULT_BOUNDARY_RANGES],
      oscillationThreshold: o.oscillationThreshold ?? 0.02,
      momentum,
      flipBand: o.flipBand ?? 0.005,
      histogramBins: o.histogramBins ?? 25,
      aggregateEvery,
      sampleSize,
    };
    fs.mkdirSync(this.dir, { recursive: true });
    fs.writeFileSync(path.join(this.dir, META_FILE), JSON.stringify(this.meta, null, 1));
    fs.writeFileSync(path.join(this.dir, METRICS_FILE), '');
  }

  /** Mean milliseconds the recorder spent per recorded step. */
  get meanTrackMs(): number {
    return this.stepCount ? this.totalTrackMs / this.stepCount : 0;
  }

  /**
   * Call once per optimizer step, after the update (the weights then hold the new codes).
   * Returns the record it appended.
   */
  record(input: StepInput = {}): TrainRecord {
    if (this.closed) throw new Error('MetricsRecorder: record() after close()');
    const t0 = performance.now();
    const step = input.step ?? this.stepCount;
    const aggregate = this.stepCount % this.meta.aggregateEvery === 0;

    // Build every number of the step as tensors, then read them back with one dataSync.
    const parts: Tensor[] = [];
    const layout = this.states.map((st) => this.pushLayerParts(st, input.grads, aggregate, parts));
    if (this.scales.length) parts.push(tf.tidy(() => tf.stack(this.scales.map((s) => tf.mean(s.variable)))));
    const flat = tf.tidy(() => tf.concat(parts.map((p) => tf.reshape(tf.cast(p, 'float32'), [-1]))));
    tf.dispose(parts);
    const values = flat.dataSync();
    flat.dispose();

    // Unpack in the order pushed.
    const cursor = { k: 0 };
    const layers: Record<string, LayerStepStats> = {};
    layout.forEach((l, i) => (layers[l.name] = this.unpackLayer(this.states[i], l, values, cursor, aggregate)));
    const scales: Record<string, number> = {};
    this.scales.forEach((s) => (scales[s.name] = round6(values[cursor.k++])));

    const trackMs = performance.now() - t0;
    this.totalTrackMs += trackMs;
    this.stepCount++;
    const rec: TrainRecord = { type: 'train', step, t: Date.now() - this.started, trackMs: round6(trackMs), layers, scales };
    if (input.epoch !== undefined) rec.epoch = input.epoch;
    if (input.loss !== undefined) rec.loss = round6(input.loss);
    if (input.accuracy !== undefined) rec.accuracy = round6(input.accuracy);
    if (input.lr !== undefined) rec.lr = input.lr;
    if (input.extra) rec.extra = input.extra;
    fs.appendFileSync(path.join(this.dir, METRICS_FILE), JSON.stringify(rec) + '\n');
    return rec;
  }

  /** Tracks one layer's codes and pushes its step tensors onto `parts`; returns what `unpackLayer` needs. */
  private pushLayerParts(st: LayerState, grads: StepInput['grads'], aggregate: boolean, parts: Tensor[]): PartLayout {
    const { boundaryRanges, oscillationThreshold: tau, flipBand } = this.meta;
    const grad = gradOf(grads, st.layer.name);
    const { codesS, distS, head, aggregatePart } = withWeight(st.layer, (w) => layerTensors(w, st.layer.quantizer, st, aggregate, boundaryRanges));
    const tracked = st.tracker.call(codesS);
    const ema = st.tracker.emaOscillation!;
    parts.push(head, tf.tidy(() => tf.stack([tf.mean(ema), tf.mean(tf.cast(tf.greater(ema, tau), 'float32')), st.tracker.oscillatedSumTensor!])));
    tf.dispose([tracked, codesS]);
    if (grad) {
      const inBand = tf.lessEqual(distS, flipBand);
      const gS = tf.tidy(() => tf.gather(tf.reshape(grad, [-1]), st.indices));
      parts.push(st.flips.update(gS, inBand));
      tf.dispose([inBand, gS]);
    }
    if (aggregatePart) parts.push(aggregatePart);
    if (aggregate) parts.push(distS);
    else distS.dispose();
    return { name: st.layer.name, rows: st.meta.scaleRows.length, hasGrad: !!grad, sampled: st.meta.sampled };
  }

  /** Reads one layer's numbers back from the step's flat array (advancing `cursor.k`). */
  private unpackLayer(st: LayerState, l: PartLayout, values: Float32Array | Int32Array | Uint8Array, cursor: { k: number }, aggregate: boolean): LayerStepStats {
    const { boundaryRanges, histogramBins } = this.meta;
    let k = cursor.k;
    const scale = values[k++];
    const scaleRows = Array.from(values.subarray(k, k + l.rows), round6);
    k += l.rows;
    st.events += values[k + 2];
    st.steps++;
    const stats: LayerStepStats = {
      osc: round6(values[k]),
      oscFrac: round6(values[k + 1]),
      oscCount: values[k + 2],
      oscPerStep: round6(st.events / (st.steps * l.sampled)),
      scale: round6(scale),
      scaleRows,
    };
    k += 3;
    if (l.hasGrad) {
      const [fi, ei, fo, eo] = values.subarray(k, k + 4);
      k += 4;
      stats.flipIn = ei > 0 ? round6(fi / ei) : null;
      stats.flipOut = eo > 0 ? round6(fo / eo) : null;
    }
    if (aggregate) {
      stats.br = Array.from(values.subarray(k, k + boundaryRanges.length), round6);
      k += boundaryRanges.length;
      stats.sqnr = round6(values[k++]);
      const hist = new Array<number>(histogramBins).fill(0);
      let over = 0;
      for (let j = 0; j < l.sampled; j++) {
        const d = values[k + j];
        if (d > 0.5) over++; // clipped / outer-half weights: no threshold within half a step
        else hist[Math.min(histogramBins - 1, Math.floor((d / 0.5) * histogramBins))]++;
      }
      k += l.sampled;
      stats.hist = hist;
      stats.histOver = over;
    }
    cursor.k = k;
    return stats;
  }

  /**
   * Restarts oscillation tracking (EMA, previous codes, gradient signs, per-stage counts) of every layer,
   * e.g. when a stage reloads a checkpoint: the next step then compares codes with the reloaded weights,
   * not with the weights before the reload (which would log a burst of false events).
   */
  resetTracking(): void {
    for (const st of this.states) {
      st.tracker.dispose();
      st.tracker = new TrackOscillation({ momentum: this.meta.momentum });
      st.flips.dispose();
      st.flips = new GradientFlipCounter();
      st.events = 0;
      st.steps = 0;
    }
  }

  /** Appends an evaluation record (e.g. validation loss/accuracy) at the given step. */
  recordEval(e: { step?: number; epoch?: number; loss?: number; accuracy?: number; extra?: Record<string, number> }): EvalRecord {
    if (this.closed) throw new Error('MetricsRecorder: recordEval() after close()');
    const rec: EvalRecord = { type: 'eval', step: e.step ?? this.stepCount, t: Date.now() - this.started, ...e };
    fs.appendFileSync(path.join(this.dir, METRICS_FILE), JSON.stringify(rec) + '\n');
    return rec;
  }

  /** Releases the recorder's tensors and stamps `endedAt` in meta.json. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const st of this.states) {
      tf.dispose([st.indices, st.columns, st.scaleRowIdx]);
      st.tracker.dispose();
      st.flips.dispose();
    }
    this.meta.endedAt = new Date().toISOString();
    fs.writeFileSync(path.join(this.dir, META_FILE), JSON.stringify(this.meta, null, 1));
  }
}
