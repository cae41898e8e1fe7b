// What the ablation reads from one finished run directory: accuracies, timings and, from
// metrics.jsonl (via @ofq/metrics' readRun), oscillation per layer type and scale trajectories.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readRun, type TrainRecord } from '@ofq/metrics';
import { LAYER_TYPES, layerType, type LayerType } from './layer-types.js';

/** A per-type series binned over training steps (mean over the bin; null where a type has no data). */
export interface BinnedCurves {
  /** Bin centres (optimizer steps, numbered across stages). */
  steps: number[];
  byType: Partial<Record<LayerType, Array<number | null>>>;
}

export interface RunMetrics {
  /** Tracked weights per layer type. */
  layersByType: Partial<Record<LayerType, string[]>>;
  /** Oscillation events per tracked (sampled) weight per optimizer step, per stage and type. */
  eventsPerWeightStep: { stage1: Partial<Record<LayerType, number>>; stage2: Partial<Record<LayerType, number>> };
  /** Share of sampled weights whose EMA frequency exceeds τ, at the last step of each stage. */
  finalOscFrac: { stage1: Partial<Record<LayerType, number>>; stage2: Partial<Record<LayerType, number>> };
  /** Events per weight per step over training, binned. */
  events: BinnedCurves;
  /** Mean per-channel weight scale relative to its value at the first recorded step (1 = unchanged), mean over the type. */
  scale: BinnedCurves;
  /** Steps per stage in metrics.jsonl. */
  steps: { stage1: number; stage2: number };
  /** CGA's frozen share of the selected weights at the last stage-2 step (null without CGA). */
  cgaFrozen: number | null;
}

const BINS = 60;
const stageOf = (r: TrainRecord) => (r.extra?.stage === 2 ? 2 : 1);
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

/** Reads `<runDir>/meta.json` + `metrics.jsonl`; null when the run has no student metrics. */
export function readRunMetrics(runDir: string): RunMetrics | null {
  if (!existsSync(join(runDir, 'meta.json'))) return null;
  const run = readRun(runDir);
  const train = run.records.filter((r): r is TrainRecord => r.type === 'train').sort((a, b) => a.step - b.step);
  const sampled = new Map(run.meta.layers.map((l) => [l.name, Math.max(1, l.sampled)]));
  const layersByType: Partial<Record<LayerType, string[]>> = {};
  for (const l of run.meta.layers) (layersByType[layerType(l.name)] ??= []).push(l.name);
  const types = LAYER_TYPES.filter((t) => layersByType[t]);

  // Events per weight in one record, per type: Σ oscCount / Σ sampled over the type's layers.
  const eventRate = (r: TrainRecord, t: LayerType): number | null => {
    let ev = 0;
    let n = 0;
    for (const name of layersByType[t]!) {
      const s = r.layers[name];
      if (!s) continue;
      ev += s.oscCount;
      n += sampled.get(name)!;
    }
    return n ? ev / n : null;
  };
  const oscFrac = (r: TrainRecord, t: LayerType) => mean(layersByType[t]!.map((n) => r.layers[n]?.oscFrac).filter((v): v is number => Number.isFinite(v)));
  const first = train[0];
  const relScale = (r: TrainRecord, t: LayerType) =>
    mean(
      layersByType[t]!.map((n) => {
        const s0 = first?.layers[n]?.scale;
        const s = r.layers[n]?.scale;
        return s0 && Number.isFinite(s) && Number.isFinite(s0) ? (s as number) / s0 : NaN;
      }).filter(Number.isFinite),
    );

  const perStage = { stage1: {} as Partial<Record<LayerType, number>>, stage2: {} as Partial<Record<LayerType, number>> };
  const finalFrac = { stage1: {} as Partial<Record<LayerType, number>>, stage2: {} as Partial<Record<LayerType, number>> };
  const steps = { stage1: 0, stage2: 0 };
  for (const st of [1, 2] as const) {
    const recs = train.filter((r) => stageOf(r) === st);
    const key = st === 1 ? 'stage1' : 'stage2';
    steps[key] = recs.length;
    if (!recs.length) continue;
    for (const t of types) {
      const rates = recs.map((r) => eventRate(r, t)).filter((v): v is number => v !== null);
      const m = mean(rates);
      if (m !== null) perStage[key][t] = m;
      const f = oscFrac(recs[recs.length - 1]!, t);
      if (f !== null) finalFrac[key][t] = f;
    }
  }
  const lastFrozen = [...train].reverse().find((r) => stageOf(r) === 2 && Number.isFinite(r.extra?.cgaFrozen));
  return {
    layersByType,
    eventsPerWeightStep: perStage,
    finalOscFrac: finalFrac,
    events: binned(train, types, eventRate),
    scale: binned(train, types, relScale),
    steps,
    cgaFrozen: lastFrozen ? (lastFrozen.extra!.cgaFrozen as number) : null,
  };
}

/** Means of `f(record, type)` over `BINS` equal step ranges. */
function binned(train: TrainRecord[], types: LayerType[], f: (r: TrainRecord, t: LayerType) => number | null): BinnedCurves {
  if (!train.length) return { steps: [], byType: {} };
  const lo = train[0]!.step;
  const hi = train[train.length - 1]!.step;
  const nb = Math.min(BINS, train.length);
  const width = Math.max(1, (hi - lo + 1) / nb);
  const bins: TrainRecord[][] = Array.from({ length: nb }, () => []);
  for (const r of train) bins[Math.min(nb - 1, Math.floor((r.step - lo) / width))]!.push(r);
  const steps = bins.map((_, i) => Math.round(lo + (i + 0.5) * width));
  const byType: BinnedCurves['byType'] = {};
  for (const t of types) {
    byType[t] = bins.map((b) => mean(b.map((r) => f(r, t)).filter((v): v is number => v !== null && Number.isFinite(v))));
  }
  return { steps, byType };
}

/** summary.json of a finished run (written last by `train`), or null. */
export function readSummary(runDir: string): Record<string, unknown> | null {
  const p = join(runDir, 'summary.json');
  return existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>) : null;
}
