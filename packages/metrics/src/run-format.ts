// The run-directory format the recorder writes and the report reads (documented in the README):
//   <runDir>/meta.json      RunMeta, written when recording starts (rewritten on close with `endedAt`)
//   <runDir>/metrics.jsonl  one JSON object per line: a TrainRecord per optimizer step, EvalRecords between
import * as fs from 'node:fs';
import * as path from 'node:path';

export const RUN_FORMAT = 'ofq-run/1';
export const META_FILE = 'meta.json';
export const METRICS_FILE = 'metrics.jsonl';

export interface RunLayerMeta {
  name: string;
  shape: number[];
  /** The quantizer's `kind` (`statsq`, `lsq`, or a third party's). */
  quantizer: string;
  bits: number;
  /** How many elements the per-element statistics (oscillation, flips, histogram) follow. */
  sampled: number;
  /** Channel indices whose scale is logged every step (`scaleRows` in records). */
  scaleRows: number[];
}

export interface RunMeta {
  format: typeof RUN_FORMAT;
  name: string;
  startedAt: string;
  endedAt?: string;
  /** Free-form run configuration (recipe, model, optimizer...). */
  config?: Record<string, unknown>;
  layers: RunLayerMeta[];
  /** Names of the tracked scale tensors (e.g. LSQ activation steps). */
  scales: string[];
  boundaryRanges: number[];
  /** τ: a weight counts as oscillating when its EMA frequency exceeds this. */
  oscillationThreshold: number;
  momentum: number;
  /** Band (units of one step) separating "inside" from "outside" for the gradient flip rate. */
  flipBand: number;
  histogramBins: number;
  aggregateEvery: number;
  sampleSize: number;
}

/** Per-layer statistics of one step. Fields marked (aggregate) appear every `aggregateEvery` steps. */
export interface LayerStepStats {
  /** Mean EMA oscillation frequency over the sampled weights. */
  osc: number;
  /** Fraction of sampled weights with EMA frequency > τ. */
  oscFrac: number;
  /** Oscillation events this step among the sampled weights. */
  oscCount: number;
  /** Oscillation events per sampled weight per step since the last tracking reset (stage start or reload). */
  oscPerStep?: number;
  /** Mean of the layer's per-channel scale. */
  scale: number;
  /** Scales of the channels listed in the meta's `scaleRows`. */
  scaleRows: number[];
  /** Gradient-sign flip rate inside / outside the flip band (null: no gradient given or nothing eligible). */
  flipIn?: number | null;
  flipOut?: number | null;
  /** (aggregate) BR_x occupancy over the whole tensor, one per meta `boundaryRanges`. */
  br?: number[];
  /** (aggregate) SQNR of the quantized weight, dB, whole tensor. */
  sqnr?: number;
  /** (aggregate) Histogram of the sampled distances to the nearest threshold, `histogramBins` bins on [0, 0.5]. */
  hist?: number[];
  /** (aggregate) Sampled weights farther than 0.5 from every threshold (beyond the outermost one), left out of `hist`. */
  histOver?: number;
}

export interface TrainRecord {
  type: 'train';
  step: number;
  epoch?: number;
  /** Wall-clock milliseconds since the start of recording. */
  t: number;
  loss?: number;
  accuracy?: number;
  lr?: number;
  /** Time the recorder itself spent on this step (ms). */
  trackMs: number;
  layers: Record<string, LayerStepStats>;
  /** Mean of each tracked scale tensor. */
  scales: Record<string, number>;
  /** Any other numbers the training loop reports (e.g. CGA frozen fractions). */
  extra?: Record<string, number>;
}

export interface EvalRecord {
  type: 'eval';
  step: number;
  epoch?: number;
  t: number;
  loss?: number;
  accuracy?: number;
  extra?: Record<string, number>;
}

export type RunRecord = TrainRecord | EvalRecord;

export interface RunData {
  meta: RunMeta;
  records: RunRecord[];
}

/** Parses JSON Lines text into records (blank lines skipped; a truncated last line from a crash is ignored). */
export function parseRecords(text: string): RunRecord[] {
  const lines = text.split('\n');
  const out: RunRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as RunRecord);
    } catch (e) {
      if (i === lines.length - 1) return; // an interrupted write
      throw new Error(`${METRICS_FILE} line ${i + 1} is not valid JSON: ${(e as Error).message}`);
    }
  });
  return out;
}

/** Reads a run directory written by `MetricsRecorder`. */
export function readRun(runDir: string): RunData {
  const metaPath = path.join(runDir, META_FILE);
  if (!fs.existsSync(metaPath)) throw new Error(`${runDir} is not an @ofq run directory: ${META_FILE} is missing`);
  const meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as RunMeta;
  if (meta.format !== RUN_FORMAT) throw new Error(`${metaPath}: unsupported format ${JSON.stringify(meta.format)} (expected ${RUN_FORMAT})`);
  const recPath = path.join(runDir, METRICS_FILE);
  const records = fs.existsSync(recPath) ? parseRecords(fs.readFileSync(recPath, 'utf8')) : [];
  return { meta, records };
}
