// Turns a run (meta + JSONL records) into plain chart descriptions the report page draws with uPlot.
import type { EvalRecord, RunData, TrainRecord } from './run-format.js';

export interface ChartSeries {
  label: string;
  values: Array<number | null>;
  /** Draw as a filled step histogram instead of a line. */
  histogram?: boolean;
  dash?: boolean;
}

export interface ChartSpec {
  id: string;
  title: string;
  /** One or two sentences telling the reader what to look for. */
  note: string;
  xLabel: string;
  yLabel: string;
  x: number[];
  series: ChartSeries[];
  /** Start the y axis at zero. */
  zeroY?: boolean;
}

export interface ReportSummary {
  steps: number;
  finalLoss: number | null;
  finalAccuracy: number | null;
  finalEvalAccuracy: number | null;
  finalOscFrac: number | null;
  /** Mean recorder time per step / mean wall time per step. */
  trackingOverhead: number | null;
  meanTrackMs: number | null;
  meanStepMs: number | null;
}

export interface LayerRow {
  name: string;
  quantizer: string;
  bits: number;
  shape: number[];
  osc: number | null;
  oscFrac: number | null;
  totalEvents: number;
  br: number[] | null;
  sqnr: number | null;
  scaleDrift: number | null;
}

const MAX_LINES = 16;

const last = <T>(xs: T[]): T | undefined => xs[xs.length - 1];
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Mean of the finite values, null when there are none. */
function meanOf(xs: Array<number | null | undefined>): number | null {
  const f = xs.filter(finite);
  return f.length ? f.reduce((a, b) => a + b, 0) / f.length : null;
}

/** Picks at most `k` evenly spaced items (keeps first and last). */
function spread<T>(xs: T[], k: number): T[] {
  if (xs.length <= k) return xs;
  return Array.from({ length: k }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (k - 1))]);
}

/** What every chart builder reads from a run. */
interface RunView {
  run: RunData;
  meta: RunData['meta'];
  train: TrainRecord[];
  evals: EvalRecord[];
  steps: number[];
  layerNames: string[];
  shownLayers: string[];
  /** Accuracy was logged in percent rather than as a fraction. */
  accPercent: boolean;
}

const pct = (v: number | null | undefined) => (finite(v) ? v * 100 : null);

/**
 * The kind of a tracked weight, for per-type comparisons: the merged W_qk (QKR) or q/k (without QKR),
 * v, the attention projection, the MLP, and everything else (patch embedding, heads, reductions).
 */
export function layerType(name: string): 'q/k' | 'v' | 'proj' | 'mlp' | 'other' {
  if (/\.attn\.(qk|q|k)\.weight$/.test(name)) return 'q/k';
  if (/\.attn\.v\.weight$/.test(name)) return 'v';
  if (/\.attn\.proj\.weight$/.test(name)) return 'proj';
  if (/\.mlp\.fc\d\.weight$/.test(name)) return 'mlp';
  return 'other';
}

/** Training and evaluation curves of one key (x = union of both step sets). */
function curveChart(v: RunView, key: 'loss' | 'accuracy', title: string, yLabel: string, note: string, scale: (x: number | null | undefined) => number | null): ChartSpec | null {
  const { train, evals, steps } = v;
  const hasTrain = train.some((r) => finite(r[key]));
  const hasEval = evals.some((r) => finite(r[key]));
  if (!hasTrain && !hasEval) return null;
  const xs = [...new Set([...steps, ...evals.map((e) => e.step)])].sort((a, b) => a - b);
  const byStep = (recs: Array<TrainRecord | EvalRecord>) => new Map(recs.filter((r) => finite(r[key])).map((r) => [r.step, r[key] as number]));
  const series: ChartSeries[] = [];
  if (hasTrain) {
    const m = byStep(train);
    series.push({ label: 'train (per step)', values: xs.map((s) => (m.has(s) ? scale(m.get(s)) : null)) });
    // A running mean makes the trend readable through mini-batch noise.
    const w = Math.max(1, Math.round(train.length / 25));
    const raw = train.map((r) => r[key]);
    const smooth = new Map(train.map((r, i) => [r.step, meanOf(raw.slice(Math.max(0, i - w + 1), i + 1))]));
    if (w > 1) series.push({ label: `train (mean of ${w})`, values: xs.map((s) => (smooth.has(s) ? scale(smooth.get(s)!) : null)) });
  }
  if (hasEval) {
    const m = byStep(evals);
    series.push({ label: 'evaluation', values: xs.map((s) => (m.has(s) ? scale(m.get(s)) : null)), dash: true });
  }
  return { id: key, title, note, xLabel: 'step', yLabel, x: xs, series };
}

