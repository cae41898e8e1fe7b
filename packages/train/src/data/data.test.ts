import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseIdx, readIdxFile, DataError } from './idx.js';
import { loadMnist, loadIdxDirectory, splitValidation, takeFirst } from './datasets.js';
import { BatchLoader, prefetch } from './batches.js';
import { Rng } from './rng.js';

function idx(dims: number[], data: number[]): Uint8Array {
  const h = new Uint8Array(4 + 4 * dims.length);
  h[2] = 8;
  h[3] = dims.length;
  const v = new DataView(h.buffer);
  dims.forEach((d, i) => v.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(h.length + data.length);
  out.set(h);
  out.set(data, h.length);
  return out;
}

function writeSet(dir: string, n: number, gz: boolean): void {
  const imgs = Array.from({ length: n * 4 }, (_, i) => i % 256);
  const labels = Array.from({ length: n }, (_, i) => i % 10);
  const put = (name: string, b: Uint8Array) => writeFileSync(join(dir, name + (gz ? '.gz' : '')), gz ? gzipSync(b) : b);
  put('train-images-idx3-ubyte', idx([n, 2, 2], imgs));
  put('train-labels-idx1-ubyte', idx([n], labels));
  put('t10k-images-idx3-ubyte', idx([n, 2, 2], imgs));
  put('t10k-labels-idx1-ubyte', idx([n], labels));
}

describe('IDX reader', () => {
  it('parses a hand-built file', () => {
    const r = parseIdx(idx([2, 1, 3], [1, 2, 3, 4, 5, 6]));
    expect(r.dims).toEqual([2, 1, 3]);
    expect([...r.data]).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('rejects truncated, corrupt and wrong-type files with clear errors', () => {
    const good = idx([2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => parseIdx(good.subarray(0, good.length - 1), 'f')).toThrow(/truncated IDX data.*\[2, 3\] = 6 bytes, file has 5/);
    expect(() => parseIdx(good.subarray(0, 6), 'f')).toThrow(/truncated IDX header/);
    const bad = good.slice();
    bad[0] = 7;
    expect(() => parseIdx(bad, 'f')).toThrow(/not an IDX file/);
    const f64 = good.slice();
    f64[2] = 0x0d;
    expect(() => parseIdx(f64, 'f')).toThrow(/unsupported IDX element type 0d/);
    expect(() => parseIdx(new Uint8Array([...good, 9]), 'f')).toThrow(/trailing bytes/);
  });
  it('reads gzip files and reports a truncated gzip stream', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-idx-'));
    const gz = gzipSync(idx([3], [7, 8, 9]));
    writeFileSync(join(dir, 'a.gz'), gz);
    expect([...readIdxFile(join(dir, 'a.gz')).data]).toEqual([7, 8, 9]);
    writeFileSync(join(dir, 'b.gz'), gz.subarray(0, gz.length - 6));
    expect(() => readIdxFile(join(dir, 'b.gz'))).toThrow(DataError);
    expect(() => readIdxFile(join(dir, 'nope'))).toThrow(/not found/);
  });
  it('loads a gzipped Fashion-MNIST-style directory; missing directory is a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ofq-fm-'));
    writeSet(dir, 20, true);
    const { train, test } = loadIdxDirectory(dir, 'fashion-mnist');
    expect(train.count).toBe(20);
    expect(test.height).toBe(2);
    expect(train.mean).toEqual([0.286]);
    expect(() => loadIdxDirectory(join(dir, 'missing'))).toThrow(/data directory not found/);
  });
});

describe('embedded MNIST', () => {
  it('has the official label counts', () => {
    const { train, test } = loadMnist();
    expect(train.count).toBe(60000);
    expect(test.count).toBe(10000);
    expect([train.height, train.width]).toEqual([28, 28]);
    const counts = new Array(10).fill(0);
    for (const l of train.labels) counts[l]++;
    expect(counts).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });
});

describe('Rng', () => {
  it('is deterministic and resumable from its state', () => {
    const a = new Rng(7);
    a.next();
    const st = a.getState();
    const x = [a.next(), a.next()];
    const b = new Rng(st);
    expect([b.next(), b.next()]).toEqual(x);
    expect(new Rng(8).next()).not.toBe(new Rng(7).next());
    expect(() => new Rng([1, 2, 3] as never)).toThrow(/invalid RNG state/);
  });
});

describe('BatchLoader', () => {
  const { train } = loadMnist();
  const small = takeFirst(train, 100);
  it('normalises pixels and keeps labels aligned', () => {
    const l = new BatchLoader(small, { batchSize: 10, shuffle: false, seed: 1 });
    const b = l.batch(l.order(0), 1);
    expect(b.shape).toEqual([10, 28, 28, 1]);
    expect(b.y[0]).toBe(small.labels[10]);
    const px = small.images[10 * 784 + 300]!;
    expect(b.x[300]).toBeCloseTo((px / 255 - 0.1307) / 0.3081, 6);
  });
  it('shuffles per epoch, deterministically, as a permutation', () => {
    const l = new BatchLoader(small, { batchSize: 32, shuffle: true, seed: 3, dropLast: true });
    expect(l.numBatches).toBe(3);
    const o0 = l.order(0);
    expect([...o0]).toEqual([...l.order(0)]);
    expect([...o0]).not.toEqual([...l.order(1)]);
    expect([...o0].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
  it('iterates an epoch from a given batch with prefetch', async () => {
    const l = new BatchLoader(small, { batchSize: 30, shuffle: true, seed: 3 });
    const all: number[] = [];
    for await (const b of l.epoch(2)) all.push(b.size);
    expect(all).toEqual([30, 30, 30, 10]);
    const tail: Int32Array[] = [];
    for await (const b of l.epoch(2, 2)) tail.push(b.y);
    expect(tail.length).toBe(2);
    expect([...tail[0]!]).toEqual([...l.batch(l.order(2), 2).y]);
  });
  it('prefetch propagates errors', async () => {
    function* bad(): Generator<number> {
      yield 1;
      throw new Error('boom');
    }
    const got: number[] = [];
    await expect(async () => {
      for await (const v of prefetch(bad())) got.push(v);
    }).rejects.toThrow('boom');
    expect(got).toEqual([1]);
  });
  it('splits a held-out validation set disjointly', () => {
    const { train: tr, val } = splitValidation(small, 20, 5);
    expect(tr.count + val.count).toBe(100);
    expect(() => splitValidation(small, 100, 5)).toThrow(/validation size/);
  });
});
