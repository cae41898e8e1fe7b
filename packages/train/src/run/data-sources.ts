import { FolderLoader, scanImageNetFolder, type FolderLoaderOptions, type ImageFolder } from '@ofq/data';
import { join, resolve } from 'node:path';
import type { Recipe } from '../recipe/schema.js';
import { BatchLoader, type Batch, type BatchSource } from '../data/batches.js';
import { DataError } from '../data/idx.js';
import { Rng } from '../data/rng.js';
import { loadData } from './data.js';

/** Everything a run reads: train batches (per batch size), validation, test, and the LSQ init batch. */
export interface DataSources {
  /** One line for the log. */
  summary: string;
  /** Class names by index for image folders (saved with the run); null for IDX sets. */
  classes: string[] | null;
  trainCount: number;
  valCount: number;
  testCount: number;
  train(batchSize: number): BatchSource;
  val: BatchSource;
  test: BatchSource;
  /** A training batch of n images for the activation-step initialisation. */
  initBatch(n: number): Promise<Batch>;
  /** Files replaced by skipCorrupt so far. */
  skipped(): string[];
  close(): Promise<void>;
}

/** The recipe's data: in-memory IDX sets, or an ImageNet-format folder read through @ofq/data. */
export function openData(recipe: Recipe): DataSources {
  return recipe.data.dataset === 'imagenet' || recipe.data.dataset === 'folder' ? openFolderData(recipe) : openIdxData(recipe);
}

function openIdxData(recipe: Recipe): DataSources {
  const data = loadData(recipe);
  const evalLoader = (ds: typeof data.val) => new BatchLoader(ds, { batchSize: recipe.eval.batchSize, shuffle: false, seed: recipe.seed });
  return {
    summary: `${data.train.count} train / ${data.val.count} val / ${data.test.count} test images (${recipe.data.dataset})`,
    classes: null,
    trainCount: data.train.count,
    valCount: data.val.count,
    testCount: data.test.count,
    train: (batchSize) => new BatchLoader(data.train, { batchSize, shuffle: true, seed: recipe.seed, dropLast: true }),
    val: evalLoader(data.val),
    test: evalLoader(data.test),
    initBatch: async (n) => {
      const init = new BatchLoader(data.train, { batchSize: Math.min(n, data.train.count), shuffle: true, seed: recipe.seed });
      return init.batch(init.order(0), 0);
    },
    skipped: () => [],
    close: async () => {},
  };
}

/** Rows `indices` of a folder (sorted, so class order is kept). */
function subset(f: ImageFolder, indices: number[]): ImageFolder {
  const idx = [...indices].sort((a, b) => a - b);
  return { ...f, paths: idx.map((i) => f.paths[i]!), labels: Int32Array.from(idx, (i) => f.labels[i]!) };
}

/** A seeded random n of a folder's images (a folder is sorted by class, so "the first n" would be one class). */
function sample(f: ImageFolder, n: number, seed: number): { picked: ImageFolder; rest: ImageFolder } {
  if (n <= 0 || n >= f.paths.length) return { picked: f, rest: subset(f, []) };
  const perm = new Rng(seed).shuffle(Array.from({ length: f.paths.length }, (_, i) => i));
  return { picked: subset(f, perm.slice(0, n)), rest: subset(f, perm.slice(n)) };
}

/** FolderLoader as a BatchSource; closes with the data. */
export class FolderSource implements BatchSource {
  constructor(readonly loader: FolderLoader) {}
  get numBatches(): number {
    return this.loader.numBatches(0);
  }
  get batchSize(): number {
    return this.loader.options.batchSize;
  }
  epoch(epoch: number, from = 0): AsyncIterable<Batch> {
    return this.loader.epoch(epoch, from);
  }
}

