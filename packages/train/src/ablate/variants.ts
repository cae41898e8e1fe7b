// The variants `ofq ablate` compares and the recipe each one runs (docs/ablation-study.md).
import type { Recipe } from '../recipe/schema.js';
import { AblationError } from './errors.js';

/** One arm of the ablation: the weight quantizer, QKR and CGA switched independently. */
export interface Variant {
  /** As given on the command line, e.g. `statsq+qkr`. */
  name: string;
  /** 'lsq': learned LSQ weight steps (the baseline); 'statsq': StatsQ weight scales. */
  weights: 'lsq' | 'statsq';
  qkr: boolean;
  /** Stage 2 runs with confidence-guided annealing (otherwise the same steps at the same LR, plain). */
  cga: boolean;
  /** LSQ weights only: the reference's `max(s, 1e-5)` step instead of the default `|s|` (docs/decisions.md #19). */
  lsqClamp: boolean;
}

const BASES: Record<string, Omit<Variant, 'name'>> = {
  lsq: { weights: 'lsq', qkr: false, cga: false, lsqClamp: false },
  statsq: { weights: 'statsq', qkr: false, cga: false, lsqClamp: false },
  ofq: { weights: 'statsq', qkr: true, cga: true, lsqClamp: false },
};
const MODIFIERS = ['qkr', 'cga', 'clamp'] as const;

/** `lsq`, `statsq`, `ofq` (= statsq+qkr+cga), each with `+qkr`, `+cga` (and `+clamp` for lsq). */
export function parseVariant(text: string): Variant {
  const [base, ...mods] = text.trim().split('+');
  const b = BASES[base ?? ''];
  if (!b) throw new AblationError(`--variants: unknown variant '${text}' (start with lsq, statsq or ofq, add +qkr, +cga, +clamp)`);
  const v: Variant = { name: text.trim(), ...b };
  for (const m of mods) {
    if (!(MODIFIERS as readonly string[]).includes(m)) throw new AblationError(`--variants: unknown modifier '+${m}' in '${text}' (use +qkr, +cga or +clamp)`);
    if (m === 'qkr') v.qkr = true;
    if (m === 'cga') v.cga = true;
    if (m === 'clamp') {
      if (v.weights !== 'lsq') throw new AblationError(`--variants: '+clamp' (the reference LSQ step) only applies to lsq, got '${text}'`);
      v.lsqClamp = true;
    }
  }
  return v;
}

/** A comma list of variants, each named once. */
export function parseVariants(list: string): Variant[] {
  const vs = list.split(',').filter((s) => s.trim()).map(parseVariant);
  if (vs.length === 0) throw new AblationError('--variants: give at least one variant, e.g. lsq,statsq,statsq+qkr,ofq');
  const seen = new Set<string>();
  for (const v of vs) {
    if (seen.has(v.name)) throw new AblationError(`--variants: '${v.name}' is listed twice`);
    seen.add(v.name);
  }
  return vs;
}

/** Integers from a comma list (bits, seeds), each checked by `check`. */
export function parseIntList(list: string, what: string, check: (n: number) => boolean, rule: string): number[] {
  const out = list.split(',').filter((s) => s.trim()).map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || !check(n))) {
    throw new AblationError(`${what}: expected a comma list of ${rule}, got '${list}'`);
  }
  if (new Set(out).size !== out.length) throw new AblationError(`${what}: '${list}' lists a value twice`);
  return out;
}

/**
 * The recipe of one run: the base recipe with this variant's quantizers at `bits` (weights and
 * activations), this seed, and the shared FP teacher's weights when they already exist.
 */
export function variantRecipe(base: Recipe, v: Variant, bits: number, seed: number, teacherWeights: string | null): Recipe {
  const r: Recipe = structuredClone(base);
  r.name = `${base.name}/${v.name}/w${bits}a${bits}/seed${seed}`;
  r.seed = seed;
  r.quant = { ...r.quant, weightBits: bits, actBits: bits, method: v.weights === 'lsq' ? 'lsq' : 'ofq', qkr: v.qkr, lsqStep: v.lsqClamp ? 'clamp' : 'abs' };
  r.stage2 = { ...r.stage2, cga: v.cga };
  if (teacherWeights) r.teacher = { ...r.teacher, weights: teacherWeights, naming: 'timm' };
  return r;
}
