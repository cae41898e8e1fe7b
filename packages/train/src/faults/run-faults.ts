// The fault-injection suite as one command: `pnpm --filter @ofq/train faults` (`--short`: the form
// vitest runs; `--part kills|others`: half of the full form, for two parallel processes; `--json <file>`:
// the report as JSON). Prints "N kills, N resumes, N differences"; exits non-zero on any difference.
import { writeFileSync } from 'node:fs';
import { runFaultSuite } from './fault-suite.js';

const argv = process.argv.slice(2);
const opt = (name: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
const short = argv.includes('--short');
const part = opt('--part');
const t0 = performance.now();
const r = await runFaultSuite({
  points: short ? ['checkpoint:between-renames'] : part === 'others' ? [] : 'all',
  saves: short ? [3] : 'all',
  randomKills: short || part === 'kills' ? 0 : 4,
  signals: part === 'kills' ? false : short ? 'short' : 'all',
  refusals: !short && part !== 'kills',
  log: (l) => process.stderr.write(`${l}\n`),
});
const secs = ((performance.now() - t0) / 1000).toFixed(0);
const json = opt('--json');
if (json) writeFileSync(json, JSON.stringify({ ...r, seconds: Number(secs) }, null, 2));
process.stdout.write(
  `fault suite${short ? ' (short)' : part ? ` (${part})` : ''}: ${r.kills} kills, ${r.resumes} resumes, ${r.compared} runs compared, ${r.differences.length} differences, ` +
    `${r.checks - r.failures.length}/${r.checks} checks passed (${secs} s)\n`,
);
for (const d of [...r.differences, ...r.failures]) process.stdout.write(`  ${d}\n`);
process.exit(r.differences.length || r.failures.length ? 1 : 0);
