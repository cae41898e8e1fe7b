import { existsSync, readFileSync, renameSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncFile } from './durable-fs.js';

/** The append-only logs of a run directory (JSON Lines): the teacher's and the student's. */
export const RUN_LOGS = ['train-log.jsonl', 'metrics.jsonl'] as const;

/** Where RecorderSink parks metrics.jsonl while @ofq/metrics' recorder starts its file (see there). */
export const METRICS_ASIDE = 'metrics.jsonl.resume';

/** fsyncs each run log and returns its byte length (recorded in every checkpoint). */
export function logLengths(runDir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of RUN_LOGS) {
    const path = join(runDir, name);
    if (!existsSync(path)) continue;
    fsyncFile(path);
    out[name] = statSync(path).size;
  }
  return out;
}

/**
 * Cuts a JSON Lines log back to `length` bytes (what it held at the checkpoint being resumed, so no
 * record after it is duplicated by the replay) and, within that, to its last complete line (a torn
 * record from a crash). Returns a note when it removed something.
 */
export function repairLog(path: string, length?: number): string | null {
  if (!existsSync(path)) return null;
  const size = statSync(path).size;
  let cut = Math.min(size, length ?? size);
  if (cut > 0) {
    const bytes = readFileSync(path).subarray(0, cut);
    cut = bytes.lastIndexOf(0x0a) + 1;
  }
  if (cut === size) return null;
  truncateSync(path, cut);
  fsyncFile(path);
  return `${path}: kept ${cut} of ${size} bytes (records after the checkpoint or a torn last line)`;
}

/** Puts back a metrics log that a crash left parked aside (see RecorderSink). */
export function recoverParkedMetrics(runDir: string): string | null {
  const aside = join(runDir, METRICS_ASIDE);
  if (!existsSync(aside)) return null;
  renameSync(aside, join(runDir, 'metrics.jsonl'));
  return `recovered ${join(runDir, 'metrics.jsonl')} from ${aside}`;
}
