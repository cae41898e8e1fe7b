// A small static line chart (inline SVG: no script, no network) for the ablation report.

export interface LineSeries {
  label: string;
  x: number[];
  y: Array<number | null>;
  dash?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  width?: number;
  height?: number;
}

const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];
export const seriesColor = (i: number) => PALETTE[i % PALETTE.length]!;
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Short tick label: 3 significant digits, exponent form for very small or large values. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(1);
  return String(+v.toPrecision(3));
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(+v.toPrecision(12));
  return out;
}

/** An `<svg>` with axes, ticks, one polyline per series (gaps where y is null) and a legend. */
export function lineChartSVG(o: LineChartOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 260;
  const m = { l: 62, r: 12, t: 26, b: 40 };
  const pts = o.series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]] as const).filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[1])));
  if (!pts.length) return `<svg class="chart" width="${W}" height="60" role="img" aria-label="${esc(o.title)}"><text x="8" y="34" fill="#64748b">${esc(o.title)}: no data</text></svg>`;
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => p[1])), Math.max(...pts.map((p) => p[1]))];
  if (y1 === y0) [y0, y1] = [y0 - (Math.abs(y0) || 1) * 0.05, y1 + (Math.abs(y1) || 1) * 0.05];
  const sx = (x: number) => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
  const sy = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const grid = niceTicks(y0, y1)
    .map((v) => `<line x1="${m.l}" x2="${W - m.r}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#e2e8f0"/><text x="${m.l - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${tickLabel(v)}</text>`)
    .join('');
  const xt = niceTicks(x0, x1)
    .map((v) => `<text x="${sx(v).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${tickLabel(v)}</text>`)
    .join('');
  const lines = o.series
    .map((s, i) => {
      const segs: string[][] = [[]];
      s.x.forEach((x, j) => {
        const y = s.y[j];
        if (y === null || y === undefined || !Number.isFinite(y)) segs.push([]);
        else segs[segs.length - 1]!.push(`${sx(x).toFixed(1)},${sy(y).toFixed(1)}`);
      });
      return segs
        .filter((g) => g.length)
        .map((g) => (g.length === 1 ? `<circle cx="${g[0]!.split(',')[0]}" cy="${g[0]!.split(',')[1]}" r="2.5" fill="${seriesColor(i)}"/>` : `<polyline fill="none" stroke="${seriesColor(i)}" stroke-width="1.8"${s.dash ? ' stroke-dasharray="6 4"' : ''} points="${g.join(' ')}"/>`))
        .join('');
    })
    .join('');
  const legend = o.series.map((s, i) => `<tspan fill="${seriesColor(i)}" dx="${i ? 14 : 0}">■ ${esc(s.label)}</tspan>`).join('');
  return (
    `<svg class="chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" font-size="11" fill="#334155">` +
    `<text x="${m.l}" y="14" font-size="12">${legend}</text>${grid}${xt}` +
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#94a3b8"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#94a3b8"/>` +
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle">${esc(o.xLabel)}</text>` +
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>${lines}</svg>`
  );
}
