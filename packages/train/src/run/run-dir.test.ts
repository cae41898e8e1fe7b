import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '@ofq/core/testing';
import { writeSafetensors } from '@ofq/core';
import { loadRecipe } from '../recipe/load.js';
import { CheckpointError, DataError, DiskWriteError, RecipeError, RunDirError } from '../errors.js';
import { disposeCheckpoint, loadCheckpoint, recoverCheckpoint, saveCheckpoint, type Checkpoint } from './checkpoint.js';
import { configDiff } from './config-hash.js';
import { resetFaultSeam } from './fault-seam.js';
import { acquireRunLock } from './run-lock.js';
import { repairLog } from './run-logs.js';
import { repairRunDir } from './run-dir.js';
import { train } from './pipeline.js';
import { loadData } from './data.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `ofq-${p}-`));

function tinyCheckpoint(value: number): Checkpoint {
  return {
    weights: new Map([['w', tf.fill([2, 3], value)]]),
    optimizer: { step: 1, moments: new Map([['w', { m: tf.zeros([2, 3]), v: tf.ones([2, 3]) }]]) },
    position: { stage: 's', epoch: 0, batchInEpoch: 0, step: value, bestTop1: 0, bestEpoch: 0, history: [], finished: false },
  };
}

function save(dir: string, value: number, config: unknown = { seed: 1 }): void {
  const ck = tinyCheckpoint(value);
  try {
    saveCheckpoint(dir, ck, { config });
  } finally {
    disposeCheckpoint(ck);
  }
}

function stepOf(dir: string): number {
  const ck = loadCheckpoint(dir);
  disposeCheckpoint(ck);
  return ck.position.step;
}

describe('checkpoint replacement [cpu]', () => {
  beforeAll(() => useBackend('cpu'));
  afterEach(() => {
    delete process.env.OFQ_FAULT;
    resetFaultSeam();
  });

  it('a crash between the two renames is recovered from .old; leftover .tmp folders are removed', () => {
    const root = tmp('ck-recover');
    const dir = join(root, 'last');
    save(dir, 1);
    // The state a kill between the renames leaves: `last` moved to `last.old-<pid>`, the new one still `.tmp`.
    spawnSync('mv', [dir, `${dir}.old-4242`]);
    mkdirSync(`${dir}.tmp-4242`);
    writeFileSync(join(`${dir}.tmp-4242`, 'weights.safetensors'), 'partial');
    const notes = recoverCheckpoint(dir);
    expect(notes.join('\n')).toMatch(/recovered .*last from last\.old-4242/);
    expect(stepOf(dir)).toBe(1);
    expect(readdirSync(root)).toEqual(['last']);
    expect(recoverCheckpoint(dir)).toEqual([]);
  });

  it('a refused write (ENOSPC, EROFS, EACCES) names the path, keeps the previous checkpoint, leaves no .tmp', () => {
    for (const code of ['ENOSPC', 'EROFS', 'EACCES']) {
      const root = tmp('ck-full');
      const dir = join(root, 'last');
      save(dir, 1);
      process.env.OFQ_FAULT = `write=${code}`;
      resetFaultSeam();
      expect(() => save(dir, 2)).toThrow(DiskWriteError);
      resetFaultSeam();
      expect(() => save(dir, 2)).toThrow(new RegExp(`^cannot write ${dir}\\.tmp-\\d+/weights\\.safetensors: .* \\(${code}\\); the previous checkpoint ${dir} is intact$`));
      delete process.env.OFQ_FAULT;
      expect(stepOf(dir)).toBe(1);
      expect(readdirSync(root)).toEqual(['last']);
    }
  });

  it('a fault between the renames puts the previous checkpoint back', () => {
    const root = tmp('ck-between');
    const dir = join(root, 'last');
    save(dir, 1);
    process.env.OFQ_FAULT = 'checkpoint:between-renames=EROFS';
    expect(() => save(dir, 2)).toThrow(/previous checkpoint .* is intact/);
    expect(stepOf(dir)).toBe(1);
    expect(readdirSync(root)).toEqual(['last']);
  });

  it('a checkpoint saved under another config is refused, naming the fields that differ', () => {
    const dir = join(tmp('ck-config'), 'last');
    save(dir, 1, { seed: 1, stage1: { lr: 0.002, epochs: 2 } });
    expect(() => loadCheckpoint(dir, { config: { seed: 1, stage1: { lr: 0.003, epochs: 2 } } })).toThrow(CheckpointError);
    expect(() => loadCheckpoint(dir, { config: { seed: 7, stage1: { lr: 0.003, epochs: 2 } } })).toThrow(/different config .*fields differ: seed, stage1\.lr/);
    const ck = loadCheckpoint(dir, { config: { stage1: { epochs: 2, lr: 0.002 }, seed: 1 } }); // key order does not matter
    disposeCheckpoint(ck);
    expect(configDiff({ a: [1, 2], b: { c: 1 } }, { a: [1, 3], b: {} })).toEqual(['a', 'b.c']);
  });

  it('NaN/Inf in a checkpoint is an error naming the file and tensor', () => {
    const dir = join(tmp('ck-nan'), 'last');
    save(dir, 1);
    const bad = new Float32Array([1, 2, NaN, 4, Infinity, 6]);
    writeFileSync(join(dir, 'weights.safetensors'), writeSafetensors(new Map([['w', { shape: [2, 3], data: bad }]])));
    expect(() => loadCheckpoint(dir)).toThrow(/weights\.safetensors: tensor 'w' holds 2 NaN\/Inf values of 6/);
  });
});

