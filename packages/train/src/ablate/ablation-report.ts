// The ablation's HTML page: accuracy by seed with paired differences and t-intervals, oscillation per
// layer type over training, scale trajectories and the CGA stage alone. Static (inline SVG, no script).
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildReportModel, readRun } from '@ofq/metrics';
import type { AblationData, Comparison, RunEntry } from './collect.js';
import { LAYER_TYPES, layerTypeLabel, type LayerType } from './layer-types.js';
import type { PairedDifference } from './paired-stats.js';
import type { BinnedCurves } from './run-metrics.js';
import { lineChartSVG, type LineSeries } from './svg-chart.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const sci = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v === 0 ? '0' : v < 1e-3 ? v.toExponential(2) : v.toFixed(4));
const signed = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(d)}`);
const table = (head: string[], rows: string[][]) =>
  `<div class="tablewrap"><table><thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<td class="name">${c}</td>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table></div>`;

function ciText(d: PairedDifference): string {
  return d.ci ? `[${signed(d.ci[0])}, ${signed(d.ci[1])}]` : d.n === 1 ? 'n = 1: no interval' : '–';
}

function accuracySection(d: AblationData): string {
  return d.bits
    .map((b) => {
      const head = ['variant', ...d.seeds.map((s) => `seed ${s}`), 'mean', 'sd', 'min–max'];
      const teacher = ['FP teacher', ...d.teachers.map((t) => f(t.fpTop1)), f(mean(d.teachers.map((t) => t.fpTop1))), '', ''];
      const rows = d.variants.map((v) => {
        const a = d.accuracy[b]![v.name]!;
        return [esc(v.name), ...a.values.map((x) => f(x)), f(a.mean), f(a.sd), a.min === null ? '–' : `${f(a.min)}–${f(a.max)}`];
      });
      return `<h3>W${b}A${b}: test top-1 (%)</h3>${table(head, [teacher, ...rows])}`;
    })
    .join('');
}

function comparisonSection(d: AblationData): string {
  const kinds: Record<Comparison['kind'], string> = { 'vs-baseline': 'vs baseline', step: 'next in list', 'cga-alone': 'CGA alone' };
  const rows = d.comparisons.map((c) => [
    `W${c.bits}A${c.bits}`,
    `${esc(c.b)} − ${esc(c.a)}`,
    kinds[c.kind],
    String(c.diff.n),
    signed(c.diff.mean),
    ciText(c.diff),
    `${c.diff.wins}/${c.diff.losses}`,
    c.diff.diffs.map((x) => signed(x)).join(' '),
  ]);
  return table(['bits', 'difference (points)', 'pair', 'seeds', 'mean Δ', '95% t-interval', 'ahead/behind', 'per seed'], rows);
}

function oscillationTable(d: AblationData): string {
  const types = LAYER_TYPES.filter((t) => d.runs.some((r) => r.metrics?.layersByType[t]));
  const rows = d.bits.flatMap((b) =>
    d.variants.flatMap((v) =>
      (['stage1', 'stage2'] as const)
        .filter((st) => d.runs.some((r) => r.bits === b && r.variant === v.name && (r.metrics?.steps[st] ?? 0) > 0))
        .map((st) => [`W${b}A${b}`, esc(v.name), st, ...types.map((t) => sci(d.oscillation[b]![v.name]![st][t]))]),
    ),
  );
  return table(['bits', 'variant', 'stage', ...types.map((t) => esc(layerTypeLabel(t)))], rows);
}

/** Mean over the seeds' binned curves (same step bins for one variant and bits). */
function meanCurve(rs: RunEntry[], pick: (r: RunEntry) => BinnedCurves | undefined, t: LayerType): { x: number[]; y: Array<number | null> } {
  const cs = rs.map(pick).filter((c): c is BinnedCurves => !!c && !!c.byType[t]);
  if (!cs.length) return { x: [], y: [] };
  const x = cs[0]!.steps;
  const y = x.map((_, i) => mean(cs.map((c) => c.byType[t]![i] ?? null)));
  return { x, y };
}

function curveCharts(d: AblationData, pick: (r: RunEntry) => BinnedCurves | undefined, yLabel: string, what: string): string {
  const types = LAYER_TYPES.filter((t) => d.runs.some((r) => r.metrics?.layersByType[t]));
  return d.bits
    .flatMap((b) =>
      types.map((t) => {
        const series: LineSeries[] = d.variants.map((v) => ({ label: v.name, ...meanCurve(d.runs.filter((r) => r.bits === b && r.variant === v.name && r.metrics), pick, t) }));
        return `<section class="plot"><h4>W${b}A${b} · ${esc(layerTypeLabel(t))}: ${esc(what)}</h4>${lineChartSVG({ title: `W${b}A${b} ${t} ${what}`, xLabel: 'optimizer step (stage 2 continues stage 1)', yLabel, series })}</section>`;
      }),
    )
    .join('');
}

function stage2Section(d: AblationData): string {
  const rows = d.bits.flatMap((b) =>
    d.variants
      .filter((v) => d.runs.some((r) => r.bits === b && r.variant === v.name && r.stage2BestVal !== null))
      .map((v) => {
        const g = d.stage2Gain[b]![v.name]!;
        const rs = d.runs.filter((r) => r.bits === b && r.variant === v.name && r.status === 'done');
        const frozen = mean(rs.map((r) => r.metrics?.cgaFrozen ?? null));
        return [`W${b}A${b}`, esc(v.name), v.cga ? 'CGA' : 'plain', String(g.n), f(mean(rs.map((r) => r.stage1BestVal))), f(mean(rs.map((r) => r.stage2BestVal))), signed(g.mean), ciText(g), frozen === null ? '–' : `${f(100 * frozen, 1)}%`];
      }),
  );
  const cga = d.comparisons.filter((c) => c.kind === 'cga-alone');
  return (
    table(['bits', 'variant', 'stage 2', 'seeds', 'best val after stage 1', 'after stage 2', 'stage-2 gain', '95% t-interval', 'frozen at end'], rows) +
    (cga.length
      ? `<p>Test top-1 of each CGA variant minus its twin without CGA (same stage-2 steps and LR): ${cga.map((c) => `W${c.bits}A${c.bits} ${esc(c.b)} − ${esc(c.a)}: ${signed(c.diff.mean)} points ${ciText(c.diff)} over ${c.diff.n} seeds`).join('; ')}.</p>`
      : '')
  );
}

function runsSection(d: AblationData, out: string): string {
  const rows = d.runs.map((r) => {
    let osc = '–';
    if (r.status !== 'missing' && existsSync(join(r.dir, 'meta.json'))) osc = f(100 * (buildReportModel(readRun(r.dir)).summary.finalOscFrac ?? NaN), 2) + '%';
    const rep = join(r.dir, 'report.html');
    const link = existsSync(rep) ? `<a href="${esc(relative(out, rep))}">report</a>` : '–';
    return [`W${r.bits}A${r.bits} ${esc(r.variant)} seed ${r.seed}`, r.status, f(r.fpTop1), f(r.quantTop1), r.seconds === null ? '–' : `${f(r.seconds / 60, 1)} min`, osc, link];
  });
  return table(['run', 'status', 'FP top-1', 'test top-1', 'time', 'oscillating (last step, EMA)', 'run report'], rows);
}

function mean(xs: Array<number | null | undefined>): number | null {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

const CSS = `body{margin:0;font:14px/1.45 system-ui,sans-serif;color:#0f172a;background:#f1f5f9}header{background:#0f172a;color:#f8fafc;padding:18px 28px}header h1{margin:0 0 4px;font-size:21px}header .sub{color:#94a3b8;font-size:13px}main{padding:18px 28px;max-width:1500px;margin:0 auto}h2{font-size:18px;margin:26px 0 6px}h3{font-size:15px;margin:16px 0 6px}h4{font-size:13px;margin:0 0 4px}p.note{color:#475569;font-size:13px;margin:2px 0 8px}.tablewrap{background:#fff;border-radius:10px;overflow:auto;box-shadow:0 1px 2px rgba(15,23,42,.08)}table{border-collapse:collapse;width:100%;font-size:12.5px}th,td{padding:5px 9px;text-align:right;border-bottom:1px solid #e2e8f0;white-space:nowrap}th{background:#f8fafc}td.name,th:first-child{text-align:left}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(580px,1fr));gap:14px}section.plot{background:#fff;border-radius:10px;padding:10px;box-shadow:0 1px 2px rgba(15,23,42,.08)}svg.chart{max-width:100%;height:auto}pre{white-space:pre-wrap;font-size:12px}`;

/** The whole page; run-report links are relative to `out` (the ablation directory). */
export function renderAblationReport(d: AblationData, out: string): string {
  const done = d.runs.filter((r) => r.status === 'done').length;
  const sub = `${d.variants.map((v) => v.name).join(', ')} · bits ${d.bits.join(', ')} · seeds ${d.seeds.join(', ')} · ${done}/${d.runs.length} runs finished · ${f(d.totalSeconds / 60, 1)} min of training · generated ${d.generated}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>OFQ ablation: ${esc(d.recipe.name)}</title><style>${CSS}</style></head><body>
<header><h1>OFQ ablation: ${esc(d.recipe.name)}</h1><div class="sub">${esc(sub)}</div></header>
<main>
<h2>Accuracy</h2><p class="note">Every variant of a seed distils from the same FP teacher and sees the same data order; test top-1 in percent.</p>
${accuracySection(d)}
<h2>Paired differences</h2><p class="note">Per seed, variant b minus variant a (top-1 points); mean with a two-sided 95% Student-t interval over seeds (t<sub>0.975, n−1</sub>·sd/√n). An interval that contains 0 is no evidence of a difference.</p>
${comparisonSection(d)}
<h2>Oscillation per layer type</h2><p class="note">Oscillation events (Nagel et al. 2022: the integer code reverses its last change) per tracked weight per optimizer step, mean over the stage and the seeds. Counted per stage, so stage 2 is not mixed with stage-1 history.</p>
${oscillationTable(d)}
<div class="grid">${curveCharts(d, (r) => r.metrics?.events, 'events / weight / step', 'oscillation events over training')}</div>
<h2>Scale trajectories</h2><p class="note">Mean per-channel weight scale of each layer type relative to its value at the first step (learned LSQ step or StatsQ's statistic), mean over seeds.</p>
<div class="grid">${curveCharts(d, (r) => r.metrics?.scale, 'scale / initial scale', 'weight scale')}</div>
<h2>The CGA stage alone</h2><p class="note">Stage 2 starts from the best stage-1 checkpoint and runs the same steps at the same constant LR for every variant; only CGA variants freeze confident weights.</p>
${stage2Section(d)}
<h2>Runs</h2>${runsSection(d, out)}
<details><summary>Base recipe</summary><pre>${esc(JSON.stringify(d.recipe, null, 2))}</pre></details>
</main></body></html>
`;
}
