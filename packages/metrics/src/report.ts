import * as fs from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { buildReportModel, type LayerRow, type ReportSummary } from './report-charts.js';
import { REPORT_CLIENT_JS } from './report-client.js';
import { readRun, type RunData } from './run-format.js';

export interface RenderReportOptions {
  /** Page title (default: the run name). */
  title?: string;
  /** uPlot's IIFE build and CSS; read from the installed `uplot` package when omitted. */
  uplotJs?: string;
  uplotCss?: string;
  /** Class names by label index (an image-folder run's `classes.json`), listed under the summary cards. */
  classes?: readonly string[];
}

let uplotAssets: { js: string; css: string } | null = null;
/** uPlot's browser build and stylesheet from node_modules, inlined so the report needs no network. */
function loadUplot(): { js: string; css: string } {
  if (!uplotAssets) {
    // CJS build: __filename; ESM build: import.meta.url (tsup leaves it empty in CJS, where it is not reached).
    const req = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);
    const dist = path.dirname(req.resolve('uplot/dist/uPlot.iife.min.js'));
    uplotAssets = {
      js: fs.readFileSync(path.join(dist, 'uPlot.iife.min.js'), 'utf8'),
      css: fs.readFileSync(path.join(dist, 'uPlot.min.css'), 'utf8'),
    };
  }
  return uplotAssets;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
/** Inline script text must not close its own element. */
const scriptText = (s: string) => s.replace(/<\/script/gi, '<\\/script');

function num(v: number | null | undefined, digits = 4): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : String(+v.toPrecision(digits));
}
const pct = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${num(v * 100, digits)}%`);

function summaryCards(s: ReportSummary): string {
  const cards: Array<[string, string, string]> = [
    ['steps', String(s.steps), 'optimizer steps recorded'],
    ['final loss', num(s.finalLoss), 'last training step'],
    ['accuracy', s.finalEvalAccuracy !== null ? pct(s.finalEvalAccuracy) : pct(s.finalAccuracy), s.finalEvalAccuracy !== null ? 'last evaluation' : 'last training batch'],
    ['oscillating', pct(s.finalOscFrac), 'mean share of weights with f > τ, last step'],
    ['tracking cost', pct(s.trackingOverhead, 2), `${num(s.meanTrackMs, 3)} ms of ${num(s.meanStepMs, 4)} ms per step`],
  ];
  return cards.map(([k, v, d]) => `<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="d">${esc(d)}</div></div>`).join('');
}

/** Relative scale drift: ppm for CGA-sized drifts, percent otherwise. */
/** `Classes (3): 0 cat · 1 dog · 2 fox`, so a reader can map a label index to its name. */
function classList(classes: readonly string[] | undefined): string {
  if (!classes || classes.length === 0) return '';
  const items = classes.map((c, i) => `<li><code>${i}</code> ${esc(c)}</li>`).join('');
  return `<details class="classes" open><summary>Classes (${classes.length})</summary><ol class="classes">${items}</ol></details>`;
}

const drift = (d: number | null) => (d === null ? '–' : Math.abs(d) < 1e-2 ? `${num(d * 1e6, 3)} ppm` : pct(d));

function layerTable(rows: LayerRow[], brs: number[]): string {
  const head = ['layer', 'quantizer', 'shape', 'mean f', 'f > τ', 'events', ...brs.map((b) => `BR ${b}`), 'SQNR dB', 'Δ mean scale'];
  const body = rows
    .map(
      (r) =>
        `<tr><td class="name">${esc(r.name)}</td><td>${esc(`${r.quantizer} ${r.bits}-bit`)}</td><td>${r.shape.join('×')}</td><td>${num(r.osc, 3)}</td><td>${pct(r.oscFrac)}</td><td>${r.totalEvents}</td>` +
        brs.map((_, j) => `<td>${pct(r.br?.[j] ?? null)}</td>`).join('') +
        `<td>${num(r.sqnr, 3)}</td><td>${drift(r.scaleDrift)}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}

