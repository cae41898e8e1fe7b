import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Fields that hold wall-clock time or speed, not results: left out of the comparison. */
const CLOCK_FIELDS = new Set(['time', 't', 'trackMs', 'imagesPerSec', 'seconds', 'timings']);

/**
 * Fields of @ofq/metrics' per-layer statistics (oscillation EMAs, flip counters, aggregate cadence):
 * the recorder keeps them in memory only, so they restart at a resume. Left out, and said so in the README.
 */
const RECORDER_STATE_FIELDS = new Set(['layers']);

export const COMPARED_FILES = ['weights.safetensors', 'optimizer.safetensors'].flatMap((f) =>
  ['teacher', 'stage1', 'stage2'].flatMap((s) => ['best', 'last'].map((w) => `${s}/${w}/${f}`)),
);

function strip(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(strip);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => !CLOCK_FIELDS.has(k) && !RECORDER_STATE_FIELDS.has(k))
        .map(([k, x]) => [k, strip(x)]),
    );
  }
  return v;
}

/** The records of a JSON Lines log as comparable text lines (clock fields removed); a torn line is kept as is. */
export function logRecords(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.length)
    .map((l) => {
      try {
        return JSON.stringify(strip(JSON.parse(l)));
      } catch {
        return `TORN ${l}`;
      }
    });
}

/**
 * Differences between a run and the uninterrupted reference: checkpoint weights and optimizer state
 * byte for byte, summary.json and every log record (clock fields aside), step records never repeated.
 */
export function compareRuns(reference: string, run: string): string[] {
  const diffs: string[] = [];
  for (const f of COMPARED_FILES) {
    const a = join(reference, f);
    const b = join(run, f);
    if (existsSync(a) !== existsSync(b)) diffs.push(`${f}: present in only one run`);
    else if (existsSync(a) && !readFileSync(a).equals(readFileSync(b))) diffs.push(`${f}: bytes differ`);
  }
  const summary = (d: string) => (existsSync(join(d, 'summary.json')) ? JSON.stringify(strip(JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')))) : 'missing');
  if (summary(reference) !== summary(run)) diffs.push(`summary.json differs: ${summary(run)} vs ${summary(reference)}`);
  for (const log of ['train-log.jsonl', 'metrics.jsonl']) {
    const a = logRecords(join(reference, log));
    const b = logRecords(join(run, log));
    if (a.length !== b.length) diffs.push(`${log}: ${b.length} records vs ${a.length}`);
    const first = a.findIndex((l, i) => l !== b[i]);
    if (first >= 0) diffs.push(`${log}: record ${first + 1} differs: ${b[first]} vs ${l(a[first])}`);
  }
  return diffs;
}

const l = (s: string | undefined) => s ?? '(none)';
