// `ofq ablate`: one FP teacher per seed, then every variant × bits run from it, each a normal
// resumable run directory; finished runs are skipped, interrupted ones resumed.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Recipe } from '../recipe/schema.js';
import { writeFileAtomic } from '../run/durable-fs.js';
import { train } from '../run/pipeline.js';
import type { RunControl, StageHooks } from '../run/stage.js';
import { collectAblation, type AblationData } from './collect.js';
import { AblationError } from './errors.js';
import { claimOutDir, runDir, sameRecipe, teacherDir, teacherWeights } from './plan.js';
import { renderAblationReport } from './ablation-report.js';
import { ablationMarkdown } from './ablation-markdown.js';
import { variantRecipe, type Variant } from './variants.js';

export interface AblateOptions {
  /** The base recipe (quantizer, bits and seed are set per run). */
  recipe: Recipe;
  variants: Variant[];
  bits: number[];
  seeds: number[];
  outDir: string;
  quiet?: boolean;
  log?: (line: string) => void;
  control?: RunControl;
  hooks?: StageHooks;
  backend?: string;
  /** Each run's own HTML report (default true). */
  runReports?: boolean;
  /** Train nothing: collect the runs already there and write the JSON and the report. */
  reportOnly?: boolean;
  /** Train (or resume) the per-seed FP teachers only, e.g. while the student code is still changing. */
  teachersOnly?: boolean;
}

export interface AblateResult {
  outDir: string;
  jsonPath: string;
  reportPath: string;
  /** Runs (teachers included) trained or resumed by this call, and those found finished. */
  trained: number;
  skipped: number;
  data: AblationData;
}

export const ABLATION_JSON = 'ablation.json';
export const ABLATION_HTML = 'ablation.html';

function teacherRecipe(base: Recipe, seed: number): Recipe {
  return { ...structuredClone(base), name: `${base.name}/teacher/seed${seed}`, seed };
}

/** Trains (or resumes, or skips when finished) one run directory made for exactly `recipe`. */
async function ensureRun(dir: string, recipe: Recipe, o: AblateOptions, teacherOnly: boolean): Promise<'trained' | 'skipped'> {
  const cfgPath = join(dir, 'config.json');
  if (existsSync(cfgPath)) {
    if (!sameRecipe(JSON.parse(readFileSync(cfgPath, 'utf8')), recipe, cfgPath)) {
      throw new AblationError(`${dir} was made with a different recipe than this ablation asks for (compare its config.json); remove it or use another --out`);
    }
    if (existsSync(join(dir, 'summary.json'))) return 'skipped';
  }
  const common = { quiet: o.quiet ?? false, log: o.log, control: o.control, hooks: o.hooks, backend: o.backend, report: !teacherOnly && (o.runReports ?? true), teacherOnly };
  await train(existsSync(cfgPath) ? { ...common, resume: dir } : { ...common, recipe, outDir: dir });
  return 'trained';
}

/** Runs (or resumes) the whole study, then writes `ablation.json` and `ablation.html` in `outDir`. */
export async function ablate(o: AblateOptions): Promise<AblateResult> {
  const out = resolve(o.outDir);
  const log = o.log ?? (o.quiet ? () => undefined : (l: string) => process.stderr.write(l + '\n'));
  if (o.bits.some((b) => !Number.isInteger(b) || b < 2 || b > 8)) throw new AblationError(`--bits: each must be an integer in [2, 8], got ${o.bits.join(',')}`);
  claimOutDir(out, o.recipe);
  let trained = 0;
  let skipped = 0;
  if (!o.reportOnly) {
    const shared = o.recipe.teacher.weights; // a given FP teacher serves every seed
    const total = (shared ? 0 : o.seeds.length) + (o.teachersOnly ? 0 : o.seeds.length * o.bits.length * o.variants.length);
    let k = 0;
    const step = async (what: string, dir: string, recipe: Recipe, teacherOnly: boolean) => {
      k++;
      const r = await ensureRun(dir, recipe, o, teacherOnly);
      if (r === 'skipped') skipped++;
      else trained++;
      log(`[${k}/${total}] ${what}: ${r === 'skipped' ? 'finished earlier, skipped' : 'done'} (${dir})`);
    };
    if (!shared) for (const seed of o.seeds) await step(`FP teacher seed ${seed}`, teacherDir(out, seed), teacherRecipe(o.recipe, seed), true);
    for (const seed of o.teachersOnly ? [] : o.seeds) {
      const weights = shared ?? teacherWeights(out, seed);
      for (const bits of o.bits) {
        for (const v of o.variants) {
          await step(`w${bits}a${bits} ${v.name} seed ${seed}`, runDir(out, v, bits, seed), variantRecipe(o.recipe, v, bits, seed, weights), false);
        }
      }
    }
  }
  const data = collectAblation(out, o.recipe, o.variants, o.bits, o.seeds);
  const jsonPath = join(out, ABLATION_JSON);
  writeFileAtomic(jsonPath, JSON.stringify(data, null, 2));
  const reportPath = join(out, ABLATION_HTML);
  writeFileAtomic(reportPath, renderAblationReport(data, out));
  writeFileAtomic(join(out, 'ablation.md'), ablationMarkdown(data));
  return { outDir: out, jsonPath, reportPath, trained, skipped, data };
}