function curveCharts(v: RunView): ChartSpec[] {
  const loss = curveChart(v, 'loss', 'Loss', 'loss', 'Training loss per optimizer step, its running mean, and evaluation loss.', (x) => (finite(x) ? x : null));
  // Accuracy is recorded as a fraction; a run that logged percents (any value > 1.5) is shown as is.
  const acc = curveChart(v, 'accuracy', 'Accuracy', 'accuracy (%)', 'Training accuracy of each batch and evaluation accuracy.', v.accPercent ? (x) => (finite(x) ? x : null) : pct);
  return [loss, acc].filter((c): c is ChartSpec => c !== null);
}

function oscillationCharts(v: RunView): ChartSpec[] {
  const { meta, train, steps, layerNames, shownLayers } = v;
  if (!train.length || !layerNames.length) return [];
  const τ = meta.oscillationThreshold;
  const types = [...new Set(layerNames.map(layerType))];
  return [
    {
      id: 'oscillating-fraction',
      title: 'Oscillating weights per layer',
      note: `Share of sampled weights whose EMA oscillation frequency (momentum ${meta.momentum}) exceeds τ = ${τ}: their integer code keeps flipping back and forth between two levels. The EMA restarts at each stage and checkpoint reload.`,
      xLabel: 'step',
      yLabel: `weights with f > ${τ} (%)`,
      x: steps,
      series: shownLayers.map((name) => ({ label: name, values: train.map((r) => pct(r.layers[name]?.oscFrac)) })),
    },
    {
      id: 'oscillation-by-type',
      title: 'Oscillation per layer type',
      note: 'Oscillation events per sampled weight per step since the stage began (or the last reload), averaged over the layers of each type: q/k is the merged W_qk under QKR, the q and k blocks of qkv without it.',
      xLabel: 'step',
      yLabel: 'events per weight per step (×10³)',
      x: steps,
      series: types.map((type) => ({
        label: type,
        values: train.map((r) => {
          const m = meanOf(layerNames.filter((n) => layerType(n) === type).map((n) => r.layers[n]?.oscPerStep));
          return m === null ? null : m * 1e3;
        }),
      })),
    },
    {
      id: 'oscillation-events',
      title: 'Oscillation events per step',
      note: 'Code changes opposite to the previous change of the same weight (Nagel et al.), summed over the sampled weights of every layer.',
      xLabel: 'step',
      yLabel: 'events',
      x: steps,
      series: [
        { label: 'all layers', values: train.map((r) => layerNames.reduce((a, n) => a + (r.layers[n]?.oscCount ?? 0), 0)) },
        { label: 'mean EMA frequency × 10⁴', values: train.map((r) => { const m = meanOf(layerNames.map((n) => r.layers[n]?.osc)); return m === null ? null : m * 1e4; }), dash: true },
      ],
    },
  ];
}

/** Records that carry the whole-tensor aggregates (every `aggregateEvery` steps). */
const aggregatesOf = (v: RunView) => v.train.filter((r) => v.layerNames.some((n) => r.layers[n]?.br));

function occupancyChart(v: RunView, agg: TrainRecord[]): ChartSpec {
  const { meta } = v;
  const sizes = meta.layers.map((l) => l.shape.reduce((a, b) => a * b, 1));
  const total = sizes.reduce((a, b) => a + b, 0);
  return {
    id: 'br-occupancy',
    title: 'Boundary-range occupancy BR_x',
    note: 'Share of all tracked weights within ±x quantization steps of a decision threshold (element-weighted over layers). Under CGA these stay trainable and the rest is frozen.',
    xLabel: 'step',
    yLabel: 'weights in BR_x (%)',
    x: agg.map((r) => r.step),
    series: meta.boundaryRanges.map((x, j) => ({
      label: `BR ${x}`,
      values: agg.map((r) => {
        let acc = 0;
        meta.layers.forEach((l, li) => (acc += (r.layers[l.name]?.br?.[j] ?? 0) * sizes[li]));
        return (acc / total) * 100;
      }),
    })),
  };
}

