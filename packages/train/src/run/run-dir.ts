import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RunDirError } from '../errors.js';
import { validateRecipe } from '../recipe/load.js';
import type { Recipe } from '../recipe/schema.js';
import { readCheckpointState, recoverCheckpoint } from './checkpoint.js';
import { writeFileAtomic } from './durable-fs.js';
import { acquireRunLock, type RunLock } from './run-lock.js';
import { RUN_LOGS, recoverParkedMetrics, repairLog } from './run-logs.js';

/** The stages that keep checkpoints, in run order. */
export const STAGE_DIRS = ['teacher', 'stage1', 'stage2'] as const;

const RUN_MARKERS = ['config.json', 'run.json', 'summary.json', ...STAGE_DIRS];

export interface OpenRunDirOptions {
  /** A fresh run: the recipe and `outDir` (default `runs/<recipe>-<timestamp>`). */
  recipe?: Recipe;
  outDir?: string;
  /** Or continue the run in this directory. */
  resume?: string;
  log: (line: string) => void;
}

export interface RunDir {
  dir: string;
  recipe: Recipe;
  lock: RunLock;
  resumed: boolean;
}

/** Reads and validates `<runDir>/config.json` (RunDirError when the folder is not a run). */
export function readRunConfig(runDir: string, what: string): Recipe {
  const cfgPath = join(runDir, 'config.json');
  if (!existsSync(cfgPath)) throw new RunDirError(`${what}: ${cfgPath} not found (is ${runDir} a run directory?)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(cfgPath, 'utf8'));
  } catch (e) {
    throw new RunDirError(`${cfgPath}: not valid JSON: ${(e as Error).message}`);
  }
  return validateRecipe(raw, cfgPath);
}

/**
 * Repairs what a crash can leave in a run directory, so that the resume sees one consistent state:
 * interrupted checkpoint swaps (recoverCheckpoint), a metrics log parked aside, and the logs cut back
 * to their length at the newest `last` checkpoint (the replay re-records what came after it).
 */
/** Removes the temp files of interrupted atomic writes (`config.json.tmp-<pid>`, …) of dead processes. */
function removeStaleTempFiles(runDir: string, log: (line: string) => void): void {
  for (const name of readdirSync(runDir)) {
    const m = /\.tmp-(\d+)$/.exec(name);
    if (!m || Number(m[1]) === process.pid) continue;
    rmSync(join(runDir, name), { recursive: true, force: true });
    log(`removed the partial file ${join(runDir, name)}`);
  }
}

export function repairRunDir(runDir: string, log: (line: string) => void): void {
  removeStaleTempFiles(runDir, log);
  for (const s of STAGE_DIRS) for (const which of ['last', 'best']) for (const n of recoverCheckpoint(join(runDir, s, which))) log(n);
  const parked = recoverParkedMetrics(runDir);
  if (parked) log(parked);
  const newest = [...STAGE_DIRS].reverse().find((s) => existsSync(join(runDir, s, 'last', 'state.json')));
  const lengths: Record<string, number> = newest ? (readCheckpointState(join(runDir, newest, 'last')).logs ?? {}) : {};
  for (const name of RUN_LOGS) {
    // No checkpoint yet: nothing of the log survives the restart from step 0.
    const note = repairLog(join(runDir, name), newest ? lengths[name] ?? 0 : 0);
    if (note) log(note);
  }
}

/**
 * Opens the run directory of `train`: a fresh one (refused when it already holds a run) or the one to
 * resume (its config.json is the config). Either way this process holds its lock until `lock.release()`.
 */
export function openRunDir(o: OpenRunDirOptions): RunDir {
  if (o.resume) {
    const dir = resolve(o.resume);
    const recipe = readRunConfig(dir, 'cannot resume');
    const lock = acquireRunLock(dir, 'train --resume', o.log);
    try {
      repairRunDir(dir, o.log);
    } catch (e) {
      lock.release();
      throw e;
    }
    o.log(`resuming ${dir}`);
    return { dir, recipe, lock, resumed: true };
  }
  if (!o.recipe) throw new TypeError('train: pass a recipe or resume');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  const dir = resolve(o.outDir ?? join('runs', `${o.recipe.name}-${stamp}`));
  const existing = RUN_MARKERS.find((m) => existsSync(join(dir, m)));
  if (existing) {
    throw new RunDirError(
      `${dir} already holds a run (${existing}); continue it with --resume ${dir}, or choose another --out`,
      'E_RUN_EXISTS',
    );
  }
  mkdirSync(dir, { recursive: true });
  const lock = acquireRunLock(dir, 'train', o.log);
  // Re-check under the lock: another process may have started a run here in the meantime.
  if (RUN_MARKERS.some((m) => existsSync(join(dir, m)))) {
    lock.release();
    throw new RunDirError(`${dir} already holds a run; continue it with --resume ${dir}, or choose another --out`, 'E_RUN_EXISTS');
  }
  removeStaleTempFiles(dir, o.log); // a fresh run killed before its config.json was in place
  writeFileAtomic(join(dir, 'config.json'), JSON.stringify(o.recipe, null, 2));
  return { dir, recipe: o.recipe, lock, resumed: false };
}

