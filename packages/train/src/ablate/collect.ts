// Gathers every run of an ablation into one JSON-able object: accuracies by seed, seed-paired
// differences with t-intervals, oscillation per layer type and the CGA stage on its own.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipe } from '../recipe/schema.js';
import { pairedDifference, spreadOf, type PairedDifference, type Spread } from './paired-stats.js';
import { runDir, teacherDir } from './plan.js';
import { readRunMetrics, readSummary, type RunMetrics } from './run-metrics.js';
import type { LayerType } from './layer-types.js';
import type { Variant } from './variants.js';

export interface RunEntry {
  variant: string;
  bits: number;
  seed: number;
  dir: string;
  status: 'done' | 'unfinished' | 'missing';
  fpTop1: number | null;
  quantTop1: number | null;
  stage1BestVal: number | null;
  stage2BestVal: number | null;
  seconds: number | null;
  timings: Record<string, number> | null;
  metrics: RunMetrics | null;
}

export interface Comparison {
  bits: number;
  /** `b − a` in top-1 points (fraction × 100) over the seeds where both finished. */
  a: string;
  b: string;
  kind: 'vs-baseline' | 'step' | 'cga-alone';
  seeds: number[];
  diff: PairedDifference;
}

export interface AblationData {
  format: 'ofq-ablation/1';
  generated: string;
  recipe: Recipe;
  variants: Variant[];
  bits: number[];
  seeds: number[];
  teachers: Array<{ seed: number; dir: string; fpTop1: number | null; seconds: number | null }>;
  runs: RunEntry[];
  /** Test top-1 (points) per bits and variant: values in seed order (null: not finished), spread. */
  accuracy: Record<string, Record<string, Spread & { values: Array<number | null> }>>;
  comparisons: Comparison[];
  /** Events per weight per step, mean over seeds, per bits → variant → stage → layer type. */
  oscillation: Record<string, Record<string, { stage1: Partial<Record<LayerType, number>>; stage2: Partial<Record<LayerType, number>> }>>;
  /** Stage 2 on its own: best val top-1 after stage 2 minus after stage 1 (points), per bits and variant. */
  stage2Gain: Record<string, Record<string, PairedDifference>>;
  /** Wall seconds of every teacher and run found (finished or not). */
  totalSeconds: number;
}

const pts = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? 100 * v : null);

function readEntry(dir: string, v: Variant, bits: number, seed: number): RunEntry {
  const s = readSummary(dir);
  const status = s ? 'done' : existsSync(join(dir, 'config.json')) ? 'unfinished' : 'missing';
  const st = (k: 'stage1' | 'stage2') => pts((s?.[k] as { bestValTop1?: number } | null | undefined)?.bestValTop1);
  return {
    variant: v.name,
    bits,
    seed,
    dir,
    status,
    fpTop1: pts(s?.fpTop1),
    quantTop1: pts(s?.quantTop1),
    stage1BestVal: st('stage1'),
    stage2BestVal: st('stage2'),
    seconds: typeof s?.seconds === 'number' ? s.seconds : null,
    timings: (s?.timings as Record<string, number> | undefined) ?? null,
    metrics: status === 'missing' ? null : readRunMetrics(dir),
  };
}

/** The variant that differs from `v` only by CGA (its control for "CGA alone"). */
function cgaTwin(v: Variant, all: Variant[]): Variant | undefined {
  return all.find((o) => o !== v && !o.cga && o.weights === v.weights && o.qkr === v.qkr && o.lsqClamp === v.lsqClamp);
}