function thresholdDistanceChart(v: RunView, agg: TrainRecord[]): ChartSpec {
  const { meta, layerNames } = v;
  const bins = meta.histogramBins;
  const sumHist = (r: TrainRecord) => {
    const h = new Array<number>(bins).fill(0);
    for (const n of layerNames) r.layers[n]?.hist?.forEach((c, i) => (h[i] += c));
    const tot = h.reduce((a, b) => a + b, 0) || 1;
    return h.map((c) => (c / tot) * bins * 2); // density over [0, 0.5]
  };
  const overShare = (r: TrainRecord) => {
    let over = 0;
    let all = 0;
    for (const n of layerNames) {
      const l = r.layers[n];
      if (!l?.hist) continue;
      over += l.histOver ?? 0;
      all += l.hist.reduce((a, b) => a + b, 0) + (l.histOver ?? 0);
    }
    return all ? over / all : 0;
  };
  const first = agg[0];
  const final = last(agg)!;
  const histSeries: ChartSeries[] = [{ label: `step ${first.step}`, values: sumHist(first), histogram: true }];
  if (final !== first) histSeries.push({ label: `step ${final.step}`, values: sumHist(final), histogram: true });
  return {
    id: 'threshold-distance',
    title: 'Distance to the nearest threshold',
    note: `Density of |v − (i + ½)| in units of one quantization step, over the sampled weights of all layers. Mass near 0 means weights sitting on a rounding boundary, ready to oscillate. (${(overShare(final) * 100).toFixed(1)}% of weights lie more than half a step beyond the outermost threshold and are not shown.)`,
    xLabel: 'distance (steps)',
    yLabel: 'density',
    x: Array.from({ length: bins }, (_, i) => (i * 0.5) / bins),
    series: histSeries,
    zeroY: true,
  };
}

function aggregateCharts(v: RunView): ChartSpec[] {
  const agg = aggregatesOf(v);
  if (!agg.length) return [];
  const sqnr: ChartSpec = {
    id: 'sqnr',
    title: 'Weight quantization SQNR',
    note: '10·log10(Σw² / Σ(w − Q(w))²) of each layer, whole tensor.',
    xLabel: 'step',
    yLabel: 'SQNR (dB)',
    x: agg.map((r) => r.step),
    series: v.shownLayers.map((name) => ({ label: name, values: agg.map((r) => r.layers[name]?.sqnr ?? null) })),
  };
  return [occupancyChart(v, agg), thresholdDistanceChart(v, agg), sqnr];
}

/** Scale trajectories (the OFQ README figure: per-channel scales, flat once CGA has annealed). */
function scaleCharts(v: RunView): ChartSpec[] {
  const { meta, train, steps, layerNames } = v;
  const charts: ChartSpec[] = [];
  if (train.length && layerNames.length) {
    const rows: Array<{ label: string; layer: string; row: number }> = [];
    for (const l of meta.layers) l.scaleRows.forEach((c, j) => rows.push({ label: `${l.name}[${c}]`, layer: l.name, row: j }));
    const picked = spread(rows, MAX_LINES);
    const rel = picked.map(({ layer, row }) => {
      const s0 = train.find((r) => finite(r.layers[layer]?.scaleRows[row]))?.layers[layer].scaleRows[row];
      return train.map((r) => {
        const s = r.layers[layer]?.scaleRows[row];
        return finite(s) && finite(s0) && s0 !== 0 ? s / s0 - 1 : null;
      });
    });
    // Parts per million suit CGA's tiny drifts (the paper's figure); percent suits ordinary training.
    const maxRel = Math.max(0, ...rel.flat().filter(finite).map(Math.abs));
    const [unit, factor] = maxRel > 1e-2 ? ['%', 100] : ['ppm', 1e6];
    charts.push({
      id: 'weight-scales',
      title: 'Weight scale trajectories',
      note: `Relative change of individual per-channel scales (StatsQ: s = 2·mean|w|; LSQ: the learned step) since the first step, in ${unit === '%' ? 'percent' : 'parts per million'}. With CGA they flatten once the trainable weights settle.`,
      xLabel: 'step',
      yLabel: `Δs / s₀ (${unit})`,
      x: steps,
      series: picked.map(({ label }, i) => ({ label, values: rel[i].map((x) => (x === null ? null : x * factor)) })),
    });
  }
  if (train.length && meta.scales.length) {
    charts.push({
      id: 'lsq-scales',
      title: 'LSQ step trajectories',
      note: 'Mean of each learnable LSQ step over time. A wobbling step moves every threshold at once, the mechanism OFQ blames for oscillation.',
      xLabel: 'step',
      yLabel: 'mean step',
      x: steps,
      series: spread(meta.scales, MAX_LINES).map((name) => ({ label: name, values: train.map((r) => r.scales[name] ?? null) })),
    });
  }
  return charts;
}