describe('run lock', () => {
  it('a live holder is refused with its pid; a dead holder is taken over with a message', async () => {
    const dir = tmp('lock');
    const sleeper = spawn('sleep', ['30']);
    writeFileSync(join(dir, 'run.lock'), JSON.stringify({ pid: sleeper.pid }));
    expect(() => acquireRunLock(dir, 'train', () => undefined)).toThrow(RunDirError);
    expect(() => acquireRunLock(dir, 'train', () => undefined)).toThrow(new RegExp(`in use by process ${sleeper.pid}`));
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper.on('exit', r));
    const lines: string[] = [];
    const lock = acquireRunLock(dir, 'train', (l) => lines.push(l));
    expect(lines.join('\n')).toMatch(new RegExp(`stale lock .* of process ${sleeper.pid}, which is no longer running`));
    expect(JSON.parse(readFileSync(join(dir, 'run.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
    expect(existsSync(join(dir, 'run.lock'))).toBe(false);
  });
});

describe('run logs', () => {
  it('cut back to the checkpoint length and to the last complete record', () => {
    const dir = tmp('logs');
    const p = join(dir, 'metrics.jsonl');
    const a = '{"step":1}\n';
    const b = '{"step":2}\n';
    writeFileSync(p, a + b + '{"step":3,"lo');
    expect(repairLog(p)).toMatch(/kept 22 of/);
    expect(readFileSync(p, 'utf8')).toBe(a + b);
    expect(repairLog(p, a.length)).not.toBeNull();
    expect(readFileSync(p, 'utf8')).toBe(a);
    expect(repairLog(p, 1000)).toBeNull();
    writeFileSync(p, '{"torn');
    repairLog(p);
    expect(readFileSync(p, 'utf8')).toBe('');
  });

  it('repairRunDir puts back a parked metrics log and truncates to the newest checkpoint', () => {
    const dir = tmp('repair');
    writeFileSync(join(dir, 'metrics.jsonl.resume'), '{"step":1}\n{"step":2}\n');
    writeFileSync(join(dir, 'metrics.jsonl'), '');
    writeFileSync(join(dir, 'train-log.jsonl'), '{"a":1}\n');
    writeFileSync(join(dir, 'run.json.tmp-4242'), '{"par');
    const notes: string[] = [];
    repairRunDir(dir, (l) => notes.push(l));
    // No checkpoint at all: the restart replays from step 0, so no record survives.
    expect(readFileSync(join(dir, 'metrics.jsonl'), 'utf8')).toBe('');
    expect(readFileSync(join(dir, 'train-log.jsonl'), 'utf8')).toBe('');
    expect(existsSync(join(dir, 'metrics.jsonl.resume'))).toBe(false);
    expect(existsSync(join(dir, 'run.json.tmp-4242'))).toBe(false);
    expect(notes.join('\n')).toMatch(/recovered .*metrics\.jsonl from/);
  });
});

describe('train refusals', () => {
  const sets = ['data.trainSubset=100', 'data.valSize=20', 'data.testSubset=20'];
  it('--out onto a directory that holds a run', async () => {
    const dir = tmp('out-exists');
    writeFileSync(join(dir, 'config.json'), '{}');
    await expect(train({ recipe: loadRecipe('mnist-micro', sets), outDir: dir, quiet: true })).rejects.toThrow(
      new RegExp(`${dir} already holds a run \\(config\\.json\\); continue it with --resume ${dir}, or choose another --out`),
    );
  });
  it('labels outside [0, numClasses) and a numClasses mismatch, before training', () => {
    expect(() => loadData(loadRecipe('mnist-micro', [...sets, 'model.numClasses=5']))).toThrow(DataError);
    expect(() => loadData(loadRecipe('mnist-micro', [...sets, 'model.numClasses=5']))).toThrow(/has label 9, outside \[0, 5\) of model\.numClasses = 5/);
    expect(() => loadData(loadRecipe('mnist-micro', [...sets, 'model.numClasses=20']))).toThrow(/model\.numClasses is 20 but .* has 10 classes/);
    expect(() => loadData(loadRecipe('mnist-micro', ['data.trainSubset=100', 'data.valSize=100']))).toThrow(/data\.valSize \(100\) leaves no training images/);
  });
  it('schema: data.std 0, epochs 0; --set __proto__ / constructor / prototype', () => {
    expect(() => loadRecipe('mnist-micro', ['data.std=[0]'])).toThrow(/data\.std\.0: must be > 0/);
    expect(() => loadRecipe('mnist-micro', ['stage1.epochs=0'])).toThrow(/stage1\.epochs: /);
    expect(() => loadRecipe('mnist-micro', ['teacher.train.epochs=0'])).toThrow(/teacher\.train\.epochs: /);
    expect(() => loadRecipe('mnist-micro', ['stage2.epochs=0'])).toThrow(/stage2\.epochs: /);
    for (const k of ['__proto__.polluted', 'a.constructor.x', 'stage1.prototype']) {
      expect(() => loadRecipe('mnist-micro', [`${k}=1`])).toThrow(RecipeError);
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => loadRecipe('mnist-micro', ['stage1.lr=[1,'])).toThrow(/--set stage1\.lr: the value '\[1,' is not valid YAML/);
    expect(() => loadRecipe(tmpdir() + '/')).toThrow(/it is a directory, not a file|recipe file not found/);
  });
  it('NaN in the FP teacher weights: error naming the file and tensor', async () => {
    const dir = tmp('nan-weights');
    const file = join(dir, 'teacher.safetensors');
    writeFileSync(file, writeSafetensors(new Map([['cls_token', { shape: [1, 1, 2], data: new Float32Array([0, NaN]) }]])));
    const recipe = loadRecipe('mnist-micro', [...sets, `teacher.weights=${file}`]);
    await expect(train({ recipe, outDir: join(dir, 'run'), quiet: true, report: false })).rejects.toThrow(
      new RegExp(`${file} \\(teacher\\.weights\\): tensor 'cls_token' holds 1 NaN/Inf value of 2`),
    );
  });
});
