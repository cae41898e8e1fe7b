// The fault-injection suite as one command: `pnpm --filter @ofq/train faults` (add `--short` for the
// form vitest runs). Prints "N kills, N resumes, N differences" and exits non-zero on any difference.
import { runFaultSuite } from './fault-suite.js';

const short = process.argv.includes('--short');
const t0 = performance.now();
const r = await runFaultSuite({
  points: short ? ['checkpoint:between-renames'] : 'all',
  saves: short ? [3] : 'all',
  randomKills: short ? 1 : 8,
  signals: short ? 'short' : 'all',
  refusals: !short,
  log: (l) => process.stderr.write(`${l}\n`),
});
const secs = ((performance.now() - t0) / 1000).toFixed(0);
process.stdout.write(
  `fault suite${short ? ' (short)' : ''}: ${r.kills} kills, ${r.resumes} resumes, ${r.compared} runs compared, ${r.differences.length} differences, ` +
    `${r.checks - r.failures.length}/${r.checks} checks passed (${secs} s)\n`,
);
for (const d of [...r.differences, ...r.failures]) process.stdout.write(`  ${d}\n`);
process.exit(r.differences.length || r.failures.length ? 1 : 0);
