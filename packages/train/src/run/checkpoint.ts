import * as tf from '@tensorflow/tfjs-core';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readSafetensors, writeSafetensors, toFloat32, type WritableEntry } from '@ofq/core';
import type { AdamWState } from '../optim/adamw.js';

export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

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

/** Writes bytes atomically: temp file in the same directory, fsync'ed by writeFileSync, then rename. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Saves a checkpoint directory atomically: everything is written to `<dir>.tmp-<pid>/`, then that
 * folder replaces `<dir>` by rename, so a crash at any point leaves either the old or the new
 * checkpoint, never a mix. Files: weights.safetensors, optimizer.safetensors (AdamW moments m/v by
 * parameter name), state.json (position, RNG state, step counters, config).
 */
export function saveCheckpoint(dir: string, ck: Checkpoint, config: unknown): void {
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const w = new Map<string, WritableEntry>();
  for (const [k, t] of ck.weights) w.set(k, entryOf(t));
  writeFileSync(join(tmp, 'weights.safetensors'), writeSafetensors(w, { format: 'pt' }));
  let optimizerStep: number | null = null;
  if (ck.optimizer) {
    const o = new Map<string, WritableEntry>();
    for (const [k, { m, v }] of ck.optimizer.moments) {
      o.set(`${k}/m`, entryOf(m));
      o.set(`${k}/v`, entryOf(v));
    }
    writeFileSync(join(tmp, 'optimizer.safetensors'), writeSafetensors(o));
    optimizerStep = ck.optimizer.step;
  }
  const state = { format: STATE_FORMAT, savedAt: new Date().toISOString(), position: ck.position, optimizerStep, config };
  writeFileSync(join(tmp, 'state.json'), JSON.stringify(state, null, 2));
  const old = `${dir}.old-${process.pid}`;
  if (existsSync(dir)) renameSync(dir, old);
  renameSync(tmp, dir);
  rmSync(old, { recursive: true, force: true });
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
  for (const [k, e] of file.tensors) out.set(k, tf.tensor(toFloat32(e), e.shape, 'float32'));
  return out;
}

/** Loads a checkpoint directory; a missing or damaged file is a CheckpointError naming it. */
export function loadCheckpoint(dir: string): Checkpoint & { config: unknown } {
  const statePath = join(dir, 'state.json');
  if (!existsSync(statePath)) throw new CheckpointError(`no checkpoint at ${dir} (state.json missing)`);
  let state: { format?: string; position?: TrainPosition; optimizerStep?: number | null; config?: unknown };
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8'));
  } catch (e) {
    throw new CheckpointError(`corrupt checkpoint file ${statePath}: ${(e as Error).message}`);
  }
  if (state.format !== STATE_FORMAT || !state.position || typeof state.position.epoch !== 'number') {
    throw new CheckpointError(`corrupt checkpoint file ${statePath}: not an ${STATE_FORMAT} state`);
  }
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
