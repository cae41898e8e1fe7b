import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { RecipeSchema, type Recipe } from './schema.js';

export class RecipeError extends Error {
  override name = 'RecipeError';
}

/** The shipped `recipes/` folder (works from src/ and from dist/). */
export function recipesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'recipes');
    if (existsSync(join(candidate, 'mnist-micro.yaml'))) return candidate;
    dir = dirname(dir);
  }
  throw new RecipeError('cannot find the shipped recipes/ folder of @ofq/train');
}

/** Names of the shipped recipes. */
export function listRecipes(): string[] {
  return readdirSync(recipesDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

/** Reads a recipe by shipped name or file path (.yaml/.yml/.json), unvalidated. */
export function readRecipeSource(nameOrFile: string): { raw: unknown; source: string } {
  let path: string;
  if (/[\\/]/.test(nameOrFile) || /\.(ya?ml|json)$/.test(nameOrFile)) {
    path = resolve(nameOrFile);
    if (!existsSync(path)) throw new RecipeError(`recipe file not found: ${path}`);
  } else {
    path = join(recipesDir(), `${nameOrFile}.yaml`);
    if (!existsSync(path)) {
      throw new RecipeError(`unknown recipe '${nameOrFile}'; shipped recipes: ${listRecipes().join(', ')} (or pass a .yaml/.json file)`);
    }
  }
  const text = readFileSync(path, 'utf8');
  try {
    return { raw: extname(path) === '.json' ? JSON.parse(text) : parseYaml(text), source: path };
  } catch (e) {
    throw new RecipeError(`${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
}

/** Applies `key.path=value` overrides; values are parsed as YAML scalars (numbers, booleans, null, strings, [lists]). */
export function applyOverrides(raw: unknown, sets: string[]): unknown {
  const root = structuredClone(raw) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new RecipeError(`--set expects key=value, got '${s}'`);
    const key = s.slice(0, eq).trim();
    const value = parseYaml(s.slice(eq + 1));
    const parts = key.split('.');
    let node: Record<string, unknown> = root;
    for (const p of parts.slice(0, -1)) {
      const next = node[p];
      if (next === undefined || next === null) node[p] = {};
      else if (typeof next !== 'object' || Array.isArray(next)) throw new RecipeError(`--set ${key}: '${p}' is not a section`);
      node = node[p] as Record<string, unknown>;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return root;
}

/** Validates with the schema; errors name every bad field with its dotted path. */
export function validateRecipe(raw: unknown, source = 'recipe'): Recipe {
  const r = RecipeSchema.safeParse(raw);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => {
    const path = i.path.length ? i.path.join('.') : '(root)';
    const keys = (i as { keys?: string[] }).keys;
    if (i.code === 'unrecognized_keys' && keys) {
      return `  ${keys.map((k) => (i.path.length ? `${path}.${k}` : k)).join(', ')}: unknown field`;
    }
    return `  ${path}: ${i.message}`;
  });
  throw new RecipeError(`invalid recipe ${source}:\n${lines.join('\n')}`);
}

/** Shipped name or file → overrides → validated recipe. */
export function loadRecipe(nameOrFile: string, sets: string[] = []): Recipe {
  const { raw, source } = readRecipeSource(nameOrFile);
  return validateRecipe(applyOverrides(raw, sets), sets.length ? `${source} with --set ${sets.join(' ')}` : source);
}