function pairs(variants: Variant[]): Array<{ a: Variant; b: Variant; kind: Comparison['kind'] }> {
  const out: Array<{ a: Variant; b: Variant; kind: Comparison['kind'] }> = [];
  const seen = new Set<string>();
  const add = (a: Variant, b: Variant, kind: Comparison['kind']) => {
    const key = `${a.name}→${b.name}`;
    if (!seen.has(key)) out.push({ a, b, kind }), seen.add(key);
  };
  for (const v of variants.slice(1)) add(variants[0]!, v, 'vs-baseline');
  for (const v of variants) {
    const twin = v.cga ? cgaTwin(v, variants) : undefined;
    if (twin) add(twin, v, 'cga-alone');
  }
  for (let i = 1; i < variants.length; i++) add(variants[i - 1]!, variants[i]!, 'step');
  return out;
}

export function collectAblation(out: string, recipe: Recipe, variants: Variant[], bits: number[], seeds: number[]): AblationData {
  const teachers = seeds.map((seed) => {
    const dir = teacherDir(out, seed);
    const s = readSummary(dir);
    return { seed, dir, fpTop1: pts(s?.fpTop1), seconds: typeof s?.seconds === 'number' ? s.seconds : null };
  });
  const runs = bits.flatMap((b) => variants.flatMap((v) => seeds.map((seed) => readEntry(runDir(out, v, b, seed), v, b, seed))));
  const get = (b: number, v: string, seed: number) => runs.find((r) => r.bits === b && r.variant === v && r.seed === seed)!;
  const accuracy: AblationData['accuracy'] = {};
  const oscillation: AblationData['oscillation'] = {};
  const stage2Gain: AblationData['stage2Gain'] = {};
  for (const b of bits) {
    accuracy[b] = {};
    oscillation[b] = {};
    stage2Gain[b] = {};
    for (const v of variants) {
      const rs = seeds.map((s) => get(b, v.name, s));
      const values = rs.map((r) => (r.status === 'done' ? r.quantTop1 : null));
      accuracy[b]![v.name] = { ...spreadOf(values.filter((x): x is number => x !== null)), values };
      oscillation[b]![v.name] = meanOscillation(rs.filter((r) => r.status === 'done'));
      const done = rs.filter((r) => r.stage1BestVal !== null && r.stage2BestVal !== null);
      stage2Gain[b]![v.name] = pairedDifference(done.map((r) => r.stage1BestVal!), done.map((r) => r.stage2BestVal!));
    }
  }
  const comparisons: Comparison[] = [];
  for (const b of bits) {
    for (const { a, b: vb, kind } of pairs(variants)) {
      const both = seeds.filter((s) => get(b, a.name, s).status === 'done' && get(b, vb.name, s).status === 'done');
      comparisons.push({
        bits: b, a: a.name, b: vb.name, kind, seeds: both,
        diff: pairedDifference(both.map((s) => get(b, a.name, s).quantTop1!), both.map((s) => get(b, vb.name, s).quantTop1!)),
      });
    }
  }
  const totalSeconds = [...teachers.map((t) => t.seconds ?? 0), ...runs.map((r) => r.seconds ?? 0)].reduce((x, y) => x + y, 0);
  return { format: 'ofq-ablation/1', generated: new Date().toISOString(), recipe, variants, bits, seeds, teachers, runs, accuracy, comparisons, oscillation, stage2Gain, totalSeconds };
}

function meanOscillation(rs: RunEntry[]): AblationData['oscillation'][string][string] {
  const out = { stage1: {} as Partial<Record<LayerType, number>>, stage2: {} as Partial<Record<LayerType, number>> };
  for (const st of ['stage1', 'stage2'] as const) {
    const byType = new Map<LayerType, number[]>();
    for (const r of rs) for (const [t, v] of Object.entries(r.metrics?.eventsPerWeightStep[st] ?? {})) byType.set(t as LayerType, [...(byType.get(t as LayerType) ?? []), v]);
    for (const [t, vs] of byType) out[st][t] = vs.reduce((a, b) => a + b, 0) / vs.length;
  }
  return out;
}

/** Reads an `ablation.json` back. */
export function readAblation(path: string): AblationData {
  return JSON.parse(readFileSync(path, 'utf8')) as AblationData;
}
