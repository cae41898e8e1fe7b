import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readSafetensors, writeSafetensors, toFloat32, type WritableEntry } from '@ofq/core';
import type { AdamWState } from '../optim/adamw.js';
import { CheckpointError } from '../errors.js';
import { configDiff, configHash } from './config-hash.js';
import { diskErrorCode, diskWriteError, fsyncDir, writeFileDurable } from './durable-fs.js';
import { faultPoint } from './fault-seam.js';
import { nonFiniteCount } from './finite-check.js';

export { CheckpointError };
/** Where a stage stands; everything needed to continue exactly. */
export interface TrainPosition {
  stage: string;
  /** Epoch being run (0-based within the stage). */
  epoch: number;
  /** Micro-batches of that epoch already consumed. */
  batchInEpoch: number;
  /** Optimizer steps taken in the stage. */
  step: number;
  bestTop1: number;
  bestEpoch: number;
  /** Epoch-level validation history [{epoch, top1, loss}]. */
  history: Array<{ epoch: number; valTop1: number; trainLoss: number; lr: number }>;
  rngState?: [number, number, number, number];
  /** Sum and count of the step losses of the current epoch so far (a mid-epoch resume continues them). */
  epochLossSum?: number;
  epochLossCount?: number;
  /** Non-tensor model state (e.g. whether an auto-sign LSQ became signed), by display name. */
  extra?: Record<string, unknown>;
  finished: boolean;
}

export interface Checkpoint {
  weights: Map<string, tf.Tensor>;
  optimizer: AdamWState | null;
  position: TrainPosition;
}

const STATE_FORMAT = 'ofq-train-checkpoint/1';

function entryOf(t: tf.Tensor): WritableEntry {
  return { shape: t.shape.slice(), data: t.dataSync() as Float32Array };
}

/** What `saveCheckpoint` stores besides tensors and position. */
export interface CheckpointMeta {
  /** The run's resolved config; its hash is checked when the checkpoint is loaded. */
  config: unknown;
  /** Byte length of each run log (by file name) when the checkpoint was taken: resume truncates to it. */
  logs?: Record<string, number>;
}

function writeCheckpointFiles(tmp: string, ck: Checkpoint, meta: CheckpointMeta): void {
  const w = new Map<string, WritableEntry>();
  for (const [k, t] of ck.weights) w.set(k, entryOf(t));
  writeFileDurable(join(tmp, 'weights.safetensors'), writeSafetensors(w, { format: 'pt' }));
  let optimizerStep: number | null = null;
  if (ck.optimizer) {
    const o = new Map<string, WritableEntry>();
    for (const [k, { m, v }] of ck.optimizer.moments) {
      o.set(`${k}/m`, entryOf(m));
      o.set(`${k}/v`, entryOf(v));
    }
    writeFileDurable(join(tmp, 'optimizer.safetensors'), writeSafetensors(o));
    optimizerStep = ck.optimizer.step;
  }
  const state = {
    format: STATE_FORMAT,
    savedAt: new Date().toISOString(),
    position: ck.position,
    optimizerStep,
    configHash: configHash(meta.config),
    logs: meta.logs ?? {},
    config: meta.config,
  };
  // Last: a folder with a state.json holds every file (each fsynced before it).
  writeFileDurable(join(tmp, 'state.json'), JSON.stringify(state, null, 2));
  fsyncDir(tmp);
}

/**
 * Saves a checkpoint directory atomically: everything is written and fsynced into `<dir>.tmp-<pid>/`,
 * then `<dir>` moves to `<dir>.old-<pid>`, the new folder takes its name, and the old one is removed.
 * A crash between the two renames leaves `<dir>.old-<pid>`, which `recoverCheckpoint` (run at every
 * start) puts back, so no reader ever sees a stage without its checkpoint. A refused write (full disk,
 * read-only, forbidden) removes the partial folder and says that the previous checkpoint is intact.
 */
