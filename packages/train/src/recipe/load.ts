import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, resolve, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { RecipeSchema, type Recipe } from './schema.js';
import { RecipeError } from '../errors.js';

export { RecipeError };

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
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RecipeError(`cannot read recipe ${path}: ${(e as NodeJS.ErrnoException).code === 'EISDIR' ? 'it is a directory, not a file' : (e as Error).message}`);
  }
  try {
    return { raw: extname(path) === '.json' ? JSON.parse(text) : parseYaml(text), source: path };
  } catch (e) {
    throw new RecipeError(`${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function parseSetValue(key: string, text: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new RecipeError(`--set ${key}: the value '${text}' is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** Applies `key.path=value` overrides; values are parsed as YAML scalars (numbers, booleans, null, strings, [lists]). */
export function applyOverrides(raw: unknown, sets: string[]): unknown {
  // A non-mapping recipe (empty file, a list) is reported by validateRecipe; overrides start from {}.
  const root = (raw && typeof raw === 'object' && !Array.isArray(raw) ? structuredClone(raw) : {}) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new RecipeError(`--set expects key=value, got '${s}'`);
    const key = s.slice(0, eq).trim();
    const parts = key.split('.');
    const bad = parts.find((p) => p === '' || FORBIDDEN_KEYS.has(p));
    if (bad !== undefined) throw new RecipeError(`--set ${key}: '${bad}' is not a recipe field name`);
    const value = parseSetValue(key, s.slice(eq + 1));
    let node: Record<string, unknown> = root;
    for (const p of parts.slice(0, -1)) {
      const next = Object.hasOwn(node, p) ? node[p] : undefined;
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