const PAGE_CSS = `
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#0f172a;background:#f1f5f9}
header{background:#0f172a;color:#f8fafc;padding:20px 28px}
header h1{margin:0 0 4px;font-size:22px;font-weight:600}
header .sub{color:#94a3b8;font-size:13px}
main{padding:20px 28px;max-width:1500px;margin:0 auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px;margin-bottom:18px}
.card{background:#fff;border-radius:10px;padding:12px 14px;box-shadow:0 1px 2px rgba(15,23,42,.08)}
.card .k{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#64748b}
.card .v{font-size:24px;font-weight:600;margin:2px 0}
.card .d{font-size:12px;color:#64748b}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:16px}
section.plot{background:#fff;border-radius:10px;padding:14px 14px 8px;box-shadow:0 1px 2px rgba(15,23,42,.08);min-width:0}
section.plot h2{font-size:16px;margin:0 0 2px;font-weight:600}
section.plot p{margin:0 0 8px;color:#475569;font-size:12.5px}
.uplot .u-legend{font-size:11.5px;text-align:left;max-height:96px;overflow:auto}
.uplot .u-legend .u-series>*{padding:1px 3px}
.uplot .u-legend th{font-weight:500}
h3{margin:24px 0 8px;font-size:16px}
.tablewrap{background:#fff;border-radius:10px;overflow:auto;box-shadow:0 1px 2px rgba(15,23,42,.08)}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{padding:6px 10px;text-align:right;border-bottom:1px solid #e2e8f0;white-space:nowrap}
th{background:#f8fafc;color:#334155;font-weight:600;position:sticky;top:0}
td.name,th:first-child{text-align:left;font-family:ui-monospace,Menlo,Consolas,monospace}
details{margin-top:18px;background:#fff;border-radius:10px;padding:10px 14px}
ol.classes{list-style:none;padding:0;margin:6px 0 0;columns:4 200px;font-size:12.5px}
pre{white-space:pre-wrap;font-size:12px;color:#334155}
footer{color:#94a3b8;font-size:12px;padding:16px 28px}
`;

/**
 * One self-contained HTML page (no network: uPlot's JS and CSS are inlined) showing a run: loss and
 * accuracy, oscillating fraction per layer, BR occupancy, scale trajectories, the distance-to-threshold
 * histogram, gradient flips, SQNR and a per-layer table.
 */
export function renderReport(run: RunData, o: RenderReportOptions = {}): string {
  if (!run || !run.meta || !Array.isArray(run.records)) throw new TypeError('renderReport: expected { meta, records } (see readRun)');
  const { charts, summary, layers } = buildReportModel(run);
  const assets = o.uplotJs && o.uplotCss ? { js: o.uplotJs, css: o.uplotCss } : loadUplot();
  const title = o.title ?? `OFQ run: ${run.meta.name}`;
  const m = run.meta;
  const sub = [
    `started ${m.startedAt}`,
    m.endedAt ? `ended ${m.endedAt}` : null,
    `${m.layers.length} tracked weights`,
    `sample ${m.sampleSize}/layer`,
    `τ = ${m.oscillationThreshold}`,
    `aggregates every ${m.aggregateEvery} steps`,
  ]
    .filter(Boolean)
    .join(' · ');
  const sections = charts
    .map((c) => `<section class="plot"><h2>${esc(c.title)}</h2><p>${esc(c.note)}</p><div class="chart" id="chart-${esc(c.id)}"></div></section>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title>
<style>${assets.css}</style>
<style>${PAGE_CSS}</style>
</head><body>
<header><h1>${esc(title)}</h1><div class="sub">${esc(sub)}</div></header>
<main>
<div class="cards">${summaryCards(summary)}</div>
${classList(o.classes)}
<div class="grid">
${sections}
</div>
<h3>Per layer (last step)</h3>
<div class="tablewrap">${layerTable(layers, m.boundaryRanges)}</div>
${m.config ? `<details><summary>Run configuration</summary><pre>${esc(JSON.stringify(m.config, null, 2))}</pre></details>` : ''}
</main>
<footer>Generated by @ofq/metrics. Oscillation: Nagel et al. 2022; BR occupancy and CGA: Liu et al., OFQ (ICML 2023). Gradient flip rate is a reconstructed metric.</footer>
<script id="ofq-data" type="application/json">${scriptJson({ charts })}</script>
<script>${scriptText(assets.js)}</script>
<script>${scriptText(REPORT_CLIENT_JS)}</script>
</body></html>
`;
}

/**
 * Reads the run directory `runDir` (meta.json + metrics.jsonl), writes `<runDir>/report.html`
 * (or `o.out`) and returns the written path. Used by the `ofq report` CLI.
 */
export function renderReportFile(runDir: string, o: RenderReportOptions & { out?: string } = {}): string {
  const html = renderReport(readRun(runDir), o);
  const out = o.out ?? path.join(runDir, 'report.html');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, html);
  return out;
}
