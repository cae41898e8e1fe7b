// The ablation's tables as Markdown (`<out>/ablation.md`), for papers, READMEs and issue threads.
import type { AblationData } from './collect.js';
import { LAYER_TYPES, layerTypeLabel } from './layer-types.js';
import type { PairedDifference } from './paired-stats.js';

const f = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const sg = (v: number | null | undefined, d = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(d)}`);
const ev = (v: number | undefined) => (v === undefined ? '–' : v.toExponential(2));
const ci = (d: PairedDifference) => (d.ci ? `[${sg(d.ci[0])}, ${sg(d.ci[1])}]` : '–');
const md = (head: string[], rows: string[][]) => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

export function ablationMarkdown(d: AblationData): string {
  const mean = (xs: Array<number | null>) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  };
  const parts: string[] = [];
  const acc = d.bits.flatMap((b) => [
    ...d.variants.map((v) => {
      const a = d.accuracy[b]![v.name]!;
      return [`W${b}A${b}`, v.name, ...a.values.map((x) => f(x)), f(a.mean), f(a.sd)];
    }),
  ]);
  parts.push(md(['bits', 'variant', ...d.seeds.map((s) => `seed ${s}`), 'mean', 'sd'], [['FP', 'teacher', ...d.teachers.map((t) => f(t.fpTop1)), f(mean(d.teachers.map((t) => t.fpTop1))), ''], ...acc]));
  parts.push(md(['bits', 'b − a (points)', 'pair', 'n', 'mean Δ', '95% t-interval', 'per seed'], d.comparisons.map((c) => [`W${c.bits}A${c.bits}`, `${c.b} − ${c.a}`, c.kind, String(c.diff.n), sg(c.diff.mean), ci(c.diff), c.diff.diffs.map((x) => sg(x)).join(' ')])));
  const types = LAYER_TYPES.filter((t) => d.runs.some((r) => r.metrics?.layersByType[t]));
  parts.push(md(['bits', 'variant', 'stage', ...types.map(layerTypeLabel)], d.bits.flatMap((b) => d.variants.flatMap((v) => (['stage1', 'stage2'] as const).map((st) => [`W${b}A${b}`, v.name, st, ...types.map((t) => ev(d.oscillation[b]![v.name]![st][t]))])))));
  parts.push(md(['bits', 'variant', 'stage 2', 'n', 'stage-2 gain (val points)', '95% t-interval'], d.bits.flatMap((b) => d.variants.map((v) => { const g = d.stage2Gain[b]![v.name]!; return [`W${b}A${b}`, v.name, v.cga ? 'CGA' : 'plain', String(g.n), sg(g.mean), ci(g)]; }))));
  return `# Ablation: ${d.recipe.name}\n\nGenerated ${d.generated}; ${f(d.totalSeconds / 60, 1)} min of training in the runs found.\n\n## Test top-1 (%)\n\n${parts[0]}\n\n## Paired differences\n\n${parts[1]}\n\n## Oscillation events per weight per step\n\n${parts[2]}\n\n## Stage 2 alone\n\n${parts[3]}\n`;
}