export function saveCheckpoint(dir: string, ck: Checkpoint, meta: CheckpointMeta): void {
  const parent = dirname(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  const old = `${dir}.old-${process.pid}`;
  const hadPrevious = existsSync(dir);
  let moved = false;
  try {
    if (!existsSync(parent)) {
      mkdirSync(parent, { recursive: true });
      fsyncDir(dirname(parent));
    }
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    writeCheckpointFiles(tmp, ck, meta);
    faultPoint('checkpoint:written', dir);
    if (hadPrevious) {
      renameSync(dir, old);
      moved = true;
    }
    faultPoint('checkpoint:between-renames', dir);
    renameSync(tmp, dir);
    moved = false;
    fsyncDir(parent);
    faultPoint('checkpoint:renamed', dir);
    rmSync(old, { recursive: true, force: true });
  } catch (e) {
    if (moved && !existsSync(dir)) renameSync(old, dir);
    rmSync(tmp, { recursive: true, force: true });
    if (!diskErrorCode(e)) throw e;
    throw diskWriteError(e, tmp, hadPrevious ? `the previous checkpoint ${dir} is intact` : `no checkpoint of ${dir} was written yet`);
  }
}

/**
 * Repairs what a crash during `saveCheckpoint` can leave: `<dir>` missing with `<dir>.old-*` present
 * (killed between the renames) → the old checkpoint is put back; leftover `<dir>.tmp-*` / `<dir>.old-*`
 * folders are removed. Returns one line per repair (empty when there was nothing to do).
 */
export function recoverCheckpoint(dir: string): string[] {
  const parent = dirname(dir);
  if (!existsSync(parent)) return [];
  const base = basename(dir);
  const leftovers = readdirSync(parent).filter((n) => n.startsWith(`${base}.tmp-`) || n.startsWith(`${base}.old-`));
  if (!leftovers.length) return [];
  const notes: string[] = [];
  if (!existsSync(dir)) {
    const old = leftovers.find((n) => n.startsWith(`${base}.old-`) && existsSync(join(parent, n, 'state.json')));
    if (old) {
      renameSync(join(parent, old), dir);
      notes.push(`recovered ${dir} from ${old} (a save was interrupted between its renames)`);
    }
  }
  for (const n of leftovers) {
    if (!existsSync(join(parent, n))) continue;
    rmSync(join(parent, n), { recursive: true, force: true });
    notes.push(`removed the partial checkpoint ${join(parent, n)}`);
  }
  fsyncDir(parent);
  return notes;
}

function readTensors(path: string): Map<string, tf.Tensor> {
  let file;
  try {
    // A plain copy: small Node Buffers live in a shared pool, and the reader slices `.buffer`.
    file = readSafetensors(new Uint8Array(readFileSync(path)));
  } catch (e) {
    throw new CheckpointError(`corrupt checkpoint file ${path}: ${(e as Error).message}`);
  }
  const out = new Map<string, tf.Tensor>();
  for (const [k, e] of file.tensors) {
    const data = toFloat32(e);
    const bad = nonFiniteCount(data);
    if (bad) {
      tf.dispose([...out.values()]);
      throw new CheckpointError(`${path}: tensor '${k}' holds ${bad} NaN/Inf value${bad > 1 ? 's' : ''} of ${data.length}`);
    }
    out.set(k, tf.tensor(data, e.shape, 'float32'));
  }
  return out;
}

interface StoredState {
  format?: string;
  position?: TrainPosition;
  optimizerStep?: number | null;
  configHash?: string;
  logs?: Record<string, number>;
  config?: unknown;
}

/** Reads and checks `<dir>/state.json` only (no tensors): position, log lengths and config. */
export function readCheckpointState(dir: string): StoredState & { position: TrainPosition } {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new CheckpointError(`no checkpoint at ${dir} (state.json missing)`);
  let state: StoredState;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`corrupt checkpoint file ${statePath}: ${(e as Error).message}`);
  }
  if (state.format !== STATE_FORMAT || !state.position || typeof state.position.epoch !== 'number') {
    throw new CheckpointError(`corrupt checkpoint file ${statePath}: not an ${STATE_FORMAT} state`);
  }
  return state as StoredState & { position: TrainPosition };
}

/** Refuses a checkpoint saved under another config, naming the fields that differ. */
function checkConfig(dir: string, state: StoredState, expected: unknown): void {
  const stored = state.configHash ?? configHash(state.config);
  if (stored === configHash(expected)) return;
  const fields = configDiff(state.config, expected);
  throw new CheckpointError(
    `checkpoint ${dir} was saved under a different config than config.json: ${fields.length ? `fields differ: ${fields.join(', ')}` : 'config hash differs'}. ` +
      'Restore the original config.json, or start a new run with another --out',
  );
}

export interface LoadCheckpointOptions {
  /** The run's config: a checkpoint saved under another one is refused (CheckpointError naming the fields). */
  config?: unknown;
}

/** Loads a checkpoint directory; a missing, damaged or non-finite file is a CheckpointError naming it. */
export function loadCheckpoint(dir: string, o: LoadCheckpointOptions = {}): Checkpoint & { config: unknown } {
  const state = readCheckpointState(dir);
  if (o.config !== undefined) checkConfig(dir, state, o.config);
  const weightsPath = join(dir, 'weights.safetensors');
  if (!existsSync(weightsPath)) throw new CheckpointError(`checkpoint ${dir} has no weights.safetensors`);
  const weights = readTensors(weightsPath);
  let optimizer: AdamWState | null = null;
  if (state.optimizerStep != null) {
    const optPath = join(dir, 'optimizer.safetensors');
    if (!existsSync(optPath)) {
      tf.dispose([...weights.values()]);
      throw new CheckpointError(`checkpoint ${dir} has no optimizer.safetensors`);
    }
    let flat: Map<string, tf.Tensor>;
    try {
      flat = readTensors(optPath);
    } catch (e) {
      tf.dispose([...weights.values()]);
      throw e;
    }
    const moments = new Map<string, { m: tf.Tensor; v: tf.Tensor }>();
    for (const [k, t] of flat) {
      const name = k.slice(0, k.lastIndexOf('/'));
      const which = k.slice(k.lastIndexOf('/') + 1) as 'm' | 'v';
      const slot = moments.get(name) ?? ({} as { m: tf.Tensor; v: tf.Tensor });
      slot[which] = t;
      moments.set(name, slot);
    }
    optimizer = { step: state.optimizerStep, moments };
  }
  return { weights, optimizer, position: state.position, config: state.config };
}

export function disposeCheckpoint(ck: Pick<Checkpoint, 'weights' | 'optimizer'>): void {
  tf.dispose([...ck.weights.values()]);
  if (ck.optimizer) for (const { m, v } of ck.optimizer.moments.values()) tf.dispose([m, v]);
}