function folderOptions(recipe: Recipe): { train: Omit<FolderLoaderOptions, 'batchSize'>; eval: Omit<FolderLoaderOptions, 'batchSize'> } {
  const d = recipe.data;
  const a = recipe.stage1.augmentation;
  const size = recipe.model.imgSize;
  if (a.mixupMode !== 'batch' && (a.mixup > 0 || a.cutmix > 0)) {
    throw new DataError(`stage1.augmentation.mixupMode '${a.mixupMode}' is not supported for image folders (only 'batch', which OFQ uses)`);
  }
  const common = {
    seed: recipe.seed,
    normalize: { mean: d.mean ?? undefined, std: d.std ?? undefined, formula: d.normalize },
    workers: d.workers ?? undefined,
    prefetch: d.prefetch,
    skipCorrupt: d.skipCorrupt,
    numClasses: recipe.model.numClasses,
  };
  const fill = (d.mean ?? [0.485, 0.456, 0.406]).map((m) => Math.round(255 * m)) as [number, number, number];
  return {
    train: {
      ...common,
      mode: 'train',
      dropLast: true,
      train: { imgSize: size, scale: d.scale, ratio: d.ratio, interpolation: d.trainInterpolation, hflip: a.hflip, randAugment: a.randAugment, fill },
      randomErasing: a.randomErasing > 0 ? { probability: a.randomErasing, mode: a.randomErasingMode, maxCount: a.randomErasingCount, minCount: a.randomErasingCount } : null,
      mixup:
        a.mixup > 0 || a.cutmix > 0
          ? { mixupAlpha: a.mixup, cutmixAlpha: a.cutmix, prob: a.mixupProb, switchProb: a.mixupSwitchProb, labelSmoothing: a.labelSmoothing, numClasses: recipe.model.numClasses }
          : null,
      labelSmoothing: a.labelSmoothing,
      repeatedAug: a.repeatedAug,
    },
    eval: { ...common, mode: 'eval', eval: { imgSize: size, cropPct: d.cropPct, scaleSize: d.evalResize, interpolation: d.evalInterpolation } },
  };
}

function openFolderData(recipe: Recipe): DataSources {
  const d = recipe.data;
  if (!d.dir) throw new DataError(`data.dataset '${d.dataset}' needs data.dir (a folder with train/ and val/ class folders)`);
  const dir = resolve(d.dir);
  const { train: trainAll, val: valFolder } = scanImageNetFolder(dir);
  if (recipe.model.inChans !== 3) throw new DataError(`image folders are decoded to RGB: model.inChans must be 3, got ${recipe.model.inChans}`);
  if (trainAll.classes.length > recipe.model.numClasses) {
    throw new DataError(`${join(dir, 'train')} has ${trainAll.classes.length} classes but model.numClasses is ${recipe.model.numClasses}`);
  }
  const pool = sample(trainAll, d.trainSubset, recipe.seed).picked;
  const test = sample(valFolder, d.testSubset, recipe.seed + 1).picked;
  let train = pool;
  let val = test;
  if (d.valSize > 0) {
    if (d.valSize >= pool.paths.length) throw new DataError(`data.valSize ${d.valSize} must be below the ${pool.paths.length} training images`);
    const split = sample(pool, d.valSize, recipe.seed ^ 0x5eed);
    val = split.picked;
    train = split.rest;
  }
  const opts = folderOptions(recipe);
  const loaders: FolderLoader[] = [];
  const open = (f: ImageFolder, o: Omit<FolderLoaderOptions, 'batchSize'>, batchSize: number): FolderSource => {
    const l = new FolderLoader(f, { ...o, batchSize });
    loaders.push(l);
    return new FolderSource(l);
  };
  const trainSources = new Map<number, FolderSource>();
  let evalVal: FolderSource | undefined;
  let evalTest: FolderSource | undefined;
  return {
    summary: `${train.paths.length} train / ${val.paths.length} val / ${test.paths.length} test images, ${trainAll.classes.length} classes (${d.dataset} ${dir})`,
    classes: trainAll.classes,
    trainCount: train.paths.length,
    valCount: val.paths.length,
    testCount: test.paths.length,
    train: (batchSize) => {
      if (!trainSources.has(batchSize)) trainSources.set(batchSize, open(train, opts.train, batchSize));
      return trainSources.get(batchSize)!;
    },
    get val() {
      return (evalVal ??= open(val, opts.eval, recipe.eval.batchSize));
    },
    get test() {
      return val === test ? this.val : (evalTest ??= open(test, opts.eval, recipe.eval.batchSize));
    },
    initBatch: async (n) => {
      const l = new FolderLoader(train, { ...opts.train, batchSize: Math.min(n, train.paths.length) - (opts.train.mixup ? Math.min(n, train.paths.length) % 2 : 0), workers: 0, dropLast: false });
      for await (const b of l.epoch(0)) return b;
      throw new DataError(`${dir}: no training images for the initialisation batch`);
    },
    skipped: () => [...new Set(loaders.flatMap((l) => [...l.skipped]))],
    close: async () => {
      await Promise.all(loaders.map((l) => l.close()));
    },
  };
}
