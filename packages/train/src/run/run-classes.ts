// The class names an image-folder run saved (`<runDir>/classes.json`), for export and the report.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataError } from '../data/idx.js';

/** File name of a folder run's class names (index = label). */
export const RUN_CLASSES_FILE = 'classes.json';

/** The run's class names by label index, or null when the run has none (IDX datasets). */
export function readRunClasses(runDir: string): string[] | null {
  const path = join(runDir, RUN_CLASSES_FILE);
  if (!existsSync(path)) return null;
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DataError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(v) || !v.every((c) => typeof c === 'string')) throw new DataError(`${path}: expected a JSON list of class names`);
  return v;
}
