// `ofq ablate`: the paper's comparisons as one resumable command (see ../ablate/run-ablation.ts).
import type { BackendChoice } from '@ofq/core';
import { ablate } from '../ablate/run-ablation.js';
import { readPlanRecipe } from '../ablate/plan.js';
import { parseIntList, parseVariants } from '../ablate/variants.js';
import { loadRecipe } from '../recipe/load.js';
import { setupRuntime } from '../runtime.js';
import { InterruptedError, type RunControl } from '../run/stage.js';
import { UsageError, type ParsedArgs } from './args.js';

export const ABLATE_USAGE = `  ofq ablate --recipe <name|file.yaml> [--set key=value]... --variants lsq,statsq,statsq+qkr,ofq
             [--bits 2,4] [--seeds 3 | 1,4 | 2..3] [--out <dir>] [--teachers-only | --report-only] [--backend <b>] [--quiet]`;

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/** `--seeds 3` means seeds 1, 2, 3; `--seeds 4,7` lists them; `--seeds 2..3` is a range (`2..2`: seed 2 alone). */
export function seedsOf(v: string | undefined): number[] {
  if (v === undefined) return [1, 2, 3];
  const range = /^\s*(\d+)\.\.(\d+)\s*$/.exec(v);
  if (range) {
    const [a, b] = [Number(range[1]), Number(range[2])];
    if (b < a) throw new UsageError(`--seeds: empty range ${v}`);
    return Array.from({ length: b - a + 1 }, (_, i) => a + i);
  }
  if (/^\d+$/.test(v.trim())) {
    const n = Number(v);
    if (n < 1) throw new UsageError(`--seeds: a count must be at least 1, got ${v}`);
    return Array.from({ length: n }, (_, i) => i + 1);
  }
  return parseIntList(v, '--seeds', (n) => n >= 0, 'non-negative integers');
}

export async function ablateCommand(args: ParsedArgs, out: (s: string) => void, backend: BackendChoice): Promise<number> {
  const variants = str(args.options.variants);
  if (!variants) throw new UsageError('ofq ablate needs --variants, e.g. --variants lsq,statsq,statsq+qkr,ofq');
  const dir = str(args.options.out);
  const recipeArg = str(args.options.recipe);
  if (!recipeArg && !dir) throw new UsageError('ofq ablate needs --recipe <name|file> (or --out <dir> of an existing ablation)');
  const recipe = recipeArg ? loadRecipe(recipeArg, args.sets) : readPlanRecipe(dir!);
  const outDir = dir ?? `runs/ablate-${recipe.name}`;
  const quiet = Boolean(args.options.quiet);
  const reportOnly = Boolean(args.options['report-only']);
  const rt = reportOnly ? null : await setupRuntime(backend, str(args.options.accel) ?? 'auto');
  if (rt && !quiet) process.stderr.write(`backend: ${rt.backend}${rt.accel ? ` · accel: ${rt.accel}` : ''}\n`);
  const control: RunControl = { stopRequested: false };
  let sigints = 0;
  const onSigint = () => {
    if (++sigints > 1) process.exit(130);
    control.stopRequested = true;
    process.stderr.write('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const r = await ablate({
      recipe,
      variants: parseVariants(variants),
      bits: parseIntList(str(args.options.bits) ?? '2,4', '--bits', (n) => n >= 2 && n <= 8, 'integers in [2, 8]'),
      seeds: seedsOf(str(args.options.seeds)),
      outDir,
      quiet,
      control,
      backend: rt?.backend,
      reportOnly,
      teachersOnly: Boolean(args.options['teachers-only']),
    });
    out(`ablation: ${r.trained} runs trained, ${r.skipped} finished earlier · ${r.jsonPath} · report: ${r.reportPath}`);
    return 0;
  } catch (e) {
    if (e instanceof InterruptedError) {
      process.stderr.write(`${e.message}\nresume with the same command (finished runs are skipped, ${e.runDir ?? 'the interrupted run'} continues)\n`);
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