function flipCharts(v: RunView): ChartSpec[] {
  const { meta, train, layerNames } = v;
  const flipRecs = train.filter((r) => layerNames.some((n) => r.layers[n]?.flipIn !== undefined));
  if (!flipRecs.length) return [];
  return [
    {
      id: 'gradient-flips',
      title: 'Gradient-direction flip rate [reconstructed]',
      note: `Share of sampled weights whose gradient sign flipped since the previous step, inside vs outside ±${meta.flipBand} steps of a threshold (mean over layers).`,
      xLabel: 'step',
      yLabel: 'flip rate (%)',
      x: flipRecs.map((r) => r.step),
      series: (['flipIn', 'flipOut'] as const).map((k) => ({
        label: k === 'flipIn' ? `inside BR ${meta.flipBand}` : 'outside',
        values: flipRecs.map((r) => pct(meanOf(layerNames.map((n) => r.layers[n]?.[k])))),
      })),
    },
  ];
}

/** Extra numbers, one small chart each (they rarely share a scale): e.g. CGA frozen fraction, stage. */
function extraCharts(v: RunView): ChartSpec[] {
  const { train, steps } = v;
  const extraKeys = [...new Set(train.flatMap((r) => Object.keys(r.extra ?? {})))]
    .filter((k) => train.some((r) => finite(r.extra?.[k])))
    .slice(0, 6);
  return extraKeys.map((k, i) => ({
    id: `extra-${i}`,
    title: k,
    note: 'A number the training loop attached to each step.',
    xLabel: 'step',
    yLabel: k,
    x: steps,
    series: [{ label: k, values: train.map((r) => (finite(r.extra?.[k]) ? r.extra![k] : null)) }],
  }));
}

function summaryOf(v: RunView): ReportSummary {
  const { train, evals, layerNames, accPercent } = v;
  const lastTrain = last(train);
  const trackMs = meanOf(train.map((r) => r.trackMs));
  const stepMs = train.length > 1 ? (train[train.length - 1].t - train[0].t) / (train.length - 1) : null;
  return {
    steps: train.length,
    finalLoss: lastTrain?.loss ?? null,
    finalAccuracy: lastTrain?.accuracy !== undefined ? lastTrain.accuracy / (accPercent ? 100 : 1) : null,
    finalEvalAccuracy: ((a) => (a === undefined ? null : a / (accPercent ? 100 : 1)))(last(evals.filter((e) => finite(e.accuracy)))?.accuracy),
    finalOscFrac: lastTrain ? meanOf(layerNames.map((n) => lastTrain.layers[n]?.oscFrac)) : null,
    trackingOverhead: trackMs !== null && stepMs ? trackMs / stepMs : null,
    meanTrackMs: trackMs,
    meanStepMs: stepMs,
  };
}

function layerRows(v: RunView): LayerRow[] {
  const { meta, train } = v;
  const lastTrain = last(train);
  const lastAgg = last(aggregatesOf(v));
  return meta.layers.map((l) => {
    const s0 = train[0]?.layers[l.name]?.scale;
    const s1 = lastTrain?.layers[l.name]?.scale;
    return {
      name: l.name,
      quantizer: l.quantizer,
      bits: l.bits,
      shape: l.shape,
      osc: lastTrain?.layers[l.name]?.osc ?? null,
      oscFrac: lastTrain?.layers[l.name]?.oscFrac ?? null,
      totalEvents: train.reduce((a, r) => a + (r.layers[l.name]?.oscCount ?? 0), 0),
      br: lastAgg?.layers[l.name]?.br ?? null,
      sqnr: lastAgg?.layers[l.name]?.sqnr ?? null,
      scaleDrift: finite(s0) && finite(s1) && s0 !== 0 ? s1 / s0 - 1 : null,
    };
  });
}

/** Everything the report shows: charts, a headline summary and a per-layer table. */
export function buildReportModel(run: RunData): { charts: ChartSpec[]; summary: ReportSummary; layers: LayerRow[] } {
  const train = run.records.filter((r): r is TrainRecord => r.type === 'train');
  const layerNames = run.meta.layers.map((l) => l.name);
  const view: RunView = {
    run,
    meta: run.meta,
    train,
    evals: run.records.filter((r): r is EvalRecord => r.type === 'eval'),
    steps: train.map((r) => r.step),
    layerNames,
    shownLayers: spread(layerNames, MAX_LINES),
    accPercent: run.records.some((r) => finite(r.accuracy) && (r.accuracy as number) > 1.5),
  };
  const charts = [...curveCharts(view), ...oscillationCharts(view), ...aggregateCharts(view), ...scaleCharts(view), ...flipCharts(view), ...extraCharts(view)];
  return { charts, summary: summaryOf(view), layers: layerRows(view) };
}
