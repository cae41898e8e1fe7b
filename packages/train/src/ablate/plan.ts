// Where every run of an ablation lives, and the check that a directory belongs to this ablation.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Recipe } from '../recipe/schema.js';
import { validateRecipe } from '../recipe/load.js';
import { writeFileAtomic } from '../run/durable-fs.js';
import { AblationError } from './errors.js';
import type { Variant } from './variants.js';

export const PLAN_FILE = 'ablation-plan.json';

/** The FP teacher run of one seed (a normal run directory that stops after the teacher). */
export const teacherDir = (out: string, seed: number) => join(out, 'teachers', `seed${seed}`);
/** The safetensors every variant of this seed loads (timm naming). */
export const teacherWeights = (out: string, seed: number) => join(teacherDir(out, seed), 'teacher', 'best', 'weights.safetensors');
/** One variant × bits × seed run. */
export const runDir = (out: string, v: Variant, bits: number, seed: number) => join(out, 'runs', `w${bits}a${bits}`, v.name, `seed${seed}`);

/**
 * Records the base recipe in `<out>/ablation-plan.json` on first use; later calls (a resume, or more
 * variants, bits or seeds added to the same study, possibly from a second process) must use the same
 * base recipe, since every run is paired through it.
 */
export function claimOutDir(out: string, base: Recipe): void {
  mkdirSync(out, { recursive: true });
  const p = join(out, PLAN_FILE);
  if (!existsSync(p)) {
    writeFileAtomic(p, JSON.stringify({ format: 'ofq-ablation/1', created: new Date().toISOString(), recipe: base }, null, 2));
    return;
  }
  const plan = JSON.parse(readFileSync(p, 'utf8')) as { recipe?: unknown };
  if (!sameRecipe(plan.recipe, base, p)) {
    throw new AblationError(
      `${out} holds an ablation of a different base recipe (${p}); use another --out, or the same recipe and --set overrides as before`,
    );
  }
}

/**
 * Whether a stored recipe equals `recipe` once both pass the current schema. Fields only one side has
 * are not compared: a newer version adds defaulted fields (or drops a default, as `teacher.naming` now
 * resolves per architecture), which must not make an older study directory foreign.
 */
export function sameRecipe(stored: unknown, recipe: Recipe, source: string): boolean {
  let s: Recipe;
  try {
    s = validateRecipe(stored, source);
  } catch {
    return false;
  }
  return sharedEqual(s, validateRecipe(recipe, 'ablation recipe'));
}

function sharedEqual(a: unknown, b: unknown): boolean {
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object' || Array.isArray(a) !== Array.isArray(b)) return JSON.stringify(a) === JSON.stringify(b);
  if (Array.isArray(a)) return JSON.stringify(a) === JSON.stringify(b);
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  return Object.keys(x).every((k) => !(k in y) || x[k] === undefined || y[k] === undefined || sharedEqual(x[k], y[k]));
}

/** The base recipe an ablation directory was made with. */
export function readPlanRecipe(out: string): Recipe {
  const p = join(out, PLAN_FILE);
  if (!existsSync(p)) throw new AblationError(`${out} is not an ablation directory: ${PLAN_FILE} is missing`);
  return (JSON.parse(readFileSync(p, 'utf8')) as { recipe: Recipe }).recipe;
}
